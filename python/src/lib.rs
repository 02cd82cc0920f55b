//! `tailwatch._native`: the library's entry points for the Python package, with no analysis of
//! their own. Each function resolves its options as the command line does, runs the library
//! call on a worker thread (`job`), and returns exactly what the command line writes: the text
//! of `details.csv`, `summary.json`'s summary, `describe --format csv`, a study's CSV tables, a
//! gate's JSON verdict. The Python package (`python/tailwatch/`) turns those into DataFrames and
//! dicts.

mod errors;
mod job;
mod logs;

use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use serde_json::{Value, json};
use tailwatch::error::{Error, Result};
use tailwatch::gate::{self, BaselineSource};
use tailwatch::options::{AnalysisOptions, AnalysisOverrides, OPTION_NAMES, Preset};
use tailwatch::study::{self, Stage, Study};
use tailwatch::{analysis, io::OutDir, onnx, report, weights};

use job::Hooks;

/// Every analysis option's name, as in `configs/ww.yaml` and `--set key=value`.
#[pyfunction]
fn option_names() -> Vec<&'static str> {
    OPTION_NAMES.to_vec()
}

/// The preset names (`ww`, `ww2x`, `nature2021`).
#[pyfunction]
fn preset_names() -> Vec<&'static str> {
    Preset::ALL.iter().map(|p| p.name()).collect()
}

/// The library's version.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The preset and the options of a JSON object `{option: value}`, resolved and validated as
/// `--preset P --set option=value ...` are; each option is read on its own so that a bad value
/// is reported with its name.
fn resolve(preset: Option<&str>, overrides: &str) -> Result<(AnalysisOptions, Preset)> {
    let preset = preset.map(Preset::parse).transpose()?.unwrap_or_default();
    let map: serde_json::Map<String, Value> = serde_json::from_str(overrides)
        .map_err(|e| Error::Options(format!("options are not a JSON object: {e}")))?;
    let mut merged = AnalysisOverrides::default();
    for (key, value) in map {
        if !OPTION_NAMES.contains(&key.as_str()) {
            return Err(Error::Options(format!(
                "unknown option {key:?}; known options: {}",
                OPTION_NAMES.join(", ")
            )));
        }
        let one: AnalysisOverrides = serde_json::from_value(json!({ key.as_str(): &value }))
            .map_err(|e| Error::Options(format!("{key}={value}: {e}")))?;
        merged.merge(&one);
    }
    Ok((AnalysisOptions::resolve(preset, &merged)?, preset))
}

/// The loading limits, as `--max-layer-bytes` / `--max-model-bytes`.
fn limits(max_layer_bytes: Option<u64>, max_model_bytes: Option<u64>) -> onnx::Limits {
    let d = onnx::Limits::default();
    onnx::Limits {
        layer_memory_budget: max_layer_bytes.unwrap_or(d.layer_memory_budget),
        model_memory_budget: max_model_bytes.unwrap_or(d.model_memory_budget),
        ..d
    }
}

/// `tailwatch analyze`: returns (the text of `details.csv`, the summary of `summary.json` as
/// JSON text).
#[pyfunction]
#[pyo3(signature = (path, preset, overrides, max_layer_bytes=None, max_model_bytes=None, logger=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn analyze(
    py: Python<'_>,
    path: PathBuf,
    preset: Option<String>,
    overrides: String,
    max_layer_bytes: Option<u64>,
    max_model_bytes: Option<u64>,
    logger: Option<Bound<'_, PyAny>>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let hooks = Hooks { logger, progress };
    job::run(py, &hooks, move |shared| {
        let (opts, _) = resolve(preset.as_deref(), &overrides)?;
        let limits = limits(max_layer_bytes, max_model_bytes);
        let a = analysis::analyze_file_with_progress(&path, &opts, &limits, &|d, t| {
            shared.layer_done(d, t)
        })?;
        let details = report::output::rows_to_csv(&a.rows)?;
        let summary = report::analysis::summary_json(&a.summary).to_string();
        Ok((details, summary))
    })
}

