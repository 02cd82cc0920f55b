use super::*;
use faer::Mat;

fn filled(rows: usize, cols: usize, seed: u64) -> Mat<f64> {
    let mut x = seed;
    Mat::from_fn(rows, cols, |_, _| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    })
}

#[test]
fn lower_product_equals_the_full_product_on_and_below_the_diagonal() {
    // 1100 columns: two full 512-blocks and a partial one.
    let (k, d) = (1100, 70);
    let lhs = filled(k, d, 1);
    let rhs = filled(d, k, 2);
    let mut full = Mat::<f64>::zeros(k, k);
    faer::linalg::matmul::matmul(
        full.as_mut(),
        Accum::Replace,
        lhs.as_ref(),
        rhs.as_ref(),
        1.0,
        Par::Seq,
    );
    let mut low = filled(k, k, 3);
    let before = low.clone();
    matmul(
        low.as_mut(),
        Accum::Add,
        lhs.as_ref(),
        rhs.as_ref(),
        -1.0,
        Par::rayon(2),
    );
    for j in 0..k {
        for i in j..k {
            assert_eq!(low[(i, j)], before[(i, j)] - full[(i, j)], "({i},{j})");
        }
        // Above the diagonal blocks nothing is touched.
        for i in 0..(j / BLOCK) * BLOCK {
            assert_eq!(low[(i, j)], before[(i, j)], "({i},{j}) above the blocks");
        }
    }
}

#[test]
fn symmetric_product_reads_only_the_lower_triangle() {
    let m = 300; // two full 128-blocks and a partial one
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
