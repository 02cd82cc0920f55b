//! Truncated power law p(x) ∝ x^(−alpha)·e^(−Λx) on [xmin, ∞) with `powerlaw` 1.5 semantics
//! (`fit: TPL` / `E_TPL`, methods.md §6.3), as WeightWatcher 0.7.7 calls it with
//! `xmin_distribution = distribution = 'truncated_power_law'`.
//!
//! For every xmin candidate (the CSN candidates of §6.1, or the xmin_peak range for E_TPL):
//! - the tail t = {x ≥ xmin} (≤ xmax when forced) is fitted by maximum likelihood with the
//!   density Λ^(1−alpha) / Γ(1−alpha, Λ·xmin) · x^(−alpha) e^(−Λx), minimised by scipy's 2-D
//!   Nelder–Mead from alpha₀ = 1 + n/Σ ln(t/xmin), Λ₀ = 1/mean(t), tolerances 1e-4;
//! - parameters outside alpha > 1, Λ > 0 give every point the likelihood 1e-307;
//! - D is the KS distance between the sample's lower-step ECDF above xmin and the model CDF
//!   1 − Γ(1−alpha, Λx)/Λ^(1−alpha), renormalised at xmin (and at a forced xmax);
//! - the candidate with the smallest D among valid fits (alpha > 1, Λ > 0) wins; if none is
//!   valid, the smallest D overall with the noise flag.
//!
//! The fitted alpha and Λ are those of the winning candidate; `powerlaw` refits the same tail
//! from the same start, which gives the same numbers. There is no sigma (WW writes it empty).
//!
//! Differences from `powerlaw` (bit parity is not required, §6.3): the log-likelihood of the
//! tail is evaluated in closed form, α·Σln t + Λ·Σt − n·ln C, whenever no single likelihood
//! under- or overflows (otherwise point by point with the 1e-307 floor, as `powerlaw` does);
//! Γ comes from `gamma` (a few ulps) rather than mpmath; and a candidate whose D is NaN is
//! skipped instead of winning numpy's argmin.

use rayon::prelude::*;

use super::csn::{Sample, candidate_indices};
use super::gamma::{UpperGamma, upper_gamma};
use super::neldermead;
use super::numeric::{np_sum, seq_sum, suffix_sums};
use super::{DEGENERATE, TOO_FEW};

/// `10**sys.float_info.min_10_exp`: `powerlaw`'s stand-in for a zero likelihood or CDF.
const TINY: f64 = 1e-307;
/// `scipy.optimize.fmin` defaults used by `powerlaw`'s `Distribution.fit`.
const NM_TOL: f64 = 1e-4;

/// A fitted truncated power-law tail.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct TplTail {
    pub alpha: f64,
    pub lambda: f64,
    pub xmin: f64,
    /// Largest value of the fitted sample.
    pub xmax: f64,
    pub d: f64,
    /// No candidate had valid parameters.
    pub noise: bool,
}

/// One candidate's fit.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    alpha: f64,
    lambda: f64,
    d: f64,
    valid: bool,
}