/// `tailwatch describe --format csv`: the text.
#[pyfunction]
#[pyo3(signature = (path, preset, overrides, max_layer_bytes=None, max_model_bytes=None, logger=None))]
fn describe(
    py: Python<'_>,
    path: PathBuf,
    preset: Option<String>,
    overrides: String,
    max_layer_bytes: Option<u64>,
    max_model_bytes: Option<u64>,
    logger: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    let hooks = Hooks {
        logger,
        progress: None,
    };
    job::run(py, &hooks, move |_| {
        let (opts, _) = resolve(preset.as_deref(), &overrides)?;
        let model = onnx::load(&path, &limits(max_layer_bytes, max_model_bytes))?;
        let x = weights::extract(&model, &opts)?;
        let mut buf = Vec::new();
        tailwatch::describe::write_csv(&mut buf, &x, &opts)
            .map_err(|e| Error::output(Path::new("<describe>"), e))?;
        String::from_utf8(buf).map_err(|e| Error::Evaluation(format!("CSV is not UTF-8: {e}")))
    })
}

/// What `study` returns: the output directory, whether every model was analyzed, the texts of
/// details.csv, summary.csv and correlations.csv (None when no model was analyzed, e.g. stages
/// [extract] only), and the failed models with their errors.
type StudyTables = (
    String,
    bool,
    Option<(String, String, String)>,
    Vec<(String, String)>,
);

/// `tailwatch study FILE [--out DIR] [--stages ...]`: runs the study, writes its report when the
/// `report` stage is on, and returns its tables.
#[pyfunction]
#[pyo3(name = "study", signature = (path, out=None, stages=None, logger=None, progress=None))]
fn run_study(
    py: Python<'_>,
    path: PathBuf,
    out: Option<PathBuf>,
    stages: Option<Vec<String>>,
    logger: Option<Bound<'_, PyAny>>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<StudyTables> {
    let hooks = Hooks { logger, progress };
    job::run(py, &hooks, move |shared| {
        let stages = stages
            .map(|l| {
                l.iter()
                    .map(|s| Stage::parse(s))
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?;
        let s = Study::load(&path, stages)?;
        let dir = study::run::output_dir(&s, out.as_deref())?;
        let out = OutDir::create(&dir)?;
        let outcome = study::run(&s, &out, shared)?;
        if s.has(Stage::Report) {
            report::study::write(&s, &outcome, &out)?;
        }
        let tables = if outcome.models.is_empty() {
            None
        } else {
            Some((
                report::study::details_csv(&outcome)?,
                report::study::summary_csv(&s, &outcome)?,
                report::study::correlations_csv(&outcome.correlations)?,
            ))
        };
        let failed = (outcome.models.iter())
            .filter_map(|m| m.error.as_ref().map(|e| (m.name.clone(), e.clone())))
            .collect();
        Ok((
            out.path().display().to_string(),
            outcome.complete,
            tables,
            failed,
        ))
    })
}

/// `tailwatch gate GATE MODEL [--baseline B | --baseline-report R] --json`: the verdict as JSON
/// text. An error that keeps the gate from being evaluated at all is raised.
#[pyfunction]
#[pyo3(name = "gate", signature = (gate_file, model, baseline=None, baseline_report=None, logger=None))]
fn run_gate(
    py: Python<'_>,
    gate_file: PathBuf,
    model: PathBuf,
    baseline: Option<PathBuf>,
    baseline_report: Option<PathBuf>,
    logger: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    let hooks = Hooks {
        logger,
        progress: None,
    };
    job::run(py, &hooks, move |_| {
        let g = gate::Gate::load(&gate_file)?;
        let base = BaselineSource::from_paths(baseline, baseline_report)?;
        let v = gate::eval::run(&g, &model, base.as_ref())?;
        serde_json::to_string(&gate::verdict::to_json(&v))
            .map_err(|e| Error::Evaluation(format!("cannot serialise the verdict: {e}")))
    })
}

/// Raise a panic inside the worker: for the tests that check a panic becomes
/// `tailwatch.InternalError` and never crosses into the interpreter.
#[pyfunction]
fn _panic_for_tests(py: Python<'_>) -> PyResult<()> {
    job::run(
        py,
        &Hooks {
            logger: None,
            progress: None,
        },
        |_| -> Result<()> { panic!("deliberate test panic") },
    )
}

/// The extension module of the `tailwatch` package (import `tailwatch`, not this).
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logs::install();
    m.add_function(wrap_pyfunction!(option_names, m)?)?;
    m.add_function(wrap_pyfunction!(preset_names, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(describe, m)?)?;
    m.add_function(wrap_pyfunction!(run_study, m)?)?;
    m.add_function(wrap_pyfunction!(run_gate, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    Ok(())
}
