//! WeightWatcher's own power-law fitter (`pl_package: ww`, methods.md §5.2–§5.3).
//!
//! Every point but the largest is a candidate xmin; alpha is the closed-form MLE of the tail and
//! the candidate with the smallest KS distance D wins (first index on ties).

use super::numeric::{np_sum, suffix_sums};
use super::{DEGENERATE, TOO_FEW, TailFit};
use crate::options::SmallNSelect;

/// Below this many points WW 0.7.6+ switches to the small-N variant (§5.3).
const SMALL_N_CUTOFF: usize = 20;
/// Small-N: shortest tail considered (WW `k_min`).
const SMALL_N_MIN_TAIL: usize = 8;
/// Small-N: tails with Σ ln(x/xmin) at or below this are skipped as degenerate.
const SMALL_N_MIN_S: f64 = 1e-12;
/// Small-N objective J = D − 0.868/√n (WW's tail-size encouragement).
const SMALL_N_J_COEF: f64 = 0.868;
/// Candidates in the first pass of the standard scan, which bounds the minimum D.
const PREPASS_CANDIDATES: usize = 64;

/// Fit a sorted sample `x` (§5.1 already applied). `stale_sigma` is compat Q7.
pub(crate) fn fit(
    x: &[f64],
    select: SmallNSelect,
    stale_sigma: bool,
) -> Result<TailFit, &'static str> {
    if x.len() <= 1 {
        return Err(TOO_FEW);
    }
    if x.len() < SMALL_N_CUTOFF {
        fit_small_n(x, select, stale_sigma)
    } else {
        fit_standard(x)
    }
}

/// KS distance max_k |1 − (x_k/xmin)^(1−alpha) − k/n| over the tail, with the lower-step ECDF.
/// Returns as soon as the running maximum reaches `bound`: such a candidate cannot become the
/// first minimum, so its exact D is never needed.
pub(crate) fn ks_distance(tail: &[f64], alpha: f64, bound: f64) -> f64 {
    let Some(&xmin) = tail.first() else {
        return 1.0;
    };
    let n = tail.len() as f64;
    // WW writes the exponent as (-alpha + 1); the same double as 1 - alpha.
    let e = -alpha + 1.0;
    let mut d = 0.0f64;
    for (k, &v) in tail.iter().enumerate() {
        let diff = ((1.0 - (v / xmin).powf(e)) - k as f64 / n).abs();
        if diff > d {
            d = diff;
            if d >= bound {
                return d;
            }
        }
    }
    d
}

/// Standard scan, n0 ≥ 20 (§5.2). Suffix sums select the candidate; the winner's alpha is then
/// recomputed with numpy's pairwise sum, as WW computes every candidate, so reported values
/// carry WW's rounding. (Selection is insensitive to ~1e-16 differences: the smallest best-vs-
/// second D gap in the reference files is 3.9e-4.)
fn fit_standard(x: &[f64]) -> Result<TailFit, &'static str> {
    let n0 = x.len();
    let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let suffix = suffix_sums(&logs);
    let candidate = |i: usize| {
        let n = (n0 - i) as f64;
        let s = suffix[i] - n * logs[i];
        let alpha = 1.0 + n / s;
        // S ≤ 0 means the whole tail ties with x_i: invalid (D = 1), never selected.
        (s > 0.0 && alpha > 1.0).then_some(alpha)
    };
    // D usually falls candidate after candidate up to the winner, so a scan in index order
    // computes nearly every D in full: O(n0²) powers, 0.75 s at n0 = 4096. A first pass over
    // every PREPASS_STRIDE-th candidate gives an upper bound on the minimum D; in the full scan a
    // candidate stops as soon as its running maximum exceeds that bound, or reaches the best D
    // at a lower index. The winner never stops early, so the result is the same, bit for bit.
    let stride = (n0 / PREPASS_CANDIDATES).max(1);
    let mut upper = f64::INFINITY;
    for i in (0..n0 - 1).step_by(stride) {
        if let Some(alpha) = candidate(i) {
            upper = upper.min(ks_distance(&x[i..], alpha, upper));
        }
    }
    let mut best: Option<(usize, f64)> = None;
    for i in 0..n0 - 1 {
        let Some(alpha) = candidate(i) else {
            continue;
        };
        // Stop at d ≥ best (an earlier index wins ties) or at d > upper (the minimum is at
        // most `upper`; a D equal to it may still win).
        let bound = best.map_or(upper.next_up(), |(_, d)| d);
        let d = ks_distance(&x[i..], alpha, bound);
        if d < bound {
            best = Some((i, d));
        }
    }
    let (i, _) = best.ok_or(DEGENERATE)?;
    let n = (n0 - i) as f64;
    let s = np_sum(&logs[i..]) - n * logs[i];
    let alpha = 1.0 + n / s;
    if !(s > 0.0 && alpha > 1.0) {
        return Err(DEGENERATE);
    }
    Ok(TailFit {
        alpha,
        xmin: x[i],
        xmax: x[n0 - 1],
        d: ks_distance(&x[i..], alpha, f64::INFINITY),
        sigma: (alpha - 1.0) / n.sqrt(),
        noise: false,
    })
}

