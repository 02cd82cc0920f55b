//! The model summary (methods.md §13): unweighted means over the rows of `details`.

use serde::{Deserialize, Serialize};

use super::row::Row;
use crate::options::{AnalysisOptions, Quirk};

/// The metrics averaged into a summary, in output order.
pub const SUMMARY_METRICS: [&str; 7] = [
    "log_norm",
    "alpha",
    "alpha_weighted",
    "log_alpha_norm",
    "log_spectral_norm",
    "stable_rank",
    "mp_softrank",
];

/// Metrics that depend on a successful power-law fit, and the MP metric on a successful MP fit.
const NEEDS_PL_FIT: [&str; 3] = ["alpha", "alpha_weighted", "log_alpha_norm"];
const NEEDS_MP_FIT: [&str; 1] = ["mp_softrank"];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// (metric, mean) for every metric with at least one value, in `SUMMARY_METRICS` order.
    pub means: Vec<(String, Option<f64>)>,
    /// Weight layers found (analysed, failed or skipped).
    pub n_layers: usize,
    /// Rows of details (slices count one each in sliced mode).
    pub n_rows: usize,
    pub n_skipped: usize,
    /// Rows whose weights could not be analysed (NaN/Inf, unsupported dtype, over budget).
    pub n_invalid: usize,
    pub n_fit_failed: usize,
    pub n_mp_failed: usize,
    pub n_over_trained: usize,
    pub n_under_trained: usize,
}

impl Summary {
    pub fn get(&self, metric: &str) -> Option<f64> {
        self.means
            .iter()
            .find(|(m, _)| m == metric)
            .and_then(|(_, v)| *v)
    }
}

/// Means over rows; failed fits are excluded (native) or averaged in as WW's −1 (compat Q5).
pub fn summarize(
    rows: &[Row],
    n_layers: usize,
    n_skipped: usize,
    opts: &AnalysisOptions,
) -> Summary {
    let include_failed = opts.quirk(Quirk::SummaryIncludeFailed);
    let analysed: Vec<&Row> = rows
        .iter()
        .filter(|r| r.text("problem").is_none())
        .collect();
    let pl_failed = |r: &Row| r.text("status") == Some("failed");
    let mp_failed = |r: &Row| r.text("mp_status") == Some("failed");
    let means = SUMMARY_METRICS
        .iter()
        .filter(|m| **m != "mp_softrank" || opts.mp_fit)
        .map(|&metric| {
            let values: Vec<f64> = analysed
                .iter()
                .filter(|r| include_failed || !(NEEDS_PL_FIT.contains(&metric) && pl_failed(r)))
                .filter(|r| include_failed || !(NEEDS_MP_FIT.contains(&metric) && mp_failed(r)))
                .filter_map(|r| r.num(metric))
                .filter(|v| v.is_finite())
                .collect();
            (metric.to_string(), mean(&values))
        })
        .collect();
    let warned = |w: &str| {
        analysed
            .iter()
            .filter(|r| r.text("warning") == Some(w))
            .count()
    };
    Summary {
        means,
        n_layers,
        n_rows: rows.len(),
        n_skipped,
        n_invalid: rows.len() - analysed.len(),
        n_fit_failed: analysed.iter().filter(|r| pl_failed(r)).count(),
        n_mp_failed: analysed.iter().filter(|r| mp_failed(r)).count(),
        // Under compat Q11 failed fits are also warned over-trained; count genuine ones only.
        n_over_trained: analysed
            .iter()
            .filter(|r| r.text("warning") == Some("over-trained") && !pl_failed(r))
            .count(),
        n_under_trained: warned("under-trained"),
    }
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
