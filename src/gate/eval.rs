//! Judging rules against an analyzed model (and its baseline) into a `Verdict`.
//!
//! What counts as an error (exit 2) rather than a failure (exit 1): a layer whose weights could
//! not be analyzed (unless it is NaN/Inf and a `finite_weights` check covers it), a baseline that
//! is missing, has unanalysable layers or does not match the model layer for layer, a relative
//! limit against a baseline value of 0, and a layer rule left with no layer to judge. A layer or
//! model without a value for the metric (a failed fit) fails the rule: no evidence is no pass.

use std::path::Path;

use super::baseline::{self, BaselineSource, Evidence};
use super::metrics::{layer_value, summary_value};
use super::rules::{Allowance, Bounds, Change, Check, Gate, Rule, RuleKind, Warned};
use super::verdict::{Finding, RuleOutcome, Status, Subject, Verdict, show};
use crate::analysis;
use crate::compare::{
    Comparison, LayerComparison, LayerMetric, Matching, ModelMetric, Side, compare_models,
    match_rows, row_key,
};
use crate::error::{Error, Result, display_name};
use crate::fits::Warning;
use crate::metrics::row::Row;
use crate::onnx::Limits;
use crate::schema::{Column, RowStatus};

/// Analyze `model` (and load the baseline) with the gate's options, then judge every rule.
/// Errors are inputs that could not be read or analyzed at all.
pub fn run(gate: &Gate, model: &Path, baseline: Option<&BaselineSource>) -> Result<Verdict> {
    run_judged(gate, model, baseline).map(|j| j.verdict)
}

/// A gate run with what it judged: the verdict, the model's analysis and the baseline, for
/// the audit report (`gate --report`).
#[derive(Clone, Debug)]
pub struct Judged {
    /// The verdict.
    pub verdict: Verdict,
    /// The model's analysis with the gate's options.
    pub model: analysis::ModelAnalysis,
    /// The baseline as judged.
    pub baseline: Option<Evidence>,
}

/// As [`run`], keeping the analyses.
pub fn run_judged(gate: &Gate, model: &Path, baseline: Option<&BaselineSource>) -> Result<Judged> {
    let names = |f: fn(&RuleKind) -> bool| -> String {
        let v: Vec<&str> = (gate.rules.iter())
            .filter(|r| f(&r.kind))
            .map(|r| r.name.as_str())
            .collect();
        v.join(", ")
    };
    if gate.needs_baseline() && baseline.is_none() {
        return Err(Error::Evaluation(format!(
            "rule(s) {} compare with a baseline: give --baseline MODEL.onnx or --baseline-report analysis.json",
            names(RuleKind::uses_baseline)
        )));
    }
    if gate.needs_weights()
        && let Some(BaselineSource::Report(p)) = baseline
    {
        return Err(Error::config(
            p,
            format!(
                "rule(s) {} compare the weights with the baseline's, and a report holds no \
                 weights: give --baseline MODEL.onnx",
                names(RuleKind::uses_weights)
            ),
        ));
    }
    let base = baseline
        .map(|b| baseline::load(b, &gate.options))
        .transpose()?;
    let analysis = analysis::analyze_file(model, &gate.options)?;
    let cand = Evidence::from_analysis(&analysis);
    let comparison = match &base {
        Some(b) if gate.needs_weights() => compared(gate, &cand, b)?,
        _ => None,
    };
    let verdict = evaluate_with(gate, &cand, base.as_ref(), comparison.as_ref());
    Ok(Judged {
        verdict,
        model: analysis,
        baseline: base,
    })
}

/// The layer-by-layer comparison of the weights, when the layers match (a mismatch is reported
/// by `evaluate_with`).
fn compared(gate: &Gate, cand: &Evidence, base: &Evidence) -> Result<Option<Comparison>> {
    let (Some(cf), Some(bf), Ok(m)) = (&cand.file, &base.file, match_rows(&cand.rows, &base.rows))
    else {
        return Ok(None);
    };
    let (cs, bs) = (side(cf, cand), side(bf, base));
    let c = compare_models(cs, bs, &m, &gate.options, &Limits::default())?;
    Ok(Some(c))
}

fn side<'a>(file: &'a Path, ev: &'a Evidence) -> Side<'a> {
    Side {
        path: file,
        rows: &ev.rows,
        esd: &ev.esd,
    }
}

/// Judge every rule of `gate` on `cand`, comparing with `base` where rules ask for it. Rules
/// that compare weights (`compare`, `compare_layer`) need [`evaluate_with`].
pub fn evaluate(gate: &Gate, cand: &Evidence, base: Option<&Evidence>) -> Verdict {
    evaluate_with(gate, cand, base, None)
}

