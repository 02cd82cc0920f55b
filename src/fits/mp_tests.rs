use super::*;

#[test]
fn degenerate_inputs_fail_cleanly() {
    assert_eq!(fit_mp(&[], 10, 5).status, FitStatus::Failed);
    assert_eq!(fit_mp(&[0.0; 5], 10, 5).status, FitStatus::Failed);
    assert_eq!(fit_mp(&[1.0, f64::NAN], 10, 5).status, FitStatus::Failed);
    assert_eq!(fit_mp(&[1.0, 2.0], 10, 0).status, FitStatus::Failed);
    // One value or all equal: must not panic, whatever the status.
    let _ = fit_mp(&[3.0], 1, 1);
    let _ = fit_mp(&[3.0; 7], 14, 7);
}

#[test]
fn kde_integrates_to_one() {
    let y: Vec<f64> = (0..500).map(|i| 0.5 + i as f64 / 500.0).collect();
    let stop = 1.5 + 0.5;
    let step = stop / 999.0;
    let f = triangular_kde(&y, stop, step);
    let integral: f64 = f.iter().sum::<f64>() * step;
    assert!((integral - 1.0).abs() < 1e-2, "{integral}");
}
