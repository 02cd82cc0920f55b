//! Running a study: analyze (or reuse) every model, correlate summaries with errors, report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::cache::{self, CacheKey};
use super::config::{Stage, Study, Target};
use crate::analysis::{self, ModelAnalysis};
use crate::error::{Error, Result};
use crate::io::{self, OutDir};
use crate::schema::{Column, ModelStatus};
use crate::stats::{self, Correlation};

/// One model of the study and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct ModelResult {
    /// The model's name in the study.
    pub name: String,
    /// Its group, for per-group correlations.
    pub group: Option<String>,
    /// Its colour in the report's charts.
    pub color: Option<String>,
    /// The model file, resolved.
    pub path: PathBuf,
    /// SHA-256 of the model file, when it could be read.
    pub sha256: Option<String>,
    /// Reported top-1 error (percent).
    pub top1_error: Option<f64>,
    /// Reported top-5 error (percent).
    pub top5_error: Option<f64>,
    /// Analyzed, reused from a saved analysis, or failed.
    pub status: ModelStatus,
    /// Why the model could not be analyzed.
    pub error: Option<String>,
    /// Class of a rejected model file (`truncated`, `path_traversal`, …), when that was the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<crate::error::ModelErrorKind>,
    /// Wall-clock seconds (informational).
    pub seconds: f64,
    #[serde(skip)]
    /// The analysis, unless it failed.
    pub analysis: Option<ModelAnalysis>,
}

/// One (group, metric, target) correlation.
#[derive(Clone, Debug, Serialize)]
pub struct CorrelationRow {
    /// `all`, or a model group.
    pub group: String,
    /// The summary metric.
    pub metric: String,
    /// The error it is correlated with.
    pub target: Target,
    /// Models left out (failed analysis, missing metric or error), by name.
    pub excluded: Vec<String>,
    #[serde(flatten)]
    /// τ, ρ, r, the OLS line and their p-values.
    pub stats: Correlation,
}

/// What a study run produced: every model's outcome and the correlations.
#[derive(Clone, Debug, Serialize)]
pub struct StudyOutcome {
    /// The output directory.
    pub out_dir: PathBuf,
    /// Every model, in study order.
    pub models: Vec<ModelResult>,
    /// Every (group, metric, target) correlation.
    pub correlations: Vec<CorrelationRow>,
    /// Whether every model was analyzed.
    pub complete: bool,
    /// Wall-clock seconds (informational).
    pub seconds: f64,
}

/// Hooks for progress display; the CLI draws bars, tests and pipes stay quiet.
pub trait Progress: Sync {
    /// A model's analysis starts (`index` of `total`).
    fn model_started(&self, _index: usize, _total: usize, _name: &str) {}
    /// A layer of the current model is done.
    fn layer_done(&self, _done: usize, _total: usize) {}
    /// A model is done.
    fn model_finished(&self, _name: &str, _status: ModelStatus) {}
}

/// No progress output.
pub struct Quiet;
impl Progress for Quiet {}

/// The output directory: `--out` wins over the study's `output:`.
pub fn output_dir(study: &Study, out: Option<&Path>) -> Result<PathBuf> {
    out.map(Path::to_path_buf)
        .or_else(|| study.output.clone())
        .ok_or_else(|| {
            Error::config(
                &study.file,
                "no output directory: set `output:` in the study or pass --out DIR",
            )
        })
}

/// Run the study's stages into `out`: every model's analysis (reused from `out` when its file
/// hash and options match), then the correlations.
pub fn run(study: &Study, out: &OutDir, progress: &dyn Progress) -> Result<StudyOutcome> {
    let t0 = Instant::now();
    let compute = [Stage::Eigensolve, Stage::MpFit, Stage::PowerlawFit]
        .iter()
        .any(|s| study.has(*s));
    if !compute && study.has(Stage::Extract) {
        write_layer_listings(study, out)?;
    }
    let needs_analyses = study.has(Stage::Correlate) || study.has(Stage::Report);
    if !compute && !needs_analyses {
        return Ok(StudyOutcome {
            out_dir: out.path().to_path_buf(),
            models: Vec::new(),
            correlations: Vec::new(),
            complete: true,
            seconds: t0.elapsed().as_secs_f64(),
        });
    }
    if !compute {
        require_saved_analyses(study, out)?;
    }
    run_with(study, out, progress, compute)
}

/// As `run`, from saved analyses only: a model without one is failed, never recomputed (merges).
pub fn run_saved(study: &Study, out: &OutDir, progress: &dyn Progress) -> Result<StudyOutcome> {
    run_with(study, out, progress, false)
}

