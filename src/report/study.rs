//! The files of `tailwatch study`: report.json, details.csv, summary.csv, correlations.csv,
//! report.md, report.html (+ timings.json, kept apart so the rest is byte-for-byte reproducible).

use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use super::analysis::{SCHEMA_VERSION, summary_json, tool_info};
use super::output::rows_to_csv;
use crate::error::{Error, Result};
use crate::io::OutDir;
use crate::metrics::row::{Row, Value, format_float};
use crate::schema::{Column, summary};
use crate::study::Study;
use crate::study::run::{CorrelationRow, StudyOutcome};

/// Columns of correlations.csv, in order (the minimum set first).
pub const CORRELATION_COLUMNS: [&str; 16] = [
    "group",
    "metric",
    "target",
    "n",
    "slope",
    "intercept",
    "rmse",
    "r2",
    "kendall_tau",
    "kendall_p",
    "spearman_rho",
    "spearman_p",
    "pearson_r",
    "pearson_p",
    "excluded",
    "note",
];

/// Write a study's report files (report.json, report.md, report.html, details.csv,
/// summary.csv, correlations.csv, timings.json); returns the paths written.
pub fn write(
    study: &Study,
    outcome: &StudyOutcome,
    out: &OutDir,
) -> Result<Vec<std::path::PathBuf>> {
    let report = report_json(study, outcome);
    let written = vec![
        out.write_json("report.json", &report)?,
        out.write("details.csv", details_csv(outcome)?.as_bytes())?,
        out.write("summary.csv", summary_csv(study, outcome)?.as_bytes())?,
        out.write(
            "correlations.csv",
            correlations_csv(&outcome.correlations)?.as_bytes(),
        )?,
        out.write(
            "report.md",
            super::markdown::study_markdown(study, outcome).as_bytes(),
        )?,
        out.write(
            "report.html",
            super::html::study_html(study, outcome).as_bytes(),
        )?,
        out.write_json("timings.json", &timings_json(outcome))?,
    ];
    Ok(written)
}

fn sha256_hex(bytes: &[u8]) -> String {
    crate::io::hex(&Sha256::digest(bytes))
}

/// The structured report: provenance, per-model summaries, correlations, rankings.
pub fn report_json(study: &Study, o: &StudyOutcome) -> Json {
    let models: Vec<Json> = o
        .models
        .iter()
        .zip(&study.spec.models)
        .map(|(m, entry)| {
            json!({
                "name": m.name, "group": m.group, "path": entry.path, "sha256": m.sha256,
                "top1_error": m.top1_error, "top5_error": m.top5_error,
                "status": if m.error.is_some() { "failed" } else { "ok" },
                "error": m.error,
                "summary": m.analysis.as_ref().map(|a| summary_json(&a.summary)),
                "skipped_layers": m.analysis.as_ref().map(|a| &a.skipped),
            })
        })
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": tool_info(),
        "study": {
            "name": study.spec.name,
            "description": study.spec.description,
            "file": study.file.file_name().map(|f| f.to_string_lossy().to_string()),
            "config_sha256": sha256_hex(study.text.as_bytes()),
            "config": study.spec,
        },
        "preset": study.spec.preset,
        "options": study.options,
        "stages": study.spec.stages,
        "complete": o.complete,
        "models": models,
        "correlations": o.correlations,
        "ranking": ranking_json(&o.correlations),
        "timings": "timings.json",
    })
}

fn timings_json(o: &StudyOutcome) -> Json {
    json!({
        "total_s": o.seconds,
        "models": o.models.iter().map(|m| json!({
            "name": m.name, "status": m.status, "seconds": m.seconds,
            "stages": m.analysis.as_ref().map(|a| &a.timings),
        })).collect::<Vec<_>>(),
    })
}

/// Metrics ranked by |τ| per (group, target).
pub fn ranking(rows: &[CorrelationRow], group: &str, target: &str) -> Vec<(String, f64)> {
    let pairs: Vec<(String, crate::stats::Correlation)> = rows
        .iter()
        .filter(|r| r.group == group && r.target.name() == target)
        .map(|r| (r.metric.clone(), r.stats.clone()))
        .collect();
    crate::stats::rank_by_abs_tau(&pairs)
}

