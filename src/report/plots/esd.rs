//! ESD figures: the eigenvalues of WᵀW as a log-log density histogram with the fitted tail, and
//! on linear axes with the Marchenko–Pastur bulk. Either can carry the randomized ESD (the
//! element-shuffled copy, methods.md §10) and a baseline model's ESD as outlines over the same
//! bins, so that a person sees at once how far the layer is from random and from its baseline.
//!
//! Histograms are drawn as one SVG path each, over at most [`EsdChart::max_bins`] bins, so a
//! figure's size depends on the bin count and never on the number of eigenvalues.

use super::axis::{finite_range, padded, tick_label};
use super::svg::{Stroke, Svg, text_width};
use super::{
    FIT, Frame, LinearAxis, TICK_SIZE, clip_segment, draw_legend, log_axis_ticks, no_data,
};

/// Fill and outline of the model's own ESD.
const ESD_FILL: &str = "#9ecae1";
const ESD_EDGE: &str = "#6baed6";
/// The randomized ESD's outline.
const RANDOM: &str = "#ff7f0e";
/// The baseline ESD's outline.
const BASELINE: &str = "#7b4fa0";
const MP: &str = "#2ca02c";

/// The fitted tail: p(λ) ∝ λ^−α from `xmin`, times e^(−Λλ) for a truncated power law.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TailFit {
    /// Where the fit starts.
    pub xmin: f64,
    /// The exponent α.
    pub alpha: f64,
    /// Λ of a truncated power law (`fit: TPL`); None for a pure power law.
    pub lambda: Option<f64>,
}

/// What one ESD figure shows: the eigenvalues and every optional overlay (a parameter struct,
/// so that callers name what they draw).
#[derive(Clone, Debug)]
pub struct EsdChart<'a> {
    /// The figure's title (also its accessible name).
    pub title: &'a str,
    /// The row's eigenvalues (any order; non-finite and non-positive values are not drawn on
    /// log axes).
    pub evals: &'a [f64],
    /// The fitted tail, drawn from xmin.
    pub tail: Option<TailFit>,
    /// The Marchenko–Pastur bulk edges (λ−, λ+), with the density they imply.
    pub mp_bulk: Option<(f64, f64)>,
    /// The randomized ESD, as an outline over the same bins.
    pub randomized: Option<&'a [f64]>,
    /// A baseline model's ESD of the same layer, as an outline over the same bins.
    pub baseline: Option<&'a [f64]>,
    /// The most histogram bins drawn (fewer for few eigenvalues: about 2√n, at least 10).
    pub max_bins: usize,
}

impl<'a> EsdChart<'a> {
    /// A chart of `evals` alone, with up to 100 bins (WeightWatcher plots 100).
    pub fn new(title: &'a str, evals: &'a [f64]) -> Self {
        EsdChart {
            title,
            evals,
            tail: None,
            mp_bulk: None,
            randomized: None,
            baseline: None,
            max_bins: 100,
        }
    }

    /// The outlines drawn over the histogram.
    fn overlays(&self) -> Vec<Overlay<'a>> {
        let mut v = Vec::new();
        if let Some(r) = self.randomized {
            v.push(("randomized ESD", RANDOM, None, r));
        }
        if let Some(b) = self.baseline {
            v.push(("baseline ESD", BASELINE, Some("5 3"), b));
        }
        v
    }

    fn bins(&self, n: usize) -> usize {
        ((2.0 * (n as f64).sqrt()).ceil() as usize).clamp(10, self.max_bins.max(10))
    }
}

/// Eigenvalues at or below this fraction of the largest are numerical zeros (where a layer has
/// no rank, the Gram eigensolver leaves rounding noise of about 1e-16·λmax·n): on log axes they
/// are counted in the legend, not drawn, since they would stretch the axis over ten decades and
/// their huge densities would flatten the rest of the ESD.
const ZERO_FRACTION: f64 = 1e-10;

