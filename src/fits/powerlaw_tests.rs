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

/// The first minimum of D over every candidate, each D computed in full.
fn brute_force(x: &[f64]) -> (usize, f64) {
    let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let mut best = (0, f64::INFINITY);
    for i in 0..x.len() - 1 {
        let n = (x.len() - i) as f64;
        let s = np_sum(&logs[i..]) - n * logs[i];
        let alpha = 1.0 + n / s;
        if !(s > 0.0 && alpha > 1.0) {
            continue;
        }
        let d = ks_distance(&x[i..], alpha, f64::INFINITY);
        if d < best.1 {
            best = (i, d);
        }
    }
    best
}

#[test]
fn early_exit_never_changes_the_selection() {
    // Pareto samples, a bulk with a power-law tail (D falls towards the tail, the case the
    // first pass is for), and samples with repeated values.
    let mut samples = vec![pareto(2.5, 300), pareto(4.0, 2000)];
    let mut with_bulk: Vec<f64> = (0..1500).map(|k| 0.5 + k as f64 / 1500.0).collect();
    with_bulk.extend(pareto(3.0, 500).iter().map(|v| 1.5 * v));
    with_bulk.sort_by(f64::total_cmp);
    samples.push(with_bulk);
    let mut repeated: Vec<f64> = pareto(2.0, 400).iter().map(|v| v.round()).collect();
    repeated.sort_by(f64::total_cmp);
    samples.push(repeated);
    for x in samples {
        let got = fit_standard(&x).unwrap();
        let (i, d) = brute_force(&x);
        assert_eq!((got.xmin, got.d), (x[i], d), "n = {}", x.len());
    }
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
