use super::*;

#[test]
fn linear_ticks_are_round() {
    assert_eq!(
        linear_ticks(0.0, 1.0, 5),
        (vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0], 1)
    );
    let (t, d) = linear_ticks(68.3, 75.1, 6);
    assert_eq!((t, d), (vec![70.0, 72.0, 74.0], 0));
    assert_eq!(linear_ticks(1.0, 1.0, 5), (vec![], 0));
    assert_eq!(linear_ticks(f64::NAN, 1.0, 5), (vec![], 0));
}

#[test]
fn tick_labels() {
    assert_eq!(tick_label(-0.93, 2), "\u{2212}0.93");
    assert_eq!(tick_label(-0.0, 1), "0.0");
    assert_eq!(tick_label(-1e-17, 1), "0.0");
    assert_eq!(tick_label(2.5e7, 0), "2.5e7");
    assert_eq!(plain_log_label(0.05), "0.05");
    assert_eq!(plain_log_label(200.0), "200");
}

#[test]
fn log_ticks_by_span() {
    assert_eq!(
        log_ticks(-1.2, 2.3),
        vec![
            LogTick::Decade(-1),
            LogTick::Decade(0),
            LogTick::Decade(1),
            LogTick::Decade(2)
        ]
    );
    // 30 decades thinned to every 4th.
    assert_eq!(log_ticks(0.0, 30.0).len(), 8);
    let short: Vec<f64> = log_ticks(-0.5, 0.8).iter().map(|t| t.position()).collect();
    let want: Vec<f64> = [0.5f64, 1.0, 2.0, 5.0].iter().map(|v| v.log10()).collect();
    assert_eq!(short, want);
    assert!(log_ticks(1.0, 1.0).is_empty());
}

#[test]
fn padding_and_scale() {
    assert_eq!(padded((0.0, 10.0), 0.1), (-1.0, 11.0));
    assert_eq!(padded((5.0, 5.0), 0.1), (4.5, 5.5));
    assert_eq!(padded((0.0, 0.0), 0.1), (-1.0, 1.0));
    let s = Scale::new((0.0, 10.0), (100.0, 0.0));
    assert_eq!((s.map(0.0), s.map(2.5), s.map(10.0)), (100.0, 75.0, 0.0));
    assert_eq!(
        finite_range([f64::NAN, 3.0, -1.0, f64::INFINITY]),
        Some((-1.0, 3.0))
    );
    assert_eq!(finite_range([f64::NAN]), None);
}
