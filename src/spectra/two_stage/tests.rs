use super::*;
use faer::MatRef;

fn symmetric(n: usize, seed: u64) -> Mat<f64> {
    let mut rng = tailwatch_testkit::TestRng::new(seed);
    let mut next = move || rng.uniform() - 0.5;
    let mut a = Mat::<f64>::zeros(n, n);
    for j in 0..n {
        for i in j..n {
            let v = next();
            a[(i, j)] = v;
            a[(j, i)] = v;
        }
    }
    a
}

fn faer_eigenvalues(a: MatRef<'_, f64>) -> Vec<f64> {
    let mut v = crate::spectra::symmetric_eigen(a, None).unwrap();
    v.sort_by(f64::total_cmp);
    v
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn matches_the_one_stage_solver_for_many_sizes_and_bands() {
    for (n, b) in [
        (1, 4),
        (2, 4),
        (3, 2),
        (7, 3),
        (33, 8),
        (64, 8),
        (100, 16),
        (150, 32),
        (257, 32),
    ] {
        let a = symmetric(n, n as u64 + 3);
        let expect = faer_eigenvalues(a.as_ref());
        let got = eigenvalues_with_band(a.clone(), b, Par::Seq).unwrap();
        let scale = expect.iter().map(|x| x.abs()).fold(1e-300, f64::max);
        let d = max_abs_diff(&expect, &got);
        assert!(d <= 1e-13 * scale * (n as f64).sqrt(), "n={n} b={b}: {d:e}");
    }
}

#[test]
fn band_wider_than_the_matrix_is_plain_tridiagonalisation() {
    let a = symmetric(20, 5);
    let expect = faer_eigenvalues(a.as_ref());
    for b in [1, 2, 19, 20, 64] {
        let got = eigenvalues_with_band(a.clone(), b, Par::Seq).unwrap();
        assert!(max_abs_diff(&expect, &got) < 1e-13, "b={b}");
    }
}

#[test]
fn gram_matrix_keeps_its_small_eigenvalues_and_trace() {
    // A Gram matrix with a wide spectrum: eigenvalues of AᵀA for a 300×120 A with column scales
    // spread over 4 decades. The small end must be resolved to ≈ ε·λ_max, like the one-stage path.
    let (r, c) = (300, 120);
    let a = symmetric(r.max(c), 17);
    let cols = Mat::from_fn(r, c, |i, j| {
        a[(i, j)] * 10f64.powf(-4.0 * j as f64 / c as f64)
    });
    let mut g = Mat::<f64>::zeros(c, c);
    faer::linalg::matmul::matmul(
        g.as_mut(),
        faer::Accum::Replace,
        cols.transpose(),
        cols.as_ref(),
        1.0,
        Par::Seq,
    );
    let expect = faer_eigenvalues(g.as_ref());
    let got = eigenvalues(g.clone(), Par::Seq).unwrap();
    let top = expect[c - 1];
    assert!(max_abs_diff(&expect, &got) <= 1e-13 * top);
    let trace: f64 = (0..c).map(|i| g[(i, i)]).sum();
    let sum: f64 = got.iter().sum();
    assert!((trace - sum).abs() <= 1e-12 * trace);
    assert!(got.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn result_does_not_depend_on_the_thread_count() {
    // Wide enough that every product's depth spans several of faer's k-blocks: a detached
    // eigensolve (Par::Seq) and one in place (Par::rayon) must give the same bits, since which
    // of the two a big layer gets depends on timing.
    let a = symmetric(1500, 23);
    let seq = eigenvalues(a.clone(), Par::Seq).unwrap();
    for threads in [2, 3] {
        let par = eigenvalues(a.clone(), Par::rayon(threads)).unwrap();
        assert_eq!(seq, par, "{threads} threads");
    }
}

#[test]
fn non_finite_input_is_an_error_not_a_panic() {
    let mut a = symmetric(80, 2);
    a[(40, 3)] = f64::NAN;
    a[(3, 40)] = f64::NAN;
    assert!(eigenvalues(a.clone(), Par::Seq).is_err());
}