fn ranking_json(rows: &[CorrelationRow]) -> Json {
    let mut out = serde_json::Map::new();
    for r in rows {
        let key = format!("{}/{}", r.group, r.target.name());
        if out.contains_key(&key) {
            continue;
        }
        let ranked: Vec<Json> = ranking(rows, &r.group, r.target.name())
            .into_iter()
            .map(|(m, t)| json!({ "metric": m, "abs_kendall_tau": t }))
            .collect();
        out.insert(key, Json::from(ranked));
    }
    Json::Object(out)
}

/// `details.csv`: every analyzed model's rows, `model` first.
pub fn details_csv(o: &StudyOutcome) -> Result<String> {
    let mut rows: Vec<Row> = Vec::new();
    for m in &o.models {
        if let Some(a) = &m.analysis {
            for r in &a.rows {
                let mut row = Row::default();
                row.set(Column::Model, m.name.as_str());
                for (c, v) in r.cells() {
                    row.set(*c, v.clone());
                }
                rows.push(row);
            }
        }
    }
    rows_to_csv(&rows)
}

/// The counts of `summary.csv`, after the means (a subset of `schema::Counts`).
const SUMMARY_CSV_COUNTS: [&str; 6] = [
    "n_layers",
    "n_rows",
    "n_skipped",
    "n_fit_failed",
    "n_over_trained",
    "n_under_trained",
];

/// `summary.csv`: one line per model, its errors, status, summary means and counts.
pub fn summary_csv(study: &Study, o: &StudyOutcome) -> Result<String> {
    let metrics = summary::means_for(&study.options);
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["model", "group", "top1_error", "top5_error", "status"];
    header.extend(metrics.iter().map(|m| m.name()));
    header.extend(SUMMARY_CSV_COUNTS);
    w.write_record(&header).map_err(csv_err)?;
    for m in &o.models {
        let mut rec = vec![
            m.name.clone(),
            m.group.clone().unwrap_or_default(),
            Value::from(m.top1_error).to_csv(),
            Value::from(m.top5_error).to_csv(),
            if m.error.is_some() {
                "failed".into()
            } else {
                "ok".into()
            },
        ];
        let s = m.analysis.as_ref().map(|a| &a.summary);
        for metric in &metrics {
            rec.push(
                s.and_then(|s| s.get(metric.column))
                    .map(format_float)
                    .unwrap_or_default(),
            );
        }
        for name in SUMMARY_CSV_COUNTS {
            let count = s.and_then(|s| s.counts.get(name));
            rec.push(count.map(|c| c.to_string()).unwrap_or_default());
        }
        w.write_record(&rec).map_err(csv_err)?;
    }
    into_string(w)
}

/// `correlations.csv`: one line per (group, metric, target), columns `CORRELATION_COLUMNS`.
pub fn correlations_csv(rows: &[CorrelationRow]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CORRELATION_COLUMNS).map_err(csv_err)?;
    for r in rows {
        let s = &r.stats;
        let f = |v: Option<f64>| Value::from(v).to_csv();
        let rec = vec![
            r.group.clone(),
            r.metric.clone(),
            r.target.name().to_string(),
            s.n.to_string(),
            f(s.slope),
            f(s.intercept),
            f(s.rmse),
            f(s.r2),
            f(s.kendall_tau),
            f(s.kendall_p),
            f(s.spearman_rho),
            f(s.spearman_p),
            f(s.pearson_r),
            f(s.pearson_p),
            r.excluded.join(";"),
            s.note.clone().unwrap_or_default(),
        ];
        w.write_record(&rec).map_err(csv_err)?;
    }
    into_string(w)
}

fn csv_err(e: csv::Error) -> Error {
    Error::Evaluation(format!("cannot write CSV: {e}"))
}

fn into_string(w: csv::Writer<Vec<u8>>) -> Result<String> {
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Evaluation(format!("cannot write CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Evaluation(format!("CSV is not UTF-8: {e}")))
}