/// Fit the sorted sample `x`. `xmax`: forced truncation point; `range`: E_TPL's candidate
/// interval (inclusive), or all values.
pub(crate) fn fit(
    x: &[f64],
    xmax: Option<f64>,
    range: Option<(f64, f64)>,
) -> Result<TplTail, &'static str> {
    let data: &[f64] = match xmax {
        Some(m) => &x[..x.partition_point(|&v| v <= m)],
        None => x,
    };
    if data.iter().any(|&v| !(v > 0.0 && v.is_finite())) {
        // `powerlaw` drops non-positive values; the fit sample is already above a threshold ≥ 0.
        return Err(DEGENERATE);
    }
    let sample = Sample::new(data);
    let candidates = candidate_indices(&sample, range)?;
    let sums = TailSums::new(data);
    let mut best: Option<(usize, Candidate)> = None;
    // Candidates are independent (O(n) Γ evaluations each); collecting in order keeps the
    // selection independent of the thread count.
    let fits: Vec<(usize, Candidate)> = candidates
        .par_iter()
        .map(|&j| (j, fit_candidate(&sample, &sums, j, xmax)))
        .collect();
    let any_valid = fits.iter().any(|(_, c)| c.valid);
    for &(j, c) in &fits {
        if (any_valid && !c.valid) || c.d.is_nan() {
            continue;
        }
        if best.is_none_or(|(_, b)| c.d < b.d) {
            best = Some((j, c));
        }
    }
    let (j, c) = best.ok_or(if fits.is_empty() { TOO_FEW } else { DEGENERATE })?;
    Ok(TplTail {
        alpha: c.alpha,
        lambda: c.lambda,
        xmin: sample.unique.get(j).map_or(f64::NAN, |u| u.0),
        xmax: data.last().copied().unwrap_or(f64::NAN),
        d: c.d,
        noise: !any_valid,
    })
}

/// Suffix sums of ln x and x, so that any tail's closed-form log-likelihood costs O(1).
struct TailSums {
    ln: Vec<f64>,
    lin: Vec<f64>,
}

impl TailSums {
    fn new(data: &[f64]) -> TailSums {
        let logs: Vec<f64> = data.iter().map(|v| v.ln()).collect();
        TailSums {
            ln: suffix_sums(&logs),
            lin: suffix_sums(data),
        }
    }
}

fn fit_candidate(sample: &Sample, sums: &TailSums, j: usize, xmax: Option<f64>) -> Candidate {
    let (xmin, below) = sample.unique.get(j).copied().unwrap_or((f64::NAN, 0));
    let tail = sample.data.get(below..).unwrap_or_default();
    let n = tail.len() as f64;
    // `Truncated_Power_Law._initial_parameters`: the CSN alpha and 1/mean, with numpy sums.
    let logs: Vec<f64> = tail.iter().map(|&v| (v / xmin).ln()).collect();
    let alpha0 = 1.0 + n / np_sum(&logs);
    let lambda0 = 1.0 / (np_sum(tail) / n);
    let model = TailLikelihood {
        tail,
        xmin,
        sum_ln: sums.ln.get(below).copied().unwrap_or(0.0),
        sum_x: sums.lin.get(below).copied().unwrap_or(0.0),
        out_of_range: -seq_sum(tail.iter().map(|_| TINY.ln())),
    };
    let r = neldermead::minimize_nd(
        |p| model.nll(p[0], p[1]),
        &[alpha0, lambda0],
        NM_TOL,
        NM_TOL,
    );
    let (alpha, lambda) = match r.x.as_slice() {
        [a, l] => (*a, *l),
        _ => (f64::NAN, f64::NAN),
    };
    let valid = in_range(alpha, lambda);
    Candidate {
        alpha,
        lambda,
        d: ks_distance(sample, j, alpha, lambda, valid, xmax),
        valid,
    }
}

/// `Truncated_Power_Law._in_standard_parameter_range` (false for NaN).
fn in_range(alpha: f64, lambda: f64) -> bool {
    lambda > 0.0 && alpha > 1.0
}

/// The negative log-likelihood `powerlaw` minimises for one tail.
struct TailLikelihood<'a> {
    tail: &'a [f64],
    xmin: f64,
    sum_ln: f64,
    sum_x: f64,
    /// −Σ ln 1e-307: every point gets the floor likelihood outside the parameter range.
    out_of_range: f64,
}