/// The ESD on log-log axes: a density histogram over log-spaced bins, the fitted tail from xmin
/// (a line of slope −α, or the truncated power law's curve), a marker at xmin, and with
/// `mp_bulk` the Marchenko–Pastur density and its bulk edges. Overlays share the bins; the
/// density axis follows the model's ESD and the fits, and overlays are clipped to it.
pub fn esd_loglog(c: &EsdChart) -> String {
    let lmax = finite_max(c.evals);
    if lmax <= 0.0 {
        return no_data(c.title);
    }
    let floor = lmax * ZERO_FRACTION;
    let above = |v: &[f64]| -> Vec<f64> {
        (v.iter())
            .filter(|v| v.is_finite() && **v > floor)
            .map(|v| v.log10())
            .collect()
    };
    let logs = above(c.evals);
    let zeros = c
        .evals
        .iter()
        .filter(|v| v.is_finite() && **v <= floor)
        .count();
    let overlays = c.overlays();
    let overlay_logs: Vec<f64> = overlays.iter().flat_map(|o| above(o.3)).collect();
    let Some(full) = finite_range(logs.iter().chain(&overlay_logs).copied()) else {
        return no_data(c.title);
    };
    let tail = c.tail.filter(|t| t.xmin.is_finite() && t.xmin > 0.0);
    let mp = c.mp_bulk.and_then(|(lo, hi)| MpDensity::from_edges(lo, hi));
    let hist = Histogram::log_binned(&logs, full, c.bins(logs.len()));
    let outlines = hist.rebinned_overlays(&overlays);
    let marks =
        (tail.iter().map(|t| t.xmin.log10())).chain(mp.iter().flat_map(|m| m.edges_log10()));
    let x_range = finite_range([full.0, full.1].into_iter().chain(marks)).unwrap_or(full);
    let xd = padded(x_range, 0.04);
    let curve = tail.and_then(|t| TailCurve::new(t, &logs, &hist));
    let yd = density_domain(
        (hist.bars().map(|b| b.log_density))
            .chain(curve.as_ref().map(|t| t.log_at_xmin))
            .chain(mp.iter().filter_map(|m| m.peak_log10())),
    );

    let fit_stroke = Stroke::solid(FIT, 2.0);
    let xmin_stroke = Stroke::dashed("#444444", 1.3, "6 4");
    let mut entries = histogram_entries(&outlines);
    entries.extend(mp_entries(mp.as_ref()));
    if let Some(t) = &curve {
        let name = match t.fit.lambda {
            None => format!("power law, α = {}", tick_label(t.fit.alpha, 2)),
            Some(l) => format!(
                "TPL, α = {}, Λ = {}",
                tick_label(t.fit.alpha, 2),
                significant(l)
            ),
        };
        entries.push((name, fit_stroke));
    }
    if let Some(t) = tail {
        entries.push((format!("xmin = {}", significant(t.xmin)), xmin_stroke));
    }
    if zeros > 0 {
        entries.push((format!("{zeros} zero (≤ λmax·1e−10)"), NO_LINE));
    }

    let y_ticks = log_axis_ticks(yd);
    let frame = Frame::for_log_y(&y_ticks, legend_room(&entries));
    let (mut svg, xs, ys) = frame.start(
        c.title,
        (xd, yd),
        (&log_axis_ticks(xd), &y_ticks),
        ("eigenvalue λ", "density"),
    );
    let to_px = |b: &Bar| {
        let top = ys.map(b.log_density.clamp(yd.0, yd.1));
        (xs.map(b.lo), xs.map(b.hi), top)
    };
    draw_histograms(&mut svg, &hist, &outlines, to_px, frame.y1);
    if let Some(m) = &mp {
        for run in runs_inside(m.curve_log10(xd), yd) {
            let px: Vec<_> = run.iter().map(|p| (xs.map(p.0), ys.map(p.1))).collect();
            svg.polyline(&px, Stroke::solid(MP, 1.6));
        }
        for e in m.edges_log10() {
            svg.line((xs.map(e), frame.y0), (xs.map(e), frame.y1), MP_EDGE);
        }
    }
    if let Some(t) = &curve {
        let drawn = match t.fit.lambda {
            // A pure power law is a straight line: clip it to the frame.
            None => clip_segment(
                (t.log_xmin, t.log_density(t.log_xmin)),
                (xd.1, t.log_density(xd.1)),
                xd,
                yd,
            )
            .map(|(a, b)| vec![(xs.map(a.0), ys.map(a.1)), (xs.map(b.0), ys.map(b.1))]),
            Some(_) => {
                let pts = (0..=48).map(|i| {
                    let l = t.log_xmin + (xd.1 - t.log_xmin) * f64::from(i) / 48.0;
                    (l, t.log_density(l))
                });
                (runs_inside(pts.collect(), yd).into_iter().next())
                    .map(|run| run.iter().map(|p| (xs.map(p.0), ys.map(p.1))).collect())
            }
        };
        if let Some(px) = drawn {
            svg.polyline(&px, fit_stroke);
        }
    }
    if let Some(t) = tail {
        let x = xs.map(t.xmin.log10());
        svg.line((x, frame.y0), (x, frame.y1), xmin_stroke);
    }
    draw_legend(&mut svg, (frame.x1 + 14.0, frame.y0), frame.y1, &entries);
    svg.finish()
}