/// Small-N variant, n0 < 20 (§5.3), including WW's re-selection by D (Q6) and the stale
/// fallback sigma (Q7).
fn fit_small_n(
    x: &[f64],
    select: SmallNSelect,
    stale_sigma: bool,
) -> Result<TailFit, &'static str> {
    let n0 = x.len();
    let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let m = n0 - 1;
    let mut alphas = vec![0.0f64; m];
    let mut ds = vec![1.0f64; m];
    let mut js = vec![f64::INFINITY; m];
    for i in 0..m {
        let n_int = n0 - i;
        if n_int < SMALL_N_MIN_TAIL {
            continue;
        }
        let n = n_int as f64;
        let s = np_sum(&logs[i..]) - n * logs[i];
        if s <= SMALL_N_MIN_S {
            continue;
        }
        let alpha = 1.0 + (n - 1.0) / s;
        alphas[i] = alpha;
        if alpha <= 1.0 {
            continue;
        }
        ds[i] = ks_distance(&x[i..], alpha, f64::INFINITY);
        js[i] = ds[i] - SMALL_N_J_COEF / n.sqrt();
    }
    // WW computes sigma for every candidate here, before any fallback.
    let sigmas: Vec<f64> = (0..m)
        .map(|i| (alphas[i] - 1.0) / ((n0 - i) as f64).sqrt())
        .collect();
    let any_candidate = js.iter().any(|j| j.is_finite());
    let mut fallback_sigma = None;
    if !any_candidate {
        // Fallback: fit the whole sample (reachable via clip_xmax or min_evals < 8).
        let n = n0 as f64;
        let s = np_sum(&logs) - n * logs[0];
        if s <= SMALL_N_MIN_S {
            // WW ends with alpha 0, D 1 and sigma −1/√n0; natively the sample is degenerate.
            if !stale_sigma {
                return Err(DEGENERATE);
            }
            return Ok(TailFit {
                alpha: 0.0,
                xmin: x[0],
                xmax: x[n0 - 1],
                d: 1.0,
                sigma: sigmas[0],
                noise: false,
            });
        }
        let alpha = 1.0 + (n - 1.0) / s;
        alphas[0] = alpha;
        ds[0] = ks_distance(x, alpha, f64::INFINITY);
        fallback_sigma = Some((alpha - 1.0) / n.sqrt());
    }
    let i = match select {
        SmallNSelect::J if any_candidate => first_min(&js),
        _ => first_min(&ds),
    };
    let sigma = match fallback_sigma {
        Some(native) if i == 0 && !stale_sigma => native,
        _ => sigmas[i],
    };
    Ok(TailFit {
        alpha: alphas[i],
        xmin: x[i],
        xmax: x[n0 - 1],
        d: ds[i],
        sigma,
        noise: false,
    })
}

/// numpy `argmin`: first index of the minimum (NaN-free input here).
fn first_min(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &d) in v.iter().enumerate() {
        if d < v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
#[path = "powerlaw_tests.rs"]
mod tests;
