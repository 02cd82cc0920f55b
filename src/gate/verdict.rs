//! The verdict: per-rule outcomes, the overall status and exit code, its JSON form for machines
//! and a short text for people.

use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::compare::Comparison;
use crate::error::{EXIT_GATE_FAILED, EXIT_INPUT};
use crate::report::analysis::tool_info;

/// Version of the verdict JSON layout; bump on any incompatible change.
/// 2: `warnings`, `comparison`, and the `compare` / `compare_layer` rule kinds.
pub const VERDICT_SCHEMA_VERSION: u32 = 2;

/// The status of a rule or of a whole verdict, ordered from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The requirement holds.
    Pass,
    /// The requirement was evaluated and does not hold.
    Fail,
    /// Could not be evaluated: never a pass.
    Error,
}

impl Status {
    /// The status as written in outputs (`pass`, `fail`, `error`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }
}

/// One layer that failed a rule, and by how much.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Weight name (`name:slice` in sliced mode).
    pub layer: String,
    /// The candidate's value; null when the layer has none (e.g. a failed fit).
    pub value: Option<f64>,
    /// The baseline's value, for baseline rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// Distance outside the allowed range; null when there is no value.
    pub excess: Option<f64>,
    /// A short reason, e.g. "alpha 7.31 > 6 by 1.31".
    pub why: String,
}

/// The outcome of one rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleOutcome {
    /// The rule's name.
    pub name: String,
    /// The rule's kind, as the gate file's key (`layer`, `summary`, `baseline_layer`...).
    pub kind: &'static str,
    /// The metric the rule reads, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Whether the rule passed.
    pub status: Status,
    /// Whether the rule's status counts towards the verdict; a non-blocking rule that does not
    /// pass is a finding.
    pub blocking: bool,
    /// What the rule demands, in words.
    pub requirement: String,
    /// One line: why it passed, failed or could not be evaluated.
    pub message: String,
    /// Model rules: the candidate's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Baseline rules: the baseline's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// Layer rules: how many layers were judged and which failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judged: Option<usize>,
    /// Layer rules: the failing layers, largest excess first (layers without a value lead).
    pub failing: Vec<Finding>,
}

/// The model (or baseline) a verdict is about.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Subject {
    /// The model file as given, or the report it was read from.
    pub source: String,
    /// SHA-256 of the model file; None when the run failed before reading it.
    pub sha256: Option<String>,
}

/// Everything a gate run concluded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// The gate file's path.
    pub gate: String,
    /// The name of the preset the gate's options start from.
    pub preset: String,
    /// The candidate model.
    pub model: Subject,
    /// The baseline, when one was given.
    pub baseline: Option<Subject>,
    /// The overall status (see [`Verdict::conclude`]).
    pub status: Status,
    /// One outcome per rule, in the gate file's order.
    pub rules: Vec<RuleOutcome>,
    /// Problems that stopped (part of) the evaluation: each makes the status `error`.
    pub errors: Vec<String>,
    /// Things the reader should know that do not change the status, e.g. layers matched to the
    /// baseline by position because their names differ.
    pub warnings: Vec<String>,
    /// The layer-by-layer comparison with the baseline, when a rule compared weights.
    pub comparison: Option<Comparison>,
    /// Rows analyzed and weight layers skipped (size filter...), for context.
    pub n_rows: usize,
    /// Weight layers skipped (size filter...).
    pub n_skipped: usize,
}

impl Verdict {
    /// The overall status: error if anything could not be evaluated, else fail if any
    /// blocking rule failed, else pass. Non-blocking rules never change it; a verdict without
    /// rules is an error.
    pub fn conclude(rules: &[RuleOutcome], errors: &[String]) -> Status {
        let worst = if rules.is_empty() {
            Status::Error
        } else {
            (rules.iter().filter(|r| r.blocking))
                .map(|r| r.status)
                .max()
                .unwrap_or(Status::Pass)
        };
        if errors.is_empty() {
            worst
        } else {
            Status::Error
        }
    }

