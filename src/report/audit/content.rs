//! The audit report's content, built once from an [`Audit`] and rendered as HTML and Markdown:
//! the model's facts, the options that differ from the preset, the findings, the gate verdict,
//! the summary, the layer profiles, the ESD figures and the per-layer tables.

use serde_json::Value as Json;

use super::Audit;
use super::findings::{self, Finding};
use crate::analysis::RowEsd;
use crate::compare::{LayerMetric, match_rows, row_key as display_row_name};
use crate::metrics::row::{Row, Value};
use crate::report::plots::TailFit;
use crate::report::profiles::{per_layer, tail_fit};
use crate::report::tables::{Table, fmt_num};
use crate::schema::Column;

/// The metrics drawn as layer profiles (against layer id).
pub const PROFILE_METRICS: [Column; 5] = [
    Column::Alpha,
    Column::AlphaWeighted,
    Column::LogSpectralNorm,
    Column::StableRank,
    Column::MpSoftrank,
];

/// The per-layer table's columns: the `details.csv` columns (WeightWatcher's and tailwatch's) a
/// reader compares across layers, each shown when any row has it. The text columns come first,
/// the name leading (it stays in view when the table scrolls sideways); the numbers follow in
/// `details.csv` order.
const LAYER_COLUMNS: [Column; 30] = [
    Column::Name,
    Column::LayerType,
    Column::Dtype,
    Column::Status,
    Column::Warning,
    Column::LayerId,
    Column::N,
    Column::M,
    Column::Q,
    Column::Rf,
    Column::NumEvals,
    Column::Alpha,
    Column::Xmin,
    Column::Xmax,
    Column::D,
    Column::Sigma,
    Column::Lambda,
    Column::NumPlSpikes,
    Column::LogNorm,
    Column::LogSpectralNorm,
    Column::AlphaWeighted,
    Column::LogAlphaNorm,
    Column::StableRank,
    Column::Entropy,
    Column::MatrixRank,
    Column::MpSoftrank,
    Column::NumSpikes,
    Column::SigmaMp,
    Column::RandDistance,
    Column::NumTraps,
];

/// The metrics whose change against the baseline the comparison table shows.
const CHANGE_COLUMNS: [Column; 4] = [
    Column::Alpha,
    Column::AlphaWeighted,
    Column::LogSpectralNorm,
    Column::StableRank,
];

/// The HTML report's budget for its ESD figures, in bytes: with many rows each histogram gets
/// fewer bins (never fewer than [`MIN_BINS`]), so that a 500-layer model's report stays under
/// 8 MB with room for long layer names and the table. Measured with mp_fit and randomize (two
/// panels of two or three histograms each) on vgg19_bn_mini: 8.7–9.2 kB a figure with 5-bin
/// histograms, 11.5 kB with 45 bins; so about 9 kB a figure besides its histograms, and 14
/// bytes a bin per histogram (`tests/audit_report.rs` checks the 500-layer total).
const FIGURE_BUDGET: usize = 5_500_000;
/// Bytes of one ESD figure besides its histograms (axes, ticks, legend, curves), both panels.
const FIGURE_BASE_BYTES: usize = 9_000;
/// Bytes per histogram bin of one figure (two panels, three histograms each, 14 bytes each).
const BYTES_PER_BIN: usize = 84;
const MIN_BINS: usize = 12;
/// The most bins of a histogram (`EsdChart` draws about 2√n below that).
pub(crate) const MAX_BINS: usize = 80;

/// Said when there is no finding.
pub const NOTHING_TO_REPORT: &str = "Nothing to report: every weight layer was analyzed, every \
     fit succeeded and no layer is warned.";
/// Said instead of an empty per-layer table.
pub const NO_ROW: &str = "No row: no weight layer reached the analysis.";

/// One option whose value differs from the preset's.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangedOption {
    /// The option's name (as in configs/ww.yaml and `--set`).
    pub name: String,
    /// The value used, as JSON text.
    pub value: String,
    /// The preset's value, as JSON text.
    pub preset: String,
}

/// A layer profile: one metric against layer id, for the model and (with a gate baseline) the
/// baseline.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The metric.
    pub metric: Column,
    /// (layer id, value) of the model.
    pub model: Vec<(f64, f64)>,
    /// (layer id, value) of the baseline.
    pub baseline: Option<Vec<(f64, f64)>>,
}

