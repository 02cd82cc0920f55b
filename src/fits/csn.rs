//! Clauset–Shalizi–Newman fit with `powerlaw` 1.5 semantics (`pl_package: powerlaw`, §6.1).
//!
//! Candidates are the unique sample values except the largest (or a sub-range, §6.2). Without
//! xmax alpha is the closed-form MLE; with xmax it minimises the *untruncated* negative
//! log-likelihood by Nelder–Mead (as `powerlaw` 1.5 does), while D uses the truncated CDF.

use super::neldermead;
use super::numeric::{np_sum, seq_sum};
use super::{TOO_FEW, TailFit};

/// `10**sys.float_info.min_10_exp`: `powerlaw`'s stand-in for a zero likelihood or CDF.
const TINY: f64 = 1e-307;
/// `scipy.optimize.fmin` defaults used by `powerlaw`.
const NM_TOL: f64 = 1e-4;

/// The sample as `powerlaw.Fit` holds it: sorted data and its lower-step ECDF on unique values.
pub(crate) struct Sample<'a> {
    pub data: &'a [f64],
    /// (value, #{x < value}) for each unique value, ascending.
    pub unique: Vec<(f64, usize)>,
}

impl<'a> Sample<'a> {
    pub(crate) fn new(data: &'a [f64]) -> Sample<'a> {
        let mut unique: Vec<(f64, usize)> = Vec::new();
        for (i, &v) in data.iter().enumerate() {
            if unique.last().is_none_or(|&(u, _)| u != v) {
                unique.push((v, i));
            }
        }
        Sample { data, unique }
    }
}

/// One candidate's fit.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    alpha: f64,
    d: f64,
    n: usize,
    valid: bool,
}

/// Fit the sorted sample `x`. `xmax`: forced truncation point; `range`: xmin_peak's candidate
/// interval (inclusive), or all values.
pub(crate) fn fit(
    x: &[f64],
    xmax: Option<f64>,
    range: Option<(f64, f64)>,
) -> Result<TailFit, &'static str> {
    let data: &[f64] = match xmax {
        Some(m) => &x[..x.partition_point(|&v| v <= m)],
        None => x,
    };
    let sample = Sample::new(data);
    let candidates = candidate_indices(&sample, range)?;
    let fits: Vec<(usize, Candidate)> = candidates
        .iter()
        .map(|&j| (j, fit_candidate(&sample, j, xmax)))
        .collect();
    // First argmin of D among valid fits; if none is valid, argmin over all and flag noise.
    let any_valid = fits.iter().any(|(_, c)| c.valid);
    let mut best: Option<(usize, Candidate)> = None;
    for &(j, c) in &fits {
        if any_valid && !c.valid {
            continue;
        }
        if best.is_none_or(|(_, b)| c.d < b.d) {
            best = Some((j, c));
        }
    }
    let (j, c) = best.ok_or(TOO_FEW)?;
    Ok(TailFit {
        alpha: c.alpha,
        xmin: sample.unique[j].0,
        xmax: data.last().copied().unwrap_or(f64::NAN),
        d: c.d,
        sigma: (c.alpha - 1.0) / (c.n as f64).sqrt(),
        noise: !any_valid,
    })
}

/// Indices into `sample.unique` of the xmin candidates: the unique values inside `range`
/// (inclusive), without the largest of them ("don't look at last xmin, as that's also the
/// xmax"). Fails when none is left.
pub(crate) fn candidate_indices(
    sample: &Sample,
    range: Option<(f64, f64)>,
) -> Result<Vec<usize>, &'static str> {
    let mut candidates: Vec<usize> = (0..sample.unique.len())
        .filter(|&j| {
            range.is_none_or(|(lo, hi)| {
                let v = sample.unique[j].0;
                lo <= v && v <= hi
            })
        })
        .collect();
    candidates.pop();
    if candidates.is_empty() {
        return Err(TOO_FEW);
    }
    Ok(candidates)
}

fn fit_candidate(sample: &Sample, j: usize, xmax: Option<f64>) -> Candidate {
    let (xmin, below) = sample.unique[j];
    let tail = &sample.data[below..];
    let n = tail.len();
    let logs: Vec<f64> = tail.iter().map(|&v| (v / xmin).ln()).collect();
    let closed = 1.0 + n as f64 / np_sum(&logs);
    let alpha = match xmax {
        None => closed,
        Some(_) => {
            let nll = |a: f64| neg_log_likelihood(tail, xmin, a);
            neldermead::minimize(nll, closed, NM_TOL, NM_TOL).x
        }
    };
    let valid = alpha > 1.0;
    Candidate {
        alpha,
        d: ks_distance(sample, j, alpha, valid, xmax),
        n,
        valid,
    }
}

/// −Σ ln p(t) with the untruncated density p(x) = (alpha−1)·xmin^(alpha−1)·x^(−alpha); for
/// alpha ≤ 1 (out of range) and for underflowed densities `powerlaw` substitutes 1e-307.
fn neg_log_likelihood(tail: &[f64], xmin: f64, alpha: f64) -> f64 {
    if alpha <= 1.0 || alpha.is_nan() {
        return -seq_sum(tail.iter().map(|_| TINY.ln()));
    }
    let c = (alpha - 1.0) * xmin.powf(alpha - 1.0);
    -seq_sum(tail.iter().map(|&v| {
        let p = v.powf(-alpha) * c;
        if p == 0.0 { TINY.ln() } else { p.ln() }
    }))
}

/// `Distribution.KS` with a parent Fit: the ECDF of the whole sample renormalised above xmin,
/// against the (truncated, with xmax) theoretical CDF at each unique tail value.
fn ks_distance(sample: &Sample, j: usize, alpha: f64, valid: bool, xmax: Option<f64>) -> f64 {
    let (xmin, _) = sample.unique[j];
    let big_n = sample.data.len() as f64;
    let dropped = sample.unique[j].1 as f64 / big_n;
    // `powerlaw` subtracts _cdf_xmin = 1 − (xmin/xmin)^(1−alpha), which is exactly 0.
    let e = -alpha + 1.0;
    let cdf_xmin = 0.0;
    let mut norm = 1.0 - cdf_xmin;
    if let Some(m) = xmax {
        norm -= 1.0 - (1.0 - (m / xmin).powf(e));
    }
    let (mut hi, mut lo) = (f64::NEG_INFINITY, f64::INFINITY);
    for &(v, below) in &sample.unique[j..] {
        let actual = (below as f64 / big_n - dropped) / (1.0 - dropped);
        let theoretical = if valid {
            ((1.0 - (v / xmin).powf(e)) - cdf_xmin) / norm
        } else {
            TINY
        };
        let diff = theoretical - actual;
        hi = hi.max(diff);
        lo = lo.min(diff);
    }
    hi.max(-lo)
}

#[cfg(test)]
#[path = "csn_tests.rs"]
mod tests;