/// The ESD on linear axes, as WeightWatcher's Marchenko–Pastur plot: a density histogram, the
/// MP density of the fitted bulk and its edges. When the model's largest eigenvalue is far
/// beyond the bulk (λmax > 3λ+) while most eigenvalues are in it, the axis ends at 2λ+ so the
/// bulk stays readable, and the legend counts the eigenvalues beyond it. Overlays share the
/// bins and are clipped to the axes the model's ESD sets.
pub fn esd_linear(c: &EsdChart) -> String {
    let vals: Vec<f64> = c.evals.iter().copied().filter(|v| v.is_finite()).collect();
    let Some((_, vmax)) = finite_range(vals.iter().copied()) else {
        return no_data(c.title);
    };
    let mp = c.mp_bulk.and_then(|(lo, hi)| MpDensity::from_edges(lo, hi));
    let x_hi = match &mp {
        Some(m)
            if vmax > 3.0 * m.hi
                && 2 * vals.iter().filter(|v| **v <= 2.0 * m.hi).count() >= vals.len() =>
        {
            2.0 * m.hi
        }
        _ => vmax,
    };
    let x_hi = if x_hi > 0.0 { x_hi } else { 1.0 };
    let beyond = vals.iter().filter(|v| **v > x_hi).count();
    let hist = Histogram::linear(&vals, x_hi, c.bins(vals.len()));
    let outlines = hist.rebinned_overlays(&c.overlays());
    let bars_top = hist.bars().map(|b| b.density).fold(0.0, f64::max);
    // The MP density diverges at λ− = 0 (Q = 1): let it raise the axis by at most half again.
    let mp_top = (mp.iter())
        .filter_map(|m| m.peak_log10().map(|p| 10f64.powf(p)))
        .fold(0.0, f64::max);
    let y_top = if bars_top > 0.0 {
        bars_top.max(mp_top.min(1.5 * bars_top))
    } else {
        mp_top
    };
    let x = LinearAxis::new((0.0, x_hi * 1.02), 7);
    let y = LinearAxis::new((0.0, if y_top > 0.0 { y_top * 1.08 } else { 1.0 }), 6);

    let mut entries = histogram_entries(&outlines);
    entries.extend(mp_entries(mp.as_ref()));
    if beyond > 0 {
        entries.push((format!("{beyond} beyond the axis"), NO_LINE));
        entries.push((format!("(max {})", significant(vmax)), NO_LINE));
    }
    let frame = Frame::for_linear(&y, legend_room(&entries));
    let (mut svg, xs, ys) = frame.start(
        c.title,
        (x.domain, y.domain),
        (&x.ticks(), &y.ticks()),
        ("eigenvalue λ", "density"),
    );
    let to_px = |b: &Bar| {
        (
            xs.map(b.lo),
            xs.map(b.hi),
            ys.map(b.density.min(y.domain.1)),
        )
    };
    draw_histograms(&mut svg, &hist, &outlines, to_px, frame.y1);
    if let Some(m) = &mp {
        for run in runs_inside(m.curve_linear(x.domain), y.domain) {
            let px: Vec<_> = run.iter().map(|p| (xs.map(p.0), ys.map(p.1))).collect();
            svg.polyline(&px, Stroke::solid(MP, 1.8));
        }
        for e in [m.lo, m.hi].into_iter().filter(|e| xs.contains(*e)) {
            svg.line((xs.map(e), frame.y0), (xs.map(e), frame.y1), MP_EDGE);
        }
    }
    draw_legend(&mut svg, (frame.x1 + 14.0, frame.y0), frame.y1, &entries);
    svg.finish()
}

