//! `fix_fingers: clip_xmax` (methods.md §5.5): refit with the largest eigenvalues removed until
//! alpha drops by more than `finger_thresh`, to undo "finger" fits on a few outliers.

use super::{PowerLawFit, TailFit, finish, fit_plain};
use crate::options::{AnalysisOptions, PlPackage, Quirk};

/// WW `DEFAULT_MAX_FINGERS`.
const DEFAULT_MAX_FINGERS: i64 = 10;
/// WW `min_alpha`: stop clipping once alpha reaches this.
const MIN_ALPHA: f64 = 2.0;
/// Post-check refits WW runs after the loop (their results are discarded).
const POST_CHECKS: usize = 3;
const EXHAUSTED: &str = "clip_xmax_exhausted";

/// Run the clipping loop on the fit sample `x`; `evals` are all the row's eigenvalues.
pub(crate) fn clip_xmax(x: &[f64], evals: &[f64], opts: &AnalysisOptions) -> PowerLawFit {
    let compat_fail = opts.quirk(Quirk::ClipXmaxSmallFail);
    let xmax_in_ww_output = opts.pl_package == PlPackage::Ww;
    let outcome = clip_loop(x, evals.len(), opts, compat_fail);
    match outcome {
        Err(reason) => {
            let mut failed = finish(Err(reason), evals, xmax_in_ww_output);
            failed.num_fingers = Some(0);
            failed
        }
        Ok((best, first, num_fingers)) => {
            let mut fit = finish(Ok(best), evals, xmax_in_ww_output);
            if fit.is_success() {
                fit.num_fingers = Some(num_fingers);
                fit.raw_alpha = Some(first.alpha);
            }
            fit
        }
    }
}

/// Returns (best, first, num_fingers).
fn clip_loop(
    x: &[f64],
    n_all: usize,
    opts: &AnalysisOptions,
    compat_fail: bool,
) -> Result<(TailFit, TailFit, usize), &'static str> {
    let max_fingers = match opts.max_fingers {
        Some(m) if m >= 0 && (m as f64) >= 0.5 * n_all as f64 => m,
        _ => DEFAULT_MAX_FINGERS,
    };
    let first = fit_plain(x, opts)?;
    let mut best = first;
    let mut num_fingers = 0;
    let mut last: Option<(usize, TailFit)> = None;
    // Removing only the single largest value is never tried: idx starts at 2.
    for idx in 2..max_fingers.max(2) as usize {
        let remaining = x.len().saturating_sub(idx);
        if remaining < 2 {
            // WW raises on a 1-point fit (Q4); natively we stop with the best fit so far.
            if compat_fail {
                return Err(EXHAUSTED);
            }
            return Ok((best, first, num_fingers));
        }
        let f = fit_plain(&x[..remaining], opts)?;
        last = Some((idx, f));
        if f.alpha + opts.finger_thresh < first.alpha {
            best = f;
            num_fingers = idx - 1;
            break;
        }
        if f.alpha <= MIN_ALPHA {
            break;
        }
    }
    if compat_fail && let Some((idx, f)) = last {
        post_checks(x, idx, f.alpha, opts)?;
    }
    Ok((best, first, num_fingers))
}

/// WW refits with idx+1 … idx+3 values removed and only warns about the results; a refit that
/// raises (≤ 1 point) fails the layer, which compat Q4 reproduces.
fn post_checks(
    x: &[f64],
    idx: usize,
    alpha: f64,
    opts: &AnalysisOptions,
) -> Result<(), &'static str> {
    for idy in idx + 1..=idx + POST_CHECKS {
        let remaining = x.len().saturating_sub(idy);
        if remaining < 2 {
            return Err(EXHAUSTED);
        }
        let check = fit_plain(&x[..remaining], opts)?;
        if (check.alpha - alpha).abs() > opts.finger_thresh {
            break;
        }
    }
    Ok(())
}
