//! The gate file (YAML): analysis options and rules, checked before any work.
//!
//! Unknown keys, wrong types (with file, line and key from the YAML parser), rules naming a
//! metric that does not exist or whose stage is off, and contradictory bounds are all errors.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::metrics;
use crate::compare::{LayerMetric, ModelMetric};
use crate::error::{Error, Result};
use crate::fits::Warning;
use crate::options::{AnalysisOptions, AnalysisOverrides, Preset};
use crate::schema::RowStatus;

/// A rule as written: one flat record; exactly one of the kind keys
/// (`layer`, `warned`, `summary`, `baseline`, `baseline_layer`, `compare`, `compare_layer`,
/// `check`) is set.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub blocking: Option<bool>,
    #[serde(default)]
    pub layer: Option<String>,
    #[serde(default)]
    pub warned: Option<Warned>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub baseline: Option<String>,
    #[serde(default)]
    pub baseline_layer: Option<String>,
    #[serde(default)]
    pub compare: Option<String>,
    #[serde(default)]
    pub compare_layer: Option<String>,
    #[serde(default)]
    pub check: Option<Check>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub max_failing: Option<usize>,
    #[serde(default)]
    pub max_failing_fraction: Option<f64>,
    #[serde(default)]
    pub min_evals: Option<usize>,
    #[serde(default)]
    pub max_increase: Option<f64>,
    #[serde(default)]
    pub max_increase_relative: Option<f64>,
    #[serde(default)]
    pub max_decrease: Option<f64>,
    #[serde(default)]
    pub max_decrease_relative: Option<f64>,
}

/// Which warning a `warned` rule counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Warned {
    #[serde(rename = "over-trained")]
    OverTrained,
    #[serde(rename = "under-trained")]
    UnderTrained,
    /// Either of the two.
    #[serde(rename = "any")]
    Any,
}

impl Warned {
    pub fn matches(self, warning: Warning) -> bool {
        match self {
            Warned::OverTrained => warning == Warning::OverTrained,
            Warned::UnderTrained => warning == Warning::UnderTrained,
            Warned::Any => matches!(warning, Warning::OverTrained | Warning::UnderTrained),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Warned::OverTrained => Warning::OverTrained.as_str(),
            Warned::UnderTrained => Warning::UnderTrained.as_str(),
            Warned::Any => "over- or under-trained",
        }
    }
}

/// Whole-model checks that are not a metric bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// No weight layer holds NaN or ±Inf.
    FiniteWeights,
    /// No weight layer is all zeros.
    NonzeroWeights,
}

impl Check {
    /// The row status of the layers this check fails (rows the gate would otherwise count as
    /// not analyzable, an error).
    pub fn status(self) -> RowStatus {
        match self {
            Check::FiniteWeights => RowStatus::InvalidValues,
            Check::NonzeroWeights => RowStatus::Degenerate,
        }
    }
    /// The check as the gate file names it.
    pub fn name(self) -> &'static str {
        match self {
            Check::FiniteWeights => "finite_weights",
            Check::NonzeroWeights => "nonzero_weights",
        }
    }
    /// What it demands, in words.
    pub fn requirement(self) -> &'static str {
        match self {
            Check::FiniteWeights => "no weight holds NaN or Inf",
            Check::NonzeroWeights => "no weight is all zeros",
        }
    }
}

/// A closed range; either end may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Bounds {
    pub fn contains(&self, v: f64) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
    /// How far outside the range `v` is (0 inside).
    pub fn excess(&self, v: f64) -> f64 {
        match (self.min, self.max) {
            (Some(m), _) if v < m => m - v,
            (_, Some(m)) if v > m => v - m,
            _ => 0.0,
        }
    }
    pub fn describe(&self) -> String {
        match (self.min, self.max) {
            (Some(a), Some(b)) => format!("within [{a}, {b}]"),
            (Some(a), None) => format!("≥ {a}"),
            (None, Some(b)) => format!("≤ {b}"),
            (None, None) => "any value".into(),
        }
    }
}

/// How many judged layers may fail a layer rule (default: none).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Allowance {
    pub max_failing: Option<usize>,
    pub max_failing_fraction: Option<f64>,
}

