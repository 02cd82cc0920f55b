//! The files of `tailwatch analyze`: details.csv, summary.json, analysis.json, optional esd.csv.

use serde_json::{Value as Json, json};

use super::output::rows_to_csv;
use crate::analysis::ModelAnalysis;
use crate::error::Result;
use crate::io::OutDir;
use crate::metrics::randomize::RNG_SCHEME;
use crate::metrics::row::format_float;
use crate::metrics::summary::Summary;

pub use crate::schema::SCHEMA_VERSION;

pub(crate) fn tool_info() -> Json {
    json!({ "name": "tailwatch", "version": env!("CARGO_PKG_VERSION"), "rng": RNG_SCHEME })
}

/// The summary as one flat object: means by metric name, then the counts.
pub fn summary_json(s: &Summary) -> Json {
    let mut m = serde_json::Map::new();
    for (metric, v) in &s.means {
        m.insert(
            metric.name().to_string(),
            v.filter(|x| x.is_finite()).map_or(Json::Null, Json::from),
        );
    }
    for (k, v) in s.counts.entries() {
        m.insert(k.to_string(), Json::from(v));
    }
    Json::Object(m)
}

/// Everything about one analysis, deterministic for the same inputs (timings are kept apart).
pub fn analysis_json(a: &ModelAnalysis, preset: &str) -> Json {
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": tool_info(),
        "model": a.model,
        "preset": preset,
        "options": a.options,
        "summary": summary_json(&a.summary),
        "layers": a.rows,
        "skipped": a.skipped,
    })
}

/// Eigenvalues per row in the reference `__evals.csv` layout: key,index,eigenvalue.
pub fn esd_csv(a: &ModelAnalysis) -> String {
    let mut s = String::from("key,index,eigenvalue\n");
    for e in &a.esd {
        for (i, v) in e.evals.iter().enumerate() {
            s.push_str(&format!("{},{i},{}\n", e.key, format_float(*v)));
        }
    }
    s
}

/// Write the analyze outputs; returns the paths written.
pub fn write(
    out: &OutDir,
    a: &ModelAnalysis,
    preset: &str,
    save_esd: bool,
) -> Result<Vec<std::path::PathBuf>> {
    let mut written =
        vec![
        out.write("details.csv", rows_to_csv(&a.rows)?.as_bytes())?,
        out.write_json("summary.json", &json!({
            "model": a.model.file, "sha256": a.model.sha256, "summary": summary_json(&a.summary)
        }))?,
        out.write_json("analysis.json", &analysis_json(a, preset))?,
        out.write_json("timings.json", &a.timings)?,
    ];
    if save_esd {
        written.push(out.write("esd.csv", esd_csv(a).as_bytes())?);
    }
    Ok(written)
}
