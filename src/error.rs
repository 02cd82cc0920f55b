//! Errors and the process exit codes they map to.
//!
//! Exit codes are part of the CLI contract: 0 success, 1 a failed gate, 2 anything that could not
//! be read, parsed or evaluated. A per-layer problem (NaN weights, an unsupported dtype) is never an
//! `Error`: it becomes a layer status so that the rest of the model is still analysed.

use std::path::{Path, PathBuf};

/// Exit code for input that could not be read or evaluated (model, config, options).
pub const EXIT_INPUT: u8 = 2;
/// Exit code for a gate that was evaluated and failed.
pub const EXIT_GATE_FAILED: u8 = 1;

/// Longest name echoed into a message (onnx-weights.md §8.2): names come from hostile files.
pub const MAX_NAME_IN_MESSAGE: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A model file is not a valid ONNX model, or violates a loading rule.
    #[error("{}: {what}", path.display())]
    Model { path: PathBuf, what: String },
    /// A configuration file (study, gate, analysis options) is invalid.
    #[error("{}: {what}", path.display())]
    Config { path: PathBuf, what: String },
    /// Options that are invalid on their own or in combination.
    #[error("invalid options: {0}")]
    Options(String),
    /// Writing an output failed.
    #[error("{}: cannot write output: {source}", path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Something that should be evaluated could not be (a gate rule naming an unknown metric...).
    #[error("{0}")]
    Evaluation(String),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn model(path: &Path, what: impl Into<String>) -> Self {
        Error::Model {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }

    pub fn config(path: &Path, what: impl Into<String>) -> Self {
        Error::Config {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }

    pub fn output(path: &Path, source: std::io::Error) -> Self {
        Error::Output {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Every error is an input or evaluation problem: exit code 2. A failed gate is not an error.
    pub fn exit_code(&self) -> u8 {
        EXIT_INPUT
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A name from a model file, made safe to print: bounded length, control characters escaped.
pub fn display_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .take(MAX_NAME_IN_MESSAGE)
        .flat_map(|c| c.escape_debug())
        .collect();
    if name.chars().count() > MAX_NAME_IN_MESSAGE {
        out.push('…');
    }
    out
}
