//! The lower triangle of a matrix product, dst ← β·dst + α·lhs·rhs (i ≥ j only), as one full
//! GEMM per block of columns from the diagonal down: about half the flops of the whole product
//! at the full GEMM rate (faer's triangular product measured slower than the full product on a
//! 25088×4096 Gram), and every entry is bit-identical to the whole product's, since each output
//! block sees the same reduction. The Gram matrix (`spectra::gram`) and the two-stage solver's
//! trailing updates (`two_stage::to_band`) are built on it.

use faer::prelude::ReborrowMut;
use faer::traits::{ComplexField, Conjugate};
use faer::{Accum, MatMut, MatRef, Par};

/// Width of the column blocks: wide enough for full-rate GEMM, narrow enough that the wasted
/// upper halves of the diagonal blocks stay a few percent of the work at n ≥ 2048.
const BLOCK: usize = 512;

/// dst (k × k) ← β·dst + α·lhs (k × d) · rhs (d × k), on and below the diagonal. Entries above
/// the diagonal inside a diagonal block are written too (unspecified); the rest are untouched.
pub fn matmul<T>(
    mut dst: MatMut<'_, T>,
    beta: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    par: Par,
) where
    T: ComplexField + Conjugate<Canonical = T>,
{
    let k = dst.nrows();
    for j0 in (0..k).step_by(BLOCK) {
        let w = BLOCK.min(k - j0);
        faer::linalg::matmul::matmul(
            dst.rb_mut().submatrix_mut(j0, j0, k - j0, w),
            beta,
            lhs.subrows(j0, k - j0),
            rhs.subcols(j0, w),
            alpha.clone(),
            par,
        );
    }
}
