//! The metrics a gate rule may name: the numeric columns of `details` for layer rules, the
//! summary for model rules, and a few derived ones (documented in docs/gate.md).

use crate::metrics::row::{COLUMN_ORDER, Row};
use crate::metrics::summary::SUMMARY_METRICS;
use crate::options::AnalysisOptions;

use super::baseline::Evidence;

/// Columns of `details` that are text, flags or identity, not numbers to bound.
const NON_NUMERIC: &[&str] = &[
    "model",
    "layer_id",
    "name",
    "longname",
    "slice_id",
    "layer_type",
    "status",
    "warning",
    "has_esd",
    "mp_status",
    "detX_reached",
    "fit_failure",
    "problem",
    "flags",
];

/// Derived layer metrics: `rank_ratio` = matrix_rank / num_evals, the fraction of the row's
/// eigenvalues above the rank tolerance (matrix_rank / M for dense and sliced rows,
/// matrix_rank / (M·rf) for pooled conv rows). Near 0 means a rank-collapsed layer. Exact with
/// `eigensolver: svd`; the Gram path turns exact zeros into rounding noise that partly counts.
pub const DERIVED_LAYER: &[&str] = &["rank_ratio"];

/// Counts written next to the summary means (`report::analysis::summary_json`).
pub const SUMMARY_COUNTS: &[&str] = &[
    "n_layers",
    "n_rows",
    "n_skipped",
    "n_invalid",
    "n_fit_failed",
    "n_mp_failed",
    "n_over_trained",
    "n_under_trained",
];

/// Derived model metrics, computed from the rows:
/// - `num_spikes_total`: Σ num_spikes, the MP outliers of all rows (needs mp_fit);
/// - `n_rows_with_spikes`: rows with at least one MP spike (needs mp_fit);
/// - `frac_under_trained` / `frac_over_trained`: share of analysed rows warned so.
pub const DERIVED_SUMMARY: &[&str] = &[
    "num_spikes_total",
    "n_rows_with_spikes",
    "frac_under_trained",
    "frac_over_trained",
];

/// Option a metric's stage needs, by column range in `COLUMN_ORDER`.
const STAGES: &[(&str, &str, &str)] = &[
    ("sigma_mp", "W_scale", "mp_fit"),
    ("max_rand_eval", "rand_bulk_min", "randomize"),
    ("detX_num", "ERG_gap", "detX"),
    ("bulk_mean_vec_entropy", "tail_var_part_ratio", "vectors"),
];

fn position(c: &str) -> Option<usize> {
    COLUMN_ORDER.iter().position(|k| *k == c)
}

/// The option a layer column needs, if any, and whether it is on.
fn stage_of(column: &str, opts: &AnalysisOptions) -> Option<(&'static str, bool)> {
    let p = position(column)?;
    STAGES.iter().find_map(|(first, last, option)| {
        let (a, b) = (position(first)?, position(last)?);
        (a..=b).contains(&p).then(|| {
            let on = match *option {
                "mp_fit" => opts.mp_fit,
                "randomize" => opts.randomize,
                "detX" => opts.detx,
                _ => opts.vectors,
            };
            (*option, on)
        })
    })
}

/// Every metric a layer rule may name.
pub fn layer_metrics() -> Vec<&'static str> {
    COLUMN_ORDER
        .iter()
        .copied()
        .filter(|c| !NON_NUMERIC.contains(c))
        .chain(DERIVED_LAYER.iter().copied())
        .collect()
}

/// Every metric a model rule may name.
pub fn summary_metrics() -> Vec<&'static str> {
    SUMMARY_METRICS
        .iter()
        .chain(SUMMARY_COUNTS)
        .chain(DERIVED_SUMMARY)
        .copied()
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
    match stage_of(metric, opts) {
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
    let needs_mp = matches!(
        metric,
        "mp_softrank" | "num_spikes_total" | "n_rows_with_spikes"
    );
    if needs_mp && !opts.mp_fit {
        return Err(format!(
            "summary metric {metric:?} needs `analysis: {{ mp_fit: true }}`"
        ));
    }
    Ok(())
}

/// A layer metric of one row; None when the row has no finite value for it.
pub fn layer_value(row: &Row, metric: &str) -> Option<f64> {
    let v = match metric {
        "rank_ratio" => {
            let n = row.num("num_evals").filter(|n| *n > 0.0)?;
            row.num("matrix_rank")? / n
        }
        _ => row.num(metric)?,
    };
    v.is_finite().then_some(v)
}

/// A model metric; None when the analysis has no finite value for it.
pub fn summary_value(ev: &Evidence, metric: &str) -> Option<f64> {
    let analysed: Vec<&Row> = ev.analysed_rows().collect();
    let count = |f: &dyn Fn(&Row) -> bool| analysed.iter().filter(|r| f(r)).count() as f64;
    let share = |w: &str| {
        (!analysed.is_empty())
            .then(|| count(&|r| r.text("warning") == Some(w)) / analysed.len() as f64)
    };
    let v = match metric {
        "num_spikes_total" => Some(analysed.iter().filter_map(|r| r.num("num_spikes")).sum()),
        "n_rows_with_spikes" => Some(count(&|r| r.num("num_spikes").is_some_and(|s| s > 0.0))),
        "frac_under_trained" => share("under-trained"),
        "frac_over_trained" => share("over-trained"),
        _ => ev.summary.get(metric).copied().flatten(),
    };
    v.filter(|x| x.is_finite())
}

/// How a row is named in messages and matched against a baseline: the weight name, plus the
/// slice in sliced mode.
pub fn row_key(row: &Row) -> String {
    let name = row.text("name").unwrap_or("?");
    match row.num("slice_id") {
        Some(s) => format!("{name}:{s}"),
        None => name.to_string(),
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