/// One analyzed row's ESD figure.
#[derive(Clone, Debug)]
pub struct EsdFigure<'a> {
    /// The row's ESD key (`layer_id` or `layer_id:slice_id`), unique in the model.
    pub key: String,
    /// The row's layer id.
    pub layer_id: usize,
    /// The layer's name (with `:slice`).
    pub name: String,
    /// One line: type, shape, alpha and warning.
    pub caption: String,
    /// The eigenvalues.
    pub evals: &'a [f64],
    /// The fitted tail.
    pub tail: Option<TailFit>,
    /// The MP bulk edges, when `mp_fit` fitted them.
    pub mp_bulk: Option<(f64, f64)>,
    /// Whether to draw the linear Marchenko–Pastur panel (`mp_fit` on).
    pub mp_panel: bool,
    /// The randomized ESD (`randomize`).
    pub randomized: Option<&'a [f64]>,
    /// The baseline's ESD of the matched row.
    pub baseline: Option<&'a [f64]>,
}

/// Everything the report shows, in order.
#[derive(Clone, Debug)]
pub struct Content<'a> {
    /// What the report is about.
    pub audit: Audit<'a>,
    /// "tailwatch audit: FILE".
    pub title: String,
    /// The model's facts: (label, value).
    pub facts: Vec<(&'static str, String)>,
    /// The options that differ from the preset.
    pub changed_options: Vec<ChangedOption>,
    /// One line of counts.
    pub headline: String,
    /// Why nothing was analyzed, when nothing was.
    pub nothing_analyzed: Option<String>,
    /// The findings, most important first.
    pub findings: Vec<Finding>,
    /// The summary means (with the baseline's and the change, under a gate with a baseline).
    pub summary: Table,
    /// The layer profiles.
    pub profiles: Vec<Profile>,
    /// One ESD figure per analyzed row, in row order.
    pub figures: Vec<EsdFigure<'a>>,
    /// Histogram bins per figure (fewer for many rows).
    pub max_bins: usize,
    /// The per-layer table.
    pub layers: Table,
    /// Per-layer change against the baseline.
    pub comparison: Option<Table>,
    /// What the reader should know about the baseline (how layers were matched, why some
    /// parts are missing).
    pub baseline_notes: Vec<String>,
}

impl<'a> Content<'a> {
    /// Build the content of `audit`.
    pub fn build(audit: &Audit<'a>) -> Content<'a> {
        let a = audit.analysis;
        let base = audit.gate.and_then(|g| g.baseline);
        let mut notes = Vec::new();
        // Pairs (model row, baseline row) of matched rows.
        let pairs: Vec<(usize, usize)> = match base.map(|b| match_rows(&a.rows, &b.rows)) {
            Some(Ok(m)) => {
                notes.extend(m.warning.clone());
                m.pairs
            }
            Some(Err(why)) => {
                notes.push(format!(
                    "the layers could not be paired with the baseline's: {}",
                    why.join("; ")
                ));
                Vec::new()
            }
            None => Vec::new(),
        };
        if base.is_some_and(|b| b.file.is_none()) {
            notes.push(
                "the baseline is a saved report, which holds no eigenvalues: the ESD figures \
                 show the model alone"
                    .to_string(),
            );
        }
        let base_of = |i: usize| -> Option<&'a Row> {
            let j = pairs.iter().find(|p| p.0 == i)?.1;
            base?.rows.get(j)
        };
        let find_esd = |esd: &'a [RowEsd], row: &Row| -> Option<&'a RowEsd> {
            let key = RowEsd::key_of(row)?;
            esd.iter().find(|e| e.key == key)
        };

        let figures: Vec<EsdFigure<'a>> = (a.rows.iter().enumerate())
            .filter(|(_, r)| r.is_analyzed())
            .filter_map(|(i, r)| {
                let e = find_esd(&a.esd, r)?;
                let b = base_of(i).and_then(|br| find_esd(&base?.esd, br));
                Some(EsdFigure {
                    key: e.key.clone(),
                    layer_id: r.num(Column::LayerId)? as usize,
                    name: display_row_name(r),
                    caption: caption(r),
                    evals: &e.evals,
                    tail: tail_fit(r),
                    mp_bulk: r.num(Column::BulkMin).zip(r.num(Column::BulkMax)),
                    mp_panel: a.options.mp_fit,
                    randomized: e.rand_evals.as_deref(),
                    baseline: b.map(|b| b.evals.as_slice()),
                })
            })
            .collect();
        let per_figure = FIGURE_BUDGET / figures.len().max(1);
        let max_bins = (per_figure.saturating_sub(FIGURE_BASE_BYTES) / BYTES_PER_BIN)
            .clamp(MIN_BINS, MAX_BINS);

        // The baseline's rows at the layer ids of the model rows they are paired with, so that
        // both lines share the x axis; none when the layers could not be paired.
        let paired_base: Option<Vec<Row>> = base.filter(|_| !pairs.is_empty()).map(|b| {
            (pairs.iter())
                .filter_map(|&(i, j)| {
                    let mut r = b.rows.get(j)?.clone();
                    r.set(
                        Column::LayerId,
                        a.rows.get(i)?.num(Column::LayerId)? as usize,
                    );
                    Some(r)
                })
                .collect()
        });
        let profiles = PROFILE_METRICS
            .iter()
            .map(|&metric| Profile {
                metric,
                model: per_layer(&a.rows, metric),
                baseline: paired_base.as_deref().map(|b| per_layer(b, metric)),
            })
            .filter(|p| !p.model.is_empty() || p.baseline.as_ref().is_some_and(|b| !b.is_empty()))
            .collect();

        let comparison = base
            .filter(|_| !pairs.is_empty())
            .map(|b| comparison_table(audit, b, &pairs));
        let findings = findings::findings(a);
        Content {
            audit: *audit,
            title: format!("tailwatch audit: {}", file_name(&a.model.file)),
            facts: facts(audit),
            changed_options: changed_options(audit),
            headline: headline(audit),
            nothing_analyzed: findings
                .iter()
                .find(|f| f.kind == findings::Kind::NothingAnalyzed)
                .map(|f| f.detail.clone()),
            findings,
            summary: summary_table(audit),
            profiles,
            figures,
            max_bins,
            layers: layer_table(&a.rows),
            comparison,
            baseline_notes: notes,
        }
    }

