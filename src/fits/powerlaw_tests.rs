use super::*;

/// A deterministic Pareto sample with exponent `alpha` (density ∝ x^−alpha, x ≥ 1), by
/// inverse CDF on a stratified grid.
fn pareto(alpha: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|k| {
            let u = (k as f64 + 0.5) / n as f64;
            (1.0 - u).powf(-1.0 / (alpha - 1.0))
        })
        .collect()
}

#[test]
fn recovers_the_exponent_of_a_pareto_sample() {
    for alpha in [2.0, 3.0, 4.5] {
        let x = pareto(alpha, 4000);
        let f = fit(&x, SmallNSelect::D, false).unwrap();
        assert!((f.alpha - alpha).abs() < 0.05 * alpha, "{alpha}: {f:?}");
        assert!(f.d < 0.05);
    }
}

#[test]
fn early_exit_never_changes_the_selection() {
    let x = pareto(2.5, 300);
    let got = fit_standard(&x).unwrap();
    // Brute force without the bound.
    let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let mut best = (0, f64::INFINITY);
    for i in 0..x.len() - 1 {
        let n = (x.len() - i) as f64;
        let s = np_sum(&logs[i..]) - n * logs[i];
        let d = ks_distance(&x[i..], 1.0 + n / s, f64::INFINITY);
        if d < best.1 {
            best = (i, d);
        }
    }
    assert_eq!(got.xmin, x[best.0]);
    assert_eq!(got.d, best.1);
}

#[test]
fn degenerate_samples_fail() {
    assert_eq!(fit(&[], SmallNSelect::D, false), Err(TOO_FEW));
    assert_eq!(fit(&[1.0], SmallNSelect::D, false), Err(TOO_FEW));
    assert_eq!(fit(&[2.0; 30], SmallNSelect::D, false), Err(DEGENERATE));
    assert_eq!(fit(&[2.0; 5], SmallNSelect::D, false), Err(DEGENERATE));
    let ww = fit(&[2.0; 5], SmallNSelect::D, true).unwrap();
    assert_eq!((ww.alpha, ww.d), (0.0, 1.0));
    assert_eq!(ww.sigma, -1.0 / 5f64.sqrt());
}