impl Allowance {
    /// Whether `failing` of `judged` layers is allowed; both limits apply when both are given.
    pub fn allows(&self, failing: usize, judged: usize) -> bool {
        let by_count = match (self.max_failing, self.max_failing_fraction) {
            (Some(k), _) => failing <= k,
            (None, Some(_)) => true,
            (None, None) => failing == 0,
        };
        let by_fraction = self
            .max_failing_fraction
            .is_none_or(|f| failing as f64 <= f * judged as f64);
        by_count && by_fraction
    }
    pub fn describe(&self) -> String {
        match (self.max_failing, self.max_failing_fraction) {
            (None, None) => "no layer may fail".into(),
            (Some(k), None) => format!("at most {k} failing layer(s)"),
            (None, Some(f)) => format!("at most {f} of the judged layers failing"),
            (Some(k), Some(f)) => {
                format!("at most {k} and at most {f} of the judged layers failing")
            }
        }
    }
}

/// How much a metric may move against the baseline; relative limits are fractions of |baseline|.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Change {
    pub max_increase: Option<f64>,
    pub max_increase_relative: Option<f64>,
    pub max_decrease: Option<f64>,
    pub max_decrease_relative: Option<f64>,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        *self == Change::default()
    }
    pub fn needs_nonzero_baseline(&self) -> bool {
        self.max_increase_relative.is_some() || self.max_decrease_relative.is_some()
    }
    /// The allowed range of the candidate value around `base`.
    pub fn bounds(&self, base: f64) -> Bounds {
        let up = [
            self.max_increase,
            self.max_increase_relative.map(|r| r * base.abs()),
        ];
        let down = [
            self.max_decrease,
            self.max_decrease_relative.map(|r| r * base.abs()),
        ];
        let tightest = |v: [Option<f64>; 2]| v.into_iter().flatten().reduce(f64::min);
        Bounds {
            min: tightest(down).map(|d| base - d),
            max: tightest(up).map(|u| base + u),
        }
    }
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(x) = self.max_increase {
            parts.push(format!("increase ≤ {x}"));
        }
        if let Some(x) = self.max_increase_relative {
            parts.push(format!("increase ≤ {}%", x * 100.0));
        }
        if let Some(x) = self.max_decrease {
            parts.push(format!("decrease ≤ {x}"));
        }
        if let Some(x) = self.max_decrease_relative {
            parts.push(format!("decrease ≤ {}%", x * 100.0));
        }
        parts.join(", ")
    }
}

/// What a rule judges.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleKind {
    /// Every analyzed row (with at least `min_evals` eigenvalues) has `metric` within bounds,
    /// up to the allowance.
    Layer {
        /// The row metric judged (a column name or a derived metric).
        metric: String,
        /// The range it must lie in.
        bounds: Bounds,
        /// How many judged rows may fail.
        allowance: Allowance,
        /// Rows with fewer eigenvalues are not judged.
        min_evals: Option<usize>,
    },
    /// At most the allowance of analyzed rows carries the warning.
    Warned {
        /// Which warning is counted.
        warned: Warned,
        /// How many rows may carry it.
        allowance: Allowance,
    },
    /// A model metric within bounds.
    Summary {
        /// The summary metric judged (`summary.json` name).
        metric: String,
        /// The range it must lie in.
        bounds: Bounds,
    },
    /// A model metric may not move against the baseline by more than `change`.
    Baseline {
        /// The summary metric compared.
        metric: String,
        /// How far it may move.
        change: Change,
    },
    /// Each layer's metric, matched by weight name, may not move by more than `change`.
    BaselineLayer {
        /// The row metric compared.
        metric: String,
        /// How far each layer's value may move.
        change: Change,
        /// How many matched layers may move further.
        allowance: Allowance,
    },
    /// A model-level comparison metric with the baseline (`compare::ModelMetric`) within bounds.
    Compare {
        /// The metric judged.
        metric: ModelMetric,
        /// The range it must lie in.
        bounds: Bounds,
    },
    /// Every compared layer's comparison metric (`compare::LayerMetric`) within bounds, up to the
    /// allowance.
    CompareLayer {
        /// The metric judged.
        metric: LayerMetric,
        /// The range it must lie in.
        bounds: Bounds,
        /// How many compared layers may fail.
        allowance: Allowance,
    },
    /// A whole-model check.
    Check(Check),
}

