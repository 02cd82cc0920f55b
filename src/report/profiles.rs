//! What the reports read off a model's rows: a metric per layer id (the "correlation flow" and
//! the audit's layer profiles), the fitted tail of a row, and the key of a row's ESD.

use super::plots::TailFit;
use crate::metrics::row::Row;
use crate::schema::{Column, RowStatus};

/// `metric` against layer id: one point per layer, sliced rows averaged per layer (as the
/// study's correlation flow does), rows whose fit failed and non-finite values left out, in
/// row order.
pub fn per_layer(rows: &[Row], metric: Column) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64, usize)> = Vec::new();
    for r in rows {
        let (Some(id), Some(v)) = (r.num(Column::LayerId), r.num(metric)) else {
            continue;
        };
        if r.status() == Some(RowStatus::Failed) || !v.is_finite() {
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

/// The ESD key of a row: `layer_id`, or `layer_id:slice_id` for sliced rows (the keys of
/// `analysis::RowEsd` and of esd.csv).
pub fn row_key(row: &Row) -> String {
    let id = row.num(Column::LayerId).unwrap_or(-1.0) as i64;
    match row.num(Column::SliceId) {
        Some(s) => format!("{id}:{}", s as i64),
        None => id.to_string(),
    }
}

#[cfg(test)]
#[path = "profiles_tests.rs"]
mod tests;