    /// The findings grouped by kind, most important first.
    pub fn groups(&self) -> Vec<(findings::Kind, Vec<&Finding>)> {
        findings::grouped(&self.findings)
    }
}

fn file_name(path: &str) -> &str {
    std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
}

fn caption(r: &Row) -> String {
    let num = |c| r.num(c).map_or("?".to_string(), |v| format!("{v}"));
    let mut s = format!(
        "{} · N {} × M {}",
        r.text(Column::LayerType).unwrap_or("?"),
        num(Column::N),
        num(Column::M),
    );
    if let Some(rf) = r.num(Column::Rf).filter(|rf| *rf > 1.0) {
        s.push_str(&format!(" · rf {rf}"));
    }
    s.push_str(&format!(" · {} eigenvalues", num(Column::NumEvals)));
    if let Some(alpha) = r.num(Column::Alpha) {
        s.push_str(&format!(" · α {}", fmt_num(Some(alpha))));
    }
    if let Some(w) = r.text(Column::Warning).filter(|w| !w.is_empty()) {
        s.push_str(&format!(" · {w}"));
    }
    s
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = "bytes";
    for u in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    if unit == "bytes" {
        format!("{n} bytes")
    } else {
        format!("{v:.1} {unit} ({n} bytes)")
    }
}

fn facts(audit: &Audit) -> Vec<(&'static str, String)> {
    let m = &audit.analysis.model;
    let or_none = |s: &str| {
        if s.is_empty() {
            "(none)".to_string()
        } else {
            s.to_string()
        }
    };
    let producer = format!("{} {}", m.producer_name, m.producer_version);
    let opsets: Vec<String> = (m.opsets.iter())
        .map(|o| {
            let d = if o.domain.is_empty() {
                "ai.onnx"
            } else {
                &o.domain
            };
            format!("{d} {}", o.version)
        })
        .collect();
    let mut v = vec![
        ("file", m.file.clone()),
        ("SHA-256", m.sha256.clone()),
        ("size", human_bytes(m.bytes)),
        ("producer", or_none(producer.trim())),
        ("opset", or_none(&opsets.join(", "))),
        ("IR version", m.ir_version.to_string()),
    ];
    if !m.graph_name.is_empty() {
        v.push(("graph", m.graph_name.clone()));
    }
    v.push(("tailwatch", env!("CARGO_PKG_VERSION").to_string()));
    v
}

/// Every option whose value differs from the preset's, compared in their JSON form (the form
/// `analysis.json` records), in declaration order.
pub fn changed_options(audit: &Audit) -> Vec<ChangedOption> {
    let (Ok(Json::Object(used)), Ok(Json::Object(preset))) = (
        serde_json::to_value(&audit.analysis.options),
        serde_json::to_value(audit.preset.options()),
    ) else {
        return Vec::new();
    };
    used.iter()
        .filter(|(k, v)| preset.get(*k) != Some(*v))
        .map(|(k, v)| ChangedOption {
            name: k.clone(),
            value: v.to_string(),
            preset: preset.get(k).map_or("(none)".to_string(), Json::to_string),
        })
        .collect()
}

fn headline(audit: &Audit) -> String {
    let c = &audit.analysis.summary.counts;
    let a = audit.analysis;
    let analyzed = a.rows.iter().filter(|r| r.is_analyzed()).count();
    format!(
        "{} weight layers: {} rows, {analyzed} analyzed ({} fit failed), {} not analyzed, {} \
         skipped",
        c.n_layers,
        c.n_rows,
        c.n_fit_failed,
        c.n_invalid,
        a.skipped.len()
    )
}

