//! SVG charts for the HTML report: accuracy against a metric with its OLS line, per-layer metric
//! "correlation flow" lines, and the ESD of one layer on log-log axes.
//!
//! Written by hand rather than with `plotters`: without its font features `plotters` cannot
//! measure text, so label areas and tick labels overlap, and its font features need system font
//! libraries. Each function returns one self-contained `<svg>` element (no scripts, external
//! fonts, style sheets or ids), identical byte for byte for identical input. Non-finite values
//! are skipped; when nothing is left the chart says "no data" instead of failing.

mod axis;
mod svg;

use axis::{
    LogTick, Scale, finite_range, linear_ticks, log_ticks, padded, plain_log_label, tick_label,
};
use svg::{Anchor, Font, INK, Stroke, Svg, text_width, truncate};

use crate::stats::Correlation;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 460.0;
const TITLE_SIZE: f64 = 15.0;
const LABEL_SIZE: f64 = 13.0;
const TICK_SIZE: f64 = 11.5;
const POINT_LABEL_SIZE: f64 = 11.0;
/// Longest point or legend label drawn, in characters (names can come from model files).
const MAX_LABEL_CHARS: usize = 28;
const GRID: &str = "#e5e5e5";
const FRAME: &str = "#8a8a8a";
const POINT: &str = "#1f77b4";
const FIT: &str = "#d62728";
/// Tableau 10, a palette chosen for distinguishable lines on white.
const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// One line of a `lines` chart.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// (x, y) points, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Palette slot: series with the same group share a colour. `None` uses the series position.
    pub group: Option<usize>,
}

/// Title text for `scatter_with_fit`, in the style of the WeightWatcher notebooks:
/// "alpha_weighted: RMSE 0.48, R² 0.92, τ −0.93". Missing statistics are left out.
pub fn fit_title(metric: &str, c: &Correlation) -> String {
    let parts: Vec<String> = [("RMSE", c.rmse), ("R²", c.r2), ("τ", c.kendall_tau)]
        .iter()
        .filter_map(|(name, v)| v.map(|v| format!("{name} {}", tick_label(v, 2))))
        .collect();
    if parts.is_empty() {
        metric.to_string()
    } else {
        format!("{metric}: {}", parts.join(", "))
    }
}

/// Accuracy vs a metric, one labelled dot per model, and the OLS line `line = (slope, intercept)`
/// (as returned by `stats::ols`) clipped to the plot. Stats belong in the title (see `fit_title`).
pub fn scatter_with_fit(
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[(String, f64, f64)],
    line: Option<(f64, f64)>,
) -> String {
    let pts: Vec<(&str, f64, f64)> = points
        .iter()
        .filter(|(_, x, y)| x.is_finite() && y.is_finite())
        .map(|(l, x, y)| (l.as_str(), *x, *y))
        .collect();
    let (Some(xr), Some(yr)) = (
        finite_range(pts.iter().map(|p| p.1)),
        finite_range(pts.iter().map(|p| p.2)),
    ) else {
        return no_data(title);
    };
    let x = LinearAxis::new(padded(xr, 0.1), 7);
    let y = LinearAxis::new(padded(yr, 0.12), 6);
    let frame = Frame::for_linear(&y, 24.0);
    let (mut svg, xs, ys) = frame.start(
        title,
        (x.domain, y.domain),
        (&x.ticks(), &y.ticks()),
        (x_label, y_label),
    );

    let mut obstacles = Vec::new();
    if let Some((slope, intercept)) = line.filter(|(b, a)| b.is_finite() && a.is_finite()) {
        let p0 = (x.domain.0, intercept + slope * x.domain.0);
        let p1 = (x.domain.1, intercept + slope * x.domain.1);
        if let Some((a, b)) = clip_segment(p0, p1, x.domain, y.domain) {
            let (a, b) = ((xs.map(a.0), ys.map(a.1)), (xs.map(b.0), ys.map(b.1)));
            svg.line(a, b, Stroke::solid(FIT, 1.8));
            obstacles = segment_boxes(a, b);
        }
    }
    let pixels: Vec<(f64, f64)> = pts.iter().map(|p| (xs.map(p.1), ys.map(p.2))).collect();
    for &p in &pixels {
        svg.circle(p, 4.5, POINT, Some(Stroke::solid("#ffffff", 1.0)));
    }
    let labels: Vec<String> = pts.iter().map(|p| truncate(p.0, MAX_LABEL_CHARS)).collect();
    obstacles.extend(
        pixels
            .iter()
            .map(|p| BoxPx::new(p.0 - 4.5, p.1 - 4.5, p.0 + 4.5, p.1 + 4.5)),
    );
    place_point_labels(&mut svg, &frame, &pixels, &labels, &obstacles);
    svg.finish()
}

