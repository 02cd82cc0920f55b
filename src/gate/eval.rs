//! Judging rules against an analyzed model (and its baseline) into a `Verdict`.
//!
//! What counts as an error (exit 2) rather than a failure (exit 1): a layer whose weights could
//! not be analyzed (unless it is NaN/Inf and a `finite_weights` check covers it), a baseline that
//! is missing, has unanalysable layers or does not match the model layer for layer, a relative
//! limit against a baseline value of 0, and a layer rule left with no layer to judge. A layer or
//! model without a value for the metric (a failed fit) fails the rule: no evidence is no pass.

use std::collections::BTreeMap;
use std::path::Path;

use super::baseline::{self, BaselineSource, Evidence};
use super::metrics::{layer_value, row_key, summary_value};
use super::rules::{Allowance, Bounds, Change, Check, Gate, Rule, RuleKind, Warned};
use super::verdict::{Finding, RuleOutcome, Status, Subject, Verdict, show};
use crate::analysis;
use crate::error::{Error, Result, display_name};
use crate::fits::Warning;
use crate::metrics::row::Row;
use crate::schema::{Column, RowStatus};

/// Analyze `model` (and load the baseline) with the gate's options, then judge every rule.
/// Errors are inputs that could not be read or analyzed at all.
pub fn run(gate: &Gate, model: &Path, baseline: Option<&BaselineSource>) -> Result<Verdict> {
    if gate.needs_baseline() && baseline.is_none() {
        let names: Vec<&str> = gate
            .rules
            .iter()
            .filter(|r| r.kind.uses_baseline())
            .map(|r| r.name.as_str())
            .collect();
        return Err(Error::Evaluation(format!(
            "rule(s) {} compare with a baseline: give --baseline MODEL.onnx or --baseline-report analysis.json",
            names.join(", ")
        )));
    }
    let base = baseline
        .map(|b| baseline::load(b, &gate.options))
        .transpose()?;
    let cand = Evidence::from_analysis(&analysis::analyze_file(model, &gate.options)?);
    Ok(evaluate(gate, &cand, base.as_ref()))
}

/// Judge every rule of `gate` on `cand`, comparing with `base` where rules ask for it.
pub fn evaluate(gate: &Gate, cand: &Evidence, base: Option<&Evidence>) -> Verdict {
    let covers_nan = gate
        .rules
        .iter()
        .any(|r| r.kind == RuleKind::Check(Check::FiniteWeights));
    let mut errors = unanalyzed(cand, "model", covers_nan);
    let matched = match base {
        Some(b) if gate.needs_baseline() => {
            let mut e = unanalyzed(b, "baseline", false);
            e.extend(match_layers(cand, b).err().unwrap_or_default());
            let ok = e.is_empty();
            errors.extend(e);
            ok.then_some(b)
        }
        _ => None,
    };
    let rules: Vec<RuleOutcome> = gate.rules.iter().map(|r| judge(r, cand, matched)).collect();
    let status = Verdict::conclude(&rules, &errors);
    Verdict {
        gate: gate.file.display().to_string(),
        preset: gate.preset.name().to_string(),
        model: Subject {
            source: cand.source.clone(),
            sha256: Some(cand.sha256.clone()),
        },
        baseline: base.map(|b| Subject {
            source: b.source.clone(),
            sha256: Some(b.sha256.clone()),
        }),
        status,
        rules,
        errors,
        n_rows: cand.rows.len(),
        n_skipped: cand.n_skipped,
    }
}

/// Rows that should have been analyzed but were not; NaN/Inf rows are left to the
/// `finite_weights` check when the gate has one.
fn unanalyzed(ev: &Evidence, what: &str, covers_nan: bool) -> Vec<String> {
    ev.problem_rows()
        .filter(|r| !(covers_nan && r.status() == Some(RowStatus::InvalidValues)))
        .map(|r| {
            format!(
                "{what} layer {} could not be analyzed ({}): {}",
                display_name(&row_key(r)),
                r.text(Column::Status).unwrap_or("?"),
                display_name(r.text(Column::Problem).unwrap_or(""))
            )
        })
        .collect()
}

