//! The library's errors as the exception classes of `tailwatch._errors`, with the file and the
//! reason as attributes (`.file`, `.reason`, and `.kind` for a rejected model file).

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;
use tailwatch::Error;

/// Build `tailwatch._errors.<class>(message, file, reason, kind)`; should that fail (the
/// package is broken), a RuntimeError with the message.
fn raise(
    py: Python<'_>,
    class: &str,
    message: String,
    file: Option<String>,
    reason: String,
    kind: Option<&str>,
) -> PyErr {
    let made = py
        .import("tailwatch._errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((message.as_str(), file, reason, kind)));
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => PyRuntimeError::new_err(format!("{message} (and tailwatch._errors failed: {e})")),
    }
}

/// The exception for a library error. `Error::Interrupted` is a KeyboardInterrupt.
pub fn to_pyerr(py: Python<'_>, e: &Error) -> PyErr {
    let message = e.to_string();
    let path = |p: &std::path::Path| Some(p.display().to_string());
    match e {
        Error::Io { path: p, source } => {
            raise(py, "FileError", message, path(p), source.to_string(), None)
        }
        Error::Model {
            path: p,
            kind,
            what,
        } => raise(
            py,
            "ModelError",
            message,
            path(p),
            what.clone(),
            Some(kind.as_str()),
        ),
        Error::Config { path: p, what } => {
            raise(py, "ConfigError", message, path(p), what.clone(), None)
        }
        Error::Options(what) => raise(py, "OptionError", message, None, what.clone(), None),
        Error::Output { path: p, source } => raise(
            py,
            "OutputError",
            message,
            path(p),
            source.to_string(),
            None,
        ),
        Error::Evaluation(what) => raise(py, "EvaluationError", message, None, what.clone(), None),
        Error::Interrupted => PyKeyboardInterrupt::new_err("interrupted"),
    }
}

/// A bug in tailwatch (a panic, a lost worker): `tailwatch.InternalError`.
pub fn internal_error(py: Python<'_>, what: &str) -> PyErr {
    let message = format!("internal error in tailwatch (please report it): {what}");
    raise(py, "InternalError", message, None, what.to_string(), None)
}
