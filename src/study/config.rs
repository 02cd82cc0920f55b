//! The study file (YAML): models with reported errors, analysis options, stages, correlations.
//!
//! Everything is checked before any work: unknown keys and wrong types (with file, line and key,
//! from the YAML parser), missing model files, duplicate names, and inconsistent options.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::options::{AnalysisOptions, AnalysisOverrides, Preset};
use crate::schema::summary::{self, SUMMARY_MEANS, SummaryMean};

/// Pipeline stages, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Load the models and find their weight layers.
    Extract,
    /// Eigenvalues of every layer.
    Eigensolve,
    /// The Marchenko–Pastur fit (`mp_fit`).
    MpFit,
    /// The power-law fit.
    PowerlawFit,
    /// Correlate summary metrics with the reported errors (docs/methods.md §15).
    Correlate,
    /// Write the report files.
    Report,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 6] = [
        Stage::Extract,
        Stage::Eigensolve,
        Stage::MpFit,
        Stage::PowerlawFit,
        Stage::Correlate,
        Stage::Report,
    ];

    /// The stage's name in study files and `--stages`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Extract => "extract",
            Stage::Eigensolve => "eigensolve",
            Stage::MpFit => "mp_fit",
            Stage::PowerlawFit => "powerlaw_fit",
            Stage::Correlate => "correlate",
            Stage::Report => "report",
        }
    }

    /// The stage named `s`; an error listing the stages otherwise.
    pub fn parse(s: &str) -> Result<Stage> {
        Stage::ALL.into_iter().find(|st| st.name() == s.trim()).ok_or_else(|| {
            Error::Options(format!(
                "unknown stage {s:?}; stages: extract, eigensolve, mp_fit, powerlaw_fit, correlate, report"
            ))
        })
    }
}

/// Error targets a metric can be correlated with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Top-1 error (percent).
    Top1,
    /// Top-5 error (percent).
    Top5,
}

