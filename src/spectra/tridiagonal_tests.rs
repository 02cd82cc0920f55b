use super::*;

/// Seeded draws uniform on (−½, ½).
fn draws(seed: u64) -> impl FnMut() -> f64 {
    let mut rng = tailwatch_testkit::TestRng::new(seed);
    move || rng.uniform() - 0.5
}

/// Eigenvalues by faer's tridiagonal QR, ascending (the solver this one replaces).
fn reference(diag: &[f64], sub: &[f64]) -> Vec<f64> {
    let n = diag.len();
    let mut e = sub.to_vec();
    e.resize(n, 0.0);
    let dense = faer::Mat::<f64>::from_fn(n, n, |i, j| {
        if i == j {
            diag[i]
        } else if i == j + 1 {
            e[j]
        } else if j == i + 1 {
            e[i]
        } else {
            0.0
        }
    });
    let mut v: Vec<f64> = dense
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .unwrap()
        .into_iter()
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Largest |a − b| over the spectra, relative to the largest |eigenvalue|.
fn gap(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let norm = b.iter().fold(1e-300f64, |m, x| m.max(x.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / norm
}

#[test]
fn matches_faer_on_random_matrices_of_every_small_size() {
    let mut r = draws(3);
    for n in 0usize..40 {
        let diag: Vec<f64> = (0..n).map(|_| r()).collect();
        let sub: Vec<f64> = (0..n.saturating_sub(1)).map(|_| r()).collect();
        let got = eigenvalues(&diag, &sub).unwrap();
        assert!(gap(&got, &reference(&diag, &sub)) < 1e-14, "n = {n}");
    }
}

#[test]
fn matches_the_closed_form_of_the_second_difference_matrix() {
    // tridiag(−1, 2, −1): λ_k = 2 − 2·cos(kπ/(n+1)).
    let n = 1000;
    let got = eigenvalues(&vec![2.0; n], &vec![-1.0; n - 1]).unwrap();
    for (k, x) in got.iter().enumerate() {
        let exact = 2.0 - 2.0 * ((k + 1) as f64 * std::f64::consts::PI / (n + 1) as f64).cos();
        assert!((x - exact).abs() < 4.0 * 1e-14, "k = {k}: {x} vs {exact}");
    }
}

#[test]
fn gram_like_spectra_with_zeros_splits_and_extreme_scales() {
    let mut r = draws(9);
    // Positive semidefinite and rank-deficient: the tridiagonal form of a Gram matrix LLᵀ with
    // zero columns, blocks split by exact zeros, and magnitudes from 1e-200 to 1e200 (the
    // scaling branches).
    for scale in [1e-200, 1e-30, 1.0, 1e30, 1e200] {
        let n = 300;
        let (a, b): (Vec<f64>, Vec<f64>) = (0..n)
            .map(|i| if i % 7 == 0 { (0.0, 0.0) } else { (r(), r()) })
            .unzip();
        // T = B·Bᵀ for the lower bidiagonal B with diagonal a and subdiagonal b.
        let diag: Vec<f64> = (0..n)
            .map(|i| scale * (a[i] * a[i] + if i > 0 { b[i - 1] * b[i - 1] } else { 0.0 }))
            .collect();
        let mut sub: Vec<f64> = (0..n - 1).map(|i| scale * a[i] * b[i]).collect();
        sub[150] = 0.0;
        let got = eigenvalues(&diag, &sub).unwrap();
        assert!(got.iter().all(|x| *x >= -1e-13 * scale), "scale {scale}");
        assert!(gap(&got, &reference(&diag, &sub)) < 1e-13, "scale {scale}");
    }
}

/// Eigenvalue k (ascending) by bisection on Sturm counts: slow, and accurate to a few ulps of
/// ‖T‖ whatever the spectrum.
fn bisect(diag: &[f64], sub: &[f64], k: usize) -> f64 {
    let norm = diag.iter().chain(sub).fold(0.0f64, |m, x| m.max(x.abs())) * 3.0;
    let below = |x: f64| {
        // Number of eigenvalues < x (LDLᵀ of T − x·I).
        let mut count = 0;
        let mut q = 1.0;
        for i in 0..diag.len() {
            let e2 = if i > 0 { sub[i - 1] * sub[i - 1] } else { 0.0 };
            q = diag[i] - x - if i > 0 { e2 / q } else { 0.0 };
            if q == 0.0 {
                q = -f64::MIN_POSITIVE;
            }
            if q < 0.0 {
                count += 1;
            }
        }
        count
    };
    let (mut lo, mut hi) = (-norm, norm);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if below(mid) > k {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn a_large_matrix_agrees_with_bisection() {
    // n = 2000: this solver is within 1.1e-14·‖T‖ of bisection, faer's QR within 1.4e-13.
    let mut r = draws(5);
    let n = 2000;
    let diag: Vec<f64> = (0..n).map(|_| 1.0 + r()).collect();
    let sub: Vec<f64> = (0..n - 1).map(|_| r()).collect();
    let exact: Vec<f64> = (0..n).map(|k| bisect(&diag, &sub, k)).collect();
    let g = gap(&eigenvalues(&diag, &sub).unwrap(), &exact);
    assert!(g < 3e-14, "{g:e}");
}
