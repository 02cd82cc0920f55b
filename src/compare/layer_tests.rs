use super::*;

fn mat(
    slices: usize,
    rows: usize,
    cols: usize,
    f: impl Fn(usize, usize, usize) -> f64,
) -> WeightMatrix {
    let mut data = Vec::with_capacity(slices * rows * cols);
    for p in 0..slices {
        for i in 0..rows {
            for j in 0..cols {
                data.push(f(p, i, j));
            }
        }
    }
    WeightMatrix {
        rows,
        cols,
        slices,
        data,
    }
}

/// A deterministic pseudo-random value in [-1, 1).
fn noise(seed: u64, p: usize, i: usize, j: usize) -> f64 {
    // The seed goes through the mixer on its own first: XOR-ing it straight into the index
    // would make two seeds a permutation of each other's columns.
    let mut z = mix(seed.wrapping_add(0x9e37_79b9_7f4a_7c15));
    z ^= ((p as u64) << 40) ^ ((i as u64) << 20) ^ j as u64;
    z = mix(z.wrapping_add(0x9e37_79b9_7f4a_7c15));
    (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn a_layer_against_itself() {
    let w = mat(1, 40, 24, |p, i, j| noise(1, p, i, j));
    let c = compare(&w, &w).unwrap();
    assert_eq!(c.delta_w, 0.0);
    assert_eq!(c.delta_w_rel, Some(0.0));
    assert_eq!(c.k, 6); // ⌈24/4⌉
    for v in [
        c.overlap_left,
        c.overlap_right,
        c.agreement_left,
        c.agreement_right,
    ] {
        assert!((v.unwrap() - 1.0).abs() < 1e-12, "{c:?}");
    }
}

#[test]
fn scaling_moves_the_weights_not_the_subspaces() {
    let w = mat(1, 30, 50, |p, i, j| noise(2, p, i, j));
    let w10 = WeightMatrix {
        data: w.data.iter().map(|x| x * 10.0).collect(),
        ..w.clone()
    };
    let c = compare(&w10, &w).unwrap();
    assert!((c.delta_w_rel.unwrap() - 9.0).abs() < 1e-12);
    let norm: f64 = w.data.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!((c.delta_w - 9.0 * norm).abs() < 1e-9 * norm);
    assert!((c.overlap_left.unwrap() - 1.0).abs() < 1e-12);
    assert!((c.overlap_right.unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn delta_w_is_weightwatchers_mean_over_the_matrices() {
    // Two slices; the model differs from the baseline by 3 in one cell of slice 0 and by 4 in
    // one cell of slice 1: WW's delta_W = (3 + 4) / 2, the whole-layer distance is 5.
    let base = mat(2, 4, 3, |p, i, j| 1.0 + (p * 12 + i * 3 + j) as f64);
    let mut w = base.clone();
    w.data[0] += 3.0;
    w.data[12] += 4.0;
    let c = compare(&w, &base).unwrap();
    assert!((c.delta_w - 3.5).abs() < 1e-12);
    let bnorm: f64 = base.data.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!((c.delta_w_rel.unwrap() - 5.0 / bnorm).abs() < 1e-12);
}

#[test]
fn overlap_of_known_subspaces() {
    // Diagonal 12×8 matrices. Baseline: σ = 8, 7, …, 1 on e_1 … e_8; k = ⌈8/4⌉ = 2, so the top
    // subspace is span(e_1, e_2). Model: the same values with e_2 and e_3 swapped, so its top-2
    // subspace is span(e_1, e_3): the overlap is 1/2 on both sides, the agreement (1 + 0)/2.
    let diag = |vals: [f64; 8]| mat(1, 12, 8, move |_, i, j| if i == j { vals[j] } else { 0.0 });
    let base = diag([8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]);
    let w = diag([8.0, 6.0, 7.0, 5.0, 4.0, 3.0, 2.0, 1.0]);
    let c = compare(&w, &base).unwrap();
    assert_eq!(c.k, 2);
    for v in [
        c.overlap_left,
        c.overlap_right,
        c.agreement_left,
        c.agreement_right,
    ] {
        assert!((v.unwrap() - 0.5).abs() < 1e-12, "{c:?}");
    }
    // Wide orientation (rows < cols) goes through the other Gram side: same answer.
    let t = |m: &WeightMatrix| mat(1, 8, 12, |_, i, j| m.data[j * 8 + i]);
    let ct = compare(&t(&w), &t(&base)).unwrap();
    assert!((ct.overlap_left.unwrap() - 0.5).abs() < 1e-12);
    assert!((ct.overlap_right.unwrap() - 0.5).abs() < 1e-12);
}

#[test]
fn a_degenerate_top_subspace_keeps_its_overlap_when_rotated() {
    // σ_1 = σ_2 = 5: any rotation inside span(e_1, e_2) is the same subspace. The model's
    // top vectors are rotated by 45° inside it: overlap 1, per-vector agreement cos 45°.
    let r = std::f64::consts::FRAC_1_SQRT_2;
    let base = mat(1, 8, 8, |_, i, j| {
        if i == j {
            [5.0, 5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0][i]
        } else {
            0.0
        }
    });
    let w = mat(1, 8, 8, |_, i, j| match (i, j) {
        (0, 0) | (1, 0) | (1, 1) => 5.0 * r,
        (0, 1) => -5.0 * r,
        (i, j) if i == j => 1.0,
        _ => 0.0,
    });
    let c = compare(&w, &base).unwrap();
    assert_eq!(c.k, 2);
    assert!((c.overlap_left.unwrap() - 1.0).abs() < 1e-9, "{c:?}");
    assert!((c.overlap_right.unwrap() - 1.0).abs() < 1e-9, "{c:?}");
}

#[test]
fn independent_random_layers_barely_overlap() {
    let a = mat(1, 400, 200, |p, i, j| noise(3, p, i, j));
    let b = mat(1, 400, 200, |p, i, j| noise(4, p, i, j));
    let c = compare(&a, &b).unwrap();
    assert_eq!(c.k, 10);
    // Expected k/d: 10/400 left, 10/200 right.
    assert!(c.overlap_left.unwrap() < 0.1, "{c:?}");
    assert!(c.overlap_right.unwrap() < 0.15, "{c:?}");
    assert!((c.delta_w_rel.unwrap() - 2f64.sqrt()).abs() < 0.05, "{c:?}");
}

#[test]
fn a_zero_layer_has_no_subspace() {
    let base = mat(1, 6, 4, |p, i, j| noise(5, p, i, j));
    let zero = mat(1, 6, 4, |_, _, _| 0.0);
    let c = compare(&zero, &base).unwrap();
    assert_eq!(c.k, 0);
    assert_eq!(c.overlap_left, None);
    assert!((c.delta_w_rel.unwrap() - 1.0).abs() < 1e-12);
    assert_eq!(compare(&base, &zero).unwrap().delta_w_rel, None);
}

#[test]
fn shapes_must_agree() {
    let a = mat(1, 6, 4, |_, _, _| 1.0);
    let b = mat(1, 4, 6, |_, _, _| 1.0);
    assert!(matches!(compare(&a, &b), Err(PairError::Shape(..))));
}

#[test]
fn permuting_columns_keeps_the_left_subspace_only() {
    // W·P for a permutation P has the same left singular vectors and permuted right ones.
    let a = mat(1, 120, 60, |p, i, j| noise(6, p, i, j));
    let b = mat(1, 120, 60, |_, i, j| a.data[i * 60 + (j * 7 + 3) % 60]);
    let c = compare(&b, &a).unwrap();
    assert!((c.overlap_left.unwrap() - 1.0).abs() < 1e-9, "{c:?}");
    assert!(c.overlap_right.unwrap() < 0.5, "{c:?}");
}

#[test]
fn the_svd_fallback_gives_the_gram_paths_subspaces() {
    let w = mat(1, 50, 30, |p, i, j| noise(7, p, i, j));
    let a = MatrixRef::new(50, 30, &w.data).unwrap();
    let (ug, vg) = top_vectors(&w).unwrap();
    let (us, vs) = svd_vectors(&a).unwrap();
    assert_eq!((ug.k, us.k), (10, 10));
    let (ol, _) = overlap(&ug, &us, 8);
    let (or, _) = overlap(&vg, &vs, 8);
    assert!((ol.unwrap() - 1.0).abs() < 1e-9 && (or.unwrap() - 1.0).abs() < 1e-9);
}

#[test]
fn a_rank_deficient_layer_against_its_rescaled_self_keeps_its_subspaces() {
    // Rank 2 on a 40×24 layer: k would be ⌈24/4⌉ = 6, but only 2 directions exist. The
    // Gram eigenvalues of the null space are rounding noise at ~λ_max·ε, whose square roots sit
    // far above numpy's σ tolerance; they must not enter the top k.
    let u: Vec<f64> = (0..40).map(|i| noise(8, 0, i, 0)).collect();
    let v: Vec<f64> = (0..24).map(|j| noise(9, 0, 0, j)).collect();
    let x: Vec<f64> = (0..40).map(|i| noise(10, 0, i, 1)).collect();
    let y: Vec<f64> = (0..24).map(|j| noise(11, 0, 1, j)).collect();
    let w = mat(1, 40, 24, |_, i, j| 3.0 * u[i] * v[j] + x[i] * y[j]);
    let w2 = WeightMatrix {
        data: w.data.iter().map(|a| a * 2.0).collect(),
        ..w.clone()
    };
    let c = compare(&w2, &w).unwrap();
    assert_eq!(c.k, 2, "{c:?}");
    assert!((c.overlap_left.unwrap() - 1.0).abs() < 1e-9, "{c:?}");
    assert!((c.overlap_right.unwrap() - 1.0).abs() < 1e-9, "{c:?}");
}