fn run_with(
    study: &Study,
    out: &OutDir,
    progress: &dyn Progress,
    compute: bool,
) -> Result<StudyOutcome> {
    let t0 = Instant::now();
    let total = study.spec.models.len();
    let mut models = Vec::with_capacity(total);
    for (i, (entry, path)) in study.spec.models.iter().zip(&study.model_paths).enumerate() {
        progress.model_started(i, total, &entry.name);
        let t = Instant::now();
        let (status, sha, analysis, error, error_kind) =
            match model_analysis(study, out, &entry.name, path, compute, progress) {
                Ok((sha, a, reused)) => (
                    if reused {
                        ModelStatus::Reused
                    } else {
                        ModelStatus::Analyzed
                    },
                    Some(sha),
                    Some(a),
                    None,
                    None,
                ),
                // A stopped run is not a failed model: the study stops.
                Err(Error::Interrupted) => return Err(Error::Interrupted),
                Err(e) => {
                    tracing::error!("{e}");
                    let kind = e.model_kind();
                    (ModelStatus::Failed, None, None, Some(e.to_string()), kind)
                }
            };
        progress.model_finished(&entry.name, status);
        models.push(ModelResult {
            name: entry.name.clone(),
            group: entry.group.clone(),
            color: entry.color.clone(),
            path: path.clone(),
            sha256: sha,
            top1_error: entry.top1_error,
            top5_error: entry.top5_error,
            status,
            error,
            error_kind,
            seconds: t.elapsed().as_secs_f64(),
            analysis,
        });
    }
    let correlations = if study.has(Stage::Correlate) {
        correlate(study, &models)
    } else {
        Vec::new()
    };
    let complete = models.iter().all(|m| m.status != ModelStatus::Failed);
    Ok(StudyOutcome {
        out_dir: out.path().to_path_buf(),
        models,
        correlations,
        complete,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// The `extract` stage on its own: every model's weight layers (as `describe --format json`) in
/// `layers/<model>.json`.
fn write_layer_listings(study: &Study, out: &OutDir) -> Result<()> {
    for (entry, path) in study.spec.models.iter().zip(&study.model_paths) {
        let model = crate::onnx::load(path, &crate::onnx::Limits::default())?;
        let x = crate::weights::extract(&model, &study.options)?;
        let mut buf = Vec::new();
        crate::describe::write_json(&mut buf, model.info(), &x, &study.options)
            .map_err(|e| Error::output(out.path(), e))?;
        out.write(&format!("layers/{}.json", entry.name), &buf)?;
    }
    Ok(())
}

/// Without an analysis stage every model must have a saved analysis: check all before any work.
fn require_saved_analyses(study: &Study, out: &OutDir) -> Result<()> {
    let mut missing = Vec::new();
    for (entry, path) in study.spec.models.iter().zip(&study.model_paths) {
        let sha = io::file_sha256(path)?;
        if cache::load(
            out,
            &entry.name,
            &CacheKey::new(&sha, &study.options, &study.limits),
        )
        .is_none()
        {
            missing.push(entry.name.as_str());
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::config(
        &study.file,
        format!(
            "stages {:?} need saved analyses in {}, but none matches the file and options of: {}; \
             run the eigensolve stage first",
            study
                .spec
                .stages
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>(),
            out.path().display(),
            missing.join(", ")
        ),
    ))
}

/// Analyze a model, or reuse its saved analysis when the file and options are unchanged.
fn model_analysis(
    study: &Study,
    out: &OutDir,
    name: &str,
    path: &Path,
    compute: bool,
    progress: &dyn Progress,
) -> Result<(String, ModelAnalysis, bool)> {
    let sha = io::file_sha256(path)?;
    let key = CacheKey::new(&sha, &study.options, &study.limits);
    if let Some(a) = cache::load(out, name, &key) {
        return Ok((sha, a, true));
    }
    if !compute {
        return Err(Error::Evaluation(format!(
            "model {name:?}: no saved analysis matching this file and these options in {}; \
             run the eigensolve stage first",
            out.path().display()
        )));
    }
    let a = analysis::analyze_file_with_progress(path, &study.options, &study.limits, &|d, t| {
        progress.layer_done(d, t)
    })?;
    cache::save(out, name, &key, &a)?;
    Ok((sha, a, false))
}

/// The groups correlated: "all", then each named group (when by_group and there are several).
fn groups(study: &Study) -> Vec<String> {
    let mut g: Vec<String> = Vec::new();
    for m in &study.spec.models {
        if let Some(x) = &m.group
            && !g.contains(x)
        {
            g.push(x.clone());
        }
    }
    let mut out = vec!["all".to_string()];
    if study.spec.correlate.by_group && !g.is_empty() {
        out.extend(g);
    }
    out
}

fn correlate(study: &Study, models: &[ModelResult]) -> Vec<CorrelationRow> {
    let mut rows = Vec::new();
    for group in groups(study) {
        let members: Vec<&ModelResult> = models
            .iter()
            .filter(|m| group == "all" || m.group.as_deref() == Some(group.as_str()))
            .collect();
        for metric in &study.spec.correlate.metrics {
            for target in study.targets() {
                rows.push(correlate_one(&group, metric, target, &members));
            }
        }
    }
    rows
}

fn correlate_one(
    group: &str,
    metric: &str,
    target: Target,
    members: &[&ModelResult],
) -> CorrelationRow {
    let (mut x, mut e, mut excluded) = (Vec::new(), Vec::new(), Vec::new());
    for m in members {
        let value = m
            .analysis
            .as_ref()
            .and_then(|a| a.summary.get(Column::from_name(metric)?));
        let err = match target {
            Target::Top1 => m.top1_error,
            Target::Top5 => m.top5_error,
        };
        match (value, err) {
            (Some(v), Some(er)) if v.is_finite() => {
                x.push(v);
                e.push(er);
            }
            _ => excluded.push(m.name.clone()),
        }
    }
    CorrelationRow {
        group: group.to_string(),
        metric: metric.to_string(),
        target,
        excluded,
        stats: stats::correlate(&x, &e),
    }
}
