//! The one-model audit report: `report.html` and `report.md`, written by `tailwatch analyze`
//! beside `details.csv`, and by `tailwatch gate --report DIR` with the verdict and, with a
//! baseline, the before/after comparison.
//!
//! What comes first is what a person needs first: the model and how it was analyzed, then the
//! findings ([`findings`]), then the layer profiles, one ESD figure per analyzed row and the
//! per-layer table. The content is built once ([`content`]) and rendered twice (`html`,
//! `markdown`); the charts are the study report's (`report::plots`).
//!
//! ```
//! use std::path::Path;
//! use tailwatch::analysis::analyze_file;
//! use tailwatch::options::{AnalysisOptions, Preset};
//! use tailwatch::report::audit::{self, Audit};
//!
//! let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ww-0.7.7/mlp_gemm.onnx");
//! let analysis = analyze_file(&model, &AnalysisOptions::default())?;
//! let report = Audit::new(&analysis, Preset::Ww);
//! let html = audit::html(&report);
//! assert!(html.contains("fc1.weight") && html.contains("<figure class=\"esd\""));
//! // Names are escaped for Markdown.
//! assert!(audit::markdown(&report).starts_with("# tailwatch audit: mlp\\_gemm.onnx"));
//! # Ok::<(), tailwatch::Error>(())
//! ```

pub mod content;
pub mod findings;
mod html;
mod markdown;

use std::path::PathBuf;

use crate::analysis::ModelAnalysis;
use crate::error::Result;
use crate::gate::{Evidence, Verdict};
use crate::io::OutDir;
use crate::options::Preset;

pub use content::Content;
pub use findings::{Finding, Kind, Severity};

/// What one audit report is about.
#[derive(Clone, Copy, Debug)]
pub struct Audit<'a> {
    /// The analyzed model.
    pub analysis: &'a ModelAnalysis,
    /// The preset its options start from (the report lists every option that differs).
    pub preset: Preset,
    /// With `gate --report`: the verdict and the baseline.
    pub gate: Option<GateView<'a>>,
}

/// The gate's side of a report.
#[derive(Clone, Copy, Debug)]
pub struct GateView<'a> {
    /// The verdict.
    pub verdict: &'a Verdict,
    /// The baseline as the gate saw it (its ESDs only when it was a model, not a report).
    pub baseline: Option<&'a Evidence>,
}

impl<'a> Audit<'a> {
    /// The report of an analysis on its own.
    pub fn new(analysis: &'a ModelAnalysis, preset: Preset) -> Self {
        Audit {
            analysis,
            preset,
            gate: None,
        }
    }
}

/// `report.html`: one self-contained page.
pub fn html(a: &Audit) -> String {
    html::render(&Content::build(a))
}

/// `report.md`: the same findings and tables, for a terminal or a merge request.
pub fn markdown(a: &Audit) -> String {
    markdown::render(&Content::build(a))
}

/// The report of a gate run that could not analyze the model at all: the verdict and its
/// errors, in the first lines, so that a CI job always finds a report that says what happened.
pub fn write_unevaluated(out: &OutDir, verdict: &Verdict) -> Result<Vec<PathBuf>> {
    use crate::report::escape::{Escape, escape};
    let title = format!("tailwatch gate: {}", verdict.model.source);
    let mut h = crate::report::page::start(&title);
    h.push_str("<p class=\"bad\"><b>ERROR: the gate could not be evaluated</b> (exit 2); the model was not analyzed.</p>\n<ul>");
    for e in &verdict.errors {
        h.push_str(&format!("<li>{}</li>", escape(e, Escape::Text)));
    }
    h.push_str("</ul>\n");
    h.push_str(crate::report::page::end());
    let md = format!(
        "# {}\n\n{}",
        crate::report::escape::markdown(&title),
        crate::gate::summary_md::to_markdown(verdict)
    );
    Ok(vec![
        out.write("report.html", h.as_bytes())?,
        out.write("report.md", md.as_bytes())?,
    ])
}

/// Write `report.html` and `report.md` into `out`; returns the paths written.
pub fn write(out: &OutDir, a: &Audit) -> Result<Vec<PathBuf>> {
    let c = Content::build(a);
    Ok(vec![
        out.write("report.html", html::render(&c).as_bytes())?,
        out.write("report.md", markdown::render(&c).as_bytes())?,
    ])
}