impl RuleKind {
    /// The rule's kind as the gate file's key names it (`layer`, `baseline_layer`...).
    pub(crate) fn label(&self) -> &'static str {
        match self {
            RuleKind::Layer { .. } => "layer",
            RuleKind::Warned { .. } => "warned",
            RuleKind::Summary { .. } => "summary",
            RuleKind::Baseline { .. } => "baseline",
            RuleKind::BaselineLayer { .. } => "baseline_layer",
            RuleKind::Compare { .. } => "compare",
            RuleKind::CompareLayer { .. } => "compare_layer",
            RuleKind::Check(_) => "check",
        }
    }
    /// The metric the rule reads, if it reads one.
    pub(crate) fn metric(&self) -> Option<&str> {
        match self {
            RuleKind::Layer { metric, .. }
            | RuleKind::Summary { metric, .. }
            | RuleKind::Baseline { metric, .. }
            | RuleKind::BaselineLayer { metric, .. } => Some(metric),
            RuleKind::Compare { metric, .. } => Some(metric.name()),
            RuleKind::CompareLayer { metric, .. } => Some(metric.name()),
            RuleKind::Warned { .. } | RuleKind::Check(_) => None,
        }
    }
    /// Whether the rule compares with a baseline.
    pub(crate) fn uses_baseline(&self) -> bool {
        matches!(
            self,
            RuleKind::Baseline { .. } | RuleKind::BaselineLayer { .. }
        ) || self.uses_weights()
    }
    /// Whether the rule compares the weights themselves, which needs the baseline model (a
    /// report holds no weights).
    pub(crate) fn uses_weights(&self) -> bool {
        matches!(
            self,
            RuleKind::Compare { .. } | RuleKind::CompareLayer { .. }
        )
    }
}

/// One checked rule of a gate.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The rule's name, unique in its gate.
    pub name: String,
    /// The gate file's description of it.
    pub description: Option<String>,
    /// What it judges.
    pub kind: RuleKind,
    /// Whether a failure fails the gate (default). A non-blocking rule reports a *finding*:
    /// shown in every output, never changing the exit code.
    pub blocking: bool,
}

/// The gate file as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateFile {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub preset: Preset,
    #[serde(default)]
    pub analysis: AnalysisOverrides,
    pub rules: Vec<RuleSpec>,
}

/// A checked gate: resolved options and typed rules.
#[derive(Clone, Debug)]
pub struct Gate {
    /// The gate file's path.
    pub file: PathBuf,
    /// The gate file's description.
    pub description: Option<String>,
    /// The preset the options start from (`ww` when not given).
    pub preset: Preset,
    /// The resolved, validated analysis options.
    pub options: AnalysisOptions,
    /// The rules, in file order.
    pub rules: Vec<Rule>,
}

impl Gate {
    /// Read and check a gate file.
    pub fn load(path: &Path) -> Result<Gate> {
        let text = crate::io::read_config_text(path)?;
        Gate::parse(path, &text)
    }

