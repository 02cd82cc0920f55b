use super::*;

#[test]
fn degenerate_inputs_fail_cleanly() {
    assert_eq!(fit_mp(&[], 10, 5).status, FitStatus::Failed);
    assert_eq!(fit_mp(&[0.0; 5], 10, 5).status, FitStatus::Failed);
    assert_eq!(fit_mp(&[1.0, f64::NAN], 10, 5).status, FitStatus::Failed);
    assert_eq!(fit_mp(&[1.0, 2.0], 10, 0).status, FitStatus::Failed);
    // One value or all equal: must not panic, and whatever the status, no NaN or infinity may
    // leak into the columns.
    for fit in [fit_mp(&[3.0], 1, 1), fit_mp(&[3.0; 7], 14, 7)] {
        let values = [
            fit.sigma_mp,
            fit.bulk_min,
            fit.bulk_max,
            fit.mp_softrank,
            fit.w_scale,
        ];
        assert!(values.iter().flatten().all(|v| v.is_finite()), "{fit:?}");
        if fit.status == FitStatus::Success {
            assert!(fit.sigma_mp.is_some_and(|s| s > 0.0), "{fit:?}");
        }
    }
}

#[test]
fn kde_integrates_to_one() {
    let y: Vec<f64> = (0..500).map(|i| 0.5 + i as f64 / 500.0).collect();
    let stop = 1.5 + 0.5;
    let step = stop / 999.0;
    let f = triangular_kde(&y, stop, step);
    let integral: f64 = f.iter().sum::<f64>() * step;
    // Measured −1.0e-6: the rectangle rule on the 1000-point grid of a piecewise-linear density.
    assert!((integral - 1.0).abs() < 1e-5, "{integral}");
}
