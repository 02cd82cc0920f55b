//! The model summary (docs/methods.md §13): unweighted means over the rows of `details`, and
//! counts. Which means and counts there are is declared in `schema::summary`.

use serde::{Deserialize, Serialize};

use super::row::Row;
use crate::fits::{FitStatus, Warning};
use crate::options::{AnalysisOptions, Quirk};
use crate::schema::summary::{self, FitNeed};
use crate::schema::{Column, Counts, RowStatus};

/// The summary of one model (methods.md §13): the means of `schema::SUMMARY_MEANS` and the
/// counts beside them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// (metric, mean) for every mean of `schema::SUMMARY_MEANS` that applies, in that order.
    pub means: Vec<(Column, Option<f64>)>,
    /// The counts (`n_layers`, `n_rows`, `n_skipped`, `n_fit_failed`...), written beside the means.
    #[serde(flatten)]
    pub counts: Counts,
}

impl Summary {
    /// The mean of a column, if the summary has a finite one.
    pub fn get(&self, column: Column) -> Option<f64> {
        self.means
            .iter()
            .find(|(m, _)| *m == column)
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
    let analyzed: Vec<&Row> = rows.iter().filter(|r| r.is_analyzed()).collect();
    let pl_failed = |r: &Row| r.status() == Some(RowStatus::Failed);
    let mp_failed = |r: &Row| r.mp_status() == Some(FitStatus::Failed);
    let excluded = |need: FitNeed, r: &Row| match need {
        FitNeed::None => false,
        FitNeed::PowerLaw => pl_failed(r),
        FitNeed::MarchenkoPastur => mp_failed(r),
    };
    let means = summary::means_for(opts)
        .into_iter()
        .map(|m| {
            let values: Vec<f64> = analyzed
                .iter()
                .filter(|r| include_failed || !excluded(m.needs, r))
                .filter_map(|r| r.num(m.column))
                .filter(|v| v.is_finite())
                .collect();
            (m.column, mean(&values))
        })
        .collect();
    let warned = |w: Warning| analyzed.iter().filter(|r| r.warning() == w).count();
    Summary {
        means,
        counts: Counts {
            n_layers,
            n_rows: rows.len(),
            n_skipped,
            n_invalid: rows.len() - analyzed.len(),
            n_fit_failed: analyzed.iter().filter(|r| pl_failed(r)).count(),
            n_mp_failed: analyzed.iter().filter(|r| mp_failed(r)).count(),
            // Under compat Q11 failed fits are also warned over-trained; count genuine ones only.
            n_over_trained: analyzed
                .iter()
                .filter(|r| r.warning() == Warning::OverTrained && !pl_failed(r))
                .count(),
            n_under_trained: warned(Warning::UnderTrained),
        },
    }
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