    /// Check gate text; `path` is used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<Gate> {
        let spec: GateFile = serde_saphyr::from_str(text)
            .map_err(|e| Error::config(path, format!("invalid gate file: {e}")))?;
        let options = AnalysisOptions::resolve(spec.preset, &spec.analysis)
            .map_err(|e| Error::config(path, e.to_string()))?;
        if spec.rules.is_empty() {
            return Err(Error::config(path, "rules: the gate has no rules"));
        }
        let mut rules: Vec<Rule> = Vec::new();
        for (i, r) in spec.rules.iter().enumerate() {
            let rule = typed(r, &options)
                .map_err(|m| Error::config(path, format!("rules[{i}] ({:?}): {m}", r.name)))?;
            if rules.iter().any(|x| x.name == rule.name) {
                return Err(Error::config(
                    path,
                    format!("rules[{i}]: duplicate rule name {:?}", rule.name),
                ));
            }
            rules.push(rule);
        }
        let rank_metric = |r: &Rule| {
            matches!(
                r.kind.metric(),
                Some("rank_ratio" | "matrix_rank" | "rank_loss")
            )
        };
        if options.eigensolver == crate::options::Eigensolver::Gram && rules.iter().any(rank_metric)
        {
            tracing::warn!(
                "{}: rank rules with the Gram eigensolver overcount the rank of collapsed layers; \
                 set `analysis: {{ eigensolver: svd }}`",
                path.display()
            );
        }
        Ok(Gate {
            file: path.to_path_buf(),
            description: spec.description,
            preset: spec.preset,
            options,
            rules,
        })
    }

    /// Whether any rule compares with a baseline.
    pub(crate) fn needs_baseline(&self) -> bool {
        self.rules.iter().any(|r| r.kind.uses_baseline())
    }

    /// Whether any rule compares the weights with the baseline's.
    pub(crate) fn needs_weights(&self) -> bool {
        self.rules.iter().any(|r| r.kind.uses_weights())
    }

    /// The row statuses that a blocking check of this gate judges (a fail) instead of an
    /// error. A non-blocking check only reports: its layers stay errors, or a NaN model would
    /// pass.
    pub(crate) fn checked_statuses(&self) -> Vec<RowStatus> {
        (self.rules.iter())
            .filter(|r| r.blocking)
            .filter_map(|r| match r.kind {
                RuleKind::Check(c) => Some(c.status()),
                _ => None,
            })
            .collect()
    }
}

/// The typed rule, or why the record is not one.
fn typed(r: &RuleSpec, opts: &AnalysisOptions) -> std::result::Result<Rule, String> {
    check_name(&r.name)?;
    let kinds = [
        r.layer.is_some(),
        r.warned.is_some(),
        r.summary.is_some(),
        r.baseline.is_some(),
        r.baseline_layer.is_some(),
        r.compare.is_some(),
        r.compare_layer.is_some(),
        r.check.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(
            "give exactly one of layer, warned, summary, baseline, baseline_layer, \
                    compare, compare_layer, check"
                .into(),
        );
    }
    let bounds = Bounds {
        min: r.min,
        max: r.max,
    };
    let allowance = Allowance {
        max_failing: r.max_failing,
        max_failing_fraction: r.max_failing_fraction,
    };
    let change = Change {
        max_increase: r.max_increase,
        max_increase_relative: r.max_increase_relative,
        max_decrease: r.max_decrease,
        max_decrease_relative: r.max_decrease_relative,
    };
    check_numbers(&bounds, &allowance, &change)?;
    let used = Used {
        bounds: bounds != Bounds::default(),
        allowance: allowance != Allowance::default(),
        change: !change.is_empty(),
        min_evals: r.min_evals.is_some(),
    };
    let kind = if let Some(m) = &r.layer {
        used.only(true, true, false, true)?;
        metrics::check_layer_metric(m, opts)?;
        need_bounds(&bounds)?;
        RuleKind::Layer {
            metric: m.clone(),
            bounds,
            allowance,
            min_evals: r.min_evals,
        }
    } else if let Some(w) = r.warned {
        used.only(false, true, false, false)?;
        RuleKind::Warned {
            warned: w,
            allowance,
        }
    } else if let Some(m) = &r.summary {
        used.only(true, false, false, false)?;
        metrics::check_summary_metric(m, opts)?;
        need_bounds(&bounds)?;
        RuleKind::Summary {
            metric: m.clone(),
            bounds,
        }
    } else if let Some(m) = &r.baseline {
        used.only(false, false, true, false)?;
        metrics::check_summary_metric(m, opts)?;
        need_change(&change)?;
        RuleKind::Baseline {
            metric: m.clone(),
            change,
        }
    } else if let Some(m) = &r.baseline_layer {
        used.only(false, true, true, false)?;
        metrics::check_layer_metric(m, opts)?;
        need_change(&change)?;
        RuleKind::BaselineLayer {
            metric: m.clone(),
            change,
            allowance,
        }
    } else if let Some(m) = &r.compare {
        used.only(true, false, false, false)?;
        need_bounds(&bounds)?;
        RuleKind::Compare {
            metric: known(
                m,
                "compare",
                ModelMetric::from_name,
                ModelMetric::ALL,
                |x| x.name(),
            )?,
            bounds,
        }
    } else if let Some(m) = &r.compare_layer {
        used.only(true, true, false, false)?;
        need_bounds(&bounds)?;
        RuleKind::CompareLayer {
            metric: known(
                m,
                "compare_layer",
                LayerMetric::from_name,
                LayerMetric::ALL,
                |x| x.name(),
            )?,
            bounds,
            allowance,
        }
    } else if let Some(c) = r.check {
        used.only(false, false, false, false)?;
        RuleKind::Check(c)
    } else {
        return Err("no rule kind".into());
    };
    Ok(Rule {
        name: r.name.clone(),
        description: r.description.clone(),
        kind,
        blocking: r.blocking.unwrap_or(true),
    })
}

