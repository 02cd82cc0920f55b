//! SVG charts for the HTML report: accuracy against a metric with its OLS line, per-layer metric
//! "correlation flow" lines, and the ESD of one layer on log-log axes.
//!
//! Written by hand rather than with `plotters`: without its font features `plotters` cannot
//! measure text, so label areas and tick labels overlap, and its font features need system font
//! libraries. Each function returns one self-contained `<svg>` element (no scripts, external
//! fonts, style sheets or ids), identical byte for byte for identical input. Non-finite values
//! are skipped; when nothing is left the chart says "no data" instead of failing.

mod axis;
mod esd;
mod svg;

pub use esd::{EsdChart, TailFit, esd_linear, esd_loglog};

use axis::{
    LogTick, Scale, finite_range, linear_ticks, log_ticks, padded, plain_log_label, tick_label,
};
use std::fmt::Write;

use svg::{Anchor, Font, INK, Stroke, Svg, num, text_width, truncate};

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
///
/// Each point carries its name when every name fits beside its point without touching another
/// name, a point or the line; otherwise (clustered models) the points are numbered and a key on
/// the right gives the names, so that no two labels overlap.
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
    let names: Vec<String> = pts.iter().map(|p| truncate(p.0, MAX_LABEL_CHARS)).collect();
    let line = line.filter(|(b, a)| b.is_finite() && a.is_finite());
    let scene = |frame: &Frame| {
        let (xs, ys) = (frame.x_scale(x.domain), frame.y_scale(y.domain));
        let fit = line.and_then(|(slope, intercept)| {
            let p0 = (x.domain.0, intercept + slope * x.domain.0);
            let p1 = (x.domain.1, intercept + slope * x.domain.1);
            clip_segment(p0, p1, x.domain, y.domain)
                .map(|(a, b)| ((xs.map(a.0), ys.map(a.1)), (xs.map(b.0), ys.map(b.1))))
        });
        let pixels: Vec<(f64, f64)> = pts.iter().map(|p| (xs.map(p.1), ys.map(p.2))).collect();
        let mut obstacles = fit.map_or_else(Vec::new, |(a, b)| segment_boxes(a, b));
        obstacles.extend(
            pixels
                .iter()
                .map(|p| BoxPx::new(p.0 - 4.5, p.1 - 4.5, p.0 + 4.5, p.1 + 4.5)),
        );
        (fit, pixels, obstacles)
    };
    let named = Frame::for_linear(&y, 24.0);
    let (fit, pixels, obstacles) = scene(&named);
    let by_name = layout_point_labels(&named, &pixels, &names, &obstacles);
    let clean = by_name.iter().all(|l| l.cost == 0.0);
    let numbers: Vec<String> = (1..=pts.len()).map(|i| i.to_string()).collect();
    let key: Vec<String> = names
        .iter()
        .zip(&numbers)
        .map(|(n, i)| format!("{i}  {n}"))
        .collect();
    let key_width = key
        .iter()
        .map(|k| text_width(k, TICK_SIZE))
        .fold(0.0, f64::max)
        .min(240.0)
        + 20.0;
    let numbered = Frame::for_linear(&y, key_width);
    let (frame, fit, pixels, labels) = if clean {
        (named, fit, pixels, by_name)
    } else {
        let (fit, pixels, obstacles) = scene(&numbered);
        let labels = layout_point_labels(&numbered, &pixels, &numbers, &obstacles);
        (numbered, fit, pixels, labels)
    };

    let (mut svg, _, _) = frame.start(
        title,
        (x.domain, y.domain),
        (&x.ticks(), &y.ticks()),
        (x_label, y_label),
    );
    if let Some((a, b)) = fit {
        svg.line(a, b, Stroke::solid(FIT, 1.8));
    }
    for &p in &pixels {
        svg.circle(p, 4.5, POINT, Some(Stroke::solid("#ffffff", 1.0)));
    }
    for l in &labels {
        let mut font = Font::new(POINT_LABEL_SIZE, l.anchor);
        font.colour = "#333333";
        svg.text(l.at, &l.text, font);
    }
    if !clean {
        draw_key(&mut svg, (frame.x1 + 10.0, frame.y0), frame.y1, &key);
    }
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

    /// A log y axis: the left margin fits its tick labels (decades, or plain values when the
    /// axis spans less than one), and at least 66 px.
    fn for_log_y(y_ticks: &[Tick], right: f64) -> Self {
        Self::with_left(Self::left_margin(y_ticks).max(66.0), right)
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
        // Grid lines and tick marks as one path each: a report holds hundreds of charts.
        let (mut grid, mut marks) = (String::new(), String::new());
        let tick_font = Font::new(TICK_SIZE, Anchor::Middle);
        for t in x_ticks.iter().filter(|t| xs.contains(t.at)) {
            let x = num(xs.map(t.at));
            let _ = write!(grid, "M{x},{}V{}", num(self.y0), num(self.y1));
            let _ = write!(marks, "M{x},{}v4", num(self.y1));
            draw_tick_text(svg, (xs.map(t.at), self.y1 + 18.0), &t.text, tick_font);
        }
        let y_font = Font::new(TICK_SIZE, Anchor::End);
        for t in y_ticks.iter().filter(|t| ys.contains(t.at)) {
            let y = num(ys.map(t.at));
            let _ = write!(grid, "M{},{y}H{}", num(self.x0), num(self.x1));
            let _ = write!(marks, "M{},{y}h4", num(self.x0 - 4.0));
            draw_tick_text(svg, (self.x0 - 7.0, ys.map(t.at) + 4.0), &t.text, y_font);
        }
        svg.path(&grid, "none", Some(Stroke::solid(GRID, 1.0)));
        svg.path(&marks, "none", Some(Stroke::solid(FRAME, 1.0)));
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

/// A point label as placed: where, how anchored, and how much it overlaps (0: not at all).
struct PlacedLabel {
    text: String,
    at: (f64, f64),
    anchor: Anchor,
    cost: f64,
}

/// Place each point's label beside it, trying several positions and keeping the first that
/// overlaps neither earlier labels nor `obstacles` (points, the fit line) nor the frame edge,
/// else the least bad one (its `cost` says by how much it overlaps).
fn layout_point_labels(
    frame: &Frame,
    points: &[(f64, f64)],
    labels: &[String],
    obstacles: &[BoxPx],
) -> Vec<PlacedLabel> {
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
    let mut out = Vec::new();
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
        if let Some(((x, y, anchor), bx, cost)) = best {
            placed.push(bx);
            out.push(PlacedLabel {
                text: label.clone(),
                at: (x, y),
                anchor,
                cost,
            });
        }
    }
    out
}

/// A key of text lines stacked from `at` (the numbered points' names); lines that do not fit
/// above `bottom` are summarised.
fn draw_key(svg: &mut Svg, at: (f64, f64), bottom: f64, entries: &[String]) {
    const ROW: f64 = 16.0;
    let rows = (((bottom - at.1) / ROW) as usize).max(1);
    let shown = if entries.len() > rows {
        rows - 1
    } else {
        entries.len()
    };
    let mut font = Font::new(TICK_SIZE, Anchor::Start);
    font.colour = "#333333";
    for (i, label) in entries.iter().take(shown).enumerate() {
        let y = at.1 + 10.0 + ROW * i as f64;
        svg.text((at.0, y), &truncate(label, MAX_LABEL_CHARS + 4), font);
    }
    if shown < entries.len() {
        let y = at.1 + 10.0 + ROW * shown as f64;
        svg.text(
            (at.0, y),
            &format!("… {} more", entries.len() - shown),
            font,
        );
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