/// "Correlation flow": a metric against layer id, one line per model, legend on the right.
/// Non-finite points break a line rather than being joined over.
pub fn lines(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let (Some(xr), Some(yr)) = (
        finite_range(all().filter(finite).map(|p| p.0)),
        finite_range(all().filter(finite).map(|p| p.1)),
    ) else {
        return no_data(title);
    };
    let legend: Vec<String> = series
        .iter()
        .map(|s| truncate(&s.label, MAX_LABEL_CHARS))
        .collect();
    let legend_width = legend
        .iter()
        .map(|l| text_width(l, TICK_SIZE))
        .fold(0.0, f64::max)
        + 56.0;
    let x = LinearAxis::new(padded(xr, 0.03), 8);
    let y = LinearAxis::new(padded(yr, 0.08), 6);
    let frame = Frame::for_linear(&y, legend_width.min(260.0) + 12.0);
    let (mut svg, xs, ys) = frame.start(
        title,
        (x.domain, y.domain),
        (&x.ticks(), &y.ticks()),
        (x_label, y_label),
    );

    let mut entries = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let style = series_style(s.group.unwrap_or(i));
        let dense = s.points.len() > 60;
        for run in s.points.split(|p| !(p.0.is_finite() && p.1.is_finite())) {
            let px: Vec<(f64, f64)> = run.iter().map(|p| (xs.map(p.0), ys.map(p.1))).collect();
            svg.polyline(&px, style);
            if !dense || px.len() == 1 {
                for &p in &px {
                    svg.circle(p, 2.6, style.colour, None);
                }
            }
        }
        entries.push((legend.get(i).cloned().unwrap_or_default(), style));
    }
    draw_legend(&mut svg, (frame.x1 + 14.0, frame.y0), frame.y1, &entries);
    svg.finish()
}

/// Colour (and, past the palette, a dash) for palette slot `slot`.
fn series_style(slot: usize) -> Stroke<'static> {
    let colour = PALETTE.get(slot % PALETTE.len()).copied().unwrap_or(INK);
    if (slot / PALETTE.len()) % 2 == 1 {
        Stroke::dashed(colour, 1.6, "5 3")
    } else {
        Stroke::solid(colour, 1.6)
    }
}