/// What the rules judge: the model, the matched baseline and the weight comparison.
struct Context<'a> {
    cand: &'a Evidence,
    base: Option<(&'a Evidence, Matching)>,
    comparison: Option<&'a Comparison>,
}

/// As [`evaluate`], with the comparison of the weights (`compare::compare_models`).
pub fn evaluate_with(
    gate: &Gate,
    cand: &Evidence,
    base: Option<&Evidence>,
    comparison: Option<&Comparison>,
) -> Verdict {
    let checked = gate.checked_statuses();
    let mut errors = unanalyzed(cand, "model", &checked);
    let mut warnings = Vec::new();
    let matched = match base {
        Some(b) if gate.needs_baseline() => {
            let mut e = unanalyzed(b, "baseline", &[]);
            let m = match_rows(&cand.rows, &b.rows)
                .map_err(|v| e.extend(v))
                .ok();
            warnings.extend(m.as_ref().and_then(|m| m.warning.clone()));
            let ok = e.is_empty();
            errors.extend(e);
            m.filter(|_| ok).map(|m| (b, m))
        }
        _ => None,
    };
    let comparison = comparison.filter(|_| matched.is_some());
    if gate.needs_weights() && matched.is_some() && comparison.is_none() {
        errors.push(
            "the weights were not compared with the baseline's: compare rules need --baseline \
             MODEL.onnx"
                .into(),
        );
    }
    for l in comparison.iter().flat_map(|c| &c.layers) {
        if let Some(p) = &l.problem {
            errors.push(format!(
                "layer {} could not be compared with the baseline's: {p}",
                display_name(&l.layer)
            ));
        }
    }
    let ctx = Context {
        cand,
        base: matched,
        comparison,
    };
    let rules: Vec<RuleOutcome> = gate.rules.iter().map(|r| judge(r, &ctx)).collect();
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
        warnings,
        comparison: comparison.cloned(),
        n_rows: cand.rows.len(),
        n_skipped: cand.n_skipped,
    }
}

