//! The lower triangle of a matrix product, dst ← β·dst + α·lhs·rhs (i ≥ j only), as one full
//! sequential GEMM per block of columns from the diagonal down (`matmul`) or per block of rows
//! from the left edge to the diagonal (`matmul_deep`), the blocks spread over the threads: about
//! half the flops of the whole product at the full GEMM rate (faer's triangular product
//! measured slower than the full product on a 25088×4096 Gram), and every entry is
//! bit-identical to the whole product's, since each output block sees the same reduction. The Gram matrix (`spectra::gram`) and the two-stage solver's
//! trailing updates (`two_stage::to_band`) are built on it.

use faer::prelude::{Reborrow, ReborrowMut};
use faer::traits::{ComplexField, Conjugate};
use faer::{Accum, MatMut, MatRef, Par};

/// Width of the column blocks: wide enough for full-rate GEMM, narrow enough that the wasted
/// upper halves of the diagonal blocks stay a few percent of the work at n ≥ 2048, and that
/// there are enough blocks to balance the threads. Measured on the 25088×4096 Gram with two
/// threads: 128 → 3.8 s, 192 → 3.6 s, 256 → 3.4 s, 512 → 4.0 s.
const BLOCK: usize = 256;

/// dst (k × k) ← β·dst + α·lhs (k × d) · rhs (d × k), on and below the diagonal. Entries above
/// the diagonal inside a diagonal block are written too (unspecified); the rest are untouched.
pub fn matmul<T>(
    dst: MatMut<'_, T>,
    beta: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    par: Par,
) where
    T: ComplexField + Conjugate<Canonical = T>,
{
    let k = dst.nrows();
    // Column blocks split among threads, each block one sequential GEMM: coarse tasks instead
    // of a fine-grained parallel GEMM per block (measured faster), and each entry is still
    // computed by the same sequential product whatever the thread count.
    let mut blocks = Vec::new();
    let mut rest = dst;
    let mut j0 = 0;
    while j0 < k {
        let w = BLOCK.min(k - j0);
        let (left, right) = rest.split_at_col_mut(w);
        let block = left.submatrix_mut(j0, 0, k - j0, w);
        blocks.push((block, lhs.subrows(j0, k - j0), rhs.subcols(j0, w)));
        rest = right;
        j0 += w;
    }
    run_blocks(blocks, beta, alpha, par);
}