/// Rows by key; duplicate keys make matching ambiguous.
fn by_key(ev: &Evidence) -> std::result::Result<BTreeMap<String, &Row>, String> {
    let mut m = BTreeMap::new();
    for r in &ev.rows {
        let k = row_key(r);
        if m.insert(k.clone(), r).is_some() {
            return Err(format!(
                "{}: two rows named {}; layers cannot be matched by name",
                ev.source,
                display_name(&k)
            ));
        }
    }
    Ok(m)
}

/// The model and the baseline must have the same layers (by weight name and slice).
fn match_layers(cand: &Evidence, base: &Evidence) -> std::result::Result<(), Vec<String>> {
    let (c, b) = match (by_key(cand), by_key(base)) {
        (Ok(c), Ok(b)) => (c, b),
        (c, b) => return Err([c.err(), b.err()].into_iter().flatten().collect()),
    };
    let list = |v: &[String]| {
        v.iter()
            .map(|k| display_name(k))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Listed in each file's layer order, as people read them.
    let absent = |from: &Evidence, other: &BTreeMap<String, &Row>| -> Vec<String> {
        from.rows
            .iter()
            .map(row_key)
            .filter(|k| !other.contains_key(k))
            .collect()
    };
    let missing = absent(cand, &b);
    let extra = absent(base, &c);
    let mut e = Vec::new();
    if !missing.is_empty() {
        e.push(format!(
            "{} layer(s) of the model are missing from the baseline: {}",
            missing.len(),
            list(&missing)
        ));
    }
    if !extra.is_empty() {
        e.push(format!(
            "{} baseline layer(s) are missing from the model: {}",
            extra.len(),
            list(&extra)
        ));
    }
    if e.is_empty() { Ok(()) } else { Err(e) }
}

fn outcome(rule: &Rule, requirement: String) -> RuleOutcome {
    RuleOutcome {
        name: rule.name.clone(),
        kind: rule.kind.label(),
        metric: rule.kind.metric().map(String::from),
        status: Status::Error,
        requirement,
        message: String::new(),
        value: None,
        baseline: None,
        judged: None,
        failing: Vec::new(),
    }
}

fn judge(rule: &Rule, cand: &Evidence, base: Option<&Evidence>) -> RuleOutcome {
    match &rule.kind {
        RuleKind::Layer {
            metric,
            bounds,
            allowance,
            min_evals,
        } => judge_layers(rule, cand, metric, bounds, allowance, *min_evals),
        RuleKind::Warned { warned, allowance } => judge_warned(rule, cand, *warned, allowance),
        RuleKind::Summary { metric, bounds } => judge_summary(rule, cand, metric, bounds),
        RuleKind::Baseline { metric, change } => judge_baseline(rule, cand, base, metric, change),
        RuleKind::BaselineLayer {
            metric,
            change,
            allowance,
        } => judge_baseline_layers(rule, cand, base, metric, change, allowance),
        RuleKind::Check(Check::FiniteWeights) => judge_finite(rule, cand),
    }
}

/// Failing layers with the largest excess first; layers without a value lead.
fn sort_findings(f: &mut [Finding]) {
    f.sort_by(|a, b| {
        let key = |x: &Finding| x.excess.unwrap_or(f64::INFINITY);
        key(b).total_cmp(&key(a))
    });
}

/// Pass or fail by the allowance, with a count message.
fn conclude_layers(
    mut o: RuleOutcome,
    mut failing: Vec<Finding>,
    judged: usize,
    allowance: &Allowance,
    what: &str,
) -> RuleOutcome {
    o.judged = Some(judged);
    if judged == 0 {
        o.message = "no layer to judge: nothing was analyzed that this rule applies to".into();
        return o;
    }
    o.status = if allowance.allows(failing.len(), judged) {
        Status::Pass
    } else {
        Status::Fail
    };
    o.message = format!(
        "{} of {judged} layer(s) {what}; allowed: {}",
        failing.len(),
        allowance.describe()
    );
    sort_findings(&mut failing);
    o.failing = failing;
    o
}

fn out_of_bounds(metric: &str, v: f64, bounds: &Bounds) -> String {
    match (bounds.min, bounds.max) {
        (Some(m), _) if v < m => {
            format!("{metric} {} < {m} by {}", show(Some(v)), show(Some(m - v)))
        }
        (_, Some(m)) if v > m => {
            format!("{metric} {} > {m} by {}", show(Some(v)), show(Some(v - m)))
        }
        _ => format!("{metric} {}", show(Some(v))),
    }
}

fn no_value(metric: &str, r: &Row) -> String {
    format!(
        "no {metric} value (status {}{})",
        r.text(Column::Status).unwrap_or("?"),
        match r.warning() {
            Warning::None => String::new(),
            w => format!(", warning {w}"),
        }
    )
}

fn judge_layers(
    rule: &Rule,
    cand: &Evidence,
    metric: &str,
    bounds: &Bounds,
    allowance: &Allowance,
    min_evals: Option<usize>,
) -> RuleOutcome {
    let mut req = format!("{metric} {} on every layer", bounds.describe());
    if let Some(k) = min_evals {
        req.push_str(&format!(" with ≥ {k} eigenvalues"));
    }
    let o = outcome(rule, format!("{req}; {}", allowance.describe()));
    let judged: Vec<&Row> = cand
        .analyzed_rows()
        .filter(|r| {
            min_evals.is_none_or(|k| r.num(Column::NumEvals).is_some_and(|n| n >= k as f64))
        })
        .collect();
    let failing = judged
        .iter()
        .filter_map(|r| match layer_value(r, metric) {
            Some(v) if bounds.contains(v) => None,
            Some(v) => Some(Finding {
                layer: display_name(&row_key(r)),
                value: Some(v),
                baseline: None,
                excess: Some(bounds.excess(v)),
                why: out_of_bounds(metric, v, bounds),
            }),
            None => Some(Finding {
                layer: display_name(&row_key(r)),
                value: None,
                baseline: None,
                excess: None,
                why: no_value(metric, r),
            }),
        })
        .collect();
    let what = format!("outside {}", bounds.describe());
    conclude_layers(o, failing, judged.len(), allowance, &what)
}

fn judge_warned(
    rule: &Rule,
    cand: &Evidence,
    warned: Warned,
    allowance: &Allowance,
) -> RuleOutcome {
    let o = outcome(
        rule,
        format!("layers warned {}: {}", warned.name(), allowance.describe()),
    );
    let judged: Vec<&Row> = cand.analyzed_rows().collect();
    let failing = judged
        .iter()
        .filter(|r| warned.matches(r.warning()))
        .map(|r| Finding {
            layer: display_name(&row_key(r)),
            value: layer_value(r, "alpha"),
            baseline: None,
            excess: None,
            why: format!(
                "warned {} (alpha {})",
                r.warning(),
                show(layer_value(r, "alpha"))
            ),
        })
        .collect();
    let what = format!("warned {}", warned.name());
    conclude_layers(o, failing, judged.len(), allowance, &what)
}

fn judge_summary(rule: &Rule, cand: &Evidence, metric: &str, bounds: &Bounds) -> RuleOutcome {
    let mut o = outcome(rule, format!("model {metric} {}", bounds.describe()));
    let v = summary_value(cand, metric);
    o.value = v;
    match v {
        Some(x) if bounds.contains(x) => {
            o.status = Status::Pass;
            o.message = format!("{metric} {} {}", show(v), bounds.describe());
        }
        Some(x) => {
            o.status = Status::Fail;
            o.message = out_of_bounds(metric, x, bounds);
        }
        None => {
            o.status = Status::Fail;
            o.message = format!("the model has no {metric} value (no layer produced one)");
        }
    }
    o
}

fn no_baseline(mut o: RuleOutcome) -> RuleOutcome {
    o.message = "not evaluated: no usable baseline (see errors)".into();
    o
}

fn change_text(metric: &str, v: f64, b: f64) -> String {
    let rel = if b != 0.0 {
        format!(" ({:+.2}%)", (v - b) / b.abs() * 100.0)
    } else {
        String::new()
    };
    let d = v - b;
    let sign = if d > 0.0 { "+" } else { "" };
    format!(
        "{metric} {} vs baseline {}: {sign}{}{rel}",
        show(Some(v)),
        show(Some(b)),
        show(Some(d))
    )
}

fn judge_baseline(
    rule: &Rule,
    cand: &Evidence,
    base: Option<&Evidence>,
    metric: &str,
    change: &Change,
) -> RuleOutcome {
    let mut o = outcome(
        rule,
        format!("model {metric} vs baseline: {}", change.describe()),
    );
    let Some(base) = base else {
        return no_baseline(o);
    };
    let (v, b) = (summary_value(cand, metric), summary_value(base, metric));
    o.value = v;
    o.baseline = b;
    let Some(b) = b else {
        o.message = format!("the baseline has no {metric} value");
        return o;
    };
    if change.needs_nonzero_baseline() && b == 0.0 {
        o.message = format!("baseline {metric} is 0: a relative limit cannot be applied");
        return o;
    }
    let Some(v) = v else {
        o.status = Status::Fail;
        o.message = format!("the model has no {metric} value");
        return o;
    };
    let allowed = change.bounds(b);
    o.status = if allowed.contains(v) {
        Status::Pass
    } else {
        Status::Fail
    };
    o.message = change_text(metric, v, b);
    o
}

fn judge_baseline_layers(
    rule: &Rule,
    cand: &Evidence,
    base: Option<&Evidence>,
    metric: &str,
    change: &Change,
    allowance: &Allowance,
) -> RuleOutcome {
    let mut o = outcome(
        rule,
        format!(
            "{metric} of every layer vs the baseline's: {}; {}",
            change.describe(),
            allowance.describe()
        ),
    );
    let Some(base) = base else {
        return no_baseline(o);
    };
    let Ok(base_rows) = by_key(base) else {
        return no_baseline(o);
    };
    let mut failing = Vec::new();
    let mut unusable = Vec::new();
    let judged: Vec<&Row> = cand.analyzed_rows().collect();
    for r in &judged {
        let key = row_key(r);
        let b = base_rows.get(&key).and_then(|br| layer_value(br, metric));
        let v = layer_value(r, metric);
        let Some(b) = b.filter(|b| !(change.needs_nonzero_baseline() && *b == 0.0)) else {
            unusable.push(display_name(&key));
            continue;
        };
        let allowed = change.bounds(b);
        match v {
            Some(x) if allowed.contains(x) => {}
            Some(x) => failing.push(Finding {
                layer: display_name(&key),
                value: Some(x),
                baseline: Some(b),
                excess: Some(allowed.excess(x)),
                why: change_text(metric, x, b),
            }),
            None => failing.push(Finding {
                layer: display_name(&key),
                value: None,
                baseline: Some(b),
                excess: None,
                why: no_value(metric, r),
            }),
        }
    }
    if !unusable.is_empty() {
        o.judged = Some(judged.len());
        o.message = format!(
            "the baseline has no usable {metric} value for {} layer(s): {}",
            unusable.len(),
            unusable.join(", ")
        );
        return o;
    }
    conclude_layers(o, failing, judged.len(), allowance, "moved too far")
}

fn judge_finite(rule: &Rule, cand: &Evidence) -> RuleOutcome {
    let mut o = outcome(rule, "no weight holds NaN or Inf".into());
    let failing: Vec<Finding> = cand
        .problem_rows()
        .filter(|r| r.status() == Some(RowStatus::InvalidValues))
        .map(|r| Finding {
            layer: display_name(&row_key(r)),
            value: None,
            baseline: None,
            excess: None,
            why: display_name(r.text(Column::Problem).unwrap_or("")),
        })
        .collect();
    o.judged = Some(cand.rows.len());
    o.status = if failing.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    o.message = format!(
        "{} of {} layer(s) hold NaN/Inf weights",
        failing.len(),
        cand.rows.len()
    );
    o.failing = failing;
    o
}
