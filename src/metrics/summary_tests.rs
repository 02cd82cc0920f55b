use super::*;

fn row(alpha: f64, status: &str, warning: &str) -> Row {
    let mut r = Row::default();
    r.set("alpha", alpha);
    r.set("log_norm", 2.0);
    r.set("status", status);
    r.set("warning", warning);
    r
}

#[test]
fn failed_fits_are_excluded_natively_and_included_in_compat() {
    // Reference: mlp_gemm__clip_xmax, alpha 3.7135 and 4.9587 plus a failed fc3 (−1 in WW).
    let rows = vec![
        row(3.7135163264636426, "success", ""),
        row(4.958736591690445, "success", ""),
        row(-1.0, "failed", "over-trained"),
    ];
    let native = summarize(&rows, 3, 0, &AnalysisOptions::default());
    assert!((native.get("alpha").unwrap() - 4.336126459077044).abs() < 1e-12);
    assert_eq!((native.n_fit_failed, native.n_over_trained), (1, 0));
    let o = AnalysisOptions {
        compat: crate::options::Compat::ww077(),
        ..Default::default()
    };
    let compat = summarize(&rows, 3, 0, &o);
    assert!((compat.get("alpha").unwrap() - 2.557417639384696).abs() < 1e-12);
    assert_eq!(compat.get("log_norm"), Some(2.0));
    assert!(compat.means.iter().all(|(m, _)| m != "mp_softrank"));
}
