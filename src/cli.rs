//! The command line: a thin shell over the library. Errors go to stderr as
//! `tailwatch: error: <message>` with exit code 2; logs go to stderr only, so JSON/CSV on stdout
//! stay clean.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::options::{AnalysisConfig, AnalysisOptions, AnalysisOverrides, Preset};
use crate::study::shard;
use crate::{onnx, report, weights};

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
    /// Analyse one model: ESDs, power-law and MP fits, per-layer metrics and the summary.
    Analyze(AnalyzeArgs),
    /// Run a study file: analyse a family of models and correlate their metrics with errors.
    Study(StudyArgs),
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
    /// Analyse only shard K of N (models i with i mod N = K−1); writes saved analyses and
    /// shards/K-of-N.json, no report. Combine shards with --merge.
    #[arg(long, value_name = "K/N", conflicts_with = "merge")]
    shard: Option<String>,
    /// Combine the outputs of `--shard` runs (directories) into the full report, recomputing
    /// nothing.
    #[arg(long, value_name = "SHARD_DIR", num_args = 1..)]
    merge: Vec<PathBuf>,
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
                crate::error::EXIT_INPUT
            } else {
                0
            });
        }
    };
    init_logging(cli.verbose, cli.quiet);
    let result = match &cli.command {
        Command::Describe(a) => describe(a).map(|()| ExitCode::SUCCESS),
        Command::Analyze(a) => analyze(a).map(|()| ExitCode::SUCCESS),
        Command::Study(a) => study(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tailwatch: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
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
    let model = onnx::load(&a.model, &onnx::Limits::default())?;
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
        Format::Json => report::describe::write_json(&mut out, model.info(), &x, &opts),
        Format::Csv => report::describe::write_csv(&mut out, &x, &opts),
        Format::Table => report::describe::write_table(&mut out, model.info(), &x, &opts),
    };
    res.and_then(|()| out.flush())
        .map_err(|e| Error::output(Path::new("<stdout>"), e))
}

fn analyze(a: &AnalyzeArgs) -> Result<()> {
    let (opts, preset) = a.analysis.resolve()?;
    let analysis = crate::analysis::analyze_file(&a.model, &opts)?;
    let out = report::output::OutDir::create(&a.out)?;
    report::analysis::write(&out, &analysis, preset.name(), a.save_esd)?;
    let s = &analysis.summary;
    eprintln!(
        "{}: {} layers, {} rows ({} skipped, {} fit failed); alpha {} alpha_weighted {} log_spectral_norm {} → {}",
        a.model.display(),
        s.n_layers,
        s.n_rows,
        s.n_skipped,
        s.n_fit_failed,
        show(s.get("alpha")),
        show(s.get("alpha_weighted")),
        show(s.get("log_spectral_norm")),
        a.out.display()
    );
    Ok(())
}

fn show(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |x| format!("{x:.4}"))
}

fn study(a: &StudyArgs) -> Result<ExitCode> {
    let stages = match &a.stages {
        Some(list) => Some(
            list.iter()
                .map(|s| crate::study::Stage::parse(s))
                .collect::<Result<Vec<_>>>()?,
        ),
        None => None,
    };
    let study = crate::study::Study::load(&a.study, stages)?;
    let dir = crate::study::run::output_dir(&study, a.out.as_deref())?;
    let out = report::output::OutDir::create(&dir)?;
    let progress = progress::Bars::new();
    let shard = a.shard.as_deref().map(shard::Shard::parse).transpose()?;
    let outcome = match shard {
        Some(k) => shard::run_shard(&study, k, &out, &progress)?.0,
        None if !a.merge.is_empty() => shard::merge(&study, &a.merge, &out, &progress)?,
        None => crate::study::run(&study, &out, &progress)?,
    };
    progress.finish();
    if study.has(crate::study::Stage::Report) && shard.is_none() {
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
            "tailwatch: error: study incomplete, {} model(s) could not be analysed: {}",
            failed.len(),
            failed.join(", ")
        );
        Ok(ExitCode::from(crate::error::EXIT_INPUT))
    }
}

fn print_study_result(o: &crate::study::StudyOutcome) {
    let analysed = o.models.iter().filter(|m| m.status == "analysed").count();
    let reused = o.models.iter().filter(|m| m.status == "reused").count();
    eprintln!(
        "{} models ({analysed} analysed, {reused} reused) in {:.1} s → {}",
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

    impl crate::study::Progress for Bars {
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
        fn model_finished(&self, _name: &str, _status: &str) {
            self.models.inc(1);
        }
    }
}