/// ESD on log-log axes: a density histogram over log-spaced bins of the eigenvalues, the fitted
/// power law p(λ) ∝ λ^−α from `xmin` over the tail, a marker at xmin, and for `mp_bulk = (λ−, λ+)`
/// markers at the bulk edges with the Marchenko–Pastur density those edges imply.
pub fn esd_loglog(
    title: &str,
    evals: &[f64],
    xmin: Option<f64>,
    alpha: Option<f64>,
    mp_bulk: Option<(f64, f64)>,
) -> String {
    let logs: Vec<f64> = evals
        .iter()
        .filter(|v| v.is_finite() && **v > 0.0)
        .map(|v| v.log10())
        .collect();
    let Some(range) = finite_range(logs.iter().copied()) else {
        return no_data(title);
    };
    let xmin = xmin.filter(|v| v.is_finite() && *v > 0.0);
    let mp = mp_bulk.and_then(|(lo, hi)| MpDensity::from_edges(lo, hi));
    let hist = Histogram::log_binned(&logs, range);

    // x domain: the eigenvalues plus the markers, padded.
    let marks = xmin
        .iter()
        .map(|v| v.log10())
        .chain(mp.iter().flat_map(|m| m.edges_log10()));
    let x_range = finite_range(logs.iter().copied().chain(marks)).unwrap_or(range);
    let xd = padded(x_range, 0.04);
    let tail = PowerLawTail::new(xmin, alpha, &logs, &hist);
    let yd = density_domain(&hist, tail.as_ref(), mp.as_ref());

    let frame = Frame::for_log_y(160.0);
    let (mut svg, xs, ys) = frame.start(
        title,
        (xd, yd),
        (&log_axis_ticks(xd), &log_axis_ticks(yd)),
        ("eigenvalue λ", "density"),
    );
    let mut entries = vec![("ESD".to_string(), Stroke::solid("#9ecae1", 8.0))];
    for bar in hist.bars() {
        let top = ys.map(bar.log_density.max(yd.0));
        let (left, right) = (xs.map(bar.lo), xs.map(bar.hi));
        svg.rect(
            (left, top),
            (right - left, frame.y1 - top),
            "#9ecae1",
            Some(Stroke::solid("#6baed6", 0.5)),
        );
    }
    if let Some(m) = &mp {
        let px: Vec<(f64, f64)> = m
            .curve_log10(xd)
            .into_iter()
            .filter(|p| p.1 >= yd.0 && p.1 <= yd.1)
            .map(|p| (xs.map(p.0), ys.map(p.1)))
            .collect();
        svg.polyline(&px, Stroke::solid("#2ca02c", 1.6));
        entries.push(("MP density".to_string(), Stroke::solid("#2ca02c", 1.6)));
        let edge = Stroke::dashed("#2ca02c", 1.2, "2 3");
        for e in m.edges_log10() {
            svg.line((xs.map(e), frame.y0), (xs.map(e), frame.y1), edge);
        }
        entries.push(("MP bulk edges".to_string(), edge));
    }
    if let Some(t) = &tail {
        let p0 = (t.log_xmin, t.log_density(t.log_xmin));
        let p1 = (xd.1, t.log_density(xd.1));
        if let Some((a, b)) = clip_segment(p0, p1, xd, yd) {
            let stroke = Stroke::solid(FIT, 2.0);
            svg.line(
                (xs.map(a.0), ys.map(a.1)),
                (xs.map(b.0), ys.map(b.1)),
                stroke,
            );
            entries.push((format!("power law, α = {}", tick_label(t.alpha, 2)), stroke));
        }
    }
    if let Some(v) = xmin {
        let stroke = Stroke::dashed("#444444", 1.3, "6 4");
        let x = xs.map(v.log10());
        svg.line((x, frame.y0), (x, frame.y1), stroke);
        entries.push((format!("xmin = {}", significant(v)), stroke));
    }
    draw_legend(&mut svg, (frame.x1 + 14.0, frame.y0), frame.y1, &entries);
    svg.finish()
}

/// A value with 3 significant digits, for legend text.
fn significant(v: f64) -> String {
    let decimals = (2.0 - v.abs().log10().floor()).clamp(0.0, 6.0) as usize;
    tick_label(v, decimals)
}

/// A linear axis: its domain and the ticks inside it.
struct LinearAxis {
    domain: (f64, f64),
    target: usize,
}

impl LinearAxis {
    fn new(domain: (f64, f64), target: usize) -> Self {
        LinearAxis { domain, target }
    }

    fn ticks(&self) -> Vec<Tick> {
        let (ticks, decimals) = linear_ticks(self.domain.0, self.domain.1, self.target);
        ticks
            .into_iter()
            .map(|v| Tick {
                at: v,
                text: TickText::Plain(tick_label(v, decimals)),
            })
            .collect()
    }
}

/// A tick position (data units) and its label.
struct Tick {
    at: f64,
    text: TickText,
}

enum TickText {
    Plain(String),
    /// 10 raised to the given exponent.
    Power(String),
}

impl TickText {
    fn width(&self, size: f64) -> f64 {
        match self {
            TickText::Plain(s) => text_width(s, size),
            TickText::Power(e) => text_width("10", size) + text_width(e, 0.75 * size),
        }
    }
}

