use super::*;

#[test]
fn too_few_unique_values_fail() {
    assert_eq!(fit(&[], None, None), Err(TOO_FEW));
    assert_eq!(fit(&[1.0], None, None), Err(TOO_FEW));
    assert_eq!(fit(&[2.0, 2.0, 2.0], None, None), Err(TOO_FEW));
    assert_eq!(fit(&[0.0, 1.0, 2.0], None, None), Err(DEGENERATE));
    assert_eq!(fit(&[1.0, f64::INFINITY], None, None), Err(DEGENERATE));
}

/// A deterministic TPL sample on [xmin, ∞): the quantiles (k + ½)/n of
/// F(x) = 1 − Γ(1−alpha, Λx)/Γ(1−alpha, Λ·xmin), inverted by bisection on ln x.
fn tpl_quantiles(alpha: f64, lambda: f64, xmin: f64, n: usize) -> Vec<f64> {
    let s = 1.0 - alpha;
    let g_min = upper_gamma(s, lambda * xmin);
    (0..n)
        .map(|k| {
            let target = (1.0 - (k as f64 + 0.5) / n as f64) * g_min;
            let (mut lo, mut hi) = (xmin.ln(), (xmin + 200.0 / lambda).ln());
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if upper_gamma(s, lambda * mid.exp()) > target {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            (0.5 * (lo + hi)).exp()
        })
        .collect()
}

#[test]
fn recovers_alpha_and_lambda_of_a_large_tpl_sample() {
    // 1500 points of alpha = 2.5, Λ = 0.2 above xmin = 1: the KS scan keeps (nearly) the
    // whole sample and the MLE lands within 0.03 of alpha and 5 % of Λ.
    let x = tpl_quantiles(2.5, 0.2, 1.0, 1500);
    let f = fit(&x, None, None).unwrap();
    assert!((f.alpha - 2.5).abs() < 0.03, "{f:?}");
    assert!((f.lambda / 0.2 - 1.0).abs() < 0.05, "{f:?}");
    assert!(f.d < 0.01 && !f.noise, "{f:?}");
    assert!(f.xmin < 1.1, "{f:?}");
}

#[test]
fn near_pure_power_law_gives_a_small_lambda() {
    // alpha = 1.8 with a negligible cutoff (Λ = 1e-4 on a range reaching ~1e3).
    let x = tpl_quantiles(1.8, 1e-4, 1.0, 1000);
    let f = fit(&x, None, None).unwrap();
    assert!((f.alpha - 1.8).abs() < 0.03, "{f:?}");
    assert!(f.lambda > 0.0 && f.lambda < 2e-3, "{f:?}");
}
