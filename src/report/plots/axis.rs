//! Scales and tick positions for linear and log10 axes.

/// Linear map from a data interval onto a pixel interval.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub lo: f64,
    pub hi: f64,
    pixel_lo: f64,
    pixel_hi: f64,
}

impl Scale {
    /// `lo < hi` is guaranteed by the domain helpers below.
    pub fn new(domain: (f64, f64), pixels: (f64, f64)) -> Self {
        Scale {
            lo: domain.0,
            hi: domain.1,
            pixel_lo: pixels.0,
            pixel_hi: pixels.1,
        }
    }

    pub fn map(&self, v: f64) -> f64 {
        let span = self.hi - self.lo;
        let t = if span > 0.0 {
            (v - self.lo) / span
        } else {
            0.5
        };
        self.pixel_lo + t * (self.pixel_hi - self.pixel_lo)
    }

    pub fn contains(&self, v: f64) -> bool {
        v >= self.lo && v <= self.hi
    }
}

/// Smallest and largest finite value, if any.
pub fn finite_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A data range widened by `pad` of its span on each side; a single value gets a window around
/// it so that constant data still has an axis.
pub fn padded(range: (f64, f64), pad: f64) -> (f64, f64) {
    let (lo, hi) = range;
    let span = hi - lo;
    if span > f64::EPSILON * lo.abs().max(hi.abs()).max(1e-300) {
        (lo - pad * span, hi + pad * span)
    } else {
        let half = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        (lo - half, hi + half)
    }
}

/// Round, evenly spaced ticks (steps of 1, 2 or 5 × 10^k) inside `[lo, hi]`, about `target` of
/// them, and the number of decimals their labels need.
pub fn linear_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, usize) {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return (Vec::new(), 0);
    }
    let raw = span / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let ticks = (first..=last).map(|k| k as f64 * step).collect();
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    (ticks, decimals)
}

/// Tick label with `decimals` decimals and a typographic minus sign; very large or very small
/// magnitudes switch to scientific notation.
pub fn tick_label(v: f64, decimals: usize) -> String {
    let a = v.abs();
    if a == 0.0 && decimals > 5 {
        // Where the other ticks are scientific, zero is just "0".
        return "0".to_string();
    }
    let s = if a != 0.0 && (a >= 1e6 || decimals > 5) {
        format!("{v:.1e}")
    } else {
        format!("{v:.decimals$}")
    };
    let s = if s
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    };
    s.replace('-', "\u{2212}")
}

/// A tick on a log10 axis: its position (log10 of the value) and how to label it.
#[derive(Clone, Debug, PartialEq)]
pub enum LogTick {
    /// 10^k, drawn as a power.
    Decade(i32),
    /// A value between decades (2·10^k, 5·10^k), drawn as a plain number.
    Plain(f64),
}

impl LogTick {
    pub fn position(&self) -> f64 {
        match self {
            LogTick::Decade(k) => f64::from(*k),
            LogTick::Plain(v) => v.log10(),
        }
    }
}

/// Ticks for a log10 axis whose domain is `[lo, hi]` in log10 units: decades, thinned when there
/// are many; under two decades, plain numbers at 1×, 2× and 5× each power of ten.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<LogTick> {
    if !(lo.is_finite() && hi.is_finite() && hi > lo) {
        return Vec::new();
    }
    let first = lo.ceil() as i32;
    let last = hi.floor() as i32;
    let decades = (last - first + 1).max(0);
    let every = (decades / 8 + 1).max(1);
    let mut ticks: Vec<LogTick> = (first..=last)
        .filter(|k| (k - first) % every == 0)
        .map(LogTick::Decade)
        .collect();
    if hi - lo < 2.0 {
        // A short axis reads better with every label a plain number (0.5, 1, 2, 5).
        for t in ticks.iter_mut() {
            if let LogTick::Decade(k) = *t {
                *t = LogTick::Plain(10f64.powi(k));
            }
        }
        for k in (lo.floor() as i32)..=(hi.ceil() as i32) {
            for m in [2.0, 5.0] {
                let v = m * 10f64.powi(k);
                if (lo..=hi).contains(&v.log10()) {
                    ticks.push(LogTick::Plain(v));
                }
            }
        }
        ticks.sort_by(|a, b| a.position().total_cmp(&b.position()));
    }
    ticks
}

/// Plain-number label for a between-decades log tick (2·10^k, 5·10^k).
pub fn plain_log_label(v: f64) -> String {
    let decimals = (-v.log10().floor()).max(0.0) as usize;
    tick_label(v, decimals)
}

#[cfg(test)]
#[path = "axis_tests.rs"]
mod tests;
