//! Marchenko–Pastur bulk fit (`mp_fit: true`, methods.md §7).
//!
//! The ESD is rescaled to mean 1, a triangular KDE of it is compared with the MP density (or the
//! quarter-circle law on singular values when Q = 1) on a coarse grid of σ, and the best grid
//! point is polished with scipy's Nelder–Mead. Expressions follow WeightWatcher's `RMT_Util`.

use serde::Serialize;
use std::f64::consts::PI;

use super::FitStatus;
use super::neldermead;
use super::numeric::np_sum;

/// KDE bandwidth (WW `bw`).
const BANDWIDTH: f64 = 0.1;
/// Grid points of the KDE evaluation (numpy linspace(0, max + 0.5, 1000)).
const KDE_POINTS: usize = 1000;
/// KDE points with density at or below this are ignored (WW `THRESH`).
const KDE_THRESH: f64 = 0.01;
/// Residual assigned to each kept point when the MP support is implausible.
const PENALTY: f64 = 1000.0;
/// Nelder–Mead tolerances: scipy `fmin` defaults, as `optimize.brute` finishes with them.
const NM_TOL: f64 = 1e-4;

/// Result of the MP fit of one row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MpFit {
    /// Whether the grid search and polish found a plausible bulk (docs/methods.md §7.6).
    pub status: FitStatus,
    /// The fitted σ of the MP law, in the rescaled (mean-1) units of §7.2 (`sigma_mp`).
    pub sigma_mp: Option<f64>,
    /// The lower bulk edge λ₋ = σ²(1 − 1/√Q)² of the rescaled ESD, in original units (`bulk_min`).
    pub bulk_min: Option<f64>,
    /// The upper bulk edge λ₊ = σ²(1 + 1/√Q)² of the rescaled ESD, in original units (`bulk_max`).
    pub bulk_max: Option<f64>,
    /// Eigenvalues above the upper edge plus the Tracy–Widom margin (`num_spikes`).
    pub num_spikes: Option<usize>,
    /// λ₊ / λ_max, WeightWatcher's MP soft rank (`mp_softrank`).
    pub mp_softrank: Option<f64>,
    /// The rescaling factor of §7.2, √n / √Σλ: eigenvalues times W_scale² have mean 1 (`W_scale`).
    pub w_scale: Option<f64>,
}

impl MpFit {
    fn failed() -> MpFit {
        MpFit {
            status: FitStatus::Failed,
            sigma_mp: None,
            bulk_min: None,
            bulk_max: None,
            num_spikes: None,
            mp_softrank: None,
            w_scale: None,
        }
    }
}

/// §7 with the row's reported N and M (Q = N/M; Q == 1 by exact f64 equality).
pub fn fit_mp(evals: &[f64], n: usize, m: usize) -> MpFit {
    fit_mp_inner(evals, n, m).unwrap_or_else(MpFit::failed)
}

fn fit_mp_inner(evals: &[f64], n: usize, m: usize) -> Option<MpFit> {
    if evals.is_empty() || m == 0 || n == 0 || evals.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return None;
    }
    let q = n as f64 / m as f64;
    // rescale_eigenvalues: W_scale = √len / √Σλ; x = W_scale²·λ.
    let w_scale = (evals.len() as f64).sqrt() / np_sum(evals).sqrt();
    if !w_scale.is_finite() {
        return None;
    }
    let x: Vec<f64> = evals.iter().map(|&v| (w_scale * w_scale) * v).collect();
    let x_max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let quarter_circle = q == 1.0;
    let mut y: Vec<f64> = if quarter_circle {
        x.iter().map(|v| v.sqrt()).collect()
    } else {
        x.clone()
    };
    y.sort_by(f64::total_cmp);
    let kde = Kde::new(&y)?;
    let objective = |sigma: f64| kde.residual(sigma, q, quarter_circle);

    let s = calc_sigma(q, x_max);
    let sigma0 = brute_grid(s, &objective)?;
    let sigma = neldermead::minimize(objective, sigma0, NM_TOL, NM_TOL).x;

    let inv_sq = 1.0 / q.sqrt();
    let bulk_max = square(sigma * (1.0 + inv_sq));
    let bulk_min = square(sigma * (1.0 - inv_sq));
    let tw = 1.0 / q.sqrt() * bulk_max.powf(2.0 / 3.0) * (m as f64).powf(-2.0 / 3.0);
    let edge = bulk_max + tw.sqrt();
    Some(MpFit {
        status: FitStatus::Success,
        sigma_mp: Some(sigma),
        bulk_min: Some(bulk_min / (w_scale * w_scale)),
        bulk_max: Some(bulk_max / (w_scale * w_scale)),
        num_spikes: Some(x.iter().filter(|&&v| v > edge).count()),
        mp_softrank: Some(bulk_max / x_max),
        w_scale: Some(w_scale),
    })
}

