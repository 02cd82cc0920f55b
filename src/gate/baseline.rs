//! What a gate judges: one model's analysis ("evidence"), from a fresh analysis or from an
//! `analysis.json` saved by `tailwatch analyze`, and the baseline to compare it with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::{self, ModelAnalysis, RowEsd};
use crate::error::{Error, Result};
use crate::metrics::row::Row;
use crate::options::AnalysisOptions;
use crate::report::analysis::{SCHEMA_VERSION, summary_json};

/// The largest baseline report read (a report of a 10⁴-layer model is a few MB).
const MAX_REPORT_BYTES: u64 = 256 << 20;

/// Where the baseline comes from.
#[derive(Clone, Debug)]
pub enum BaselineSource {
    /// An ONNX model, analyzed with the gate's options.
    Model(PathBuf),
    /// An `analysis.json` written by `tailwatch analyze`.
    Report(PathBuf),
}

impl BaselineSource {
    /// The baseline given as a model or as a saved report (at most one of them).
    pub fn from_paths(model: Option<PathBuf>, report: Option<PathBuf>) -> Result<Option<Self>> {
        match (model, report) {
            (Some(_), Some(_)) => Err(Error::Options(
                "give the baseline as a model or as an analysis.json report, not both".into(),
            )),
            (Some(p), None) => Ok(Some(BaselineSource::Model(p))),
            (None, Some(p)) => Ok(Some(BaselineSource::Report(p))),
            (None, None) => Ok(None),
        }
    }
}

/// One analyzed model as the gate sees it.
#[derive(Clone, Debug)]
pub struct Evidence {
    /// The model file (as given) or the report it was read from.
    pub source: String,
    /// SHA-256 of the model file, lowercase hex.
    pub sha256: String,
    /// The options the model was analyzed with.
    pub options: AnalysisOptions,
    /// One row per analyzed layer (or slice), as in `analysis.json`'s `layers`.
    pub rows: Vec<Row>,
    /// Summary means and counts by name (`summary.json` layout); None = no value.
    pub summary: BTreeMap<String, Option<f64>>,
    /// Weight layers not analyzed (size filter and the like), informational.
    pub n_skipped: usize,
    /// The model file, when the evidence is a fresh analysis (a report has no weights to
    /// compare).
    pub file: Option<PathBuf>,
    /// The rows' eigenvalues (empty for a report).
    pub esd: Vec<RowEsd>,
}

impl Evidence {
    /// The evidence of a fresh analysis, for [`evaluate`](super::evaluate).
    pub fn from_analysis(a: &ModelAnalysis) -> Evidence {
        Evidence {
            source: a.model.file.clone(),
            sha256: a.model.sha256.clone(),
            options: a.options.clone(),
            rows: a.rows.clone(),
            summary: summary_map(&summary_json(&a.summary)),
            n_skipped: a.skipped.len(),
            file: Some(PathBuf::from(&a.model.file)),
            esd: a.esd.clone(),
        }
    }

    /// Rows with metrics: those whose weights could be analyzed.
    pub fn analyzed_rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.is_analyzed())
    }

    /// Rows whose weights could not be analyzed, with their status.
    pub fn problem_rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| !r.is_analyzed())
    }
}

fn summary_map(v: &serde_json::Value) -> BTreeMap<String, Option<f64>> {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_f64())).collect())
        .unwrap_or_default()
}

/// The parts of `analysis.json` a gate needs; other keys are ignored (the layout is versioned).
#[derive(Deserialize)]
struct Report {
    schema_version: u32,
    model: ReportModel,
    options: AnalysisOptions,
    summary: serde_json::Value,
    layers: Vec<Row>,
    #[serde(default)]
    skipped: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct ReportModel {
    file: String,
    sha256: String,
}

/// Read a saved `analysis.json`.
pub fn read_report(path: &Path) -> Result<Evidence> {
    let bytes = crate::io::read_bounded(path, MAX_REPORT_BYTES)?;
    let r: Report = serde_json::from_slice(&bytes)
        .map_err(|e| Error::config(path, format!("not an analysis.json report: {e}")))?;
    if r.schema_version != SCHEMA_VERSION {
        return Err(Error::config(
            path,
            format!(
                "report schema_version {} is not {SCHEMA_VERSION}; re-run tailwatch analyze",
                r.schema_version
            ),
        ));
    }
    if !r.summary.is_object() {
        return Err(Error::config(path, "report summary is not an object"));
    }
    Ok(Evidence {
        source: format!("{} (report of {})", path.display(), r.model.file),
        sha256: r.model.sha256,
        options: r.options,
        rows: r.layers,
        summary: summary_map(&r.summary),
        n_skipped: r.skipped.len(),
        file: None,
        esd: Vec::new(),
    })
}

/// The baseline's evidence, analyzed or read with the gate's options. A report analyzed with
/// other options is refused: its numbers would not be comparable.
pub fn load(src: &BaselineSource, opts: &AnalysisOptions) -> Result<Evidence> {
    match src {
        BaselineSource::Model(p) => Ok(Evidence::from_analysis(&analysis::analyze_file(p, opts)?)),
        BaselineSource::Report(p) => {
            let ev = read_report(p)?;
            if ev.options != *opts {
                return Err(Error::config(
                    p,
                    "the baseline report was analyzed with other options than the gate's; \
                     re-run tailwatch analyze with the gate's preset and analysis options",
                ));
            }
            Ok(ev)
        }
    }
}
