//! The command line: a thin shell over the library. Errors go to stderr as
//! `tailwatch: error: <message>` with exit code 2; logs go to stderr only, so JSON/CSV on stdout
//! stay clean.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::options::{AnalysisOptions, AnalysisOverrides, Preset};
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

/// Options shared by the analysis subcommands.
#[derive(clap::Args, Debug)]
pub struct AnalysisArgs {
    /// Option preset: ww, ww2x, nature2021.
    #[arg(long, default_value = "ww")]
    preset: String,
    /// Override one option, e.g. `--set layer_source=initializers` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

impl AnalysisArgs {
    pub fn resolve(&self) -> Result<AnalysisOptions> {
        let preset = Preset::parse(&self.preset)?;
        AnalysisOptions::resolve(preset, &AnalysisOverrides::from_pairs(&self.set)?)
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
        Command::Describe(a) => describe(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
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
    let opts = a.analysis.resolve()?;
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