/// Which optional key groups a record uses, so that a key meaningless for its kind is refused
/// instead of silently ignored.
struct Used {
    bounds: bool,
    allowance: bool,
    change: bool,
    min_evals: bool,
}

impl Used {
    fn only(
        &self,
        bounds: bool,
        allowance: bool,
        change: bool,
        min_evals: bool,
    ) -> std::result::Result<(), String> {
        let bad = [
            (self.bounds && !bounds, "min/max"),
            (
                self.allowance && !allowance,
                "max_failing/max_failing_fraction",
            ),
            (
                self.change && !change,
                "max_increase/max_decrease(_relative)",
            ),
            (self.min_evals && !min_evals, "min_evals"),
        ];
        match bad.iter().find(|(b, _)| *b) {
            Some((_, keys)) => Err(format!("{keys} do not apply to this kind of rule")),
            None => Ok(()),
        }
    }
}

/// The metric a `kind` rule names, or the list of those that exist.
fn known<M: Copy>(
    m: &str,
    kind: &str,
    from_name: fn(&str) -> Option<M>,
    all: &[M],
    name: fn(M) -> &'static str,
) -> std::result::Result<M, String> {
    from_name(m).ok_or_else(|| {
        let list: Vec<&str> = all.iter().map(|x| name(*x)).collect();
        format!(
            "unknown {kind} metric {m:?}; {kind} metrics: {}",
            list.join(", ")
        )
    })
}

fn need_bounds(b: &Bounds) -> std::result::Result<(), String> {
    if b.min.is_none() && b.max.is_none() {
        return Err("give min, max or both".into());
    }
    Ok(())
}

fn need_change(c: &Change) -> std::result::Result<(), String> {
    if c.is_empty() {
        return Err(
            "give max_increase, max_increase_relative, max_decrease or max_decrease_relative"
                .into(),
        );
    }
    Ok(())
}

fn check_numbers(b: &Bounds, a: &Allowance, c: &Change) -> std::result::Result<(), String> {
    let all = [
        b.min,
        b.max,
        a.max_failing_fraction,
        c.max_increase,
        c.max_increase_relative,
        c.max_decrease,
        c.max_decrease_relative,
    ];
    if all.iter().flatten().any(|x| !x.is_finite()) {
        return Err("limits must be finite numbers".into());
    }
    if let (Some(lo), Some(hi)) = (b.min, b.max)
        && lo > hi
    {
        return Err(format!("min {lo} is above max {hi}"));
    }
    if let Some(f) = a.max_failing_fraction
        && !(0.0..=1.0).contains(&f)
    {
        return Err(format!("max_failing_fraction {f} is not within [0, 1]"));
    }
    let changes = [
        c.max_increase,
        c.max_increase_relative,
        c.max_decrease,
        c.max_decrease_relative,
    ];
    if changes.iter().flatten().any(|x| *x < 0.0) {
        return Err("max_increase/max_decrease limits must be ≥ 0".into());
    }
    Ok(())
}

/// Rule names become JUnit test names and appear in logs: keep them plain.
fn check_name(name: &str) -> std::result::Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err("name must be 1–128 characters of letters, digits, '_', '-', '.'".into())
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
