//! The command line: a thin shell over the library. Errors go to stderr as
//! `tailwatch: error: <message>` with exit code 2; logs go to stderr only, so JSON/CSV on stdout
//! stay clean.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use tailwatch::error::{Error, Result};
use tailwatch::options::{AnalysisConfig, AnalysisOptions, AnalysisOverrides, Preset};
use tailwatch::schema::{Column, ModelStatus};
use tailwatch::study::shard;
use tailwatch::{onnx, report, weights};

#[derive(Parser, Debug)]
#[command(
    name = "tailwatch",
    version,
    about = "Data-free spectral audit of ONNX models"
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the weight layers of a model (no spectra).
    Describe(DescribeArgs),
    /// Analyze one model: ESDs, power-law and MP fits, per-layer metrics and the summary.
    Analyze(AnalyzeArgs),
    /// Run a study file: analyze a family of models and correlate their metrics with errors.
    Study(StudyArgs),
    /// Release gate: judge a model against a gate file's rules. Exit 0 pass, 1 a rule failed,
    /// 2 something could not be evaluated.
    Gate(GateArgs),
}

#[derive(clap::Args, Debug)]
struct GateArgs {
    /// The gate file (YAML: preset, analysis options, rules), e.g. configs/gates/default.yaml.
    gate: PathBuf,
    /// The ONNX model to judge.
    model: PathBuf,
    /// Baseline model for baseline rules, analyzed with the gate's options.
    #[arg(long, conflicts_with = "baseline_report")]
    baseline: Option<PathBuf>,
    /// Baseline as an analysis.json written by `tailwatch analyze` with the gate's options.
    #[arg(long)]
    baseline_report: Option<PathBuf>,
    /// Write the verdict as JUnit XML (one test case per rule).
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write the verdict as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the verdict as Markdown (under 1 MiB, failing rules and layers first), for a CI
    /// step summary or a merge-request comment.
    #[arg(long)]
    summary_md: Option<PathBuf>,
    /// Write the audit report (report.html, report.md) with the verdict and, with a baseline,
    /// the before/after comparison into this directory.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct AnalyzeArgs {
    /// The ONNX model file.
    model: PathBuf,
    /// Output directory (created if needed); nothing is written anywhere else.
    #[arg(long)]
    out: PathBuf,
    /// Also write esd.csv: every row's eigenvalues (key,index,eigenvalue).
    #[arg(long)]
    save_esd: bool,
    /// Do not write the audit report (report.html, report.md).
    #[arg(long)]
    no_report: bool,
    #[command(flatten)]
    analysis: AnalysisArgs,
}

#[derive(clap::Args, Debug)]
struct StudyArgs {
    /// The study file (YAML).
    study: PathBuf,
    /// Output directory; overrides the study's `output:`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run only these stages, e.g. `--stages correlate,report` to re-correlate saved analyses.
    #[arg(long, value_delimiter = ',')]
    stages: Option<Vec<String>>,
    #[command(flatten)]
    limits: LimitArgs,
    /// Analyze only shard K of N (models i with i mod N = K−1); writes saved analyses and
    /// shards/K-of-N.json, no report. Combine shards with --merge.
    #[arg(long, value_name = "K/N", conflicts_with = "merge")]
    shard: Option<String>,
    /// Combine the outputs of `--shard` runs (directories) into the full report, recomputing
    /// nothing.
    #[arg(long, value_name = "SHARD_DIR", num_args = 1..)]
    merge: Vec<PathBuf>,
}

/// Memory budgets for untrusted models (onnx-weights.md §8.2).
#[derive(clap::Args, Debug)]
pub struct LimitArgs {
    /// Per-layer memory budget in bytes (f64 copy + Gram); a larger layer gets status
    /// `over_budget` and the rest of the model is analyzed. Default 4 GiB.
    #[arg(long, value_name = "BYTES")]
    max_layer_bytes: Option<u64>,
    /// Per-model budget in bytes for all declared tensor data (inline and external); a larger
    /// model is rejected before anything is decoded. Default 1 TiB.
    #[arg(long, value_name = "BYTES")]
    max_model_bytes: Option<u64>,
}

