//! Eigenvalues of a symmetric matrix in two stages: dense → band (`to_band`, GEMM-bound and
//! parallel), band → tridiagonal (`chase`, cache-resident, one core), then the root-free QL/QR
//! iteration on the tridiagonal matrix (`spectra::tridiagonal`). Eigenvalues only: this is the path of every big Gram matrix.
//!
//! Why not faer's one-stage `self_adjoint_evd`: half of the 4/3·n³ flops of a one-stage
//! tridiagonal reduction are matrix–vector products bound by memory bandwidth, ≈ 9–10 s at
//! n = 4096 on one core of the reference machine, and faer's parallel version rounds differently
//! with the thread count. Here the O(n³) part is GEMM (bit-identical for any thread count), and
//! the band stage is O(n²·b).

pub mod chase;
mod householder;
pub mod to_band;

use faer::linalg::evd;
use faer::{Mat, Par};

/// Half-bandwidth of the intermediate band matrix: wide enough that the rank-2b updates of stage
/// one run near the GEMM rate, narrow enough that the O(n²·b) stage two stays cheap (tuned on
/// n = 4096; see docs/performance.md).
pub const BAND: usize = 32;

/// All eigenvalues of the symmetric matrix `a` (lower triangle read, the matrix consumed as
/// workspace: a big Gram matrix is never copied), ascending.
pub fn eigenvalues(a: Mat<f64>, par: Par) -> Result<Vec<f64>, evd::EvdError> {
    eigenvalues_with_band(a, BAND, par)
}

/// As `eigenvalues`, with the half-bandwidth `b` chosen by the caller (tests, benches).
pub fn eigenvalues_with_band(
    mut a: Mat<f64>,
    b: usize,
    par: Par,
) -> Result<Vec<f64>, evd::EvdError> {
    to_band::reduce(a.as_mut(), b, par);
    let band = chase::Band::from_lower(a.as_ref(), b);
    drop(a);
    let (diag, sub) = band.tridiagonalize();
    super::tridiagonal::spectrum(&diag, &sub)
}

#[cfg(test)]
mod tests;
