//! What the reports read off a model's rows: a metric per layer id (the "correlation flow" and
//! the audit's layer profiles) and the fitted tail of a row.

use super::plots::TailFit;
use crate::metrics::row::Row;
use crate::schema::{Column, RowStatus};

/// The metrics that come from the power-law fit: rows whose fit failed have none that means
/// anything (WeightWatcher writes alpha −1 there).
const FROM_THE_FIT: [Column; 3] = [Column::Alpha, Column::AlphaWeighted, Column::LogAlphaNorm];

/// `metric` against layer id: one point per layer, sliced rows averaged per layer (as the
/// study's correlation flow does), non-finite values left out, and for the metrics of the
/// power-law fit the rows whose fit failed, in row order.
pub fn per_layer(rows: &[Row], metric: Column) -> Vec<(f64, f64)> {
    let from_fit = FROM_THE_FIT.contains(&metric);
    let mut pts: Vec<(f64, f64, usize)> = Vec::new();
    for r in rows {
        let (Some(id), Some(v)) = (r.num(Column::LayerId), r.num(metric)) else {
            continue;
        };
        if (from_fit && r.status() == Some(RowStatus::Failed)) || !v.is_finite() {
            continue;
        }
        match pts.iter_mut().find(|p| p.0 == id) {
            Some(p) => {
                p.1 += v;
                p.2 += 1;
            }
            None => pts.push((id, v, 1)),
        }
    }
    pts.into_iter().map(|(x, s, n)| (x, s / n as f64)).collect()
}

/// The row's fitted tail (xmin, alpha and, for a truncated power law, Lambda), when the fit
/// succeeded.
pub fn tail_fit(row: &Row) -> Option<TailFit> {
    Some(TailFit {
        xmin: row.num(Column::Xmin)?,
        alpha: row.num(Column::Alpha)?,
        lambda: row.num(Column::Lambda),
    })
}

#[cfg(test)]
#[path = "profiles_tests.rs"]
mod tests;
