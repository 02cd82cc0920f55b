//! One matched layer pair: how far the model's weight moved from the baseline's.
//!
//! - `delta_w`: WeightWatcher 0.7.7's `distances(model_1, model_2, method='euclidean')`: the
//!   Frobenius norm ‖W − W_base‖_F of each matrix of the layer, averaged over its matrices (one for
//!   a dense layer, one per kernel position of a conv; `weightwatcher.py`, `distances` and
//!   `matrix_distance`).
//! - `delta_w_rel`: ‖W − W_base‖_F / ‖W_base‖_F over the whole layer: the same, scale-free, so one
//!   threshold serves layers of any size and init scale.
//! - `overlap_left` / `overlap_right`: the overlap of the top-k singular subspaces,
//!   ‖U_kᵀ U'_k‖²_F / k ∈ [0, 1] (1: the same subspace; two random k-subspaces of ℝ^d give about
//!   k/d). Left vectors (length rows) span the column space of the layer's unfolded matrix
//!   (the kernel positions side by side), right vectors (length cols·slices) its row space. This is the subspace form of the
//!   overlap matrix of diffract's alignment kernels (`l_overlap`, `r_overlap` = U_kᵀU'_k), which
//!   does not depend on the basis chosen inside a degenerate subspace.
//! - `agreement_left` / `agreement_right`: the mean of |diag(U_kᵀ U'_k)|, diffract's per-component
//!   `l_agreement` / `r_agreement` averaged: vector by vector, so it drops when two singular values
//!   swap order even if the subspace stays.
//!
//! k = min(10, ⌈m/4⌉) for a layer whose smaller side is m, and never more than the number of
//! singular values above the rank tolerance in either matrix (λ > λ_max·N·ε on the Gram
//! eigenvalues, numpy's σ > σ_max·N·ε on the SVD fallback).

use crate::spectra::{self, MatrixRef};
use crate::weights::WeightMatrix;

/// The largest subspace compared.
pub const MAX_K: usize = 10;

/// Per-pair values; None where the value does not exist (a zero matrix has no singular vectors).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct PairMetrics {
    /// WeightWatcher's `delta_W`: mean over the matrices of ‖W − W_base‖_F.
    pub delta_w: f64,
    /// ‖W − W_base‖_F / ‖W_base‖_F over the whole layer (None when the baseline is all zero).
    pub delta_w_rel: Option<f64>,
    /// Dimension of the compared singular subspaces.
    pub k: usize,
    /// ‖U_kᵀ U'_k‖²_F / k for the left singular vectors.
    pub overlap_left: Option<f64>,
    /// The same for the right singular vectors.
    pub overlap_right: Option<f64>,
    /// Mean |⟨u_i, u'_i⟩| over the top k left singular vectors.
    pub agreement_left: Option<f64>,
    /// The same for the right singular vectors.
    pub agreement_right: Option<f64>,
}

/// Why a pair could not be compared.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PairError {
    /// The decoded matrices differ in shape (the row shapes agreed, the decoded data does not).
    #[error("the decoded weights differ in shape: {0:?} against the baseline's {1:?}")]
    Shape([usize; 3], [usize; 3]),
    /// The eigensolver failed.
    #[error("{0}")]
    Spectrum(#[from] spectra::SpectrumError),
}

fn dims(w: &WeightMatrix) -> [usize; 3] {
    [w.slices, w.rows, w.cols]
}

/// Compare a decoded layer with the baseline's decoded layer of the same shape.
pub fn compare(w: &WeightMatrix, base: &WeightMatrix) -> Result<PairMetrics, PairError> {
    if dims(w) != dims(base) || w.data.len() != base.data.len() {
        return Err(PairError::Shape(dims(w), dims(base)));
    }
    let size = w.rows * w.cols;
    let (mut sum_d, mut total_d2, mut total_b2) = (0.0, 0.0, 0.0);
    for (a, b) in w
        .data
        .chunks(size.max(1))
        .zip(base.data.chunks(size.max(1)))
    {
        let d2: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
        sum_d += d2.sqrt();
        total_d2 += d2;
        total_b2 += b.iter().map(|y| y * y).sum::<f64>();
    }
    let slices = w.slices.max(1) as f64;
    let (ua, va) = top_vectors(w)?;
    let (ub, vb) = top_vectors(base)?;
    let m = w.rows.min(w.cols * w.slices);
    let k = [MAX_K, m.div_ceil(4), ua.k, ub.k]
        .into_iter()
        .min()
        .unwrap_or(0);
    let (ol, al) = overlap(&ua, &ub, k);
    let (or, ar) = overlap(&va, &vb, k);
    Ok(PairMetrics {
        delta_w: sum_d / slices,
        delta_w_rel: (total_b2 > 0.0).then(|| (total_d2 / total_b2).sqrt()),
        k,
        overlap_left: ol,
        overlap_right: or,
        agreement_left: al,
        agreement_right: ar,
    })
}

/// Orthonormal top singular vectors, as `k` columns of length `dim`, column-major, largest first.
struct Vectors {
    dim: usize,
    k: usize,
    data: Vec<f64>,
}

impl Vectors {
    fn col(&self, j: usize) -> &[f64] {
        &self.data[j * self.dim..(j + 1) * self.dim]
    }
}

