//! Eigenvector localisation (`vectors: true`, methods.md §12).
//!
//! For each matrix of the row, the eigenvectors of its smaller-side Gram matrix are scored by
//! entropy, localisation ratio and participation ratio, split into bulk (eigenvalue < xmin) and
//! tail (≥ xmin). WW uses a general complex eigensolver whose degenerate eigenvectors are
//! arbitrary, so parity for these columns is presence and range only (reference README §5).

use serde::Serialize;

use crate::spectra::{self, MatrixRef, SpectrumError};

/// Bins of the entropy histogram and the offset WW adds to each bin (§12).
const ENTROPY_BINS: usize = 100;
const BIN_OFFSET: f64 = 1e-10;

/// Mean and population variance (ddof 0) of one score over a group; None for an empty group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct MeanVar {
    pub mean: Option<f64>,
    pub var: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct GroupScores {
    pub vec_entropy: MeanVar,
    pub loc_ratio: MeanVar,
    pub part_ratio: MeanVar,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Localization {
    pub bulk: GroupScores,
    pub tail: GroupScores,
}

#[derive(Default)]
struct Scores {
    entropy: Vec<f64>,
    loc: Vec<f64>,
    part: Vec<f64>,
}

/// Scores of all eigenvectors of the row; eigenvalues are scaled by `scale_sq` before they are
/// compared with `xmin` (which comes from the scaled ESD). Without a fit everything is bulk.
pub fn localization(
    matrices: &[MatrixRef<'_>],
    scale_sq: f64,
    xmin: Option<f64>,
) -> Result<Localization, SpectrumError> {
    let (mut bulk, mut tail) = (Scores::default(), Scores::default());
    for a in matrices {
        if a.rows == 0 || a.cols == 0 {
            continue;
        }
        let g = spectra::gram(a);
        let k = g.nrows();
        let mut u = faer::Mat::<f64>::zeros(k, k);
        let evals = spectra::symmetric_eigen(g.as_ref(), Some(u.as_mut())).map_err(|_| {
            SpectrumError::NoConvergence {
                rows: a.rows,
                cols: a.cols,
            }
        })?;
        for (j, lambda) in evals.iter().enumerate() {
            let v: Vec<f64> = u.col(j).iter().copied().collect();
            let group = match xmin {
                Some(x) if lambda * scale_sq >= x => &mut tail,
                _ => &mut bulk,
            };
            group.entropy.push(vector_entropy(&v));
            group.loc.push(loc_ratio(&v));
            group.part.push(part_ratio(&v));
        }
    }
    Ok(Localization {
        bulk: bulk.summarise(),
        tail: tail.summarise(),
    })
}

impl Scores {
    fn summarise(&self) -> GroupScores {
        GroupScores {
            vec_entropy: mean_var(&self.entropy),
            loc_ratio: mean_var(&self.loc),
            part_ratio: mean_var(&self.part),
        }
    }
}

fn mean_var(x: &[f64]) -> MeanVar {
    if x.is_empty() {
        return MeanVar::default();
    }
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    MeanVar {
        mean: Some(mean),
        var: Some(var),
    }
}

/// ‖v‖₁ / ‖v‖∞ ∈ [1, n].
fn loc_ratio(v: &[f64]) -> f64 {
    let l1: f64 = v.iter().map(|x| x.abs()).sum();
    let linf = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if linf > 0.0 { l1 / linf } else { f64::NAN }
}

/// ‖v‖₂ / ‖v‖₄ ∈ [1, n^¼].
fn part_ratio(v: &[f64]) -> f64 {
    let l2 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let l4 = v.iter().map(|x| x.powi(4)).sum::<f64>().powf(0.25);
    if l4 > 0.0 { l2 / l4 } else { f64::NAN }
}

/// Entropy of the 100-bin density histogram of |v| − mean|v| (numpy `histogram(density=True)`).
fn vector_entropy(v: &[f64]) -> f64 {
    let abs: Vec<f64> = v.iter().map(|x| x.abs()).collect();
    let mean = abs.iter().sum::<f64>() / abs.len().max(1) as f64;
    let a: Vec<f64> = abs.iter().map(|x| x - mean).collect();
    let p: Vec<f64> = density_histogram(&a, ENTROPY_BINS)
        .into_iter()
        .map(|d| d + BIN_OFFSET)
        .collect();
    let total: f64 = p.iter().sum();
    -p.iter().map(|x| x / total).map(|q| q * q.ln()).sum::<f64>()
}

/// numpy's histogram with `density=True`: edges linspace(min, max, bins+1), half-open bins except
/// the last; numpy widens a zero range to [min − 0.5, max + 0.5].
pub fn density_histogram(x: &[f64], bins: usize) -> Vec<f64> {
    let mut counts = vec![0usize; bins];
    let (mut lo, mut hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    if x.is_empty() || bins == 0 {
        return vec![0.0; bins];
    }
    if lo == hi {
        lo -= 0.5;
        hi += 0.5;
    }
    let width = (hi - lo) / bins as f64;
    for &v in x {
        let k = (((v - lo) / (hi - lo)) * bins as f64) as usize;
        counts[k.min(bins - 1)] += 1;
    }
    let n = x.len() as f64;
    counts.iter().map(|&c| c as f64 / (n * width)).collect()
}

#[cfg(test)]
#[path = "vectors_tests.rs"]
mod tests;
