//! A minimal SVG writer: elements as attribute strings, text escaped, numbers formatted with a
//! fixed precision so that the output is identical byte for byte on every run.
//!
//! No `<style>` or ids: the charts are inlined into one HTML page, where a style sheet would leak
//! into the page and repeated ids would clash.

use std::fmt::Write;

use crate::report::escape::{Escape, escape};

/// Font stack that every browser and rsvg resolve without shipping a font.
const FONT: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";
/// Default text colour.
pub const INK: &str = "#222222";

/// Horizontal text anchoring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// Stroke of a line or outline.
#[derive(Clone, Copy, Debug)]
pub struct Stroke<'a> {
    pub colour: &'a str,
    pub width: f64,
    /// `stroke-dasharray` value, e.g. "6 4".
    pub dash: Option<&'a str>,
}

impl<'a> Stroke<'a> {
    pub fn solid(colour: &'a str, width: f64) -> Self {
        Stroke {
            colour,
            width,
            dash: None,
        }
    }

    pub fn dashed(colour: &'a str, width: f64, dash: &'a str) -> Self {
        Stroke {
            colour,
            width,
            dash: Some(dash),
        }
    }

    fn attrs(&self) -> String {
        let mut s = format!(
            r#"stroke="{}" stroke-width="{}""#,
            self.colour,
            num(self.width)
        );
        if let Some(d) = self.dash {
            let _ = write!(s, r#" stroke-dasharray="{d}""#);
        }
        s
    }
}

/// Text style: size in px, anchor, weight, colour.
#[derive(Clone, Copy, Debug)]
pub struct Font<'a> {
    pub size: f64,
    pub anchor: Anchor,
    pub bold: bool,
    pub colour: &'a str,
}

impl Font<'_> {
    pub fn new(size: f64, anchor: Anchor) -> Self {
        Font {
            size,
            anchor,
            bold: false,
            colour: INK,
        }
    }
}

/// Approximate rendered width of `text` at `size` px (DejaVu Sans, the widest common fallback,
/// averages ≈ 0.62 em on names like "vgg16_bn"). Used only for layout decisions (label placement,
/// margins), never for drawing.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.62
}

/// An SVG document being written.
pub struct Svg {
    buf: String,
}

impl Svg {
    /// Start a `width`×`height` document with an accessible title and a white background.
    pub fn new(width: f64, height: f64, title: &str) -> Self {
        let mut buf = String::with_capacity(16 * 1024);
        let _ = write!(
            buf,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" font-family="{FONT}">"#,
            w = num(width),
            h = num(height),
        );
        let _ = write!(buf, "<title>{}</title>", escape(title, Escape::Text));
        let mut svg = Svg { buf };
        svg.rect((0.0, 0.0), (width, height), "#ffffff", None);
        svg
    }

    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: Stroke) {
        let _ = write!(
            self.buf,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {}/>"#,
            num(from.0),
            num(from.1),
            num(to.0),
            num(to.1),
            stroke.attrs()
        );
    }

    pub fn rect(&mut self, at: (f64, f64), size: (f64, f64), fill: &str, stroke: Option<Stroke>) {
        let _ = write!(
            self.buf,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"{}/>"#,
            num(at.0),
            num(at.1),
            num(size.0.max(0.0)),
            num(size.1.max(0.0)),
            stroke.map_or(String::new(), |s| format!(" {}", s.attrs()))
        );
    }

    pub fn circle(&mut self, centre: (f64, f64), r: f64, fill: &str, stroke: Option<Stroke>) {
        let _ = write!(
            self.buf,
            r#"<circle cx="{}" cy="{}" r="{}" fill="{fill}"{}/>"#,
            num(centre.0),
            num(centre.1),
            num(r),
            stroke.map_or(String::new(), |s| format!(" {}", s.attrs()))
        );
    }

    /// An open polyline; nothing is written for fewer than two points.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: Stroke) {
        if points.len() < 2 {
            return;
        }
        let coords: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
            .collect();
        let _ = write!(
            self.buf,
            r#"<polyline points="{}" fill="none" {} stroke-linejoin="round"/>"#,
            coords.join(" "),
            stroke.attrs()
        );
    }

    /// A path from SVG path data `d` (nothing is written for empty data).
    pub fn path(&mut self, d: &str, fill: &str, stroke: Option<Stroke>) {
        if d.is_empty() {
            return;
        }
        let _ = write!(
            self.buf,
            r#"<path d="{d}" fill="{fill}"{}/>"#,
            stroke.map_or(String::new(), |s| format!(" {}", s.attrs()))
        );
    }

    /// Escaped text at `at` (baseline position).
    pub fn text(&mut self, at: (f64, f64), text: &str, font: Font) {
        self.open_text(at, font, "");
        self.buf.push_str(&escape(text, Escape::Text));
        self.buf.push_str("</text>");
    }

    /// Text rotated by −90° about its anchor point (a vertical axis label).
    pub fn text_vertical(&mut self, at: (f64, f64), text: &str, font: Font) {
        let rotate = format!(r#" transform="rotate(-90 {} {})""#, num(at.0), num(at.1));
        self.open_text(at, font, &rotate);
        self.buf.push_str(&escape(text, Escape::Text));
        self.buf.push_str("</text>");
    }

    /// "base" followed by a raised, smaller "exponent" (e.g. 10⁻³ for a log axis tick).
    pub fn text_power(&mut self, at: (f64, f64), base: &str, exponent: &str, font: Font) {
        self.open_text(at, font, "");
        let _ = write!(
            self.buf,
            r#"{}<tspan dy="{}" font-size="{}">{}</tspan></text>"#,
            escape(base, Escape::Text),
            num(-0.4 * font.size),
            num(0.75 * font.size),
            escape(exponent, Escape::Text)
        );
    }

    fn open_text(&mut self, at: (f64, f64), font: Font, extra: &str) {
        let _ = write!(
            self.buf,
            r#"<text x="{}" y="{}" font-size="{}" text-anchor="{}" fill="{}"{}{}>"#,
            num(at.0),
            num(at.1),
            num(font.size),
            font.anchor.as_str(),
            font.colour,
            if font.bold {
                r#" font-weight="bold""#
            } else {
                ""
            },
            extra
        );
    }

    pub fn finish(mut self) -> String {
        self.buf.push_str("</svg>\n");
        self.buf
    }
}

/// A coordinate with two decimals, trailing zeros trimmed, and no "-0".
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_string();
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Shorten `s` to at most `max` characters, marking the cut with "…".
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