/// The unfolded matrix A = [W_1 | W_2 | …] (rows × cols·slices, row-major).
fn unfolded(w: &WeightMatrix) -> Vec<f64> {
    let (r, c, s) = (w.rows, w.cols, w.slices);
    let mut a = vec![0.0; r * c * s];
    for p in 0..s {
        for i in 0..r {
            let src = &w.data[(p * r + i) * c..(p * r + i + 1) * c];
            a[i * c * s + p * c..i * c * s + (p + 1) * c].copy_from_slice(src);
        }
    }
    a
}

/// Top-`MAX_K` left and right singular vectors of the unfolded matrix, from the eigenvectors of
/// its smaller-side Gram matrix; the other side is A·v/σ (or Aᵀ·u/σ). Vectors whose singular
/// value is under the rank tolerance (max σ · N · ε, numpy's) are left out.
fn top_vectors(w: &WeightMatrix) -> Result<(Vectors, Vectors), PairError> {
    let a = unfolded(w);
    let (r, c) = (w.rows, w.cols * w.slices);
    let mat = MatrixRef::new(r, c, &a)?;
    let g = spectra::gram(&mat);
    let m = g.nrows();
    let mut q = faer::Mat::<f64>::zeros(m, m);
    let Ok(evals) = spectra::symmetric_eigen(g.as_ref(), Some(q.as_mut())) else {
        // Rare (seen on a ternary 1024×8210 layer, whose Gram matrix has large degenerate
        // clusters): the SVD of A itself, slower, gives the same vectors.
        return svd_vectors(&mat);
    };
    // The Gram matrix resolves eigenvalues only down to about λ_max·N·ε (σ ≈ √(Nε)·σ_max), so
    // that is the rank cut here, not numpy's σ_max·N·ε on singular values: a null direction's
    // σ ≈ 1e-8·σ_max would otherwise enter the top k, with a vector that is not one.
    let lmax = evals.last().copied().unwrap_or(0.0).max(0.0);
    let tol = lmax * r.max(c) as f64 * f64::EPSILON;
    let top: Vec<(usize, f64)> = (0..m)
        .rev()
        .filter(|&j| evals[j] > tol && evals[j] > 0.0)
        .map(|j| (j, evals[j].sqrt()))
        .take(MAX_K)
        .collect();
    let k = top.len();
    // Gram side: rows ≥ cols gives AᵀA (eigenvectors are right vectors), else AAᵀ (left).
    let gram_is_right = r >= c;
    let (gdim, odim) = if gram_is_right { (c, r) } else { (r, c) };
    let mut gv = Vec::with_capacity(k * gdim);
    let mut ov = vec![0.0; k * odim];
    for (t, (j, s)) in top.iter().enumerate() {
        gv.extend(q.col(*j).iter().copied());
        let v = q.col(*j);
        let out = &mut ov[t * odim..(t + 1) * odim];
        if gram_is_right {
            for (i, o) in out.iter_mut().enumerate() {
                let row = &a[i * c..(i + 1) * c];
                *o = row.iter().zip(v.iter()).map(|(x, y)| x * y).sum::<f64>() / s;
            }
        } else {
            for (i, vi) in v.iter().enumerate() {
                let row = &a[i * c..(i + 1) * c];
                for (o, x) in out.iter_mut().zip(row) {
                    *o += x * vi;
                }
            }
            out.iter_mut().for_each(|o| *o /= s);
        }
    }
    let gram = Vectors {
        dim: gdim,
        k,
        data: gv,
    };
    let other = Vectors {
        dim: odim,
        k,
        data: ov,
    };
    Ok(if gram_is_right {
        (other, gram)
    } else {
        (gram, other)
    })
}

/// As `top_vectors`, from the thin SVD of A.
fn svd_vectors(a: &MatrixRef<'_>) -> Result<(Vectors, Vectors), PairError> {
    let (u, s, v) = spectra::thin_svd(a)?;
    let smax = s.iter().copied().fold(0.0, f64::max);
    let tol = smax * a.rows.max(a.cols) as f64 * f64::EPSILON;
    let mut order: Vec<usize> = (0..s.len()).filter(|&j| s[j] > tol && s[j] > 0.0).collect();
    order.sort_by(|&x, &y| s[y].total_cmp(&s[x]));
    order.truncate(MAX_K);
    let cols = |m: &faer::Mat<f64>| -> Vectors {
        Vectors {
            dim: m.nrows(),
            k: order.len(),
            data: order
                .iter()
                .flat_map(|&j| m.col(j).iter().copied())
                .collect(),
        }
    };
    Ok((cols(&u), cols(&v)))
}

/// Subspace overlap ‖Xᵀ Y‖²_F / k and mean |diag(Xᵀ Y)| of the first k vectors of each.
fn overlap(x: &Vectors, y: &Vectors, k: usize) -> (Option<f64>, Option<f64>) {
    if k == 0 || x.dim != y.dim {
        return (None, None);
    }
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let (mut fro, mut diag) = (0.0, 0.0);
    for i in 0..k {
        for j in 0..k {
            let d = dot(x.col(i), y.col(j));
            fro += d * d;
            if i == j {
                diag += d.abs();
            }
        }
    }
    let k = k as f64;
    (Some((fro / k).min(1.0)), Some(diag / k))
}

#[cfg(test)]
#[path = "layer_tests.rs"]
mod tests;