/// dst ← β·dst + α·lhs·rhs for every (dst, lhs, rhs) block, each one sequential GEMM, the
/// blocks spread over the threads when `par` has them.
fn run_blocks<T>(
    blocks: Vec<(MatMut<'_, T>, MatRef<'_, T>, MatRef<'_, T>)>,
    beta: Accum,
    alpha: T,
    par: Par,
) where
    T: ComplexField + Conjugate<Canonical = T>,
{
    let run = |(dst, lhs, rhs): (MatMut<'_, T>, MatRef<'_, T>, MatRef<'_, T>)| {
        faer::linalg::matmul::matmul(dst, beta, lhs, rhs, alpha.clone(), Par::Seq);
    };
    match par {
        Par::Seq => blocks.into_iter().for_each(run),
        Par::Rayon(_) => {
            use rayon::prelude::*;
            blocks.into_par_iter().for_each(run);
        }
    }
}

/// Height of the row blocks of the output of `matmul_deep`: tall enough for full-rate GEMM, short enough that the wasted
/// upper halves of the diagonal blocks stay a few percent of the work at n ≥ 2048, and that
/// there are enough blocks to balance the threads. Measured on the 4096×25088 Gram (VGG16 fc6)
/// with two threads: 128 → 2.48 s, 256 → 2.50 s, 512 → 3.07 s.
const DEEP_BLOCK_ROWS: usize = 256;

/// As `matmul`, by row blocks: for deep products (d ≫ BLOCK) such as Gram matrices, where
/// packing the left operand is a real cost.
pub fn matmul_deep<T>(
    dst: MatMut<'_, T>,
    beta: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    par: Par,
) where
    T: ComplexField + Conjugate<Canonical = T>,
{
    let k = dst.nrows();
    // Row blocks: faer packs the left operand of each product, and a row block's is its own
    // rows only, packed once; a column block's is every row below the diagonal, so column
    // blocks pack a deep left operand k/(2·BLOCK) times over (fc6: 2.84–3.14 s against
    // 2.48–2.52 s). For the two-stage update (d = 64) column blocks stay faster (to_band at
    // n = 4096: 1.93 s against 2.13 s).
    let mut blocks = Vec::new();
    let mut rest = dst;
    let mut i0 = 0;
    while i0 < k {
        let h = DEEP_BLOCK_ROWS.min(k - i0);
        let (top, bottom) = rest.split_at_row_mut(h);
        let block = top.submatrix_mut(0, 0, h, i0 + h);
        blocks.push((block, lhs.subrows(i0, h), rhs.subcols(0, i0 + h)));
        rest = bottom;
        i0 += h;
    }
    // The widest blocks first, so that the last ones to run are short.
    blocks.reverse();
    run_blocks(blocks, beta, alpha, par);
}

/// Width of the block columns of `symmetric_matmul`. Measured for A·V with V 32 wide, one
/// thread: 64 → 18.4 ms, 128 → 20.7 ms, 256 → 19.6 ms at m = 4096; 64 → 4.3 ms, 128 → 5.0 ms
/// at m = 2048.
const SYMM_BLOCK: usize = 64;

/// dst (m × k) ← A·rhs for the symmetric A (m × m) of which only the lower triangle is read.
/// One pass over A in block columns B, each used twice while in cache. The product is formed
/// transposed, Yᵀ = rhsᵀ·A: Yᵀ[block] += rhsᵀ[below]·B and Yᵀ[below] += rhsᵀ[block]·Bᵀ, plus
/// the mirrored diagonal block, because faer runs these shapes with the wide k × m operands
/// column-major about 20 % faster than A·rhs directly (23.2 → 18.4 ms at m = 4096). The
/// reduction order of every output entry is fixed by the block layout, never by `par`.
pub fn symmetric_matmul(
    mut dst: MatMut<'_, f64>,
    a: MatRef<'_, f64>,
    rhs: MatRef<'_, f64>,
    par: Par,
) {
    // Threads take halves of rhs's columns, each a sequential pass over A: faer's own threads
    // on these thin products cost more than they gave (stage one at n = 2048: 248 ms on one
    // thread, 331 ms on two). Each output column is computed the same way either way.
    let k = rhs.ncols();
    if let Par::Rayon(_) = par
        && k >= 2
    {
        let (left, right) = dst.split_at_col_mut(k / 2);
        rayon::join(
            || symmetric_matmul(left, a, rhs.subcols(0, k / 2), Par::Seq),
            || symmetric_matmul(right, a, rhs.subcols(k / 2, k - k / 2), Par::Seq),
        );
        return;
    }
    use faer::linalg::matmul::matmul as gemm;
    let m = a.nrows();
    let rhs_t = rhs.transpose().to_owned();
    let mut dst_t = faer::Mat::<f64>::zeros(rhs.ncols(), m);
    let mut diag = faer::Mat::<f64>::zeros(SYMM_BLOCK.min(m), SYMM_BLOCK.min(m));
    for j0 in (0..m).step_by(SYMM_BLOCK) {
        let w = SYMM_BLOCK.min(m - j0);
        let mut d = diag.as_mut().submatrix_mut(0, 0, w, w);
        for j in 0..w {
            for i in j..w {
                let x = a[(j0 + i, j0 + j)];
                d[(i, j)] = x;
                d[(j, i)] = x;
            }
        }
        let rhs_block = rhs_t.subcols(j0, w);
        let mut out_block = dst_t.as_mut().subcols_mut(j0, w);
        gemm(
            out_block.rb_mut(),
            Accum::Add,
            rhs_block,
            d.rb(),
            1.0,
            Par::Seq,
        );
        let below = m - j0 - w;
        if below > 0 {
            let b = a.submatrix(j0 + w, j0, below, w);
            let rhs_below = rhs_t.subcols(j0 + w, below);
            gemm(out_block, Accum::Add, rhs_below, b, 1.0, Par::Seq);
            gemm(
                dst_t.as_mut().subcols_mut(j0 + w, below),
                Accum::Add,
                rhs_block,
                b.transpose(),
                1.0,
                Par::Seq,
            );
        }
    }
    dst.copy_from(dst_t.transpose());
}

#[cfg(test)]
#[path = "lower_tests.rs"]
mod tests;
