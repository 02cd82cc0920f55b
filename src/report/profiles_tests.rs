use super::*;
use crate::metrics::row::Row;

fn row(id: usize, slice: Option<usize>, status: RowStatus, alpha: f64) -> Row {
    let mut r = Row::default();
    r.set(Column::LayerId, id);
    if let Some(s) = slice {
        r.set(Column::SliceId, s);
    }
    r.set(Column::Status, status.as_str());
    r.set(Column::Alpha, alpha);
    r
}

#[test]
fn sliced_rows_average_per_layer_and_failed_fits_drop_out_of_fit_metrics() {
    let rows = [
        row(0, Some(0), RowStatus::Success, 2.0),
        row(0, Some(1), RowStatus::Success, 4.0),
        row(1, None, RowStatus::Failed, 9.0),
        row(2, None, RowStatus::Success, f64::NAN),
        row(3, None, RowStatus::Success, 5.0),
    ];
    assert_eq!(
        per_layer(&rows, Column::Alpha),
        vec![(0.0, 3.0), (3.0, 5.0)]
    );
    // Metrics that are not the fit's keep the rows whose fit failed.
    let mut failed = row(1, None, RowStatus::Failed, 9.0);
    failed.set(Column::StableRank, 1.0);
    assert_eq!(per_layer(&[failed], Column::StableRank), vec![(1.0, 1.0)]);
    assert_eq!(
        crate::analysis::RowEsd::key_of(&rows[1]).as_deref(),
        Some("0:1")
    );
}

#[test]
fn tail_fit_needs_xmin_and_alpha() {
    let mut r = row(0, None, RowStatus::Success, 3.0);
    assert_eq!(tail_fit(&r), None);
    r.set(Column::Xmin, 1.5);
    r.set(Column::Lambda, 0.2);
    assert_eq!(
        tail_fit(&r),
        Some(TailFit {
            xmin: 1.5,
            alpha: 3.0,
            lambda: Some(0.2)
        })
    );
}