fn log_axis_ticks(domain: (f64, f64)) -> Vec<Tick> {
    log_ticks(domain.0, domain.1)
        .into_iter()
        .map(|t| Tick {
            at: t.position(),
            text: match t {
                LogTick::Decade(k) => TickText::Power(tick_label(f64::from(k), 0)),
                LogTick::Plain(v) => TickText::Plain(plain_log_label(v)),
            },
        })
        .collect()
}

/// The plot area in pixels.
struct Frame {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Frame {
    /// Left margin sized to the widest y tick label; `right` reserved for labels or a legend.
    fn with_left(left: f64, right: f64) -> Self {
        Frame {
            x0: left,
            y0: 46.0,
            x1: WIDTH - right,
            y1: HEIGHT - 58.0,
        }
    }

    fn for_linear(y: &LinearAxis, right: f64) -> Self {
        Self::with_left(Self::left_margin(&y.ticks()), right)
    }

    fn for_log_y(right: f64) -> Self {
        Self::with_left(66.0, right)
    }

    fn left_margin(y_ticks: &[Tick]) -> f64 {
        let widest = y_ticks
            .iter()
            .map(|t| t.text.width(TICK_SIZE))
            .fold(0.0, f64::max);
        (widest + 40.0).clamp(56.0, 140.0)
    }

    /// A new chart: the SVG with its title and axes drawn, and the data-to-pixel scales.
    fn start(
        &self,
        title: &str,
        (x_domain, y_domain): ((f64, f64), (f64, f64)),
        (x_ticks, y_ticks): (&[Tick], &[Tick]),
        labels: (&str, &str),
    ) -> (Svg, Scale, Scale) {
        let (xs, ys) = (self.x_scale(x_domain), self.y_scale(y_domain));
        let mut svg = Svg::new(WIDTH, HEIGHT, title);
        draw_title(&mut svg, title);
        self.draw_axes(&mut svg, x_ticks, y_ticks, (xs, ys), labels);
        (svg, xs, ys)
    }

    fn x_scale(&self, domain: (f64, f64)) -> Scale {
        Scale::new(domain, (self.x0, self.x1))
    }

    fn y_scale(&self, domain: (f64, f64)) -> Scale {
        Scale::new(domain, (self.y1, self.y0))
    }

