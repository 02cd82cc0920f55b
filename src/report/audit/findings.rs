//! What a person should know first about one analyzed model: every layer that could not be
//! analyzed and why, broken or collapsed weights, failed fits, HT-SR warnings, correlation
//! traps, and every skipped layer with its reason. Derived from the analysis alone; each
//! finding names its layer and the number behind it.

use crate::analysis::ModelAnalysis;
use crate::compare::row_key;
use crate::fits::{FitStatus, Warning};
use crate::gate::metrics::rank_ratio;
use crate::metrics::row::Row;
use crate::schema::{Column, RowStatus, SkipReason};

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Something is broken or could not be judged.
    Problem,
    /// A sign worth a look.
    Warning,
    /// For the record.
    Info,
}

impl Severity {
    /// Lowercase name, used as a CSS class and in Markdown.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Problem => "problem",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A layer whose rank ratio (matrix_rank / num_evals, `gate::metrics::rank_ratio`) is below
/// this is called rank-collapsed: the threshold of the shipped default gate's blocking rule
/// `no-rank-collapse` (configs/gates/default.yaml, calibrated in docs/gate.md).
pub const RANK_COLLAPSE_RATIO: f64 = 0.2;

macro_rules! kinds {
    ($( $(#[doc = $doc:literal])* $v:ident: $sev:ident, $title:literal, $why:literal; )*) => {
        /// The kinds of finding, most important first; the report groups findings by kind.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Kind { $( $(#[doc = $doc])* $v, )* }

        impl Kind {
            /// Every kind, in report order.
            pub const ALL: &'static [Kind] = &[ $( Kind::$v, )* ];
            /// How much findings of this kind matter.
            pub fn severity(self) -> Severity {
                match self { $( Kind::$v => Severity::$sev, )* }
            }
            /// The heading of the group.
            pub fn title(self) -> &'static str {
                match self { $( Kind::$v => $title, )* }
            }
            /// What the finding means, in a sentence.
            pub fn explanation(self) -> &'static str {
                match self { $( Kind::$v => $why, )* }
            }
        }
    };
}

kinds! {
    /// The model has no analyzed row at all.
    NothingAnalyzed: Problem, "No layer analyzed",
        "No weight of this model has a spectrum, so no metric below describes it.";
    /// NaN or infinite weights.
    InvalidValues: Problem, "Invalid values",
        "The weight holds NaN or infinite values; the layer has no spectrum.";
    /// All-zero weights.
    AllZero: Problem, "All-zero weights",
        "Every value of the weight is zero; there is no spectrum.";
    /// Rows that could not be analyzed for another reason.
    NotAnalyzed: Problem, "Layers not analyzed",
        "The weight is malformed (it cannot be decoded as declared) or its eigenvalues could \
         not be computed.";
    /// Over the memory budget.
    OverBudget: Problem, "Layers over the memory budget",
        "Decoding the weight would exceed the per-layer or model memory budget \
         (--max-layer-bytes, --max-model-bytes); raise it to analyze the layer.";
    /// Rank-collapsed layers.
    RankCollapse: Problem, "Rank collapse",
        "Fewer than 20 % of the layer's eigenvalues are above the rank tolerance \
         (rank_ratio = matrix_rank / num_evals < 0.2, the default gate's threshold).";
    /// Weights in a form tailwatch does not decode.
    Undecoded: Warning, "Weights not decoded",
        "Weights in an op, dtype or layout tailwatch does not decode (docs/onnx-weights.md §5 \
         lists the forms); they are not in any metric below.";
    /// Failed power-law fits.
    FitFailed: Warning, "Power-law fit failed",
        "No tail could be fitted, so alpha and the alpha-based metrics are missing.";
    /// Failed Marchenko–Pastur fits.
    MpFitFailed: Warning, "Marchenko–Pastur fit failed",
        "The MP bulk could not be fitted; num_spikes and mp_softrank are missing.";
    /// Correlation traps.
    CorrelationTrap: Warning, "Correlation traps",
        "The element-shuffled copy of the weight still has eigenvalues beyond the MP bulk \
         (num_traps > 0): large single elements, not learned correlations, make them \
         (WeightWatcher's correlation traps).";
    /// alpha > 6.
    UnderTrained: Warning, "Under-trained layers",
        "alpha > 6: the ESD is close to a random matrix's (HT-SR, WeightWatcher's warning).";
    /// alpha < 2.
    OverTrained: Warning, "Over-trained layers",
        "alpha < 2: a very heavy tail, often a sign of over-fitting or a degenerate layer \
         (HT-SR, WeightWatcher's warning).";
    /// Weight layers that produced no row.
    Skipped: Info, "Skipped layers",
        "Weights found in the graph that have no row, with the reason.";
}

/// One thing to know, about one layer (or the whole model).
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// What kind of finding.
    pub kind: Kind,
    /// The layer's name (with `:slice` for a sliced row); None for the model.
    pub layer: Option<String>,
    /// The layer's id, where it has one.
    pub layer_id: Option<usize>,
    /// The particulars: the value behind the finding, or the reason.
    pub detail: String,
}

/// The findings grouped by kind, most important kind first, each group in layer order.
pub fn grouped(findings: &[Finding]) -> Vec<(Kind, Vec<&Finding>)> {
    Kind::ALL
        .iter()
        .map(|&k| {
            (
                k,
                findings.iter().filter(|f| f.kind == k).collect::<Vec<_>>(),
            )
        })
        .filter(|(_, g)| !g.is_empty())
        .collect()
}