fn square(v: f64) -> f64 {
    v * v
}

/// WW `calc_sigma`: the σ that puts the MP edge at max(x).
fn calc_sigma(q: f64, x_max: f64) -> f64 {
    let inv_sq = 1.0 / q.sqrt();
    (x_max / square(1.0 + inv_sq)).sqrt()
}

/// `optimize.brute` over `np.arange(0.05 s, 2 s, 0.01 s)`: the first grid point with the
/// smallest residual.
fn brute_grid(s: f64, objective: &impl Fn(f64) -> f64) -> Option<f64> {
    let (start, stop, step) = (0.05 * s, 2.0 * s, 0.01 * s);
    let len = ((stop - start) / step).ceil();
    if !(len.is_finite() && len >= 1.0) {
        return None;
    }
    let len = len as usize;
    // numpy arange fill: a[1] = start + step, a[i] = start + i·((start + step) − start).
    let delta = (start + step) - start;
    let mut best: Option<(f64, f64)> = None;
    for k in 0..len {
        let sigma = match k {
            0 => start,
            1 => start + step,
            _ => start + k as f64 * delta,
        };
        let r = objective(sigma);
        let better = match best {
            None => true,
            Some((_, br)) => r < br,
        };
        if better {
            best = Some((sigma, r));
        }
    }
    best.map(|(sigma, _)| sigma)
}

/// The KDE of the fitted data on WW's grid, restricted to the points above the threshold.
struct Kde {
    /// Kept grid points and their densities, in grid order.
    t: Vec<f64>,
    f: Vec<f64>,
    /// Grid points with density < threshold: they add zero residuals after the kept ones.
    n_low: usize,
    /// First kept point of maximal density, and the largest kept point.
    t_peak: f64,
    t_last: f64,
}

impl Kde {
    fn new(y: &[f64]) -> Option<Kde> {
        let y_max = *y.last()?;
        let stop = y_max + 0.5;
        let step = stop / (KDE_POINTS - 1) as f64;
        let density = triangular_kde(y, stop, step);
        let mut kde = Kde {
            t: Vec::new(),
            f: Vec::new(),
            n_low: 0,
            t_peak: 0.0,
            t_last: 0.0,
        };
        for (k, &fk) in density.iter().enumerate() {
            let t = if k == KDE_POINTS - 1 {
                stop
            } else {
                k as f64 * step
            };
            if fk > KDE_THRESH {
                kde.t.push(t);
                kde.f.push(fk);
            } else if fk < KDE_THRESH {
                kde.n_low += 1;
            }
        }
        let mut peak = 0;
        for (i, &fk) in kde.f.iter().enumerate() {
            if fk > kde.f[peak] {
                peak = i;
            }
        }
        kde.t_peak = *kde.t.get(peak)?;
        kde.t_last = kde.t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(kde)
    }