/// The MP bulk edges' stroke.
const MP_EDGE: Stroke<'static> = Stroke {
    colour: MP,
    width: 1.2,
    dash: Some("2 3"),
};
/// A legend line that is text only.
const NO_LINE: Stroke<'static> = Stroke {
    colour: "#ffffff",
    width: 0.0,
    dash: None,
};

/// The largest finite value (0 when there is none).
fn finite_max(v: &[f64]) -> f64 {
    v.iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// Legend entries of the histogram and its overlays.
fn histogram_entries(outlines: &[Outline]) -> Vec<(String, Stroke<'static>)> {
    let mut e = vec![("ESD".to_string(), Stroke::solid(ESD_FILL, 8.0))];
    e.extend(
        (outlines.iter())
            .map(|(label, colour, dash, _)| (label.to_string(), stroke(colour, 1.4, *dash))),
    );
    e
}

/// Legend entries of the MP fit.
fn mp_entries(mp: Option<&MpDensity>) -> Vec<(String, Stroke<'static>)> {
    mp.map_or_else(Vec::new, |_| {
        vec![
            ("MP density".to_string(), Stroke::solid(MP, 1.6)),
            ("MP bulk edges".to_string(), MP_EDGE),
        ]
    })
}

/// Room right of the plot for the legend: its widest entry (a 22 px line sample, a gap, the
/// text), between 120 and 260 px.
fn legend_room(entries: &[(String, Stroke)]) -> f64 {
    let widest = (entries.iter())
        .map(|(t, _)| text_width(t, TICK_SIZE))
        .fold(0.0, f64::max);
    (widest + 50.0).clamp(120.0, 260.0)
}

/// The runs of consecutive points whose y lies inside `yd` (a curve that leaves the frame is
/// cut there, not drawn along its edge).
fn runs_inside(pts: Vec<(f64, f64)>, yd: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let inside = |p: &(f64, f64)| p.1 >= yd.0 && p.1 <= yd.1;
    pts.split(|p| !inside(p))
        .filter(|r| r.len() >= 2)
        .map(<[_]>::to_vec)
        .collect()
}

/// An overlay: legend text, colour, dash, values.
type Overlay<'a> = (&'static str, &'static str, Option<&'static str>, &'a [f64]);
/// An overlay binned: legend text, colour, dash, histogram.
type Outline = (&'static str, &'static str, Option<&'static str>, Histogram);

/// The ESD's histogram filled, each overlay's as an outline over the same bins (`px` maps a
/// bar to its left, right and top pixels).
fn draw_histograms(
    svg: &mut Svg,
    hist: &Histogram,
    outlines: &[Outline],
    px: impl Fn(&Bar) -> (f64, f64, f64),
    floor: f64,
) {
    let bars: Vec<_> = hist.bars().map(|b| px(&b)).collect();
    svg.path(
        &step_path(&bars, floor, true),
        ESD_FILL,
        Some(Stroke::solid(ESD_EDGE, 0.6)),
    );
    for (_, colour, dash, h) in outlines {
        let bars: Vec<_> = h.bars().map(|b| px(&b)).collect();
        svg.path(
            &step_path(&bars, floor, false),
            "none",
            Some(stroke(colour, 1.4, *dash)),
        );
    }
}

fn stroke(colour: &'static str, width: f64, dash: Option<&'static str>) -> Stroke<'static> {
    match dash {
        Some(d) => Stroke::dashed(colour, width, d),
        None => Stroke::solid(colour, width),
    }
}

fn log10_positive(v: &[f64]) -> Vec<f64> {
    v.iter()
        .filter(|v| v.is_finite() && **v > 0.0)
        .map(|v| v.log10())
        .collect()
}

/// One SVG path over bars given as (left, right, top) pixels, resting on `floor`: a closed,
/// fillable outline (`closed`), or the open step line of an overlay. Gaps (empty bins) drop
/// to the floor.
fn step_path(bars: &[(f64, f64, f64)], floor: f64, closed: bool) -> String {
    use super::svg::num;
    let mut d = String::new();
    let mut last_right: Option<f64> = None;
    for &(l, r, top) in bars {
        match last_right {
            Some(x) if (x - l).abs() < 0.01 => {}
            Some(_) => d.push_str(&format!("V{}M{},{}", num(floor), num(l), num(floor))),
            None => d.push_str(&format!("M{},{}", num(l), num(floor))),
        }
        d.push_str(&format!("V{}H{}", num(top), num(r)));
        last_right = Some(r);
    }
    if last_right.is_some() {
        d.push_str(&format!("V{}", num(floor)));
        if closed {
            d.push('Z');
        }
    }
    d
}

/// A value with 3 significant digits, for legend text (scientific below 1e-3 and from 1e5).
pub(super) fn significant(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        return format!("{v:.2e}").replace('-', "\u{2212}");
    }
    let decimals = (2.0 - a.log10().floor()).clamp(0.0, 6.0) as usize;
    tick_label(v, decimals)
}

