#![warn(missing_docs)]
//! tailwatch: data-free spectral audit of neural networks exported to ONNX.
//!
//! For every weight of a `Conv`, `ConvTranspose`, `Gemm` or `MatMul` (plain, folded or
//! quantized) tailwatch computes the empirical spectral density (the eigenvalues of WᵀW), fits
//! the Marchenko–Pastur bulk and a power law to the tail (Heavy-Tailed Self-Regularization,
//! Martin & Mahoney), and derives per-layer metrics and model summaries that reproduce
//! WeightWatcher 0.7.7. What is computed and why is written down in `docs/methods.md`; what a
//! weight is in ONNX, and how untrusted files are loaded, in `docs/onnx-weights.md`.
//!
//! # The pipeline, one module per stage
//!
//! [`onnx`] (load a model safely) → [`weights`] (find weight layers, build their matrices) →
//! [`spectra`] (eigenvalues of WᵀW) → [`fits`] (power law, Marchenko–Pastur) → [`metrics`]
//! (per-layer columns and model summaries) → [`stats`] (correlation with reported errors across a
//! study) → [`report`] (CSV, JSON, Markdown, HTML; [`report::audit`] is the one-model audit
//! report) and [`gate`] (a release verdict, which can
//! [`compare`] a model with its baseline layer by layer); [`describe`]
//! lists the weight layers without spectra.
//! [`analysis`] runs the per-model stages, [`study`] a family of models. [`options`] holds the
//! analysis options and presets, [`schema`] the declared columns, statuses and summary layout of
//! every output. The `tailwatch` binary (`src/main.rs`, `src/cli.rs`) is a thin shell over this
//! library.
//!
//! # Analyse one model
//!
//! ```
//! use std::path::Path;
//! use tailwatch::analysis::analyze_file;
//! use tailwatch::options::AnalysisOptions;
//! use tailwatch::schema::{Column, RowStatus};
//!
//! let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ww-0.7.7/mlp_gemm.onnx");
//! let analysis = analyze_file(&model, &AnalysisOptions::default())?;
//! let fc1 = &analysis.rows[0];
//! assert_eq!(fc1.text(Column::Name), Some("fc1.weight"));
//! assert_eq!(fc1.status(), Some(RowStatus::Success));
//! // WeightWatcher 0.7.7 reports alpha 3.71352 for this layer (mlp_gemm__default.csv).
//! let alpha = fc1.num(Column::Alpha);
//! assert!(alpha.is_some_and(|a| (a - 3.71352).abs() < 1e-5), "{alpha:?}");
//! println!("mean alpha {:?}", analysis.summary.get(Column::Alpha));
//! # Ok::<(), tailwatch::Error>(())
//! ```
//!
//! # Run a study
//!
//! A study file lists models with their reported errors; the outcome holds every model's
//! analysis and the correlations of the summary metrics with accuracy.
//!
//! ```
//! use std::path::Path;
//! use tailwatch::study::{self, Study, run::Quiet};
//!
//! let root = Path::new(env!("CARGO_MANIFEST_DIR"));
//! let study = Study::load(&root.join("configs/demo.yaml"), None)?;
//! let dir = std::env::temp_dir().join(format!("tailwatch-doc-study-{}", std::process::id()));
//! let out = tailwatch::io::OutDir::create(&dir)?;
//! let outcome = study::run(&study, &out, &Quiet)?;
//! assert!(outcome.complete);
//! assert_eq!(outcome.models.len(), 14);
//! tailwatch::report::study::write(&study, &outcome, &out)?; // report.html, report.json, …
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), tailwatch::Error>(())
//! ```
//!
//! # Gate a release
//!
//! ```
//! use std::path::Path;
//! use tailwatch::gate::{self, Gate, Status};
//!
//! let root = Path::new(env!("CARGO_MANIFEST_DIR"));
//! let g = Gate::load(&root.join("configs/gates/default.yaml"))?;
//! let model = root.join("fixtures/mnist-vgg-mini/vgg11_bn_mini.onnx");
//! let verdict = gate::eval::run(&g, &model, None)?;
//! assert_eq!(verdict.status, Status::Pass);
//! assert_eq!(verdict.exit_code(), 0);
//! print!("{}", gate::verdict::human(&verdict));
//! # Ok::<(), tailwatch::Error>(())
//! ```

pub mod analysis;
pub mod compare;
pub mod describe;
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
pub mod weights;

pub use error::{Error, Result};
