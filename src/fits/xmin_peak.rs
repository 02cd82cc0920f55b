//! `fix_fingers: xmin_peak` (methods.md §6.2): restrict xmin to a range around the peak of the
//! log-ESD histogram, then run the CSN fit (§6.1).

use super::{TOO_FEW, TailFit, csn};
use crate::options::AnalysisOptions;

/// Histogram bins over log10 λ (WW `num_bins`).
const BINS: usize = 100;
/// WW's lower factor on the peak, applied as log10(0.95·p) (a log value, kept as is).
const LOW_FACTOR: f64 = 0.95;
/// Default upper bound factor: xmin_max = 1.5·p.
const HIGH_FACTOR: f64 = 1.5;

/// Fit the sorted sample `x` with xmin restricted around the ESD peak.
pub(crate) fn fit(
    x: &[f64],
    xmax: Option<f64>,
    opts: &AnalysisOptions,
) -> Result<TailFit, &'static str> {
    csn::fit(x, xmax, Some(candidate_range(x, opts)?))
}

/// The inclusive xmin candidate interval [min(lo, hi), max(lo, hi)] around the ESD peak; also
/// used by `fit: E_TPL` (§6.3).
pub(crate) fn candidate_range(
    x: &[f64],
    opts: &AnalysisOptions,
) -> Result<(f64, f64), &'static str> {
    let peak = peak_value(x).ok_or(TOO_FEW)?;
    let (lo, hi) = match opts.xmin_peak_bounds {
        // [EXT] linear bounds.
        Some([a, b]) => (a * peak, b * peak),
        None => (
            (LOW_FACTOR * peak).log10(),
            opts.xmin_max.unwrap_or(HIGH_FACTOR * peak),
        ),
    };
    Ok((lo.min(hi), lo.max(hi)))
}

/// p = 10^(left edge of the first fullest bin) of a 100-bin histogram of log10(x), with
/// numpy's `histogram` binning: edges linspace(min, max, 101), bins [e_k, e_k+1), the last
/// one closed.
pub(crate) fn peak_value(x: &[f64]) -> Option<f64> {
    let logs: Vec<f64> = x.iter().map(|v| v.log10()).collect();
    let first = *logs.first()?;
    let last = *logs.last()?;
    if !(first.is_finite() && last.is_finite()) {
        return None;
    }
    let edges = hist_edges(first, last);
    let mut counts = [0usize; BINS];
    for &v in &logs {
        counts[bin_index(v, &edges)] += 1;
    }
    let mut k = 0;
    for (i, &c) in counts.iter().enumerate() {
        if c > counts[k] {
            k = i;
        }
    }
    Some(10f64.powf(edges[k]))
}

/// numpy: equal min and max widen the range by ±0.5; edges = linspace(first, last, 101).
fn hist_edges(mut first: f64, mut last: f64) -> [f64; BINS + 1] {
    if first == last {
        first -= 0.5;
        last += 0.5;
    }
    let step = (last - first) / BINS as f64;
    let mut edges = [0.0; BINS + 1];
    for (k, e) in edges.iter_mut().enumerate() {
        *e = k as f64 * step + first;
    }
    edges[BINS] = last;
    edges
}

/// numpy's uniform-bin index, `((v − first)/(last − first))·bins`, then its correction against
/// the actual edges.
fn bin_index(v: f64, edges: &[f64; BINS + 1]) -> usize {
    let (first, last) = (edges[0], edges[BINS]);
    let guess = ((v - first) / (last - first)) * BINS as f64;
    let mut i = (guess as i64).clamp(0, BINS as i64 - 1) as usize;
    if v < edges[i] && i > 0 {
        i -= 1;
    }
    if i != BINS - 1 && v >= edges[i + 1] {
        i += 1;
    }
    i
}

#[cfg(test)]
#[path = "xmin_peak_tests.rs"]
mod tests;