    /// Grid, frame, tick labels and axis titles.
    fn draw_axes(
        &self,
        svg: &mut Svg,
        x_ticks: &[Tick],
        y_ticks: &[Tick],
        (xs, ys): (Scale, Scale),
        (x_label, y_label): (&str, &str),
    ) {
        let grid = Stroke::solid(GRID, 1.0);
        let tick_font = Font::new(TICK_SIZE, Anchor::Middle);
        for t in x_ticks.iter().filter(|t| xs.contains(t.at)) {
            let x = xs.map(t.at);
            svg.line((x, self.y0), (x, self.y1), grid);
            svg.line((x, self.y1), (x, self.y1 + 4.0), Stroke::solid(FRAME, 1.0));
            draw_tick_text(svg, (x, self.y1 + 18.0), &t.text, tick_font);
        }
        let y_font = Font::new(TICK_SIZE, Anchor::End);
        for t in y_ticks.iter().filter(|t| ys.contains(t.at)) {
            let y = ys.map(t.at);
            svg.line((self.x0, y), (self.x1, y), grid);
            svg.line((self.x0 - 4.0, y), (self.x0, y), Stroke::solid(FRAME, 1.0));
            draw_tick_text(svg, (self.x0 - 7.0, y + 4.0), &t.text, y_font);
        }
        svg.rect(
            (self.x0, self.y0),
            (self.x1 - self.x0, self.y1 - self.y0),
            "none",
            Some(Stroke::solid(FRAME, 1.0)),
        );
        let label_font = Font::new(LABEL_SIZE, Anchor::Middle);
        let x_room = ((self.x1 - self.x0) / (0.58 * LABEL_SIZE)) as usize;
        svg.text(
            ((self.x0 + self.x1) / 2.0, HEIGHT - 16.0),
            &truncate(x_label, x_room),
            label_font,
        );
        let y_room = ((self.y1 - self.y0) / (0.58 * LABEL_SIZE)) as usize;
        svg.text_vertical(
            (18.0, (self.y0 + self.y1) / 2.0),
            &truncate(y_label, y_room),
            label_font,
        );
    }
}

fn draw_tick_text(svg: &mut Svg, at: (f64, f64), text: &TickText, font: Font) {
    match text {
        TickText::Plain(s) => svg.text(at, s, font),
        TickText::Power(e) => {
            // Anchor the "10" so that base plus exponent stay centred or right-aligned as asked.
            let shift = match font.anchor {
                Anchor::Middle => -0.5 * text_width(e, 0.75 * font.size),
                Anchor::End => -text_width(e, 0.75 * font.size),
                Anchor::Start => 0.0,
            };
            svg.text_power((at.0 + shift, at.1), "10", e, font);
        }
    }
}

fn draw_title(svg: &mut Svg, title: &str) {
    let room = ((WIDTH - 24.0) / (0.6 * TITLE_SIZE)) as usize;
    let mut font = Font::new(TITLE_SIZE, Anchor::Middle);
    font.bold = true;
    svg.text((WIDTH / 2.0, 26.0), &truncate(title, room), font);
}

/// Legend entries stacked from `at`; entries that do not fit above `bottom` are summarised.
fn draw_legend(svg: &mut Svg, at: (f64, f64), bottom: f64, entries: &[(String, Stroke)]) {
    const ROW: f64 = 18.0;
    let rows = (((bottom - at.1) / ROW) as usize).max(1);
    let shown = if entries.len() > rows {
        rows - 1
    } else {
        entries.len()
    };
    let font = Font::new(TICK_SIZE, Anchor::Start);
    for (i, (label, stroke)) in entries.iter().take(shown).enumerate() {
        let y = at.1 + 10.0 + ROW * i as f64;
        svg.line((at.0, y - 4.0), (at.0 + 22.0, y - 4.0), *stroke);
        svg.text((at.0 + 28.0, y), label, font);
    }
    if shown < entries.len() {
        let y = at.1 + 10.0 + ROW * shown as f64;
        let more = format!("… {} more", entries.len() - shown);
        svg.text((at.0 + 28.0, y), &more, font);
    }
}

/// Small boxes covering a drawn line segment, so that labels can keep clear of it.
fn segment_boxes(a: (f64, f64), b: (f64, f64)) -> Vec<BoxPx> {
    let length = (b.0 - a.0).hypot(b.1 - a.1);
    let steps = ((length / 4.0).ceil() as usize).min(2000);
    (0..=steps)
        .map(|i| {
            let t = i as f64 / steps.max(1) as f64;
            let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            BoxPx::new(x - 1.5, y - 1.5, x + 1.5, y + 1.5)
        })
        .collect()
}

/// Place each point's label beside it, trying several positions and keeping the first that
/// overlaps neither earlier labels nor `obstacles` (points, the fit line) nor the frame edge.
fn place_point_labels(
    svg: &mut Svg,
    frame: &Frame,
    points: &[(f64, f64)],
    labels: &[String],
    obstacles: &[BoxPx],
) {
    const CANDIDATES: [(f64, f64, Anchor); 8] = [
        (7.0, -6.0, Anchor::Start),
        (7.0, 14.0, Anchor::Start),
        (-7.0, -6.0, Anchor::End),
        (-7.0, 14.0, Anchor::End),
        (0.0, -10.0, Anchor::Middle),
        (0.0, 19.0, Anchor::Middle),
        (9.0, 4.0, Anchor::Start),
        (-9.0, 4.0, Anchor::End),
    ];
    let mut placed: Vec<BoxPx> = Vec::new();
    let font_colour = "#333333";
    for (p, label) in points.iter().zip(labels) {
        let w = text_width(label, POINT_LABEL_SIZE);
        let options = CANDIDATES.iter().map(|&(dx, dy, anchor)| {
            let (x, y) = (p.0 + dx, p.1 + dy);
            let left = match anchor {
                Anchor::Start => x,
                Anchor::Middle => x - w / 2.0,
                Anchor::End => x - w,
            };
            let bx = BoxPx::new(
                left,
                y - 0.8 * POINT_LABEL_SIZE,
                left + w,
                y + 0.25 * POINT_LABEL_SIZE,
            );
            let cost = bx.outside(frame) * 4.0
                + placed
                    .iter()
                    .chain(obstacles)
                    .map(|o| bx.overlap(o))
                    .sum::<f64>();
            ((x, y, anchor), bx, cost)
        });
        // First zero-cost candidate, else the least bad one (ties keep the earlier candidate).
        let best = options.fold(
            None,
            |best: Option<((f64, f64, Anchor), BoxPx, f64)>, c| match best {
                Some(b) if b.2 <= c.2 => Some(b),
                _ => Some(c),
            },
        );
        if let Some(((x, y, anchor), bx, _)) = best {
            let mut font = Font::new(POINT_LABEL_SIZE, anchor);
            font.colour = font_colour;
            svg.text((x, y), label, font);
            placed.push(bx);
        }
    }
}

/// An axis-aligned box in pixels.
#[derive(Clone, Copy, Debug)]
struct BoxPx {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl BoxPx {
    fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Self {
        BoxPx { x0, y0, x1, y1 }
    }

