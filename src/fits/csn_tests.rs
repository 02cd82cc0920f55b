use super::*;

#[test]
fn too_few_unique_values_fail() {
    assert!(fit(&[], None, None).is_err());
    assert!(fit(&[1.0], None, None).is_err());
    assert!(fit(&[2.0, 2.0, 2.0], None, None).is_err());
}

fn close(got: f64, want: f64, what: &str) {
    let rel = ((got - want) / want).abs();
    assert!(
        rel <= 1e-12,
        "{what}: got {got:e}, want {want:e} (rel {rel:e})"
    );
}

#[test]
fn two_values_have_a_closed_form_answer() {
    // [1, 2]: the only candidate is xmin = 1 (the largest value is never one), with the tail
    // [1, 2]: alpha = 1 + 2/(ln 1 + ln 2) = 1 + 2/ln 2. The KS distance is taken at the unique
    // tail values: at 1 both CDFs are 0; at 2 the lower-step ECDF is 1/2 and the power-law CDF
    // 1 − 2^(1−alpha) = 1 − 2^(−2/ln 2) = 1 − e^(−2), so D = 1/2 − e^(−2).
    let f = fit(&[1.0, 2.0], None, None).unwrap();
    let ln2 = std::f64::consts::LN_2;
    assert_eq!((f.xmin, f.xmax), (1.0, 2.0));
    close(f.alpha, 1.0 + 2.0 / ln2, "alpha");
    close(f.d, 0.5 - (-2.0f64).exp(), "D");
    close(f.sigma, (2.0 / ln2) / 2f64.sqrt(), "sigma");
    assert!(!f.noise);
}

/// A fixed sample: a bulk on [0.5, 1.5) and a Pareto(alpha = 2.5) tail above 2, sorted.
fn sample() -> Vec<f64> {
    let mut x: Vec<f64> = (0..40).map(|k| 0.5 + k as f64 / 40.0).collect();
    x.extend((0..25).map(|k| {
        let u = (k as f64 + 0.5) / 25.0;
        2.0 * (1.0 - u).powf(-1.0 / 1.5)
    }));
    x.sort_by(f64::total_cmp);
    x
}

/// The CSN fit written out directly from its definition (methods.md §6.1), sharing nothing with
/// the implementation: for every unique value but the largest, the closed-form MLE and the KS
/// distance between the power-law CDF and the lower-step ECDF renormalised above xmin, at every
/// unique tail value; the first minimum of D wins. Returns (xmin, alpha, D, n).
fn by_definition(x: &[f64]) -> (f64, f64, f64, usize) {
    let mut uniq = x.to_vec();
    uniq.dedup();
    let big_n = x.len() as f64;
    let mut best: Option<(f64, f64, f64, usize)> = None;
    for &xmin in &uniq[..uniq.len() - 1] {
        let tail: Vec<f64> = x.iter().copied().filter(|&v| v >= xmin).collect();
        let n = tail.len();
        let s: f64 = tail.iter().map(|&v| (v / xmin).ln()).sum();
        let alpha = 1.0 + n as f64 / s;
        assert!(alpha > 1.0);
        let below_xmin = x.iter().filter(|&&v| v < xmin).count() as f64;
        let d = uniq
            .iter()
            .filter(|&&v| v >= xmin)
            .map(|&v| {
                let below = x.iter().filter(|&&t| t < v).count() as f64;
                let ecdf = (below - below_xmin) / (big_n - below_xmin);
                let cdf = 1.0 - (v / xmin).powf(1.0 - alpha);
                (cdf - ecdf).abs()
            })
            .fold(0.0, f64::max);
        if best.is_none_or(|b| d < b.2) {
            best = Some((xmin, alpha, d, n));
        }
    }
    best.unwrap()
}

#[test]
fn the_fit_is_the_closed_form_mle_at_the_first_minimum_of_d() {
    let x = sample();
    let (xmin, alpha, d, n) = by_definition(&x);
    let f = fit(&x, None, None).unwrap();
    assert_eq!(f.xmin, xmin);
    close(f.alpha, alpha, "alpha");
    close(f.d, d, "D");
    close(f.sigma, (alpha - 1.0) / (n as f64).sqrt(), "sigma");
    assert_eq!(f.xmax, *x.last().unwrap());
    assert!(!f.noise);
    // The tail is the Pareto part of the sample, and the estimate is near its exponent.
    assert!(xmin >= 2.0, "xmin {xmin}");
    assert!((alpha - 2.5).abs() < 0.3, "alpha {alpha}");
}

#[test]
fn a_forced_xmax_minimises_the_untruncated_likelihood() {
    // With xmax, alpha minimises the untruncated negative log-likelihood by Nelder–Mead (xatol
    // 1e-4); that likelihood's exact minimiser is the closed form of the chosen tail.
    let x = sample();
    let xmax = *x.last().unwrap();
    let f = fit(&x, Some(xmax), None).unwrap();
    let tail: Vec<f64> = x.iter().copied().filter(|&v| v >= f.xmin).collect();
    let s: f64 = tail.iter().map(|&v| (v / f.xmin).ln()).sum();
    let closed = 1.0 + tail.len() as f64 / s;
    assert!((f.alpha - closed).abs() < 1e-4, "{} vs {closed}", f.alpha);
    assert_eq!(f.xmax, xmax);
}