    /// A verdict for a run that could not even start judging (unreadable model, bad baseline).
    pub fn failed_to_evaluate(gate: &str, preset: &str, model: &str, error: String) -> Verdict {
        Verdict {
            gate: gate.to_string(),
            preset: preset.to_string(),
            model: Subject {
                source: model.to_string(),
                sha256: None,
            },
            baseline: None,
            status: Status::Error,
            rules: Vec::new(),
            errors: vec![error],
            warnings: Vec::new(),
            comparison: None,
            n_rows: 0,
            n_skipped: 0,
        }
    }

    /// The process exit code: 0 pass, 1 fail, 2 error (see [`crate::error`]).
    pub fn exit_code(&self) -> u8 {
        match self.status {
            Status::Pass => 0,
            Status::Fail => EXIT_GATE_FAILED,
            Status::Error => EXIT_INPUT,
        }
    }

    /// The blocking rules that did not pass (failed or could not be evaluated).
    pub fn failed_rules(&self) -> impl Iterator<Item = &RuleOutcome> {
        (self.rules.iter()).filter(|r| r.blocking && r.status != Status::Pass)
    }

    /// The non-blocking rules that did not pass: findings.
    pub fn findings(&self) -> impl Iterator<Item = &RuleOutcome> {
        (self.rules.iter()).filter(|r| !r.blocking && r.status != Status::Pass)
    }
}

impl RuleOutcome {
    /// The label of the outcome in outputs: `pass`, `fail`, `error`, or `finding` for a
    /// non-blocking rule that did not pass.
    pub fn label(&self) -> &'static str {
        if !self.blocking && self.status != Status::Pass {
            "finding"
        } else {
            self.status.name()
        }
    }
}

/// The verdict JSON: schema version and tool first, then the verdict.
pub fn to_json(v: &Verdict) -> Json {
    let mut body = serde_json::to_value(v).unwrap_or(Json::Null);
    if let Json::Object(m) = &mut body {
        m.insert("exit_code".into(), Json::from(v.exit_code()));
        if let (Some(c), Some(Json::Object(cm))) = (&v.comparison, m.get_mut("comparison")) {
            cm.insert("summary".into(), json!(c.summary()));
        }
    }
    json!({
        "schema_version": VERDICT_SCHEMA_VERSION,
        "tool": tool_info(),
        "verdict": body,
    })
}

/// How many failing layers are listed per rule in the text summary (JSON has them all).
const SHOWN_LAYERS: usize = 5;

/// A short summary for people: one line per rule, failing layers under failed rules.
pub fn human(v: &Verdict) -> String {
    let mut s = format!(
        "gate {}: {} on {}\n",
        v.gate,
        v.status.name().to_uppercase(),
        v.model.source
    );
    for r in &v.rules {
        s.push_str(&format!("  [{}] {}: {}\n", r.label(), r.name, r.message));
        if r.status != Status::Pass {
            for f in r.failing.iter().take(SHOWN_LAYERS) {
                s.push_str(&format!("      {}: {}\n", f.layer, f.why));
            }
            if r.failing.len() > SHOWN_LAYERS {
                s.push_str(&format!(
                    "      … and {} more layer(s)\n",
                    r.failing.len() - SHOWN_LAYERS
                ));
            }
        }
    }
    for w in &v.warnings {
        s.push_str(&format!("  warning: {w}\n"));
    }
    for e in &v.errors {
        s.push_str(&format!("  error: {e}\n"));
    }
    s
}

/// A number for messages: 4 significant decimals, "–" for none.
pub fn show(v: Option<f64>) -> String {
    match v {
        Some(x) if x != 0.0 && (x.abs() >= 1e5 || x.abs() < 1e-3) => format!("{x:.4e}"),
        Some(x) => {
            let t = format!("{x:.4}");
            let t = t.trim_end_matches('0').trim_end_matches('.');
            if t == "-0" { "0".into() } else { t.to_string() }
        }
        None => "–".into(),
    }
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
