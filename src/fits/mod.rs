//! Tail and bulk fits over one row's eigenvalues (methods.md §5–§7, §9, §11).
//!
//! Pure functions: they take every eigenvalue of a row (ascending, near-zero values included) and
//! return plain results. Nothing here panics on odd input; degenerate samples give a failed status.
//!
//! - `powerlaw`: WeightWatcher's own KS-scan fitter (§5.2, small-N §5.3).
//! - `fingers`: `fix_fingers: clip_xmax` (§5.5).
//! - `csn`: the `powerlaw` 1.5 package semantics (§6.1), also with a forced xmax.
//! - `xmin_peak`: the `fix_fingers: xmin_peak` candidate range (§6.2).
//! - `tpl`: the truncated power law of `fit: TPL` / `E_TPL` (§6.3), with `gamma`, the upper
//!   incomplete gamma function for negative shapes.
//! - `neldermead`: scipy's `fmin`, 1-D (§7.5) and n-D (§6.3).
//! - `mp`: the Marchenko–Pastur bulk fit (§7).
//! - `detx`: the detX / ERG tail size (§11).

pub(crate) mod csn;
pub mod detx;
pub(crate) mod fingers;
pub(crate) mod gamma;
pub mod mp;
pub(crate) mod neldermead;
pub(crate) mod numeric;
pub(crate) mod powerlaw;
pub(crate) mod tpl;
pub(crate) mod xmin_peak;

use serde::Serialize;

use crate::options::{AnalysisOptions, FitKind, FixFingers, PlPackage, Quirk, Xmax};

pub use detx::{DetX, detx};
pub use mp::{MpFit, fit_mp};

crate::schema::text_enum! {
    /// Outcome of a fit.
    pub enum FitStatus {
        /// The fit produced a tail.
        Success = "success",
        /// No fit: the result's `failure` says why.
        Failed = "failed",
    }
}

crate::schema::text_enum! {
    /// Training-quality warning of a power-law fit (§9): the text WeightWatcher writes ("" for
    /// no warning); `fit_failed` is tailwatch's own.
    #[derive(Default)]
    pub enum Warning {
        /// 2 ≤ alpha ≤ 6: no warning.
        #[default]
        None = "",
        /// alpha < 2: very heavy tailed.
        OverTrained = "over-trained",
        /// alpha > 6: close to random.
        UnderTrained = "under-trained",
        /// The fit failed, so there is no alpha to judge (native; WW writes `over-trained`).
        FitFailed = "fit_failed",
    }
}

impl Warning {
    /// HT-SR universality classes (§9): alpha < 2 very heavy tailed, alpha > 6 close to random.
    /// Both comparisons are strict, as in WeightWatcher.
    pub fn from_alpha(alpha: f64) -> Warning {
        if alpha < 2.0 {
            Warning::OverTrained
        } else if alpha > 6.0 {
            Warning::UnderTrained
        } else {
            Warning::None
        }
    }
}

/// A power-law (or truncated power-law) fit of one row, in native form.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PowerLawFit {
    /// Whether the fit succeeded.
    pub status: FitStatus,
    /// Why the fit failed: `too_few_evals`, `degenerate_spectrum`, `clip_xmax_exhausted`,
    /// `alpha_nan`, `non_finite_evals`, `invalid_xmax`.
    pub failure: Option<String>,
    /// The fitted exponent α of p(λ) ∝ λ^−α.
    pub alpha: Option<f64>,
    /// Smallest eigenvalue of the fitted tail.
    pub xmin: Option<f64>,
    /// Largest eigenvalue of the fitted sample. Always set on success; see `xmax_in_ww_output`.
    pub xmax: Option<f64>,
    /// Kolmogorov–Smirnov distance of the fit (column `D`, §5.2).
    pub d: Option<f64>,
    /// (alpha − 1)/√n; WeightWatcher's stale −1/√n under compat Q7; None for TPL.
    pub sigma: Option<f64>,
    /// Eigenvalues in the fitted tail, λ ≥ xmin.
    pub num_pl_spikes: Option<usize>,
    /// clip_xmax only.
    pub num_fingers: Option<usize>,
    /// clip_xmax only: alpha of the unclipped first fit.
    pub raw_alpha: Option<f64>,
    /// TPL only (column `Lambda`).
    pub lambda: Option<f64>,
    /// CSN fitter: no candidate had a valid alpha (§6.1).
    pub noise: bool,
    /// The HT-SR warning for alpha (§9); `fit_failed` on failure.
    pub warning: Warning,
    /// Whether WeightWatcher writes `xmax` for this fit: the WW fitter and a forced xmax do,
    /// the `powerlaw`-package fitter without `xmax: force` leaves it empty (Q16).
    pub xmax_in_ww_output: bool,
}