impl LimitArgs {
    pub fn limits(&self) -> onnx::Limits {
        let d = onnx::Limits::default();
        onnx::Limits {
            layer_memory_budget: self.max_layer_bytes.unwrap_or(d.layer_memory_budget),
            model_memory_budget: self.max_model_bytes.unwrap_or(d.model_memory_budget),
            ..d
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(clap::Args, Debug)]
struct DescribeArgs {
    /// The ONNX model file.
    model: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    analysis: AnalysisArgs,
}

/// Options shared by the analysis subcommands: preset < config file < --preset < --set.
#[derive(clap::Args, Debug)]
pub struct AnalysisArgs {
    /// Analysis config file (YAML: `preset:` and `analysis:` overrides), e.g. configs/ww2x.yaml.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Option preset: ww (default), ww2x, nature2021.
    #[arg(long)]
    preset: Option<String>,
    /// Override one option, e.g. `--set mp_fit=true` or `--set compat=ww-0.7.7` (repeatable;
    /// every option of configs/ww.yaml).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    #[command(flatten)]
    limits: LimitArgs,
}

impl AnalysisArgs {
    /// The resolved options and the preset's name.
    pub fn resolve(&self) -> Result<(AnalysisOptions, Preset)> {
        let file = match &self.config {
            Some(p) => AnalysisConfig::load(p)?,
            None => AnalysisConfig::default(),
        };
        let preset = match &self.preset {
            Some(p) => Preset::parse(p)?,
            None => file.preset.unwrap_or_default(),
        };
        let mut overrides = file.analysis.clone();
        overrides.merge(&AnalysisOverrides::from_pairs(&self.set)?);
        Ok((AnalysisOptions::resolve(preset, &overrides)?, preset))
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Usage errors exit 2 (clap's convention matches ours); --help/--version exit 0.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                tailwatch::error::EXIT_INPUT
            } else {
                0
            });
        }
    };
    init_logging(cli.verbose, cli.quiet);
    let result = match &cli.command {
        Command::Describe(a) => describe(a)
            .inspect_err(|e| {
                if matches!(a.format, Format::Json) {
                    print_json_error(e);
                }
            })
            .map(|()| ExitCode::SUCCESS),
        Command::Analyze(a) => analyze(a).map(|()| ExitCode::SUCCESS),
        Command::Study(a) => study(a),
        Command::Gate(a) => gate(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tailwatch: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// With `--format json` a rejection is also a JSON object on stdout, so that a registry reading
/// stdout gets the class without parsing stderr: `{"error": {"class": …, "message": …}}`.
fn print_json_error(e: &Error) {
    let class = e.model_kind().map_or("input", |k| k.as_str());
    let v = serde_json::json!({ "error": { "class": class, "message": e.to_string() } });
    println!("{v}");
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => tracing::Level::ERROR,
        (false, 0) => tracing::Level::WARN,
        (false, 1) => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn describe(a: &DescribeArgs) -> Result<()> {
    let (opts, _) = a.analysis.resolve()?;
    let model = onnx::load(&a.model, &a.analysis.limits.limits())?;
    tracing::info!(file = %a.model.display(), sha256 = %model.info().sha256, "model loaded");
    let x = weights::extract(&model, &opts)?;
    tracing::info!(
        layers = x.layers.len(),
        skipped = x.skipped.len(),
        "weights extracted"
    );
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let res = match a.format {
        Format::Json => tailwatch::describe::write_json(&mut out, model.info(), &x, &opts),
        Format::Csv => tailwatch::describe::write_csv(&mut out, &x, &opts),
        Format::Table => tailwatch::describe::write_table(&mut out, model.info(), &x, &opts),
    };
    res.and_then(|()| out.flush())
        .map_err(|e| Error::output(Path::new("<stdout>"), e))
}

fn analyze(a: &AnalyzeArgs) -> Result<()> {
    let (opts, preset) = a.analysis.resolve()?;
    let analysis = tailwatch::analysis::analyze_file_with_progress(
        &a.model,
        &opts,
        &a.analysis.limits.limits(),
        &|_, _| {},
    )?;
    let out = tailwatch::io::OutDir::create(&a.out)?;
    report::analysis::write(&out, &analysis, preset.name(), a.save_esd)?;
    if !a.no_report {
        report::audit::write(&out, &report::audit::Audit::new(&analysis, preset))?;
    }
    let s = &analysis.summary;
    eprintln!(
        "{}: {} layers, {} rows ({} skipped, {} not analyzed, {} fit failed); alpha {} alpha_weighted {} log_spectral_norm {} → {}",
        a.model.display(),
        s.counts.n_layers,
        s.counts.n_rows,
        s.counts.n_skipped,
        s.counts.n_invalid,
        s.counts.n_fit_failed,
        show(s.get(Column::Alpha)),
        show(s.get(Column::AlphaWeighted)),
        show(s.get(Column::LogSpectralNorm)),
        a.out.display()
    );
    Ok(())
}

/// Judge the model; the verdict files are written whenever the gate file could be read, so a
/// CI job always finds a report, and an error is never a pass.
fn gate(a: &GateArgs) -> Result<ExitCode> {
    use tailwatch::gate::{self, BaselineSource, Verdict, junit, summary_md, verdict};
    let g = gate::Gate::load(&a.gate)?;
    let baseline = BaselineSource::from_paths(a.baseline.clone(), a.baseline_report.clone())?;
    let judged = gate::eval::run_judged(&g, &a.model, baseline.as_ref());
    let (v, judged) = match judged {
        Ok(j) => (j.verdict.clone(), Some(j)),
        Err(e) => (
            Verdict::failed_to_evaluate(
                &a.gate.display().to_string(),
                g.preset.name(),
                &a.model.display().to_string(),
                e.to_string(),
            ),
            None,
        ),
    };
    if let Some(p) = &a.junit {
        write_file(p, junit::to_xml(&v).as_bytes())?;
    }
    if let Some(p) = &a.json {
        let mut text = serde_json::to_string_pretty(&verdict::to_json(&v))
            .map_err(|e| Error::Evaluation(format!("cannot serialise the verdict: {e}")))?;
        text.push('\n');
        write_file(p, text.as_bytes())?;
    }
    if let Some(p) = &a.summary_md {
        write_file(p, summary_md::to_markdown(&v).as_bytes())?;
    }
    // Last: the verdict files above matter most to a CI job.
    if let Some(dir) = &a.report {
        let out = tailwatch::io::OutDir::create(dir)?;
        match &judged {
            Some(j) => {
                let audit = report::audit::Audit {
                    gate: Some(report::audit::GateView {
                        verdict: &v,
                        baseline: j.baseline.as_ref(),
                    }),
                    ..report::audit::Audit::new(&j.model, g.preset)
                };
                report::audit::write(&out, &audit)?
            }
            None => report::audit::write_unevaluated(&out, &v)?,
        };
    }
    print!("{}", verdict::human(&v));
    for e in &v.errors {
        eprintln!("tailwatch: error: {e}");
    }
    Ok(ExitCode::from(v.exit_code()))
}

/// Write one output file atomically, creating its directory.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Options(format!("{}: not a file name", path.display())))?;
    tailwatch::io::OutDir::create(dir)?.write(name, bytes)?;
    Ok(())
}

fn show(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |x| format!("{x:.4}"))
}

fn study(a: &StudyArgs) -> Result<ExitCode> {
    let stages = match &a.stages {
        Some(list) => Some(
            list.iter()
                .map(|s| tailwatch::study::Stage::parse(s))
                .collect::<Result<Vec<_>>>()?,
        ),
        None => None,
    };
    let mut study = tailwatch::study::Study::load(&a.study, stages)?;
    study.limits = a.limits.limits();
    let dir = tailwatch::study::run::output_dir(&study, a.out.as_deref())?;
    let out = tailwatch::io::OutDir::create(&dir)?;
    let progress = progress::Bars::new();
    let shard = a.shard.as_deref().map(shard::Shard::parse).transpose()?;
    let outcome = match shard {
        Some(k) => shard::run_shard(&study, k, &out, &progress)?.0,
        None if !a.merge.is_empty() => shard::merge(&study, &a.merge, &out, &progress)?,
        None => tailwatch::study::run(&study, &out, &progress)?,
    };
    progress.finish();
    if study.has(tailwatch::study::Stage::Report) && shard.is_none() {
        report::study::write(&study, &outcome, &out)?;
    }
    print_study_result(&outcome);
    if outcome.complete {
        Ok(ExitCode::SUCCESS)
    } else {
        let failed: Vec<&str> = outcome
            .models
            .iter()
            .filter(|m| m.error.is_some())
            .map(|m| m.name.as_str())
            .collect();
        eprintln!(
            "tailwatch: error: study incomplete, {} model(s) could not be analyzed: {}",
            failed.len(),
            failed.join(", ")
        );
        Ok(ExitCode::from(tailwatch::error::EXIT_INPUT))
    }
}

fn print_study_result(o: &tailwatch::study::StudyOutcome) {
    if o.models.is_empty() {
        eprintln!(
            "layer listings written to {}",
            o.out_dir.join("layers").display()
        );
        return;
    }
    let analyzed = o
        .models
        .iter()
        .filter(|m| m.status == ModelStatus::Analyzed)
        .count();
    let reused = o
        .models
        .iter()
        .filter(|m| m.status == ModelStatus::Reused)
        .count();
    eprintln!(
        "{} models ({analyzed} analyzed, {reused} reused) in {:.1} s → {}",
        o.models.len(),
        o.seconds,
        o.out_dir.display()
    );
    for group in o
        .correlations
        .iter()
        .map(|r| r.group.as_str())
        .fold(Vec::new(), |mut v, g| {
            if !v.contains(&g) {
                v.push(g);
            }
            v
        })
    {
        let best = report::study::ranking(&o.correlations, group, "top1");
        if let Some((metric, tau)) = best.first() {
            eprintln!("  [{group}] strongest top-1 relation: {metric} (Kendall τ {tau:+.3})");
        }
    }
}

/// Progress bars on a terminal; indicatif hides them when stderr is not one (CI, pipes).
mod progress {
    use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

    pub struct Bars {
        multi: MultiProgress,
        models: ProgressBar,
        layers: ProgressBar,
    }

    impl Bars {
        pub fn new() -> Bars {
            let multi = MultiProgress::new();
            let style = ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            let models = multi.add(
                ProgressBar::new(0)
                    .with_style(style.clone())
                    .with_prefix("models"),
            );
            let layers = multi.add(ProgressBar::new(0).with_style(style).with_prefix("layers"));
            if std::env::var_os("CI").is_some() {
                multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            Bars {
                multi,
                models,
                layers,
            }
        }

        pub fn finish(&self) {
            self.layers.finish_and_clear();
            self.models.finish_and_clear();
            let _ = self.multi.clear();
        }
    }

    impl tailwatch::study::Progress for Bars {
        fn model_started(&self, index: usize, total: usize, name: &str) {
            self.models.set_length(total as u64);
            self.models.set_position(index as u64);
            self.models.set_message(name.to_string());
            self.layers.set_position(0);
        }
        fn layer_done(&self, done: usize, total: usize) {
            self.layers.set_length(total as u64);
            self.layers.set_position(done as u64);
        }
        fn model_finished(&self, _name: &str, _status: tailwatch::schema::ModelStatus) {
            self.models.inc(1);
        }
    }
}
