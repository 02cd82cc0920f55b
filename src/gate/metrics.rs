//! The metrics a gate rule may name: the numeric columns of `details` for layer rules, the
//! summary for model rules, and a few derived ones (documented in docs/gate.md).

use crate::fits::Warning;
use crate::metrics::row::Row;
use crate::options::AnalysisOptions;
use crate::schema::{Column, Counts, SUMMARY_MEANS, SummaryMean};

use super::baseline::Evidence;

/// Derived layer metrics: `rank_ratio` = matrix_rank / num_evals, the fraction of the row's
/// eigenvalues above the rank tolerance (matrix_rank / M for dense and sliced rows,
/// matrix_rank / (M·rf) for pooled conv rows). Near 0 means a rank-collapsed layer. Exact with
/// `eigensolver: svd`; the Gram path turns exact zeros into rounding noise that partly counts.
pub const DERIVED_LAYER: &[&str] = &["rank_ratio"];

/// Derived model metrics, computed from the rows:
/// - `num_spikes_total`: Σ num_spikes, the MP outliers of all rows (needs mp_fit);
/// - `n_rows_with_spikes`: rows with at least one MP spike (needs mp_fit);
/// - `frac_rows_with_spikes`: their share of the analyzed rows (needs mp_fit);
/// - `spikes_per_row`: `num_spikes_total` / analyzed rows (needs mp_fit);
/// - `frac_under_trained` / `frac_over_trained`: share of analyzed rows warned so.
pub const DERIVED_SUMMARY: &[&str] = &[
    "num_spikes_total",
    "n_rows_with_spikes",
    "frac_rows_with_spikes",
    "spikes_per_row",
    "frac_under_trained",
    "frac_over_trained",
];

/// Derived model metrics that need the MP fit.
const DERIVED_SUMMARY_NEEDS_MP: &[&str] = &[
    "num_spikes_total",
    "n_rows_with_spikes",
    "frac_rows_with_spikes",
    "spikes_per_row",
];

/// Every metric a layer rule may name: the numeric columns of the schema, then the derived.
pub fn layer_metrics() -> Vec<&'static str> {
    Column::ALL
        .iter()
        .filter(|c| c.is_metric())
        .map(|c| c.name())
        .chain(DERIVED_LAYER.iter().copied())
        .collect()
}

/// Every metric a model rule may name: the summary means and counts, then the derived.
pub fn summary_metrics() -> Vec<&'static str> {
    SUMMARY_MEANS
        .iter()
        .map(|m| m.name())
        .chain(Counts::NAMES.iter().copied())
        .chain(DERIVED_SUMMARY.iter().copied())
        .collect()
}

/// Check that a layer metric exists and that the stage computing it is enabled.
pub fn check_layer_metric(metric: &str, opts: &AnalysisOptions) -> Result<(), String> {
    if !layer_metrics().contains(&metric) {
        return Err(format!(
            "unknown layer metric {metric:?}; layer metrics: {}",
            layer_metrics().join(", ")
        ));
    }
    let stage = Column::from_name(metric).map(Column::stage);
    match stage.and_then(|s| Some((s.option()?, s.enabled(opts)))) {
        Some((option, false)) => Err(format!(
            "layer metric {metric:?} needs `analysis: {{ {option}: true }}`"
        )),
        _ => Ok(()),
    }
}

/// Check that a model metric exists and that the stage computing it is enabled.
pub fn check_summary_metric(metric: &str, opts: &AnalysisOptions) -> Result<(), String> {
    if !summary_metrics().contains(&metric) {
        return Err(format!(
            "unknown summary metric {metric:?}; summary metrics: {}",
            summary_metrics().join(", ")
        ));
    }
    let needs_mp = SummaryMean::from_name(metric).is_some_and(|m| !m.applies(opts))
        || DERIVED_SUMMARY_NEEDS_MP.contains(&metric);
    if needs_mp && !opts.mp_fit {
        return Err(format!(
            "summary metric {metric:?} needs `analysis: {{ mp_fit: true }}`"
        ));
    }
    Ok(())
}

/// `rank_ratio` of a row: matrix_rank / num_evals ([`DERIVED_LAYER`]).
pub fn rank_ratio(row: &Row) -> Option<f64> {
    let n = row.num(Column::NumEvals).filter(|n| *n > 0.0)?;
    Some(row.num(Column::MatrixRank)? / n)
}

/// A layer metric of one row; None when the row has no finite value for it.
pub fn layer_value(row: &Row, metric: &str) -> Option<f64> {
    let v = match metric {
        "rank_ratio" => rank_ratio(row)?,
        _ => row.num(Column::from_name(metric)?)?,
    };
    v.is_finite().then_some(v)
}

/// A model metric; None when the analysis has no finite value for it.
pub fn summary_value(ev: &Evidence, metric: &str) -> Option<f64> {
    let analyzed: Vec<&Row> = ev.analyzed_rows().collect();
    let count = |f: &dyn Fn(&Row) -> bool| analyzed.iter().filter(|r| f(r)).count() as f64;
    let share = |w: Warning| {
        (!analyzed.is_empty()).then(|| count(&|r| r.warning() == w) / analyzed.len() as f64)
    };
    let spiked = |r: &Row| r.num(Column::NumSpikes).is_some_and(|s| s > 0.0);
    let total: f64 = analyzed
        .iter()
        .filter_map(|r| r.num(Column::NumSpikes))
        .sum();
    let v = match metric {
        "num_spikes_total" => Some(total),
        "spikes_per_row" => (!analyzed.is_empty()).then(|| total / analyzed.len() as f64),
        "n_rows_with_spikes" => Some(count(&spiked)),
        "frac_rows_with_spikes" => {
            (!analyzed.is_empty()).then(|| count(&spiked) / analyzed.len() as f64)
        }
        "frac_under_trained" => share(Warning::UnderTrained),
        "frac_over_trained" => share(Warning::OverTrained),
        _ => ev.summary.get(metric).copied().flatten(),
    };
    v.filter(|x| x.is_finite())
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