/// The fit columns exactly as WeightWatcher 0.7.7 writes them (compat Q3/Q11 rendering).
#[derive(Clone, Debug, PartialEq)]
pub struct WwFitColumns {
    /// `alpha` (−1 on failure).
    pub alpha: f64,
    /// `D` (−1 on failure).
    pub d: f64,
    /// `sigma` (−1 on failure).
    pub sigma: Option<f64>,
    /// `xmin` (−1 on failure).
    pub xmin: f64,
    /// `xmax`: empty on failure and when WW does not write it (Q16).
    pub xmax: Option<f64>,
    /// `num_pl_spikes` (−1 on failure).
    pub num_pl_spikes: i64,
    /// `num_fingers`, clip_xmax only (0 on failure).
    pub num_fingers: Option<usize>,
    /// `raw_alpha`, clip_xmax only (−1 on failure).
    pub raw_alpha: Option<f64>,
    /// `Lambda`, TPL only (−1 on failure).
    pub lambda: Option<f64>,
    /// `warning` (`over-trained` on failure).
    pub warning: Warning,
}

impl PowerLawFit {
    fn failed(reason: &str) -> PowerLawFit {
        PowerLawFit {
            status: FitStatus::Failed,
            failure: Some(reason.to_string()),
            alpha: None,
            xmin: None,
            xmax: None,
            d: None,
            sigma: None,
            num_pl_spikes: None,
            num_fingers: None,
            raw_alpha: None,
            lambda: None,
            noise: false,
            warning: Warning::FitFailed,
            xmax_in_ww_output: false,
        }
    }

    /// Whether the fit succeeded.
    pub(crate) fn is_success(&self) -> bool {
        self.status == FitStatus::Success
    }

    /// WeightWatcher's rendering. A failed fit becomes alpha = D = sigma = xmin =
    /// num_pl_spikes = −1, xmax empty, raw_alpha −1 and num_fingers 0 (clip_xmax), Lambda −1
    /// (TPL) and warning `over-trained`, because WW tests −1 < 2 (Q3, Q11).
    pub fn as_ww(&self, clip_xmax: bool, tpl: bool) -> WwFitColumns {
        match (self.status, self.alpha, self.d, self.xmin) {
            (FitStatus::Success, Some(alpha), Some(d), Some(xmin)) => WwFitColumns {
                alpha,
                d,
                sigma: self.sigma,
                xmin,
                xmax: if self.xmax_in_ww_output {
                    self.xmax
                } else {
                    None
                },
                num_pl_spikes: self.num_pl_spikes.map_or(-1, |n| n as i64),
                num_fingers: self.num_fingers,
                raw_alpha: self.raw_alpha,
                lambda: self.lambda,
                warning: self.warning,
            },
            _ => WwFitColumns {
                alpha: -1.0,
                d: -1.0,
                sigma: Some(-1.0),
                xmin: -1.0,
                xmax: None,
                num_pl_spikes: -1,
                num_fingers: clip_xmax.then_some(0),
                raw_alpha: clip_xmax.then_some(-1.0),
                lambda: tpl.then_some(-1.0),
                warning: Warning::OverTrained,
            },
        }
    }
}

/// A fitted tail before the row-level bookkeeping (spike counts, warnings).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct TailFit {
    pub alpha: f64,
    pub xmin: f64,
    pub xmax: f64,
    pub d: f64,
    pub sigma: f64,
    pub noise: bool,
}

/// Failure reasons shared by the fitters.
pub(crate) const TOO_FEW: &str = "too_few_evals";
pub(crate) const DEGENERATE: &str = "degenerate_spectrum";

/// The fit sample of §5.1: eigenvalues strictly above `evals_thresh`, ascending.
pub(crate) fn fit_sample(evals: &[f64], thresh: f64) -> Vec<f64> {
    let mut x: Vec<f64> = evals.iter().copied().filter(|&v| v > thresh).collect();
    x.sort_by(f64::total_cmp);
    x
}

/// Fit a power law (or TPL) to one row's eigenvalues, as the options say (§5, §6, §9).
pub fn fit_power_law(evals: &[f64], opts: &AnalysisOptions) -> PowerLawFit {
    if evals.iter().any(|v| !v.is_finite()) {
        return PowerLawFit::failed("non_finite_evals");
    }
    let mut x = fit_sample(evals, opts.evals_thresh);
    // The population num_pl_spikes counts over: all eigenvalues, or the truncated set (§5.4).
    let mut counted: Vec<f64> = evals.to_vec();
    if let Xmax::Drop(k) = opts.xmax {
        match truncate_int_xmax(&mut x, &mut counted, k, evals.len(), opts) {
            Ok(()) => {}
            Err(reason) => return PowerLawFit::failed(reason),
        }
    }
    let result = match (opts.fix_fingers, opts.fit) {
        (Some(FixFingers::ClipXmax), _) => {
            return fingers::clip_xmax(&x, evals, opts);
        }
        (_, FitKind::TruncatedPowerLaw | FitKind::ExtendedTruncatedPowerLaw) => {
            return fit_tpl(&x, &counted, opts);
        }
        (Some(FixFingers::XminPeak), FitKind::PowerLaw) => {
            xmin_peak::fit(&x, forced_xmax(&x, opts), opts)
        }
        (None, FitKind::PowerLaw) => fit_plain(&x, opts),
    };
    let xmax_in_ww_output = opts.pl_package == PlPackage::Ww || opts.xmax == Xmax::Force;
    finish(result, &counted, xmax_in_ww_output)
}