/// Density histogram over equal-width bins, in log10 λ (`log_binned`) or in λ (`linear`).
struct Histogram {
    /// Bin edges, in the binned units.
    edges: Vec<f64>,
    counts: Vec<usize>,
    /// Every value counted, in or out of range (a density is per value of the whole ESD).
    total: usize,
    /// Whether the bins are in log10 units.
    log: bool,
}

/// One non-empty bin: its edges (binned units) and density per unit λ.
struct Bar {
    lo: f64,
    hi: f64,
    density: f64,
    log_density: f64,
}

impl Histogram {
    /// `bins` equal bins over `range` of log10 λ.
    fn log_binned(logs: &[f64], range: (f64, f64), bins: usize) -> Self {
        let (lo, hi) = if range.1 > range.0 {
            range
        } else {
            (range.0 - 0.5, range.1 + 0.5)
        };
        Self::count(logs, (lo, hi), bins, true)
    }

    /// `bins` equal bins over [0, hi] of λ; values above `hi` are counted in the total only.
    fn linear(vals: &[f64], hi: f64, bins: usize) -> Self {
        Self::count(vals, (0.0, hi), bins, false)
    }

    fn count(vals: &[f64], (lo, hi): (f64, f64), bins: usize, log: bool) -> Self {
        let bins = bins.max(1);
        let width = (hi - lo) / bins as f64;
        let edges: Vec<f64> = (0..=bins).map(|i| lo + width * i as f64).collect();
        let mut h = Histogram {
            edges,
            counts: vec![0; bins],
            total: vals.len(),
            log,
        };
        for &v in vals {
            if let Some(i) = h.bin_of(v) {
                h.counts[i] += 1;
            }
        }
        h
    }

    fn bin_of(&self, v: f64) -> Option<usize> {
        let (lo, hi) = (self.edges[0], self.edges[self.edges.len() - 1]);
        if !(v >= lo && v <= hi) {
            return None;
        }
        let width = (hi - lo) / self.counts.len() as f64;
        Some((((v - lo) / width).floor() as usize).min(self.counts.len() - 1))
    }