impl Target {
    /// The target's name in outputs (`top1`, `top5`).
    pub fn name(self) -> &'static str {
        match self {
            Target::Top1 => "top1",
            Target::Top5 => "top5",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// One model of a study.
pub struct ModelEntry {
    /// Unique name, used in outputs and for the saved analysis.
    pub name: String,
    /// Relative to the study file.
    pub path: PathBuf,
    /// Reported top-1 error in percent.
    pub top1_error: Option<f64>,
    /// Reported top-5 error in percent.
    pub top5_error: Option<f64>,
    /// Series the model belongs to; correlations are computed per group and over all models.
    #[serde(default)]
    pub group: Option<String>,
    /// Colour in plots (CSS colour); defaults to a palette by group.
    #[serde(default)]
    pub color: Option<String>,
}

impl ModelEntry {
    /// The reported error for a target, in percent.
    pub fn error(&self, t: Target) -> Option<f64> {
        match t {
            Target::Top1 => self.top1_error,
            Target::Top5 => self.top5_error,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// The `correlate:` section of a study file.
pub struct CorrelateConfig {
    #[serde(default = "default_metrics")]
    /// Summary metrics to correlate (default: the means that need no optional stage).
    pub metrics: Vec<String>,
    /// Default: every target at least one model reports.
    #[serde(default)]
    pub targets: Option<Vec<Target>>,
    /// Also correlate within each `group` (default true when groups are given).
    #[serde(default = "yes")]
    pub by_group: bool,
}

impl Default for CorrelateConfig {
    fn default() -> Self {
        CorrelateConfig {
            metrics: default_metrics(),
            targets: None,
            by_group: true,
        }
    }
}

/// The summary means available without optional stages.
fn default_metrics() -> Vec<String> {
    summary::means_for(&AnalysisOptions::default())
        .into_iter()
        .map(|m| m.name().to_string())
        .collect()
}
fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// The `report:` section of a study file.
pub struct ReportConfig {
    /// Layers whose ESD is plotted per model: layer names, or "all". Default: first, middle, last.
    #[serde(default)]
    pub esd_layers: Option<Vec<String>>,
}

/// The study file as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyFile {
    /// Study name, shown in the report.
    pub name: String,
    #[serde(default)]
    /// Free text shown under the name.
    pub description: Option<String>,
    #[serde(default)]
    /// Analysis preset (`ww`, `ww2x`, `nature2021`).
    pub preset: Preset,
    #[serde(default)]
    /// Analysis options on top of the preset.
    pub analysis: AnalysisOverrides,
    /// The models, in report order.
    pub models: Vec<ModelEntry>,
    #[serde(default = "all_stages")]
    /// Stages to run (default: all).
    pub stages: Vec<Stage>,
    #[serde(default)]
    /// What to correlate.
    pub correlate: CorrelateConfig,
    #[serde(default)]
    /// Report options.
    pub report: Option<ReportConfig>,
    /// Output directory, relative to the study file; `--out` overrides it.
    #[serde(default)]
    pub output: Option<PathBuf>,
}

fn all_stages() -> Vec<Stage> {
    Stage::ALL.to_vec()
}

/// A checked study: resolved paths and options.
#[derive(Clone, Debug)]
pub struct Study {
    /// The study file.
    pub file: PathBuf,
    /// Its text, as read (hashed into the report).
    pub text: String,
    /// Its parsed content.
    pub spec: StudyFile,
    /// The resolved analysis options (preset + `analysis:`).
    pub options: AnalysisOptions,
    /// Absolute or study-relative model paths resolved against the study file's directory.
    pub model_paths: Vec<PathBuf>,
    /// The output directory from the file, resolved against its directory.
    pub output: Option<PathBuf>,
    /// Loading limits and memory budgets (CLI `--max-layer-bytes`, `--max-model-bytes`).
    pub limits: crate::onnx::Limits,
}

impl Study {
    /// Read and check a study file; `stages` overrides the file's stage list.
    pub fn load(path: &Path, stages: Option<Vec<Stage>>) -> Result<Study> {
        let text = crate::io::read_config_text(path)?;
        let mut spec: StudyFile = serde_saphyr::from_str(&text)
            .map_err(|e| Error::config(path, format!("invalid study file: {e}")))?;
        if let Some(s) = stages {
            spec.stages = s;
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let model_paths = spec.models.iter().map(|m| base.join(&m.path)).collect();
        let output = spec.output.as_ref().map(|o| base.join(o));
        let options = resolve_options(path, &spec)?;
        let study = Study {
            file: path.to_path_buf(),
            text,
            spec,
            options,
            model_paths,
            output,
            limits: crate::onnx::Limits::default(),
        };
        study.check()?;
        Ok(study)
    }

    /// Whether the study runs `stage`.
    pub fn has(&self, stage: Stage) -> bool {
        self.spec.stages.contains(&stage)
    }

    /// The targets to correlate: as configured, or every target some model reports.
    pub fn targets(&self) -> Vec<Target> {
        match &self.spec.correlate.targets {
            Some(t) => t.clone(),
            None => [Target::Top1, Target::Top5]
                .into_iter()
                .filter(|t| self.spec.models.iter().any(|m| m.error(*t).is_some()))
                .collect(),
        }
    }

    fn check(&self) -> Result<()> {
        let err = |m: String| Err(Error::config(&self.file, m));
        if self.spec.models.is_empty() {
            return err("models: the study lists no models".into());
        }
        if self.spec.stages.is_empty() {
            return err("stages: no stage to run".into());
        }
        let mut names: Vec<&str> = Vec::new();
        for (m, p) in self.spec.models.iter().zip(&self.model_paths) {
            if names.contains(&m.name.as_str()) {
                return err(format!("models: duplicate model name {:?}", m.name));
            }
            names.push(&m.name);
            check_model_name(&self.file, &m.name)?;
            for (key, v) in [("top1_error", m.top1_error), ("top5_error", m.top5_error)] {
                if let Some(v) = v
                    && !(v.is_finite() && (0.0..=100.0).contains(&v))
                {
                    return err(format!("model {:?}: {key} {v} is not a percentage", m.name));
                }
            }
            if !p.is_file() {
                return err(format!(
                    "model {:?}: file {} does not exist (paths are relative to the study file)",
                    m.name,
                    p.display()
                ));
            }
        }
        for metric in &self.spec.correlate.metrics {
            let Some(mean) = SummaryMean::from_name(metric) else {
                let names: Vec<&str> = SUMMARY_MEANS.iter().map(|m| m.name()).collect();
                return err(format!(
                    "correlate.metrics: unknown metric {metric:?}; summary metrics: {}",
                    names.join(", ")
                ));
            };
            if !mean.applies(&self.options) {
                return err(format!(
                    "correlate.metrics: {metric} needs the mp_fit stage or `analysis: {{ mp_fit: true }}`"
                ));
            }
        }
        if self.has(Stage::Correlate) {
            if self.targets().is_empty() {
                return err("correlate: no model reports top1_error or top5_error".into());
            }
            for t in self.targets() {
                if self.spec.models.iter().all(|m| m.error(t).is_none()) {
                    return err(format!(
                        "correlate.targets: {} is requested but no model reports {}_error",
                        t.name(),
                        t.name()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Model names become file names in the output directory: keep them plain.
fn check_model_name(file: &Path, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(Error::config(
            file,
            format!(
                "model name {name:?} must be 1–128 characters of letters, digits, '_', '-', '.'"
            ),
        ))
    }
}

/// The preset plus overrides; the `mp_fit` stage turns the MP fit on and conflicts with
/// `analysis: { mp_fit: false }`.
fn resolve_options(path: &Path, spec: &StudyFile) -> Result<AnalysisOptions> {
    let mut ov = spec.analysis.clone();
    let mp_stage = spec.stages.contains(&Stage::MpFit);
    if ov.mp_fit == Some(false) && mp_stage {
        return Err(Error::config(
            path,
            "inconsistent options: stage mp_fit is listed but analysis.mp_fit is false",
        ));
    }
    if mp_stage {
        ov.mp_fit = Some(true);
    }
    AnalysisOptions::resolve(spec.preset, &ov).map_err(|e| Error::config(path, e.to_string()))
}