impl TailLikelihood<'_> {
    fn nll(&self, alpha: f64, lambda: f64) -> f64 {
        if !in_range(alpha, lambda) {
            return self.out_of_range;
        }
        // `_pdf_continuous_normalizer`: Λ^(1−alpha) / Γ(1−alpha, Λ·xmin), as doubles.
        let s = 1.0 - alpha;
        let c = lambda.powf(s) / upper_gamma(s, lambda * self.xmin);
        // `x**(-alpha) * exp(-Lambda*x)`, then times C: the factors and both products.
        let point = |v: f64| {
            let p = v.powf(-alpha);
            let e = (-lambda * v).exp();
            (p, e, p * e, p * e * c)
        };
        let (Some(&first), Some(&last)) = (self.tail.first(), self.tail.last()) else {
            return 0.0;
        };
        // Each factor is monotone in x, so the two ends bound every point's value.
        let (p0, e0, f0, l0) = point(first);
        let (p1, e1, f1, l1) = point(last);
        let ends_ok = [c, p0, e0, f0, l0, p1, e1, f1, l1]
            .iter()
            .all(|v| v.is_normal());
        if ends_ok {
            let n = self.tail.len() as f64;
            return alpha * self.sum_ln + lambda * self.sum_x - n * c.ln();
        }
        -seq_sum(self.tail.iter().map(|&v| {
            let lik = point(v).3;
            if lik == 0.0 { TINY.ln() } else { lik.ln() }
        }))
    }
}

/// `Distribution.KS` with a parent Fit: the whole sample's lower-step ECDF renormalised above
/// xmin against `Distribution.cdf` at each unique tail value.
fn ks_distance(
    sample: &Sample,
    j: usize,
    alpha: f64,
    lambda: f64,
    valid: bool,
    xmax: Option<f64>,
) -> f64 {
    let Some(&(xmin, below_xmin)) = sample.unique.get(j) else {
        return f64::NAN;
    };
    let big_n = sample.data.len() as f64;
    let dropped = below_xmin as f64 / big_n;
    let cdf = ModelCdf::new(alpha, lambda, xmin, valid, xmax);
    let (mut hi, mut lo) = (f64::NEG_INFINITY, f64::INFINITY);
    for &(v, below) in sample.unique.get(j..).unwrap_or_default() {
        let actual = (below as f64 / big_n - dropped) / (1.0 - dropped);
        let diff = cdf.at(v) - actual;
        if diff.is_nan() {
            return f64::NAN;
        }
        hi = hi.max(diff);
        lo = lo.min(diff);
    }
    hi.max(-lo)
}

/// The theoretical CDF of `Distribution.cdf` for a truncated power law, in its three regimes.
enum ModelCdf {
    /// Out of the parameter range: every value is 1e-307.
    Floor,
    /// `_cdf_xmin == 1`: no precision left in the tail; every value is 1.
    Saturated,
    /// (base(x) − base(xmin)) / norm with base(x) = 1 − Γ(s, Λx)/Λ^s.
    Regular {
        gamma: UpperGamma,
        lambda: f64,
        lambda_s: f64,
        cdf_xmin: f64,
        norm: f64,
    },
}

impl ModelCdf {
    fn new(alpha: f64, lambda: f64, xmin: f64, valid: bool, xmax: Option<f64>) -> ModelCdf {
        if !valid {
            return ModelCdf::Floor;
        }
        let s = 1.0 - alpha;
        let gamma = UpperGamma::new(s);
        let lambda_s = lambda.powf(s);
        let base = |x: f64| 1.0 - gamma.at(lambda * x) / lambda_s;
        let cdf_xmin = base(xmin);
        if cdf_xmin == 1.0 {
            return ModelCdf::Saturated;
        }
        let mut norm = 1.0 - cdf_xmin;
        if let Some(m) = xmax {
            norm -= 1.0 - base(m);
        }
        ModelCdf::Regular {
            gamma,
            lambda,
            lambda_s,
            cdf_xmin,
            norm,
        }
    }

    fn at(&self, x: f64) -> f64 {
        match *self {
            ModelCdf::Floor => TINY,
            ModelCdf::Saturated => 1.0,
            ModelCdf::Regular {
                gamma,
                lambda,
                lambda_s,
                cdf_xmin,
                norm,
            } => ((1.0 - gamma.at(lambda * x) / lambda_s) - cdf_xmin) / norm,
        }
    }
}

#[cfg(test)]
#[path = "tpl_tests.rs"]
mod tests;