    /// WW `resid_mp(..., allresid=False)`: Σ (model − kde)² over kept points, zeros appended.
    fn residual(&self, sigma: f64, q: f64, quarter_circle: bool) -> f64 {
        let mut r: Vec<f64> = Vec::with_capacity(self.t.len() + self.n_low);
        if quarter_circle {
            let c = 1.0 / (PI * sigma * sigma);
            for (&t, &f) in self.t.iter().zip(&self.f) {
                r.push(square(nan_to_num(c * (4.0 - t * t).sqrt()) - f));
            }
        } else {
            let (a, b) = mp_edges(sigma, q);
            if b < self.t_peak || b > self.t_last || a > self.t_peak {
                r.resize(self.t.len(), square(PENALTY));
            } else {
                for (&t, &f) in self.t.iter().zip(&self.f) {
                    let g = mp_density(t, sigma, q);
                    r.push(square(nan_to_num(g) - f));
                }
            }
        }
        r.resize(self.t.len() + self.n_low, 0.0);
        np_sum(&r)
    }
}

/// The Marchenko–Pastur bulk edges (a, b) = (σ²(1 − 1/√Q)², σ²(1 + 1/√Q)²) for element variance
/// σ² and aspect ratio Q = N/M ≥ 1 (methods.md §7.3).
pub fn mp_edges(sigma: f64, q: f64) -> (f64, f64) {
    let b = square(sigma * (1.0 + (1.0 / q).sqrt()));
    let a = square(sigma * (1.0 - (1.0 / q).sqrt()));
    (a, b)
}

/// The Marchenko–Pastur density of the eigenvalues of WᵀW/N for an N×M matrix W of i.i.d.
/// entries of variance σ², Q = N/M ≥ 1 (Marchenko & Pastur 1967; WeightWatcher
/// `RMT_Util.marchenko_pastur_pdf`, methods.md §7.3):
///
/// g(λ) = Q/(2π σ² λ)·√((b − λ)(λ − a)) on the support a < λ < b of `mp_edges`, else 0.
///
/// Evaluated in WeightWatcher's order of operations, which the fit's parity depends on.
pub fn mp_density(lambda: f64, sigma: f64, q: f64) -> f64 {
    let (a, b) = mp_edges(sigma, q);
    let inside = (b - lambda) * (lambda - a);
    if inside > 0.0 && lambda > 0.0 {
        let y = 1.0 / q;
        (1.0 / (2.0 * PI * sigma * sigma * lambda * y)) * inside.sqrt()
    } else {
        0.0
    }
}

/// numpy `nan_to_num`: NaN → 0, ±∞ → ±max.
fn nan_to_num(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else if v.is_infinite() {
        f64::MAX.copysign(v)
    } else {
        v
    }
}

/// f(t_k) = (1/(n·h)) Σ_j max(0, 1 − |t_k − y_j|/h) on t_k = k·step (sorted y). Each y_j only
/// reaches the grid points within ±h, at most 2h/step ≤ 400 of them (step ≥ 0.5/999), so a
/// sliding window is O(n + 1000) up to that constant and sums only the contributing terms.
fn triangular_kde(y: &[f64], stop: f64, step: f64) -> Vec<f64> {
    let n = y.len() as f64;
    let mut out = vec![0.0; KDE_POINTS];
    let mut lo = 0;
    for (k, o) in out.iter_mut().enumerate() {
        let t = if k == KDE_POINTS - 1 {
            stop
        } else {
            k as f64 * step
        };
        while lo < y.len() && y[lo] <= t - BANDWIDTH {
            lo += 1;
        }
        let mut s = 0.0;
        for &v in &y[lo..] {
            if v >= t + BANDWIDTH {
                break;
            }
            s += (1.0 - (t - v).abs() / BANDWIDTH).max(0.0);
        }
        *o = s / (n * BANDWIDTH);
    }
    out
}

#[cfg(test)]
#[path = "mp_tests.rs"]
mod tests;