fn summary_table(audit: &Audit) -> Table {
    let s = &audit.analysis.summary;
    let base = audit.gate.and_then(|g| g.baseline);
    let mut headers = vec!["metric".to_string(), "model".to_string()];
    if base.is_some() {
        headers.extend(["baseline".to_string(), "change".to_string()]);
    }
    let rows = s
        .means
        .iter()
        .map(|(metric, v)| {
            let v = v.filter(|x| x.is_finite());
            let mut r = vec![metric.name().to_string(), fmt_num(v)];
            if let Some(b) = base {
                let bv = b.summary.get(metric.name()).copied().flatten();
                r.push(fmt_num(bv));
                r.push(fmt_change(v, bv));
            }
            r
        })
        .collect();
    Table {
        headers,
        rows,
        text_columns: 1,
    }
}

fn fmt_change(v: Option<f64>, base: Option<f64>) -> String {
    match (v, base) {
        (Some(v), Some(b)) => {
            let d = v - b;
            let s = fmt_num(Some(d));
            if d > 0.0 { format!("+{s}") } else { s }
        }
        _ => "–".to_string(),
    }
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Float(x)) => fmt_num(Some(*x)),
        Some(Value::Int(i)) => i.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Text(t)) => t.clone(),
    }
}

/// The per-layer table: WeightWatcher's columns that any row has.
pub fn layer_table(rows: &[Row]) -> Table {
    let columns: Vec<Column> = LAYER_COLUMNS
        .iter()
        .copied()
        .filter(|c| {
            rows.iter()
                .any(|r| r.get(*c).is_some_and(|v| *v != Value::Null))
        })
        .collect();
    let text = [
        Column::Name,
        Column::LayerType,
        Column::Dtype,
        Column::Status,
        Column::Warning,
    ];
    let text_columns = columns.iter().take_while(|c| text.contains(c)).count();
    let cells = |r: &Row| -> Vec<String> {
        (columns.iter())
            .map(|&c| match c {
                // Slices of one layer share its name: `name:slice` tells them apart.
                Column::Name => display_row_name(r),
                c => cell(r.get(c)),
            })
            .collect()
    };
    Table {
        headers: columns.iter().map(|c| c.name().to_string()).collect(),
        rows: rows.iter().map(cells).collect(),
        text_columns,
    }
}

/// Per matched row: the baseline's value, the model's and the change of each of
/// `CHANGE_COLUMNS`, then the weight comparison of the gate (`delta_w_rel`, `overlap`,
/// `esd_distance`) where it compared weights.
fn comparison_table(
    audit: &Audit,
    base: &crate::gate::Evidence,
    pairs: &[(usize, usize)],
) -> Table {
    let a = audit.analysis;
    let weights = audit.gate.and_then(|g| g.verdict.comparison.as_ref());
    let mut headers = vec!["layer".to_string()];
    for c in CHANGE_COLUMNS {
        headers.push(format!("{} base → model", c.name()));
        headers.push(format!("Δ {}", c.name()));
    }
    let compared = [
        LayerMetric::DeltaWRel,
        LayerMetric::Overlap,
        LayerMetric::EsdDistance,
    ];
    if weights.is_some() {
        headers.extend(compared.iter().map(|m| m.name().to_string()));
    }
    // The gate's comparison has one entry per compared layer, in model order; a name can belong
    // to several layers (tied weights), so an entry is found by the name's occurrence.
    let mut seen: Vec<(String, f64)> = Vec::new();
    let rows = pairs
        .iter()
        .filter_map(|&(i, j)| Some((a.rows.get(i)?, base.rows.get(j)?)))
        .map(|(r, b)| {
            let name = display_row_name(r);
            let bname = display_row_name(b);
            let mut cells = vec![if name == bname {
                name.clone()
            } else {
                format!("{name} (baseline {bname})")
            }];
            for c in CHANGE_COLUMNS {
                let (v, bv) = (r.num(c), b.num(c));
                cells.push(format!("{} → {}", fmt_num(bv), fmt_num(v)));
                cells.push(fmt_change(v, bv));
            }
            if let Some(w) = weights {
                let layer = r.text(Column::Name).unwrap_or("").to_string();
                let id = r.num(Column::LayerId).unwrap_or(f64::NAN);
                if !seen.iter().any(|(n, i)| *n == layer && *i == id) {
                    seen.push((layer.clone(), id));
                }
                let nth = (seen.iter())
                    .filter(|(n, _)| *n == layer)
                    .position(|(_, i)| *i == id)
                    .unwrap_or(0);
                let lc = w.layers.iter().filter(|l| l.layer == layer).nth(nth);
                cells.extend(compared.iter().map(|m| fmt_num(lc.and_then(|l| l.get(*m)))));
            }
            cells
        })
        .collect();
    Table {
        headers,
        rows,
        text_columns: 1,
    }
}

#[cfg(test)]
#[path = "content_tests.rs"]
mod tests;
