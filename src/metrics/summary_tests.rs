use super::*;

fn row(alpha: f64, status: RowStatus, warning: Warning) -> Row {
    let mut r = Row::default();
    r.set(Column::Alpha, alpha);
    r.set(Column::LogNorm, 2.0);
    r.set(Column::Status, status);
    r.set(Column::Warning, warning);
    r
}

#[test]
fn failed_fits_are_excluded_natively_and_included_in_compat() {
    // Reference: mlp_gemm__clip_xmax, alpha 3.7135 and 4.9587 plus a failed fc3 (−1 in WW).
    let rows = vec![
        row(3.7135163264636426, RowStatus::Success, Warning::None),
        row(4.958736591690445, RowStatus::Success, Warning::None),
        row(-1.0, RowStatus::Failed, Warning::OverTrained),
    ];
    let native = summarize(&rows, 3, 0, &AnalysisOptions::default());
    assert!((native.get(Column::Alpha).unwrap() - 4.336126459077044).abs() < 1e-12);
    assert_eq!(
        (native.counts.n_fit_failed, native.counts.n_over_trained),
        (1, 0)
    );
    let o = AnalysisOptions {
        compat: crate::options::Compat::ww077(),
        ..Default::default()
    };
    let compat = summarize(&rows, 3, 0, &o);
    assert!((compat.get(Column::Alpha).unwrap() - 2.557417639384696).abs() < 1e-12);
    assert_eq!(compat.get(Column::LogNorm), Some(2.0));
    assert!(compat.means.iter().all(|(m, _)| *m != Column::MpSoftrank));
    assert_eq!(compat.means.len(), crate::schema::SUMMARY_MEANS.len() - 1);
}
