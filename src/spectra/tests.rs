use super::*;

/// A generic dense matrix, entries uniform on (−½, ½).
fn mat(rows: usize, cols: usize, seed: u64) -> Vec<f64> {
    let mut rng = tailwatch_testkit::TestRng::new(seed);
    (0..rows * cols).map(|_| rng.uniform() - 0.5).collect()
}

#[test]
fn gram_and_svd_agree_and_orientation_does_not_matter() {
    // One Gram block, and several (the small-matrix solver sees only their lower triangle).
    for (r, c) in [(37, 23), (900, 600)] {
        let a = mat(r, c, 7);
        let mut at = vec![0.0; r * c];
        for i in 0..r {
            for j in 0..c {
                at[j * r + i] = a[i * c + j];
            }
        }
        let m = MatrixRef::new(r, c, &a).unwrap();
        let mt = MatrixRef::new(c, r, &at).unwrap();
        let g = row_spectrum(&[m], 1.0, Eigensolver::Gram).unwrap();
        let s = row_spectrum(&[m], 1.0, Eigensolver::Svd).unwrap();
        let t = row_spectrum(&[mt], 1.0, Eigensolver::Gram).unwrap();
        assert_eq!(g.evals.len(), c);
        let top = s.evals[c - 1];
        for i in 0..c {
            assert!(
                (g.evals[i] - s.evals[i]).abs() <= 1e-12 * top,
                "{r}×{c}: {i}"
            );
            assert!(
                (t.evals[i] - s.evals[i]).abs() <= 1e-12 * top,
                "{r}×{c}: {i}"
            );
        }
        // ‖A‖²_F = Σλ.
        let fro: f64 = a.iter().map(|x| x * x).sum();
        let sum: f64 = s.evals.iter().sum();
        assert!((fro - sum).abs() < 1e-12 * fro);
    }
}

#[test]
fn scaling_multiplies_eigenvalues_and_pools_sorted() {
    let a = mat(8, 5, 1);
    let b = mat(8, 5, 2);
    let ma = MatrixRef::new(8, 5, &a).unwrap();
    let mb = MatrixRef::new(8, 5, &b).unwrap();
    let plain = row_spectrum(&[ma, mb], 1.0, Eigensolver::Svd).unwrap();
    let half = row_spectrum(&[ma, mb], 0.5, Eigensolver::Svd).unwrap();
    assert_eq!(plain.evals.len(), 10);
    assert!(plain.evals.windows(2).all(|w| w[0] <= w[1]));
    for (p, h) in plain.evals.iter().zip(&half.evals) {
        assert!((p * 0.5 - h).abs() <= 1e-14 * p.max(1.0));
    }
    assert_eq!(half.singular_values.len(), 2);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // Big enough that faer actually splits the work over threads.
    let (r, c) = (1200, 500);
    let a = mat(r, c, 11);
    let m = MatrixRef::new(r, c, &a).unwrap();
    for solver in [Eigensolver::Gram, Eigensolver::Gram32, Eigensolver::Svd] {
        let seq = row_spectrum_par(&[m], 1.0, solver, Par::Seq).unwrap();
        for threads in [2, 3] {
            let par = row_spectrum_par(&[m], 1.0, solver, Par::rayon(threads)).unwrap();
            assert_eq!(seq.evals, par.evals, "{solver:?} with {threads} threads");
        }
    }
}

#[test]
fn triangular_f32_gram_matches_the_full_product() {
    let a = mat(90, 40, 5);
    let m = MatrixRef::new(90, 40, &a).unwrap();
    let full = gram(&m);
    let low = gram32_lower(&m, Par::Seq);
    for j in 0..40 {
        for i in j..40 {
            let d = (full[(i, j)] - low[(i, j)]).abs();
            assert!(d <= 1e-5 * full[(i, i)].max(1.0), "({i},{j})");
        }
    }
}

#[test]
fn gram32_is_close_on_top_eigenvalues_but_not_exact() {
    let (r, c) = (300, 120);
    let a = mat(r, c, 9);
    let m = MatrixRef::new(r, c, &a).unwrap();
    let exact = row_spectrum(&[m], 1.0, Eigensolver::Svd).unwrap();
    let fast = row_spectrum(&[m], 1.0, Eigensolver::Gram32).unwrap();
    let top = exact.evals[c - 1];
    let mut worst = 0.0f64;
    for (e, f) in exact.evals.iter().zip(&fast.evals) {
        worst = worst.max((e - f).abs() / top);
    }
    // f32 products carry ~6e-8 relative error per term: the spectrum moves by ~1e-7·λ_max,
    // far above the 1e-12·λ_max parity tolerance (hence opt-in), far below fit resolution.
    assert!(worst < 1e-5, "worst {worst}");
    assert!(worst > 1e-12, "gram32 unexpectedly exact: {worst}");
    assert!((fast.evals[c - 1] - top).abs() <= 1e-6 * top);
}

#[test]
fn degenerate_shapes_do_not_panic() {
    assert!(MatrixRef::new(3, 3, &[0.0; 8]).is_err());
    let z = vec![0.0; 12];
    let m = MatrixRef::new(4, 3, &z).unwrap();
    let s = row_spectrum(&[m], 1.0, Eigensolver::Gram).unwrap();
    assert_eq!(s.evals, vec![0.0; 3]);
    let e = MatrixRef::new(0, 3, &[]).unwrap();
    assert!(
        row_spectrum(&[e], 1.0, Eigensolver::Svd)
            .unwrap()
            .evals
            .is_empty()
    );
}

#[test]
fn wide_layers_take_the_two_stage_solver_and_match_the_svd() {
    // 1100 ≥ TWO_STAGE_MIN: the Gram path goes through `two_stage`; it must agree with the SVD
    // to the same tolerance as the narrow path, and not depend on the thread count.
    let (r, c) = (1300, TWO_STAGE_MIN + 76);
    let a = mat(r, c, 31);
    let m = MatrixRef::new(r, c, &a).unwrap();
    let svd = row_spectrum(&[m], 1.0, Eigensolver::Svd).unwrap();
    let seq = row_spectrum_par(&[m], 1.0, Eigensolver::Gram, Par::Seq).unwrap();
    let top = svd.evals[c - 1];
    for (s, g) in svd.evals.iter().zip(&seq.evals) {
        assert!((s - g).abs() <= 1e-12 * top, "{s} vs {g}");
    }
    let par = row_spectrum_par(&[m], 1.0, Eigensolver::Gram, Par::rayon(2)).unwrap();
    assert_eq!(seq.evals, par.evals);
}

#[test]
fn prepared_rows_hold_only_gram_matrices_and_solve_to_the_same_spectrum() {
    let a = mat(40, 12, 3);
    let b = mat(40, 12, 4);
    let (ma, mb) = (
        MatrixRef::new(40, 12, &a).unwrap(),
        MatrixRef::new(40, 12, &b).unwrap(),
    );
    let whole = row_spectrum(&[ma, mb], 0.5, Eigensolver::Gram).unwrap();
    let prepared = prepare_row(&[ma, mb], 0.5, Eigensolver::Gram, Par::Seq).unwrap();
    assert_eq!(prepared.bytes(), 2 * 8 * 12 * 12);
    drop((a, b)); // the weights may go before the eigensolve
    let solved = prepared.solve(Par::Seq).unwrap();
    assert_eq!(whole.evals, solved.evals);
    assert_eq!(whole.singular_values, solved.singular_values);
    assert!(solved.from_gram);
}
