//! One-dimensional Nelder–Mead, exactly scipy's `fmin` with its defaults (methods.md §7.5).
//!
//! Shared by the Marchenko–Pastur polish (§7.5) and the forced-xmax CSN fit (§6.1). Every
//! arithmetic expression mirrors scipy's so that the visited points are the same doubles.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_parabola() {
        let r = minimize(|x| (x - 3.0) * (x - 3.0) + 1.0, 1.0, 1e-8, 1e-8);
        assert!((r.x - 3.0).abs() < 1e-6, "{r:?}");
        assert!((r.fx - 1.0).abs() < 1e-10);
        assert!(r.evals <= 200);
    }

    #[test]
    fn starts_from_zero_with_scipys_zero_delta() {
        let r = minimize(|x| (x + 0.5).abs(), 0.0, 1e-6, 1e-6);
        assert!((r.x + 0.5).abs() < 1e-5, "{r:?}");
    }

    #[test]
    fn stops_at_the_evaluation_budget() {
        // A function with no minimum keeps expanding; the budget must stop it.
        let r = minimize(|x| -x, 1.0, 1e-12, 1e-12);
        assert!(r.evals <= MAX_FUN + 1);
        assert!(r.x > 1.0);
    }

    #[test]
    fn scipy_reference_path_on_a_quartic() {
        // scipy.optimize.fmin(lambda x: (x[0]**2 - 2)**2, 1.0, xtol=1e-4, ftol=1e-4)
        // converges to sqrt(2) within xtol; check the tolerance semantics.
        let r = minimize(|x| (x * x - 2.0).powi(2), 1.0, 1e-4, 1e-4);
        assert!((r.x - 2f64.sqrt()).abs() < 2e-4, "{r:?}");
    }
}
