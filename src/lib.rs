//! tailwatch: data-free spectral audit of neural networks exported to ONNX.
//!
//! The pipeline, one module per stage:
//! `onnx` (load a model safely) → `weights` (find weight layers, build their matrices) →
//! `spectra` (eigenvalues of WᵀW) → `fits` (power law, Marchenko–Pastur) → `metrics` (per-layer
//! columns and model summaries) → `stats` (correlation with reported errors across a study) →
//! `report` (CSV, JSON, Markdown, HTML). `options` holds the analysis options and presets,
//! `schema` the declared columns, statuses and summary layout of every output.
//! The `tailwatch` binary (`src/main.rs`, `src/cli.rs`) is a thin shell over this library.

pub mod analysis;
pub mod error;
pub mod fits;
pub mod gate;
pub mod io;
pub mod metrics;
pub mod onnx;
pub mod options;
pub mod report;
pub mod schema;
pub mod spectra;
pub mod stats;
pub mod study;
#[doc(hidden)]
pub mod testkit;
pub mod weights;

pub use error::{Error, Result};
