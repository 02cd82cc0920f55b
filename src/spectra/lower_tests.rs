use super::*;
use faer::{Mat, MatMut, MatRef};

fn filled(rows: usize, cols: usize, seed: u64) -> Mat<f64> {
    let mut rng = tailwatch_testkit::TestRng::new(seed);
    Mat::from_fn(rows, cols, |_, _| rng.uniform() - 0.5)
}

/// `product` (one of this module's) against faer's full product: bit-identical on and below
/// the diagonal, and nothing touched outside the diagonal blocks of side `block`.
fn check_lower(
    product: impl Fn(MatMut<'_, f64>, MatRef<'_, f64>, MatRef<'_, f64>),
    block: usize,
    d: usize,
) {
    // 1100 columns: full blocks and a partial one.
    let k = 1100;
    let lhs = filled(k, d, 1);
    let rhs = filled(d, k, 2);
    let mut low = filled(k, k, 3);
    let before = low.clone();
    // The same update by one full product: a deep product accumulates into dst block by block
    // of its depth, so the reference is that, not before − lhs·rhs.
    let mut full = before.clone();
    faer::linalg::matmul::matmul(
        full.as_mut(),
        Accum::Add,
        lhs.as_ref(),
        rhs.as_ref(),
        -1.0,
        Par::Seq,
    );
    product(low.as_mut(), lhs.as_ref(), rhs.as_ref());
    for j in 0..k {
        for i in j..k {
            assert_eq!(low[(i, j)], full[(i, j)], "({i},{j})");
        }
        // Above the diagonal blocks nothing is touched.
        for i in 0..(j / block) * block {
            assert_eq!(low[(i, j)], before[(i, j)], "({i},{j}) above the blocks");
        }
    }
}

#[test]
fn lower_product_equals_the_full_product_on_and_below_the_diagonal() {
    for par in [Par::Seq, Par::rayon(2)] {
        check_lower(
            |dst, lhs, rhs| matmul(dst, Accum::Add, lhs, rhs, -1.0, par),
            BLOCK,
            70,
        );
        // A deep product, as for a Gram matrix.
        check_lower(
            |dst, lhs, rhs| matmul_deep(dst, Accum::Add, lhs, rhs, -1.0, par),
            DEEP_BLOCK_ROWS,
            700,
        );
    }
}

#[test]
fn symmetric_product_reads_only_the_lower_triangle() {
    let m = 300; // four full SYMM_BLOCK (64) blocks and a partial one
    let lower = filled(m, m, 4);
    let sym = Mat::from_fn(
        m,
        m,
        |i, j| if i >= j { lower[(i, j)] } else { lower[(j, i)] },
    );
    // Garbage above the diagonal must not matter.
    let mut stored = sym.clone();
    for j in 0..m {
        for i in 0..j {
            stored[(i, j)] = f64::NAN;
        }
    }
    let v = filled(m, 7, 5);
    let mut expect = Mat::<f64>::zeros(m, 7);
    faer::linalg::matmul::matmul(
        expect.as_mut(),
        Accum::Replace,
        sym.as_ref(),
        v.as_ref(),
        1.0,
        Par::Seq,
    );
    let mut got = Mat::<f64>::zeros(m, 7);
    symmetric_matmul(got.as_mut(), stored.as_ref(), v.as_ref(), Par::Seq);
    let mut par = Mat::<f64>::zeros(m, 7);
    symmetric_matmul(par.as_mut(), stored.as_ref(), v.as_ref(), Par::rayon(3));
    for i in 0..m {
        for j in 0..7 {
            assert!((got[(i, j)] - expect[(i, j)]).abs() < 1e-12, "({i},{j})");
            assert_eq!(got[(i, j)], par[(i, j)]);
        }
    }
}