    /// Another sample (in the same units) over these bins.
    fn rebinned(&self, vals: &[f64]) -> Histogram {
        let units: Vec<f64> = if self.log {
            log10_positive(vals)
        } else {
            vals.iter().copied().filter(|v| v.is_finite()).collect()
        };
        let mut h = Histogram {
            edges: self.edges.clone(),
            counts: vec![0; self.counts.len()],
            total: units.len(),
            log: self.log,
        };
        for &v in &units {
            if let Some(i) = h.bin_of(v) {
                h.counts[i] += 1;
            }
        }
        h
    }

    /// Every overlay over these bins.
    fn rebinned_overlays(&self, overlays: &[Overlay]) -> Vec<Outline> {
        (overlays.iter())
            .map(|(l, colour, dash, v)| (*l, *colour, *dash, self.rebinned(v)))
            .collect()
    }

    fn bars(&self) -> impl Iterator<Item = Bar> + '_ {
        self.counts
            .iter()
            .zip(self.edges.windows(2))
            .filter(|(c, _)| **c > 0)
            .map(|(&c, e)| {
                let dlambda = if self.log {
                    10f64.powf(e[1]) - 10f64.powf(e[0])
                } else {
                    e[1] - e[0]
                };
                let density = c as f64 / (self.total as f64 * dlambda);
                Bar {
                    lo: e[0],
                    hi: e[1],
                    density,
                    log_density: density.log10(),
                }
            })
    }

    /// log10 density of the bin holding log10 λ = `at`, if that bin is non-empty.
    fn log_density_at(&self, at: f64) -> Option<f64> {
        self.bars()
            .find(|b| at >= b.lo && at <= b.hi)
            .map(|b| b.log_density)
    }
}

/// The fitted tail as drawn: normalised to the tail's share f of the eigenvalues,
/// p(λ) = f·λ^−α·e^(−Λλ) / ∫_xmin^∞ λ^−α·e^(−Λλ) dλ (for a pure power law the integral is
/// xmin^(1−α)/(α−1)). Where the integral diverges (α ≤ 1 without truncation) the curve is
/// anchored at the histogram instead.
struct TailCurve {
    fit: TailFit,
    log_xmin: f64,
    /// log10 of the density at xmin.
    log_at_xmin: f64,
}

impl TailCurve {
    fn new(fit: TailFit, logs: &[f64], hist: &Histogram) -> Option<Self> {
        if !fit.alpha.is_finite() {
            return None;
        }
        let log_xmin = fit.xmin.log10();
        let lambda = fit.lambda.filter(|l| l.is_finite() && *l > 0.0);
        let share =
            logs.iter().filter(|v| **v >= log_xmin).count() as f64 / logs.len().max(1) as f64;
        let shape_at_xmin = |x: f64| -fit.alpha * x.ln() - lambda.unwrap_or(0.0) * x;
        let integral = match lambda {
            None if fit.alpha > 1.0 => Some(fit.xmin.powf(1.0 - fit.alpha) / (fit.alpha - 1.0)),
            None => None,
            Some(l) => tpl_integral(fit.xmin, fit.alpha, l),
        };
        let log_at_xmin = match integral {
            Some(z) if z > 0.0 && z.is_finite() => {
                (share * shape_at_xmin(fit.xmin).exp() / z).log10()
            }
            _ => hist.log_density_at(log_xmin)?,
        };
        log_at_xmin.is_finite().then_some(TailCurve {
            fit: TailFit { lambda, ..fit },
            log_xmin,
            log_at_xmin,
        })
    }

    /// log10 p(λ) at log10 λ.
    fn log_density(&self, log_lambda: f64) -> f64 {
        let decay = self.fit.lambda.map_or(0.0, |l| {
            l * (10f64.powf(log_lambda) - self.fit.xmin) / std::f64::consts::LN_10
        });
        self.log_at_xmin - self.fit.alpha * (log_lambda - self.log_xmin) - decay
    }
}