/// Every finding of `a`, ordered by kind (most important first), then by layer order.
pub fn findings(a: &ModelAnalysis) -> Vec<Finding> {
    let mut out = Vec::new();
    if !a.rows.iter().any(Row::is_analyzed) {
        out.push(Finding {
            kind: Kind::NothingAnalyzed,
            layer: None,
            layer_id: None,
            detail: nothing_analyzed_reason(a),
        });
    }
    for r in &a.rows {
        row_findings(r, &mut out);
    }
    for s in &a.skipped {
        let kind = match s.reason {
            SkipReason::OverBudget => Kind::OverBudget,
            SkipReason::Malformed => Kind::NotAnalyzed,
            SkipReason::UnsupportedOp
            | SkipReason::UnsupportedDtype
            | SkipReason::UnsupportedShape
            | SkipReason::UnsupportedRank => Kind::Undecoded,
            _ => Kind::Skipped,
        };
        let op = if s.op.is_empty() {
            "no op".to_string()
        } else {
            s.op.clone()
        };
        out.push(Finding {
            kind,
            layer: Some(s.name.clone()),
            layer_id: s.layer_id,
            detail: if s.detail.starts_with(s.reason.as_str()) {
                format!("{op}: {}", s.detail)
            } else if s.detail.is_empty() {
                format!("{op}: {}", s.reason.as_str())
            } else {
                format!("{op}: {}: {}", s.reason.as_str(), s.detail)
            },
        });
    }
    // Stable: layer order within a kind; skipped layers without an id after those with one.
    out.sort_by_key(|f| (f.kind, f.layer_id.is_none(), f.layer_id));
    out
}

fn row_findings(r: &Row, out: &mut Vec<Finding>) {
    let name = row_key(r);
    let id = r.num(Column::LayerId).map(|v| v as usize);
    let mut push = |kind: Kind, detail: String| {
        out.push(Finding {
            kind,
            layer: Some(name.clone()),
            layer_id: id,
            detail,
        })
    };
    if !r.is_analyzed() {
        let status = r.status();
        let problem = match r.text(Column::Problem).filter(|p| !p.is_empty()) {
            Some(p) => p.to_string(),
            None => status.map_or("not analyzed", |s| s.as_str()).to_string(),
        };
        let kind = match status {
            Some(RowStatus::InvalidValues) => Kind::InvalidValues,
            Some(RowStatus::Degenerate) => Kind::AllZero,
            Some(RowStatus::OverBudget) => Kind::OverBudget,
            _ => Kind::NotAnalyzed,
        };
        return push(kind, problem);
    }
    if let Some(ratio) = rank_ratio(r).filter(|v| *v < RANK_COLLAPSE_RATIO) {
        let rank = r.num(Column::MatrixRank).unwrap_or(f64::NAN);
        let n = r.num(Column::NumEvals).unwrap_or(f64::NAN);
        push(
            Kind::RankCollapse,
            format!("rank {rank} of {n} eigenvalues (rank_ratio {ratio:.3})"),
        );
    }
    let fit_failed = r.status() == Some(RowStatus::Failed);
    if fit_failed {
        let why = r.text(Column::FitFailure).unwrap_or("no reason recorded");
        push(Kind::FitFailed, why.to_string());
    }
    if r.text(Column::MpStatus).and_then(FitStatus::parse) == Some(FitStatus::Failed) {
        push(Kind::MpFitFailed, "mp_status failed".to_string());
    }
    if let Some(t) = r.num(Column::NumTraps).filter(|t| *t > 0.0) {
        let rd = r
            .num(Column::RandDistance)
            .map_or(String::new(), |d| format!(", rand_distance {d:.3}"));
        push(Kind::CorrelationTrap, format!("{t} trap(s){rd}"));
    }
    // A failed fit has no alpha to judge (WeightWatcher's -1 would read as over-trained).
    let alpha = r.num(Column::Alpha).unwrap_or(f64::NAN);
    match r.warning() {
        _ if fit_failed => {}
        Warning::UnderTrained => push(Kind::UnderTrained, format!("alpha {alpha:.3}")),
        Warning::OverTrained => push(Kind::OverTrained, format!("alpha {alpha:.3}")),
        Warning::None | Warning::FitFailed => {}
    }
}

/// Why a model has no analyzed row, in one sentence a person can act on.
pub fn nothing_analyzed_reason(a: &ModelAnalysis) -> String {
    let weights = (a.skipped.iter()).any(|s| s.reason != SkipReason::NotAWeightSlot);
    if a.rows.is_empty() && !weights {
        return "the graph has no Conv, ConvTranspose, Gemm or MatMul (or other supported) op \
                with a constant weight: there is nothing to analyze. `tailwatch describe` lists \
                what was found."
            .to_string();
    }
    let mut reasons: Vec<(String, usize)> = Vec::new();
    let mut count = |what: String| match reasons.iter_mut().find(|r| r.0 == what) {
        Some(r) => r.1 += 1,
        None => reasons.push((what, 1)),
    };
    for r in &a.rows {
        count(format!(
            "status {}",
            r.status().map_or("unknown", |s| s.as_str())
        ));
    }
    // Constants that no weight slot reads are not weight layers.
    let skipped = (a.skipped.iter()).filter(|s| s.reason != SkipReason::NotAWeightSlot);
    let mut n_skipped = 0;
    for s in skipped {
        count(s.reason.as_str().to_string());
        n_skipped += 1;
    }
    let total = a.rows.len() + n_skipped;
    let list: Vec<String> = reasons.iter().map(|(w, n)| format!("{n} {w}")).collect();
    let hint = if a.skipped.iter().any(|s| s.reason == SkipReason::SizeFilter) {
        " Layers left out by the size filter can be analyzed with a smaller min_evals \
         (--set min_evals=N)."
    } else {
        ""
    };
    format!(
        "none of the {total} weight layers found has a spectrum: {}.{hint}",
        list.join(", ")
    )
}

#[cfg(test)]
#[path = "findings_tests.rs"]
mod tests;
