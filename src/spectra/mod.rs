//! The empirical spectral density (methods.md §4): eigenvalues λ = σ² of every matrix of a row.
//!
//! Three solvers. `Gram` (default) forms the lower triangle of the Gram matrix of the smaller
//! side in f64 and takes its eigenvalues (`gram_eigenvalues`: the two-stage solver of
//! `two_stage` for wide matrices, faer's one-stage solver for narrow ones); `Svd` takes full f64
//! singular values, the reference path that WW runs (LAPACK gesdd); `Gram32` (opt-in) forms the
//! Gram matrix in f32 and solves it in f64.
//!
//! Parallelism is chosen by the caller (`Par`): small matrices run sequentially inside one
//! matrix while rows run in parallel over layers; big matrices run one at a time with `par`
//! threads in their GEMMs (see `cost`). faer's parallel GEMM splits output blocks, never a
//! reduction, so it is bit-identical to the sequential one; its parallel one-stage eigensolver
//! and SVD are not, so those always run sequentially (both tested below).

pub mod cost;
pub mod lower;
pub mod tridiagonal;
pub mod two_stage;

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::{evd, svd};
use faer::{Accum, MatRef, Par};
use serde::Serialize;

use crate::options::Eigensolver;

/// The spectrum of one row: one dense matrix, one conv slice, or all slices of a pooled conv.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Spectrum {
    /// λ = σ² of all matrices of the row, after scaling, ascending. Near-zero values are kept.
    pub evals: Vec<f64>,
    /// Singular values of each matrix (after scaling), ascending: rank_loss, sv_min, sv_max need them.
    pub singular_values: Vec<Vec<f64>>,
    /// Whether the values come from Gram matrices: their small end is then resolved only down to
    /// about √(N·ε)·σ_max, which rank decisions must respect (methods.md §4.2).
    pub from_gram: bool,
}

/// A dense row-major matrix borrowed from a weight tensor.
#[derive(Clone, Copy, Debug)]
pub struct MatrixRef<'a> {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// `rows × cols` values, row-major.
    pub data: &'a [f64],
}

/// Why a spectrum could not be computed; a row status (`eigensolver_failed`), not a run error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpectrumError {
    /// The eigensolver (or SVD) did not converge.
    #[error("eigensolver did not converge on a {rows}×{cols} matrix")]
    NoConvergence {
        /// Rows of the matrix.
        rows: usize,
        /// Columns of the matrix.
        cols: usize,
    },
    /// The data length is not `rows × cols`.
    #[error("matrix data has {len} values, expected {rows}×{cols}")]
    Shape {
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
        /// Values given.
        len: usize,
    },
}

impl<'a> MatrixRef<'a> {
    /// A `rows × cols` view of `data`; an error when the length does not match.
    pub fn new(rows: usize, cols: usize, data: &'a [f64]) -> Result<Self, SpectrumError> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(SpectrumError::Shape {
                rows,
                cols,
                len: data.len(),
            });
        }
        Ok(MatrixRef { rows, cols, data })
    }

    fn faer(&self) -> MatRef<'a, f64> {
        MatRef::from_row_major_slice(self.data, self.rows, self.cols)
    }
}