/// ∫_xmin^∞ λ^−α·e^(−Λλ) dλ by Simpson's rule in u = ln λ, up to where e^(−Λλ) < e^−60.
fn tpl_integral(xmin: f64, alpha: f64, lambda: f64) -> Option<f64> {
    let (a, b) = (xmin.ln(), (60.0 / lambda).max(xmin * 2.0).ln());
    let n = 4000;
    let h = (b - a) / n as f64;
    let f = |u: f64| ((1.0 - alpha) * u - lambda * u.exp()).exp();
    let mut s = f(a) + f(b);
    for i in 1..n {
        s += f(a + h * i as f64) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    let z = s * h / 3.0;
    (z.is_finite() && z > 0.0).then_some(z)
}

/// The Marchenko–Pastur density (`fits::mp::mp_density`) implied by bulk edges
/// λ± = σ²(1 ± 1/√Q)².
struct MpDensity {
    lo: f64,
    hi: f64,
    q: f64,
    sigma: f64,
}

impl MpDensity {
    /// √λ+ + √λ− = 2σ and √λ+ − √λ− = 2σ/√Q; needs 0 ≤ λ− < λ+.
    fn from_edges(lo: f64, hi: f64) -> Option<Self> {
        if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && hi > lo) {
            return None;
        }
        let (a, b) = (hi.sqrt(), lo.sqrt());
        let sigma = (a + b) / 2.0;
        let inv_sqrt_q = (a - b) / (a + b);
        Some(MpDensity {
            lo,
            hi,
            q: 1.0 / (inv_sqrt_q * inv_sqrt_q),
            sigma,
        })
    }

    /// Edges in log10 units (λ− = 0 has none).
    fn edges_log10(&self) -> Vec<f64> {
        [self.lo, self.hi]
            .iter()
            .filter(|v| **v > 0.0)
            .map(|v| v.log10())
            .collect()
    }

    fn density(&self, lambda: f64) -> f64 {
        crate::fits::mp::mp_density(lambda, self.sigma, self.q)
    }

    /// log10 of the largest density on the curve.
    fn peak_log10(&self) -> Option<f64> {
        self.curve_log10((f64::NEG_INFINITY, f64::INFINITY))
            .into_iter()
            .map(|p| p.1)
            .reduce(f64::max)
    }

    /// (log10 λ, log10 density) over the bulk, sampled evenly in log λ within `xd`.
    fn curve_log10(&self, xd: (f64, f64)) -> Vec<(f64, f64)> {
        const SAMPLES: usize = 64;
        let from = if self.lo > 0.0 {
            self.lo.log10().max(xd.0)
        } else {
            xd.0
        };
        let to = self.hi.log10().min(xd.1);
        if to.partial_cmp(&from) != Some(std::cmp::Ordering::Greater) || !from.is_finite() {
            return Vec::new();
        }
        (0..=SAMPLES)
            .map(|i| from + (to - from) * i as f64 / SAMPLES as f64)
            .filter_map(|l| {
                let d = self.density(10f64.powf(l));
                (d > 0.0).then(|| (l, d.log10()))
            })
            .collect()
    }

    /// (λ, density) over the bulk within `xd`, sampled evenly in λ.
    fn curve_linear(&self, xd: (f64, f64)) -> Vec<(f64, f64)> {
        const SAMPLES: usize = 64;
        let (from, to) = (self.lo.max(xd.0), self.hi.min(xd.1));
        if to.partial_cmp(&from) != Some(std::cmp::Ordering::Greater) {
            return Vec::new();
        }
        (0..=SAMPLES)
            .map(|i| from + (to - from) * i as f64 / SAMPLES as f64)
            .map(|l| (l, self.density(l).max(0.0)))
            .filter(|p| p.1.is_finite())
            .collect()
    }
}

/// y domain (log10 density) covering `values`, kept to at most nine decades below the top so a
/// steep tail does not flatten the histogram.
fn density_domain(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = finite_range(values).unwrap_or((-1.0, 1.0));
    let hi = hi + 0.3;
    let lo = (lo - 0.3).max(hi - 9.0);
    if hi - lo < 1.0 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

#[cfg(test)]
#[path = "esd_tests.rs"]
mod tests;
