//! Nelder–Mead, exactly scipy's `fmin` with its defaults (methods.md §7.5).
//!
//! `minimize` (one parameter) is shared by the Marchenko–Pastur polish (§7.5) and the
//! forced-xmax CSN fit (§6.1); `minimize_nd` (any number of parameters) by the truncated power
//! law (§6.3). Every arithmetic expression mirrors scipy's so that the visited points are the same
//! doubles.

/// Outcome of a minimisation: the best vertex, its value and the work done.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NmResult {
    pub x: f64,
    pub fx: f64,
    pub evals: usize,
    pub iters: usize,
}

/// scipy `fmin` defaults for one parameter: maxiter = maxfun = 200·N.
const MAX_ITER: usize = 200;
const MAX_FUN: usize = 200;

/// Minimise `f` from `x0` with scipy's absolute tolerances `xatol`, `fatol`.
pub fn minimize(mut f: impl FnMut(f64) -> f64, x0: f64, xatol: f64, fatol: f64) -> NmResult {
    // scipy: nonzdelt = 0.05, zdelt = 0.00025; (1 + 0.05) rounds to the literal 1.05.
    let x1 = if x0 != 0.0 { 1.05 * x0 } else { 0.00025 };
    let (mut v0, mut f0) = (x0, f(x0));
    let (mut v1, mut f1) = (x1, f(x1));
    let mut evals = 2;
    order(&mut v0, &mut f0, &mut v1, &mut f1);
    let mut iters = 1;
    while evals < MAX_FUN && iters < MAX_ITER {
        if (v1 - v0).abs() <= xatol && (f0 - f1).abs() <= fatol {
            break;
        }
        // xbar = v0 in one dimension; the coefficients are scipy's rho=1, chi=2, psi=sigma=0.5.
        let xr = 2.0 * v0 - v1;
        let fxr = f(xr);
        evals += 1;
        if fxr < f0 {
            let xe = 3.0 * v0 - 2.0 * v1;
            let fxe = f(xe);
            evals += 1;
            if fxe < fxr {
                (v1, f1) = (xe, fxe);
            } else {
                (v1, f1) = (xr, fxr);
            }
        } else {
            // scipy's "accept reflection" branch (fxr < fsim[-2] = fsim[0]) cannot fire here.
            let shrink = if fxr < f1 {
                let xc = 1.5 * v0 - 0.5 * v1;
                let fxc = f(xc);
                evals += 1;
                if fxc <= fxr {
                    (v1, f1) = (xc, fxc);
                    false
                } else {
                    true
                }
            } else {
                let xcc = 0.5 * v0 + 0.5 * v1;
                let fxcc = f(xcc);
                evals += 1;
                if fxcc < f1 {
                    (v1, f1) = (xcc, fxcc);
                    false
                } else {
                    true
                }
            };
            if shrink {
                v1 = v0 + 0.5 * (v1 - v0);
                f1 = f(v1);
                evals += 1;
            }
        }
        order(&mut v0, &mut f0, &mut v1, &mut f1);
        iters += 1;
    }
    NmResult {
        x: v0,
        fx: f0,
        evals,
        iters,
    }
}

/// numpy's stable argsort of two values: swap only if the second is strictly smaller, NaN last.
fn order(v0: &mut f64, f0: &mut f64, v1: &mut f64, f1: &mut f64) {
    if *f1 < *f0 || (f0.is_nan() && !f1.is_nan()) {
        std::mem::swap(v0, v1);
        std::mem::swap(f0, f1);
    }
}

/// Outcome of an n-dimensional minimisation: the best vertex, its value and the work done.
#[derive(Clone, Debug, PartialEq)]
pub struct NmResultNd {
    pub x: Vec<f64>,
    pub fx: f64,
    pub evals: usize,
    pub iters: usize,
}

/// scipy's coefficients (non-adaptive): reflection, expansion, contraction, shrink.
const RHO: f64 = 1.0;
const CHI: f64 = 2.0;
const PSI: f64 = 0.5;
const SIGMA: f64 = 0.5;

/// The objective with scipy's evaluation budget: once `max` calls were made, further calls
/// return None (scipy raises `_MaxFuncCallError` and abandons the iteration in progress).
struct Budget<F> {
    f: F,
    calls: usize,
    max: usize,
}

impl<F: FnMut(&[f64]) -> f64> Budget<F> {
    fn call(&mut self, x: &[f64]) -> Option<f64> {
        if self.calls >= self.max {
            return None;
        }
        self.calls += 1;
        Some((self.f)(x))
    }
}

