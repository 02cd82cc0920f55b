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

#[test]
fn mp_density_is_a_density_on_its_edges() {
    // σ = 1, Q = 4: a = (1 − 1/2)² = 0.25, b = (1 + 1/2)² = 2.25.
    let (a, b) = mp_edges(1.0, 4.0);
    assert!((a - 0.25).abs() < 1e-15 && (b - 2.25).abs() < 1e-15);
    assert_eq!(mp_density(0.2, 1.0, 4.0), 0.0);
    assert_eq!(mp_density(2.3, 1.0, 4.0), 0.0);
    assert_eq!(mp_density(f64::NAN, 1.0, 4.0), 0.0);
    // At the centre λ = 1.25: 4/(2π·1.25)·√(1·1) = 1.6/π.
    assert!((mp_density(1.25, 1.0, 4.0) - 1.6 / std::f64::consts::PI).abs() < 1e-15);
    let n = 200_000;
    let h = (b - a) / n as f64;
    let total: f64 = (0..n)
        .map(|i| mp_density(a + h * (i as f64 + 0.5), 1.0, 4.0) * h)
        .sum();
    assert!((total - 1.0).abs() < 1e-4, "{total}");
}