/// The spectrum of a row of matrices, each scaled by √`scale_sq` (the conv factor c/2 of §2.4;
/// 1 for dense rows). Eigenvalues are pooled and sorted ascending.
pub fn row_spectrum(
    matrices: &[MatrixRef<'_>],
    scale_sq: f64,
    solver: Eigensolver,
) -> Result<Spectrum, SpectrumError> {
    row_spectrum_par(matrices, scale_sq, solver, Par::Seq)
}

/// As `row_spectrum`, with `par` threads inside each matrix (for big layers run one at a time).
pub fn row_spectrum_par(
    matrices: &[MatrixRef<'_>],
    scale_sq: f64,
    solver: Eigensolver,
    par: Par,
) -> Result<Spectrum, SpectrumError> {
    prepare_row(matrices, scale_sq, solver, par)?.solve(par)
}

/// A row's spectrum computed up to the point where its matrices are no longer needed: the
/// Gram matrix of each (or, on the SVD path, its singular values). A big layer's weights can be
/// freed before its eigensolve, and the eigensolve can run on another thread.
#[derive(Debug)]
pub struct PreparedRow {
    parts: Vec<Prepared>,
    scale_sq: f64,
    from_gram: bool,
}

#[derive(Debug)]
enum Prepared {
    Gram {
        g: faer::Mat<f64>,
        rows: usize,
        cols: usize,
    },
    Values(Vec<f64>),
}

/// The first half of `row_spectrum_par`: Gram products (or SVDs), `par` threads in each.
pub fn prepare_row(
    matrices: &[MatrixRef<'_>],
    scale_sq: f64,
    solver: Eigensolver,
    par: Par,
) -> Result<PreparedRow, SpectrumError> {
    let parts = matrices
        .iter()
        .map(|a| prepare(a, solver, par))
        .collect::<Result<_, _>>()?;
    Ok(PreparedRow {
        parts,
        scale_sq,
        from_gram: solver != Eigensolver::Svd,
    })
}

impl PreparedRow {
    /// Bytes held until `solve`: the Gram matrices.
    pub fn bytes(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Prepared::Gram { g, .. } => 8 * g.nrows() * g.ncols(),
                Prepared::Values(v) => 8 * v.len(),
            })
            .sum()
    }

    /// The second half: eigensolves (`par` threads where that is deterministic), scaling and
    /// pooling. Eigenvalues come out sorted ascending.
    pub fn solve(self, par: Par) -> Result<Spectrum, SpectrumError> {
        let mut out = Spectrum {
            from_gram: self.from_gram,
            ..Spectrum::default()
        };
        for part in self.parts {
            let mut sv = singular_values_of(part, par)?;
            if self.scale_sq != 1.0 {
                // WW scales W before the SVD; scaling σ afterwards differs only by rounding (§2.4).
                let s = self.scale_sq.sqrt();
                sv.iter_mut().for_each(|x| *x *= s);
            }
            out.evals.extend(sv.iter().map(|s| s * s));
            out.singular_values.push(sv);
        }
        out.evals.sort_by(f64::total_cmp);
        Ok(out)
    }
}

/// All min(rows, cols) singular values of one matrix, ascending, in f64.
pub fn singular_values(a: &MatrixRef<'_>, solver: Eigensolver) -> Result<Vec<f64>, SpectrumError> {
    singular_values_par(a, solver, Par::Seq)
}

/// As `singular_values`, with `par` threads inside the matrix.
pub fn singular_values_par(
    a: &MatrixRef<'_>,
    solver: Eigensolver,
    par: Par,
) -> Result<Vec<f64>, SpectrumError> {
    singular_values_of(prepare(a, solver, par)?, par)
}

fn prepare(a: &MatrixRef<'_>, solver: Eigensolver, par: Par) -> Result<Prepared, SpectrumError> {
    if a.rows == 0 || a.cols == 0 {
        return Ok(Prepared::Values(Vec::new()));
    }
    let g = match solver {
        // The SVD is the checking path: always sequential, its parallel bidiagonalisation
        // rounds differently with the thread count.
        Eigensolver::Svd => return svd_values(a, Par::Seq).map(Prepared::Values),
        Eigensolver::Gram => gram_par(a, par),
        Eigensolver::Gram32 => gram32_lower(a, par),
    };
    Ok(Prepared::Gram {
        g,
        rows: a.rows,
        cols: a.cols,
    })
}

fn singular_values_of(part: Prepared, par: Par) -> Result<Vec<f64>, SpectrumError> {
    let mut sv = match part {
        Prepared::Values(v) => v,
        Prepared::Gram { g, rows, cols } => gram_eigenvalues(g, par)
            .map_err(|_| SpectrumError::NoConvergence { rows, cols })?
            .into_iter()
            // Rounding can leave tiny negative eigenvalues of a PSD matrix: they are zeros.
            .map(|l| l.max(0.0).sqrt())
            .collect(),
    };
    sv.sort_by(f64::total_cmp);
    Ok(sv)
}

/// The Gram matrix of the smaller side, AᵀA if rows ≥ cols else AAᵀ: its lower triangle, which
/// is all the eigensolvers read (entries above the diagonal are unspecified).
pub fn gram(a: &MatrixRef<'_>) -> faer::Mat<f64> {
    gram_par(a, Par::Seq)
}

/// As `gram`, with `par` threads.
pub fn gram_par(a: &MatrixRef<'_>, par: Par) -> faer::Mat<f64> {
    let m = a.faer();
    if a.rows >= a.cols {
        tall_gram(a, par)
    } else {
        // lhs row-major, rhs column-major: the layout faer's GEMM runs at full rate.
        lower_product(m, m.transpose(), par)
    }
}

/// Rows of A that `tall_gram` copies column-major at a time, i.e. the depth of each Bₖᵀ·Bₖ
/// (16 MB at 4096 columns). Not the blocking of the output: `lower::matmul_deep` splits that
/// into its own `DEEP_BLOCK_ROWS`. Also the band height that [`TallGram`] takes.
pub const GRAM_BAND_ROWS: usize = 512;

/// AᵀA of a row-major A with rows ≥ cols. Taken straight from the row-major buffer, its right
/// operand would be row-major, which faer's GEMM runs ≈ 2.7× slower (30 against 85 GFLOP/s at
/// 4096³ on one core of the reference machine). So A goes through in blocks Bₖ of
/// `GRAM_BAND_ROWS` rows, each copied column-major, and AᵀA = Σ Bₖᵀ·Bₖ accumulates block by block
/// in a fixed order.
fn tall_gram(a: &MatrixRef<'_>, par: Par) -> faer::Mat<f64> {
    let mut t = TallGram::new(a.rows, a.cols, par);
    for band in a.data.chunks(GRAM_BAND_ROWS * a.cols.max(1)) {
        t.add(band);
    }
    t.g
}

/// The Gram matrix AᵀA of a tall matrix (rows ≥ cols) fed a band of `GRAM_BAND_ROWS` rows at a
/// time (the last band may be shorter), for weights decoded in bands that are never held whole
/// (`Extraction::stream_rows`). The blocks and their order are those of the in-memory path, so
/// the result is the same to the bit.
#[derive(Debug)]
pub struct TallGram {
    g: faer::Mat<f64>,
    block: faer::Mat<f64>,
    rows: usize,
    cols: usize,
    seen: usize,
    par: Par,
}

impl TallGram {
    /// An empty sum for a `rows × cols` matrix, `par` threads in each product.
    pub fn new(rows: usize, cols: usize, par: Par) -> Self {
        TallGram {
            g: faer::Mat::<f64>::zeros(cols, cols),
            block: faer::Mat::<f64>::zeros(GRAM_BAND_ROWS.min(rows), cols),
            rows,
            cols,
            seen: 0,
            par,
        }
    }

    /// Add the next band (row-major, at most `GRAM_BAND_ROWS` rows of `cols` values).
    pub fn add(&mut self, band: &[f64]) {
        let cols = self.cols.max(1);
        let rb = (band.len() / cols).min(self.block.nrows());
        if rb == 0 {
            return;
        }
        self.block
            .as_mut()
            .subrows_mut(0, rb)
            .copy_from(MatRef::from_row_major_slice(
                band.get(..rb * self.cols).unwrap_or_default(),
                rb,
                self.cols,
            ));
        let b = self.block.as_ref().subrows(0, rb);
        lower::matmul_deep(self.g.as_mut(), Accum::Add, b.transpose(), b, 1.0, self.par);
        self.seen += rb;
    }

    /// The prepared row (scaled by √`scale_sq`, as `prepare_row`), once every row was added.
    pub fn finish(self, scale_sq: f64) -> Result<PreparedRow, SpectrumError> {
        if self.seen != self.rows {
            return Err(SpectrumError::Shape {
                rows: self.rows,
                cols: self.cols,
                len: self.seen * self.cols,
            });
        }
        Ok(PreparedRow {
            parts: vec![Prepared::Gram {
                g: self.g,
                rows: self.rows,
                cols: self.cols,
            }],
            scale_sq,
            from_gram: true,
        })
    }
}

/// The lower triangle of lhs·rhs (k × k) in a new matrix (see `lower`).
fn lower_product<T>(lhs: MatRef<'_, T>, rhs: MatRef<'_, T>, par: Par) -> faer::Mat<T>
where
    T: faer::traits::ComplexField + faer::traits::Conjugate<Canonical = T>,
{
    let k = lhs.nrows();
    let mut g = faer::Mat::<T>::zeros(k, k);
    lower::matmul_deep(g.as_mut(), Accum::Replace, lhs, rhs, T::one_impl(), par);
    g
}

/// Matrices at least this wide go through the two-stage eigensolver (`two_stage`); below it
/// faer's one-stage solver is as fast or faster, the whole matrix sitting in cache (measured
/// on the reference machine: 13 ms against 17 ms at n = 512, 87 ms against 83 ms at 1024).
pub const TWO_STAGE_MIN: usize = 1024;

/// Eigenvalues of a Gram matrix (lower triangle read; consumed as workspace), ascending. Wide matrices take the
/// two-stage solver with `par` threads in its GEMMs, which is bit-identical for any thread
/// count; narrow ones take faer's one-stage solver sequentially, since its parallel version
/// rounds differently with the thread count.
pub fn gram_eigenvalues(g: faer::Mat<f64>, par: Par) -> Result<Vec<f64>, evd::EvdError> {
    if g.nrows() >= TWO_STAGE_MIN {
        two_stage::eigenvalues(g, par)
    } else {
        one_stage_eigenvalues(g)
    }
}

/// Eigenvalues of a small symmetric matrix (lower triangle read, consumed): faer's one-stage
/// tridiagonal reduction, then the root-free iteration (`tridiagonal`), which at n = 512 takes
/// under half the time of faer's tridiagonal QR.
fn one_stage_eigenvalues(mut g: faer::Mat<f64>) -> Result<Vec<f64>, evd::EvdError> {
    use faer::linalg::evd::tridiag;
    let n = g.nrows();
    if n == 0 {
        return Ok(Vec::new());
    }
    let bs = faer::linalg::qr::no_pivoting::factor::recommended_block_size::<f64>(n, n);
    let mut householder = faer::Mat::<f64>::zeros(bs, n - 1);
    let scratch = tridiag::tridiag_in_place_scratch::<f64>(n, Par::Seq, Default::default());
    let mut buf = MemBuffer::new(scratch);
    tridiag::tridiag_in_place(
        g.as_mut(),
        householder.as_mut(),
        Par::Seq,
        MemStack::new(&mut buf),
        Default::default(),
    );
    let diag: Vec<f64> = (0..n).map(|i| g[(i, i)]).collect();
    let sub: Vec<f64> = (1..n).map(|i| g[(i, i - 1)]).collect();
    tridiagonal::spectrum(&diag, &sub)
}

/// The lower triangle of the Gram matrix with the product in f32 (inputs rounded to f32),
/// widened to f64 for the eigensolver: f32 GEMM runs at about twice the f64 rate, and the
/// triangle alone is half the flops.
pub fn gram32_lower(a: &MatrixRef<'_>, par: Par) -> faer::Mat<f64> {
    // Rounding to f32 is the point of this path; values beyond f32 range become ±∞ and the
    // eigensolver reports no convergence rather than a wrong spectrum.
    // The copy is laid out so that the right operand is column-major (see `tall_gram`).
    let m = a.faer();
    let g = if a.rows >= a.cols {
        let m32 = faer::Mat::<f32>::from_fn(a.rows, a.cols, |i, j| m[(i, j)] as f32);
        lower_product(m32.transpose(), m32.as_ref(), par)
    } else {
        let t32 = faer::Mat::<f32>::from_fn(a.cols, a.rows, |i, j| m[(j, i)] as f32);
        lower_product(t32.transpose(), t32.as_ref(), par)
    };
    let k = g.nrows();
    faer::Mat::<f64>::from_fn(k, k, |i, j| if i >= j { f64::from(g[(i, j)]) } else { 0.0 })
}

/// Eigenvalues of a symmetric matrix (lower triangle read), optionally with eigenvectors in `u`.
pub fn symmetric_eigen(
    g: MatRef<'_, f64>,
    u: Option<faer::MatMut<'_, f64>>,
) -> Result<Vec<f64>, evd::EvdError> {
    symmetric_eigen_par(g, u, Par::Seq)
}

/// As `symmetric_eigen`, with `par` threads.
pub fn symmetric_eigen_par(
    g: MatRef<'_, f64>,
    u: Option<faer::MatMut<'_, f64>>,
    par: Par,
) -> Result<Vec<f64>, evd::EvdError> {
    let n = g.nrows();
    let mut s = faer::diag::Diag::<f64>::zeros(n);
    let vectors = if u.is_some() {
        evd::ComputeEigenvectors::Yes
    } else {
        evd::ComputeEigenvectors::No
    };
    let scratch = evd::self_adjoint_evd_scratch::<f64>(n, vectors, par, Default::default());
    let mut buf = MemBuffer::new(scratch);
    evd::self_adjoint_evd(
        g,
        s.as_mut(),
        u,
        par,
        MemStack::new(&mut buf),
        Default::default(),
    )?;
    Ok(s.column_vector().iter().copied().collect())
}

/// A thin SVD: U (rows × k), the singular values (k of them, in faer's order: descending), V
/// (cols × k), k = min(rows, cols).
pub type ThinSvd = (faer::Mat<f64>, Vec<f64>, faer::Mat<f64>);

/// The thin SVD A = U·diag(s)·Vᵀ, for callers that need singular vectors (`compare`).
pub fn thin_svd(a: &MatrixRef<'_>) -> Result<ThinSvd, SpectrumError> {
    let k = a.rows.min(a.cols);
    let mut u = faer::Mat::<f64>::zeros(a.rows, k);
    let mut v = faer::Mat::<f64>::zeros(a.cols, k);
    let s = svd_into(a, Some((u.as_mut(), v.as_mut())), Par::Seq)?;
    Ok((u, s, v))
}

fn svd_values(a: &MatrixRef<'_>, par: Par) -> Result<Vec<f64>, SpectrumError> {
    svd_into(a, None, par)
}

/// The singular values of `a` (faer's order), and its thin singular vectors into `uv` if given.
fn svd_into(
    a: &MatrixRef<'_>,
    uv: Option<(faer::MatMut<'_, f64>, faer::MatMut<'_, f64>)>,
    par: Par,
) -> Result<Vec<f64>, SpectrumError> {
    let k = a.rows.min(a.cols);
    let mut s = faer::diag::Diag::<f64>::zeros(k);
    let want = if uv.is_some() {
        svd::ComputeSvdVectors::Thin
    } else {
        svd::ComputeSvdVectors::No
    };
    let scratch = svd::svd_scratch::<f64>(a.rows, a.cols, want, want, par, Default::default());
    let mut buf = MemBuffer::new(scratch);
    let (u, v) = match uv {
        Some((u, v)) => (Some(u), Some(v)),
        None => (None, None),
    };
    svd::svd(
        a.faer(),
        s.as_mut(),
        u,
        v,
        par,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .map_err(|_| SpectrumError::NoConvergence {
        rows: a.rows,
        cols: a.cols,
    })?;
    Ok(s.column_vector().iter().copied().collect())
}

#[cfg(test)]
mod tests;