/// Rows that should have been analyzed but were not; rows of a status a check of the gate
/// judges (NaN/Inf, all zeros) are left to that check.
fn unanalyzed(ev: &Evidence, what: &str, checked: &[RowStatus]) -> Vec<String> {
    ev.problem_rows()
        .filter(|r| !r.status().is_some_and(|s| checked.contains(&s)))
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

fn outcome(rule: &Rule, requirement: String) -> RuleOutcome {
    RuleOutcome {
        name: rule.name.clone(),
        kind: rule.kind.label(),
        metric: rule.kind.metric().map(String::from),
        status: Status::Error,
        blocking: rule.blocking,
        requirement,
        message: String::new(),
        value: None,
        baseline: None,
        judged: None,
        failing: Vec::new(),
    }
}

fn judge(rule: &Rule, ctx: &Context<'_>) -> RuleOutcome {
    let cand = ctx.cand;
    let base = ctx.base.as_ref();
    match &rule.kind {
        RuleKind::Layer {
            metric,
            bounds,
            allowance,
            min_evals,
        } => judge_layers(rule, cand, metric, bounds, allowance, *min_evals),
        RuleKind::Warned { warned, allowance } => judge_warned(rule, cand, *warned, allowance),
        RuleKind::Summary { metric, bounds } => judge_summary(rule, cand, metric, bounds),
        RuleKind::Baseline { metric, change } => {
            judge_baseline(rule, cand, base.map(|b| b.0), metric, change)
        }
        RuleKind::BaselineLayer {
            metric,
            change,
            allowance,
        } => judge_baseline_layers(rule, cand, base, metric, change, allowance),
        RuleKind::Compare { metric, bounds } => {
            judge_compare(rule, ctx.comparison, *metric, bounds)
        }
        RuleKind::CompareLayer {
            metric,
            bounds,
            allowance,
        } => judge_compare_layers(rule, ctx.comparison, *metric, bounds, allowance),
        RuleKind::Check(c) => judge_check(rule, cand, *c),
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
    let o = outcome(rule, format!("model {metric} {}", bounds.describe()));
    let none = format!("the model has no {metric} value (no layer produced one)");
    bounded(o, metric, summary_value(cand, metric), bounds, none)
}

/// One model-level value against its bounds; no value fails with `none`.
fn bounded(
    mut o: RuleOutcome,
    metric: &str,
    v: Option<f64>,
    bounds: &Bounds,
    none: String,
) -> RuleOutcome {
    o.value = v;
    (o.status, o.message) = match v {
        Some(x) if bounds.contains(x) => (
            Status::Pass,
            format!("{metric} {} {}", show(v), bounds.describe()),
        ),
        Some(x) => (Status::Fail, out_of_bounds(metric, x, bounds)),
        None => (Status::Fail, none),
    };
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
    base: Option<&(&Evidence, Matching)>,
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
    let Some((base, matching)) = base else {
        return no_baseline(o);
    };
    let mut failing = Vec::new();
    let mut unusable = Vec::new();
    let mut judged = 0;
    for &(i, j) in &matching.pairs {
        let (r, br) = (&cand.rows[i], &base.rows[j]);
        if !r.is_analyzed() {
            continue;
        }
        judged += 1;
        let key = display_name(&row_key(r));
        let b = layer_value(br, metric);
        let v = layer_value(r, metric);
        let Some(b) = b.filter(|b| !(change.needs_nonzero_baseline() && *b == 0.0)) else {
            unusable.push(key);
            continue;
        };
        let allowed = change.bounds(b);
        match v {
            Some(x) if allowed.contains(x) => {}
            Some(x) => failing.push(Finding {
                layer: key,
                value: Some(x),
                baseline: Some(b),
                excess: Some(allowed.excess(x)),
                why: change_text(metric, x, b),
            }),
            None => failing.push(Finding {
                layer: key,
                value: None,
                baseline: Some(b),
                excess: None,
                why: no_value(metric, r),
            }),
        }
    }
    if !unusable.is_empty() {
        o.judged = Some(judged);
        o.message = format!(
            "the baseline has no usable {metric} value for {} layer(s): {}",
            unusable.len(),
            unusable.join(", ")
        );
        return o;
    }
    conclude_layers(o, failing, judged, allowance, "moved too far")
}

fn no_comparison(mut o: RuleOutcome) -> RuleOutcome {
    o.message = "not evaluated: the weights were not compared with a baseline (see errors)".into();
    o
}

fn judge_compare(
    rule: &Rule,
    comparison: Option<&Comparison>,
    metric: ModelMetric,
    bounds: &Bounds,
) -> RuleOutcome {
    let name = metric.name();
    let o = outcome(
        rule,
        format!("{name} against the baseline {}", bounds.describe()),
    );
    let Some(c) = comparison else {
        return no_comparison(o);
    };
    let none = format!("no {name} value: no compared layer produced one");
    bounded(o, name, c.get(metric), bounds, none)
}

fn judge_compare_layers(
    rule: &Rule,
    comparison: Option<&Comparison>,
    metric: LayerMetric,
    bounds: &Bounds,
    allowance: &Allowance,
) -> RuleOutcome {
    let name = metric.name();
    let o = outcome(
        rule,
        format!(
            "{name} against the baseline {} on every layer; {}",
            bounds.describe(),
            allowance.describe()
        ),
    );
    let Some(c) = comparison else {
        return no_comparison(o);
    };
    let judged: Vec<&LayerComparison> = c.layers.iter().filter(|l| l.problem.is_none()).collect();
    let renamed = |l: &LayerComparison| {
        if l.layer == l.baseline_layer {
            String::new()
        } else {
            format!(" (baseline layer {})", display_name(&l.baseline_layer))
        }
    };
    let failing = judged
        .iter()
        .filter_map(|l| match l.get(metric) {
            Some(v) if bounds.contains(v) => None,
            Some(v) => Some(Finding {
                layer: display_name(&l.layer),
                value: Some(v),
                baseline: None,
                excess: Some(bounds.excess(v)),
                why: format!("{}{}", out_of_bounds(name, v, bounds), renamed(l)),
            }),
            None => Some(Finding {
                layer: display_name(&l.layer),
                value: None,
                baseline: None,
                excess: None,
                why: format!("no {name} value (k = {}){}", l.metrics.k, renamed(l)),
            }),
        })
        .collect();
    let what = format!("outside {}", bounds.describe());
    conclude_layers(o, failing, judged.len(), allowance, &what)
}

fn judge_check(rule: &Rule, cand: &Evidence, check: Check) -> RuleOutcome {
    let mut o = outcome(rule, check.requirement().into());
    let failing: Vec<Finding> = cand
        .problem_rows()
        .filter(|r| r.status() == Some(check.status()))
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
    let what = match check {
        Check::FiniteWeights => "hold NaN/Inf weights",
        Check::NonzeroWeights => "are all zeros",
    };
    o.message = format!("{} of {} layer(s) {what}", failing.len(), cand.rows.len());
    o.failing = failing;
    o
}
