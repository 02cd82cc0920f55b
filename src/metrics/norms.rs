//! Norm and rank metrics of one row's ESD (methods.md §4.1, §8).
//!
//! Everything here is computed from all eigenvalues of the row (after conv scaling), near-zero
//! ones included: the 1e-5 threshold applies to the power-law fit only (quirk Q12, kept as WW).

use serde::Serialize;

use crate::options::{AnalysisOptions, NormConvention, Quirk};
use crate::spectra::Spectrum;

/// f64 machine epsilon, as numpy's `np.finfo(float).eps` used by WW's rank tolerances.
const EPS: f64 = f64::EPSILON;

/// WW adds this to every probability before the entropy (methods.md §8); it is not renormalised.
const ENTROPY_OFFSET: f64 = 1e-10;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SpectrumMetrics {
    pub num_evals: usize,
    pub lambda_max: f64,
    pub sv_max: f64,
    pub sv_min: f64,
    pub rank_loss: usize,
    pub weak_rank_loss: usize,
    pub norm: f64,
    pub log_norm: Option<f64>,
    pub spectral_norm: f64,
    pub log_spectral_norm: Option<f64>,
    pub stable_rank: Option<f64>,
    pub matrix_rank: usize,
    pub entropy: Option<f64>,
}

/// The alpha-dependent norms (§8): α̂ = alpha·log10 λ_max and log10 Σ λ^alpha.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct AlphaMetrics {
    pub alpha_weighted: Option<f64>,
    pub log_alpha_norm: Option<f64>,
}

/// log10 that reports a non-positive argument as missing instead of −∞/NaN.
pub fn log10_pos(x: f64) -> Option<f64> {
    (x > 0.0 && x.is_finite()).then(|| x.log10())
}

/// Metrics of a row's spectrum; `n_reported` is the row's reported N (rank tolerances use it).
pub fn spectrum_metrics(
    spec: &Spectrum,
    n_reported: usize,
    opts: &AnalysisOptions,
) -> SpectrumMetrics {
    let evals = &spec.evals;
    let lambda_max = evals.last().copied().unwrap_or(0.0);
    let sum: f64 = evals.iter().sum();
    let norm = match opts.norm_convention {
        NormConvention::Squared => sum,
        NormConvention::Frobenius => sum.sqrt(),
    };
    let matrix_rank = matrix_rank(evals, n_reported, spec.from_gram);
    SpectrumMetrics {
        num_evals: evals.len(),
        lambda_max,
        sv_max: sv_max(spec),
        sv_min: sv_min(spec, opts.quirk(Quirk::SvMin)),
        rank_loss: rank_loss(spec, n_reported),
        weak_rank_loss: evals.iter().filter(|&&l| l < opts.tolerance).count(),
        norm,
        log_norm: log10_pos(norm),
        spectral_norm: lambda_max,
        log_spectral_norm: log10_pos(lambda_max),
        stable_rank: (lambda_max > 0.0).then(|| sum / lambda_max),
        matrix_rank,
        entropy: entropy(evals, matrix_rank, opts.quirk(Quirk::EntropyRank1)),
    }
}

/// α̂ and the α-norm for a fitted alpha (also used with alpha = −1 under compat Q3).
pub fn alpha_metrics(evals: &[f64], alpha: Option<f64>) -> AlphaMetrics {
    let Some(alpha) = alpha.filter(|a| a.is_finite()) else {
        return AlphaMetrics::default();
    };
    let lambda_max = evals.last().copied().unwrap_or(0.0);
    // Σ λ^alpha over all eigenvalues; 0^alpha is 0 for alpha > 0 and +∞ for alpha < 0 (as numpy).
    let alpha_norm: f64 = evals.iter().map(|l| l.powf(alpha)).sum();
    AlphaMetrics {
        alpha_weighted: log10_pos(lambda_max).map(|l| alpha * l),
        log_alpha_norm: if alpha_norm.is_finite() {
            log10_pos(alpha_norm)
        } else {
            None
        },
    }
}

fn sv_max(spec: &Spectrum) -> f64 {
    spec.singular_values
        .iter()
        .filter_map(|s| s.last().copied())
        .fold(0.0, f64::max)
}

/// Native: the smallest singular value of the row. WW (Q2): the max over matrices of each min.
fn sv_min(spec: &Spectrum, ww_quirk: bool) -> f64 {
    let mins = spec
        .singular_values
        .iter()
        .filter_map(|s| s.first().copied());
    if ww_quirk {
        mins.fold(0.0, f64::max)
    } else {
        mins.reduce(f64::min).unwrap_or(0.0)
    }
}

/// The singular value below which σ counts as zero: numpy's matrix_rank rule σ_max·N·ε for exact
/// singular values. Gram eigenvalues carry an absolute error of about N·ε·λ_max, so a zero
/// singular value comes out near σ_max·√(N·ε); that is the resolution of the Gram path, and
/// `eigensolver: svd` gives the exact rule for matrices with tiny but non-zero σ.
fn rank_tol(sigma_max: f64, n_reported: usize, from_gram: bool) -> f64 {
    let n = n_reported.max(1) as f64;
    if from_gram {
        sigma_max * (n * EPS).sqrt()
    } else {
        sigma_max * n * EPS
    }
}

/// Σ over matrices of the singular values at or below the rank tolerance of that matrix.
fn rank_loss(spec: &Spectrum, n_reported: usize) -> usize {
    spec.singular_values
        .iter()
        .map(|sv| {
            let tol = rank_tol(
                sv.last().copied().unwrap_or(0.0),
                n_reported,
                spec.from_gram,
            );
            sv.iter().filter(|&&s| s <= tol).count()
        })
        .sum()
}

/// #{√λ > tolerance} over the pooled eigenvalues.
fn matrix_rank(evals: &[f64], n_reported: usize, from_gram: bool) -> usize {
    let smax = evals.last().copied().unwrap_or(0.0).max(0.0).sqrt();
    let tol = rank_tol(smax, n_reported, from_gram);
    evals.iter().filter(|&&l| l.max(0.0).sqrt() > tol).count()
}

/// Normalised spectral entropy (§8). For rank ≤ 1 WW divides by ln(1 + 1e-10) ≈ 1e-10; native
/// reports nothing there.
fn entropy(evals: &[f64], rank: usize, ww_rank1: bool) -> Option<f64> {
    let sum: f64 = evals.iter().sum();
    if sum <= 0.0 || !sum.is_finite() || (rank <= 1 && !ww_rank1) {
        return None;
    }
    let h: f64 = evals
        .iter()
        .map(|l| {
            let p = l / sum + ENTROPY_OFFSET;
            -p * p.ln()
        })
        .sum();
    Some(h / (rank as f64 + ENTROPY_OFFSET).ln())
}

#[cfg(test)]
#[path = "norms_tests.rs"]
mod tests;