    fn overlap(&self, o: &BoxPx) -> f64 {
        let w = (self.x1.min(o.x1) - self.x0.max(o.x0)).max(0.0);
        let h = (self.y1.min(o.y1) - self.y0.max(o.y0)).max(0.0);
        w * h
    }

    /// Area outside the plot frame (with a 2 px inset, so labels never touch the border).
    fn outside(&self, f: &Frame) -> f64 {
        let area = (self.x1 - self.x0) * (self.y1 - self.y0);
        let inside = self.overlap(&BoxPx::new(f.x0 + 2.0, f.y0 + 2.0, f.x1 - 2.0, f.y1 - 2.0));
        area - inside
    }
}

/// Clip the segment p0→p1 to the box `xd`×`yd` (Liang–Barsky); `None` when it misses the box.
fn clip_segment(
    p0: (f64, f64),
    p1: (f64, f64),
    xd: (f64, f64),
    yd: (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (p1.0 - p0.0, p1.1 - p0.1);
    let mut t0: f64 = 0.0;
    let mut t1: f64 = 1.0;
    for (p, q) in [
        (-dx, p0.0 - xd.0),
        (dx, xd.1 - p0.0),
        (-dy, p0.1 - yd.0),
        (dy, yd.1 - p0.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 || !t0.is_finite() || !t1.is_finite() {
        return None;
    }
    let at = |t: f64| (p0.0 + t * dx, p0.1 + t * dy);
    Some((at(t0), at(t1)))
}

/// Density histogram over equal-width bins in log10 λ.
struct Histogram {
    /// Bin edges in log10 units.
    edges: Vec<f64>,
    counts: Vec<usize>,
    total: usize,
}

/// One non-empty bin: its log10 edges and log10 density (per unit λ).
struct Bar {
    lo: f64,
    hi: f64,
    log_density: f64,
}

impl Histogram {
    /// About 2√n bins, between 10 and 100 (WW plots 100 bins; few eigenvalues need fewer).
    fn log_binned(logs: &[f64], range: (f64, f64)) -> Self {
        let n = logs.len();
        let bins = ((2.0 * (n as f64).sqrt()).ceil() as usize).clamp(10, 100);
        let (lo, hi) = if range.1 > range.0 {
            range
        } else {
            (range.0 - 0.5, range.1 + 0.5)
        };
        let width = (hi - lo) / bins as f64;
        let edges: Vec<f64> = (0..=bins).map(|i| lo + width * i as f64).collect();
        let mut counts = vec![0usize; bins];
        for &v in logs {
            let i = (((v - lo) / width).floor() as usize).min(bins - 1);
            if let Some(c) = counts.get_mut(i) {
                *c += 1;
            }
        }
        Histogram {
            edges,
            counts,
            total: n,
        }
    }

    fn bars(&self) -> impl Iterator<Item = Bar> + '_ {
        self.counts
            .iter()
            .zip(self.edges.windows(2))
            .filter(|(c, _)| **c > 0)
            .map(|(&c, e)| {
                let dlambda = 10f64.powf(e[1]) - 10f64.powf(e[0]);
                Bar {
                    lo: e[0],
                    hi: e[1],
                    log_density: (c as f64 / (self.total as f64 * dlambda)).log10(),
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

/// The fitted tail p(λ) = c·λ^−α drawn from xmin.
struct PowerLawTail {
    alpha: f64,
    log_xmin: f64,
    /// log10 of the density at xmin.
    log_at_xmin: f64,
}

impl PowerLawTail {
    /// Normalised to the tail's share of the eigenvalues: p(λ) = f·(α−1)/xmin·(λ/xmin)^−α. For
    /// α ≤ 1 (not normalisable) the line is anchored at the histogram instead.
    fn new(xmin: Option<f64>, alpha: Option<f64>, logs: &[f64], hist: &Histogram) -> Option<Self> {
        let (xmin, alpha) = (xmin?, alpha.filter(|a| a.is_finite())?);
        let log_xmin = xmin.log10();
        let log_at_xmin = if alpha > 1.0 {
            let tail = logs.iter().filter(|v| **v >= log_xmin).count();
            let share = tail as f64 / logs.len().max(1) as f64;
            (share * (alpha - 1.0) / xmin).log10()
        } else {
            hist.log_density_at(log_xmin)?
        };
        log_at_xmin.is_finite().then_some(PowerLawTail {
            alpha,
            log_xmin,
            log_at_xmin,
        })
    }

    fn log_density(&self, log_lambda: f64) -> f64 {
        self.log_at_xmin - self.alpha * (log_lambda - self.log_xmin)
    }
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

    /// (log10 λ, log10 density) over the bulk, sampled evenly in log λ within `xd`.
    fn curve_log10(&self, xd: (f64, f64)) -> Vec<(f64, f64)> {
        const SAMPLES: usize = 240;
        let from = if self.lo > 0.0 {
            self.lo.log10().max(xd.0)
        } else {
            xd.0
        };
        let to = self.hi.log10().min(xd.1);
        if to <= from {
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
}

/// y domain (log10 density) covering the bars, the power law at xmin and the MP peak, kept to at
/// most nine decades below the top so a steep tail does not flatten the histogram.
fn density_domain(
    hist: &Histogram,
    tail: Option<&PowerLawTail>,
    mp: Option<&MpDensity>,
) -> (f64, f64) {
    let bars = hist.bars().map(|b| b.log_density);
    let extra = tail.map(|t| t.log_at_xmin).into_iter().chain(
        mp.iter()
            .flat_map(|m| m.curve_log10((f64::NEG_INFINITY, f64::INFINITY)))
            .map(|p| p.1)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            }),
    );
    let (lo, hi) = finite_range(bars.chain(extra)).unwrap_or((-1.0, 1.0));
    let hi = hi + 0.3;
    let lo = (lo - 0.3).max(hi - 9.0);
    if hi - lo < 1.0 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

/// A chart frame with the title and a centred "no data" message.
fn no_data(title: &str) -> String {
    let mut svg = Svg::new(WIDTH, HEIGHT, title);
    draw_title(&mut svg, title);
    svg.rect(
        (40.0, 46.0),
        (WIDTH - 80.0, HEIGHT - 100.0),
        "#fafafa",
        Some(Stroke::solid(GRID, 1.0)),
    );
    let mut font = Font::new(16.0, Anchor::Middle);
    font.colour = "#777777";
    svg.text((WIDTH / 2.0, HEIGHT / 2.0), "no data", font);
    svg.finish()
}

#[cfg(test)]
#[path = "plots_tests.rs"]
mod tests;