/// Minimise `f` over n = `x0.len()` parameters from `x0` with scipy `fmin`'s defaults
/// (maxiter = maxfun = 200·n, initial steps 5 % or 0.00025) and absolute tolerances.
pub fn minimize_nd(f: impl FnMut(&[f64]) -> f64, x0: &[f64], xatol: f64, fatol: f64) -> NmResultNd {
    let n = x0.len();
    let max = 200 * n;
    let mut budget = Budget { f, calls: 0, max };
    let mut sim: Vec<Vec<f64>> = vec![x0.to_vec()];
    for k in 0..n {
        let mut y = x0.to_vec();
        y[k] = if y[k] != 0.0 { 1.05 * y[k] } else { 0.00025 };
        sim.push(y);
    }
    let mut fsim = vec![f64::INFINITY; n + 1];
    for (fv, v) in fsim.iter_mut().zip(&sim) {
        match budget.call(v) {
            Some(y) => *fv = y,
            None => break,
        }
    }
    sort_simplex(&mut sim, &mut fsim);
    let mut iters = 1;
    while budget.calls < max && iters < max && n > 0 {
        if converged(&sim, &fsim, xatol, fatol) {
            break;
        }
        if step(&mut budget, &mut sim, &mut fsim).is_some() {
            iters += 1;
        }
        sort_simplex(&mut sim, &mut fsim);
    }
    NmResultNd {
        x: sim.first().cloned().unwrap_or_default(),
        fx: np_min(&fsim),
        evals: budget.calls,
        iters,
    }
}

/// numpy `min`: NaN propagates.
fn np_min(v: &[f64]) -> f64 {
    if v.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// scipy: max |sim[1:] − sim[0]| ≤ xatol and max |fsim[0] − fsim[1:]| ≤ fatol (NaN fails both).
fn converged(sim: &[Vec<f64>], fsim: &[f64], xatol: f64, fatol: f64) -> bool {
    let (Some(best), Some(&f0)) = (sim.first(), fsim.first()) else {
        return true;
    };
    let x_ok = sim[1..]
        .iter()
        .flat_map(|v| v.iter().zip(best).map(|(a, b)| (a - b).abs()))
        .all(|d| d <= xatol);
    let f_ok = fsim[1..].iter().all(|&fv| (f0 - fv).abs() <= fatol);
    x_ok && f_ok
}

/// One scipy iteration on a sorted simplex; None when the budget ran out mid-way.
fn step<F: FnMut(&[f64]) -> f64>(
    budget: &mut Budget<F>,
    sim: &mut [Vec<f64>],
    fsim: &mut [f64],
) -> Option<()> {
    let n = sim.len() - 1;
    // xbar = np.add.reduce(sim[:-1], 0) / N: rows summed in order.
    let mut xbar = sim[0].clone();
    for row in &sim[1..n] {
        for (b, v) in xbar.iter_mut().zip(row) {
            *b += v;
        }
    }
    for b in &mut xbar {
        *b /= n as f64;
    }
    let worst = sim[n].clone();
    let combine = |a: f64, b: f64| -> Vec<f64> {
        xbar.iter()
            .zip(&worst)
            .map(|(&xb, &w)| a * xb - b * w)
            .collect()
    };
    let xr = combine(1.0 + RHO, RHO);
    let fxr = budget.call(&xr)?;
    if fxr < fsim[0] {
        let xe = combine(1.0 + RHO * CHI, RHO * CHI);
        let fxe = budget.call(&xe)?;
        if fxe < fxr {
            (sim[n], fsim[n]) = (xe, fxe);
        } else {
            (sim[n], fsim[n]) = (xr, fxr);
        }
    } else if fxr < fsim[n - 1] {
        (sim[n], fsim[n]) = (xr, fxr);
    } else {
        let shrink = if fxr < fsim[n] {
            let xc = combine(1.0 + PSI * RHO, PSI * RHO);
            let fxc = budget.call(&xc)?;
            let accept = fxc <= fxr;
            if accept {
                (sim[n], fsim[n]) = (xc, fxc);
            }
            !accept
        } else {
            // xcc = (1 − psi)·xbar + psi·sim[-1]
            let xcc: Vec<f64> = xbar
                .iter()
                .zip(&worst)
                .map(|(&xb, &w)| (1.0 - PSI) * xb + PSI * w)
                .collect();
            let fxcc = budget.call(&xcc)?;
            let accept = fxcc < fsim[n];
            if accept {
                (sim[n], fsim[n]) = (xcc, fxcc);
            }
            !accept
        };
        if shrink {
            let best = sim[0].clone();
            for j in 1..=n {
                // The vertex moves before its value is computed, as in scipy.
                sim[j] = best
                    .iter()
                    .zip(&sim[j])
                    .map(|(&b, &v)| b + SIGMA * (v - b))
                    .collect();
                fsim[j] = budget.call(&sim[j])?;
            }
        }
    }
    Some(())
}

/// numpy's `argsort` of N+1 ≤ 17 values is an insertion sort: stable, NaN last.
fn sort_simplex(sim: &mut [Vec<f64>], fsim: &mut [f64]) {
    let mut order: Vec<usize> = (0..fsim.len()).collect();
    order.sort_by(|&a, &b| nan_last(fsim[a], fsim[b]));
    let sorted_sim: Vec<Vec<f64>> = order.iter().map(|&i| sim[i].clone()).collect();
    let sorted_f: Vec<f64> = order.iter().map(|&i| fsim[i]).collect();
    sim.clone_from_slice(&sorted_sim);
    fsim.copy_from_slice(&sorted_f);
}

fn nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
    }
}

#[cfg(test)]
#[path = "neldermead_tests.rs"]
mod tests;
