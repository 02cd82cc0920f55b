//! Errors and the process exit codes they map to.
//!
//! Exit codes are part of the CLI contract: 0 success, 1 a failed gate, 2 anything that could not
//! be read, parsed or evaluated. A per-layer problem (NaN weights, an unsupported dtype) is never an
//! `Error`: it becomes a layer status so that the rest of the model is still analyzed.

use std::path::{Path, PathBuf};

/// Exit code for input that could not be read or evaluated (model, config, options).
pub const EXIT_INPUT: u8 = 2;
/// Exit code for a gate that was evaluated and failed.
pub const EXIT_GATE_FAILED: u8 = 1;

/// Longest name echoed into a message (onnx-weights.md §8.2): names come from hostile files.
pub const MAX_NAME_IN_MESSAGE: usize = 256;

/// Every failure the library reports; each maps to exit code [`EXIT_INPUT`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A model file is not a valid ONNX model, or violates a loading rule.
    #[error("{}: {what} [{kind}]", path.display())]
    Model {
        /// The model file.
        path: PathBuf,
        /// The rule the file broke.
        kind: ModelErrorKind,
        /// What was wrong, for people; names in it pass through [`display_name`].
        what: String,
    },
    /// A configuration file (study, gate, analysis options) is invalid.
    #[error("{}: {what}", path.display())]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What was wrong, for people.
        what: String,
    },
    /// Options that are invalid on their own or in combination.
    #[error("invalid options: {0}")]
    Options(String),
    /// Writing an output failed.
    #[error("{}: cannot write output: {source}", path.display())]
    Output {
        /// The output that could not be written (`<stdout>` for standard output).
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Something that should be evaluated could not be (a gate rule naming an unknown metric...).
    #[error("{0}")]
    Evaluation(String),
    /// The run was stopped through its [`crate::analysis::Cancel`] flag (a notebook's Ctrl-C)
    /// before it finished; nothing it computed is returned.
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn model(path: &Path, kind: ModelErrorKind, what: impl Into<String>) -> Self {
        Error::Model {
            path: path.to_path_buf(),
            kind,
            what: what.into(),
        }
    }

    pub(crate) fn config(path: &Path, what: impl Into<String>) -> Self {
        Error::Config {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }

    /// An [`Error::Output`] for `path`.
    pub fn output(path: &Path, source: std::io::Error) -> Self {
        Error::Output {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The class of a rejected model file, for callers that act on it (and for JSON records).
    pub fn model_kind(&self) -> Option<ModelErrorKind> {
        match self {
            Error::Model { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// Every error is an input or evaluation problem: exit code 2. A failed gate is not an error.
    pub fn exit_code(&self) -> u8 {
        EXIT_INPUT
    }
}

/// Why a model file was rejected: one class per rule of onnx-weights.md §7–§8, so that tests and
/// registries can act on the class rather than parse the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelErrorKind {
    /// The protobuf ends inside a field (a cut-off download or copy).
    Truncated,
    /// Not an ONNX ModelProto: bad protobuf, wrong message, no graph, not a regular file.
    NotOnnx,
    /// Over a configured size: file bytes, nodes/initializers/attributes, tensor rank, elements.
    TooLarge,
    /// Protobuf nesting or If/Loop/Scan subgraph nesting over the limit.
    TooDeep,
    /// A negative tensor dimension.
    NegativeDim,
    /// The product of a tensor's dims overflows or exceeds the element limit.
    DimOverflow,
    /// Payload size disagrees with dims × dtype (raw, typed, or external length).
    LengthMismatch,
    /// A tensor with no payload, several, or a kind its dtype cannot use.
    BadPayload,
    /// External data `location` that is absolute or leaves the model directory (lexically).
    PathTraversal,
    /// External data reached through a symbolic link.
    Symlink,
    /// External data file with more than one hard link.
    Hardlink,
    /// External data that is not a regular file, is missing, or changed while opening.
    ExternalFile,
    /// External data offset + length past the end of the file.
    OutOfBounds,
    /// An `external_data` key outside the whitelist, or a bad offset/length value.
    BadExternalKey,
    /// A value name defined more than once in one graph.
    DuplicateName,
    /// A node input that no initializer, graph input or node output defines.
    MissingTensor,
    /// Nodes that depend on each other in a cycle (no execution order exists).
    Cycle,
    /// The declared tensor data of the whole model exceeds the per-model memory budget.
    OverBudget,
    /// A node attribute tailwatch reads has the wrong type, is missing though required, or has a
    /// value the operator does not allow (a group below 1, an axis outside the rank).
    BadAttribute,
}

impl ModelErrorKind {
    /// The class as written in messages and JSON records (`truncated`, `not_onnx`...), the same
    /// text as its serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelErrorKind::Truncated => "truncated",
            ModelErrorKind::NotOnnx => "not_onnx",
            ModelErrorKind::TooLarge => "too_large",
            ModelErrorKind::TooDeep => "too_deep",
            ModelErrorKind::NegativeDim => "negative_dim",
            ModelErrorKind::DimOverflow => "dim_overflow",
            ModelErrorKind::LengthMismatch => "length_mismatch",
            ModelErrorKind::BadPayload => "bad_payload",
            ModelErrorKind::PathTraversal => "path_traversal",
            ModelErrorKind::Symlink => "symlink",
            ModelErrorKind::Hardlink => "hardlink",
            ModelErrorKind::ExternalFile => "external_file",
            ModelErrorKind::OutOfBounds => "out_of_bounds",
            ModelErrorKind::BadExternalKey => "bad_external_key",
            ModelErrorKind::DuplicateName => "duplicate_name",
            ModelErrorKind::MissingTensor => "missing_tensor",
            ModelErrorKind::Cycle => "cycle",
            ModelErrorKind::OverBudget => "over_budget",
            ModelErrorKind::BadAttribute => "bad_attribute",
        }
    }
}

impl std::fmt::Display for ModelErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The library's result type: [`Error`] unless said otherwise.
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