/// `fit: TPL` / `E_TPL` (§6.3). WW turns E_TPL into TPL with `fix_fingers: xmin_peak`, so both
/// spellings restrict xmin to the peak range. No sigma; `Lambda` is set.
fn fit_tpl(x: &[f64], counted: &[f64], opts: &AnalysisOptions) -> PowerLawFit {
    let peak_range = opts.fit == FitKind::ExtendedTruncatedPowerLaw
        || opts.fix_fingers == Some(FixFingers::XminPeak);
    let range = if peak_range {
        match xmin_peak::candidate_range(x, opts) {
            Ok(r) => Some(r),
            Err(reason) => return PowerLawFit::failed(reason),
        }
    } else {
        None
    };
    let tail = tpl::fit(x, forced_xmax(x, opts), range);
    let lambda = tail.as_ref().map(|t| t.lambda).ok();
    let result = tail.map(|t| TailFit {
        alpha: t.alpha,
        xmin: t.xmin,
        xmax: t.xmax,
        d: t.d,
        sigma: f64::NAN,
        noise: t.noise,
    });
    let mut fit = finish(result, counted, opts.xmax == Xmax::Force);
    if fit.is_success() {
        fit.sigma = None;
        fit.lambda = lambda;
    }
    fit
}

/// One fit of a sample with the configured package, no finger handling.
pub(crate) fn fit_plain(x: &[f64], opts: &AnalysisOptions) -> Result<TailFit, &'static str> {
    match opts.pl_package {
        PlPackage::Ww => powerlaw::fit(x, opts.small_n_select, opts.quirk(Quirk::SmallNStaleSigma)),
        PlPackage::Powerlaw => csn::fit(x, forced_xmax(x, opts), None),
    }
}

/// `xmax: force` means xmax = λ_max, the largest value of the sample (§6.1).
fn forced_xmax(x: &[f64], opts: &AnalysisOptions) -> Option<f64> {
    match opts.xmax {
        Xmax::Force => x.last().copied(),
        _ => None,
    }
}

/// Integer `xmax` (§5.4): drop the |k| largest eigenvalues, allowed for 1 ≤ |k| ≤ n/2. WW's
/// misuse of a larger k as an eigenvalue value is available through compat `xmax_int_as_value`.
fn truncate_int_xmax(
    x: &mut Vec<f64>,
    counted: &mut Vec<f64>,
    k: i64,
    n: usize,
    opts: &AnalysisOptions,
) -> Result<(), &'static str> {
    let k_abs = k.unsigned_abs() as usize;
    if k_abs >= 1 && 2 * k_abs <= n {
        x.truncate(x.len().saturating_sub(k_abs));
        counted.sort_by(f64::total_cmp);
        counted.truncate(counted.len().saturating_sub(k_abs));
        return Ok(());
    }
    if !opts.quirk(Quirk::XmaxIntAsValue) {
        return Err("invalid_xmax");
    }
    // WW: i_max = argmin |x − k|, keep x[..=i_max] (first index on ties).
    let target = k_abs as f64;
    let i_max = x
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f64)>, (i, &v)| {
            let dist = (v - target).abs();
            match best {
                Some((_, bd)) if bd <= dist => best,
                _ => Some((i, dist)),
            }
        })
        .map_or(0, |(i, _)| i + 1);
    x.truncate(i_max);
    let cut = x.last().copied().unwrap_or(f64::NEG_INFINITY);
    counted.retain(|&v| v <= cut);
    Ok(())
}

/// Row-level bookkeeping shared by all fitters: spikes, warning, NaN check.
pub(crate) fn finish(
    result: Result<TailFit, &'static str>,
    counted: &[f64],
    xmax_in_ww_output: bool,
) -> PowerLawFit {
    let fit = match result {
        Ok(f) => f,
        Err(reason) => return PowerLawFit::failed(reason),
    };
    if fit.alpha.is_nan() {
        return PowerLawFit::failed("alpha_nan");
    }
    PowerLawFit {
        status: FitStatus::Success,
        failure: None,
        alpha: Some(fit.alpha),
        xmin: Some(fit.xmin),
        xmax: Some(fit.xmax),
        d: Some(fit.d),
        sigma: Some(fit.sigma),
        num_pl_spikes: Some(counted.iter().filter(|&&v| v >= fit.xmin).count()),
        num_fingers: None,
        raw_alpha: None,
        lambda: None,
        noise: fit.noise,
        warning: Warning::from_alpha(fit.alpha),
        xmax_in_ww_output,
    }
}

#[cfg(test)]
mod tests;
