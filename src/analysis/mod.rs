//! The per-model pipeline: load → extract weight layers → per row: spectra, fits, metrics →
//! summary. Big layers (`spectra::cost`) have their Gram products formed one at a time with all
//! threads, then their eigensolves run on one thread beside the next big layer
//! (`analyze_big_layers`); the rest run side by side over rayon. Outcomes are collected in
//! layer order and every path computes the same numbers, so the output does not depend on the
//! thread count or on the schedule.
//!
//! A run can be stopped from another thread with a [`Cancel`] flag: every analysis started
//! inside [`Cancel::scope`] checks it before each layer starts, and returns
//! [`Error::Interrupted`](crate::Error::Interrupted) once it is set. Without a scope, or while
//! the flag is not set, nothing changes.

mod layer;

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use faer::Par;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use layer::RowEsd;

use crate::error::{Error, Result};
use crate::metrics::row::Row;
use crate::metrics::summary::{self, Summary};
use crate::onnx::{self, Limits, ModelInfo};
use crate::options::{AnalysisOptions, Quirk};
use crate::schema::{Column, RowStatus, SkipReason};
use crate::spectra;
use crate::weights::{self, Extraction, Skipped, WeightLayer};

/// Wall-clock seconds per stage (informational; never part of a compared output).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Mapping, decoding and validating the protobuf.
    pub load_s: f64,
    /// Finding the weight layers (`weights::extract`).
    pub extract_s: f64,
    /// The layers, and the file's SHA-256, which is computed beside them.
    pub analyze_s: f64,
}

/// Everything known about one analyzed model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelAnalysis {
    /// The model file's facts.
    pub model: ModelInfo,
    /// The options it was analyzed with.
    pub options: AnalysisOptions,
    /// The `details` rows: one per layer, or per slice with `pool: false`.
    pub rows: Vec<Row>,
    /// The weight layers and candidates that produced no row, and why.
    pub skipped: Vec<Skipped>,
    /// The model summary (methods.md §13).
    pub summary: Summary,
    /// The eigenvalues of each analyzed row.
    pub esd: Vec<RowEsd>,
    /// Wall-clock seconds per stage.
    pub timings: Timings,
}

/// A flag that stops analyses from another thread, for callers that must be interruptible (the
/// Python binding's Ctrl-C). Set it with [`Cancel::cancel`]; the analyses started inside
/// [`Cancel::scope`] (directly, or inside a study or a gate) stop before their next layer starts
/// with [`Error::Interrupted`]. A layer already started runs to its end.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

thread_local! {
    static CANCEL: RefCell<Option<Cancel>> = const { RefCell::new(None) };
}

impl Cancel {
    /// A flag that is not set.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Ask the analyses watching this flag to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Run `f` on this thread with this flag watched by every analysis it starts.
    pub fn scope<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Restore(Option<Cancel>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                CANCEL.with(|c| *c.borrow_mut() = previous);
            }
        }
        let _restore = Restore(CANCEL.with(|c| c.borrow_mut().replace(self.clone())));
        f()
    }

    /// The flag of the innermost enclosing [`Cancel::scope`] on this thread.
    fn current() -> Option<Cancel> {
        CANCEL.with(|c| c.borrow().clone())
    }
}

/// Analyze one ONNX file with the given (validated) options.
pub fn analyze_file(path: &Path, opts: &AnalysisOptions) -> Result<ModelAnalysis> {
    analyze_file_with_progress(path, opts, &Limits::default(), &|_, _| {})
}

/// As `analyze_file` under the given loading limits and budgets, calling `on_layer(done, total)` as layers finish (from worker threads).
pub fn analyze_file_with_progress(
    path: &Path,
    opts: &AnalysisOptions,
    limits: &Limits,
    on_layer: &(dyn Fn(usize, usize) + Sync),
) -> Result<ModelAnalysis> {
    opts.validate()?;
    let cancel = Cancel::current();
    let stopped = || cancel.as_ref().is_some_and(Cancel::is_cancelled);
    if stopped() {
        return Err(Error::Interrupted);
    }
    let t0 = Instant::now();
    let model = onnx::load(path, limits)?;
    let t1 = Instant::now();
    let extraction = weights::extract(&model, opts)?;
    let t2 = Instant::now();
    let total = extraction.layers.len();
    let done = AtomicUsize::new(0);
    let tick = || on_layer(done.fetch_add(1, Ordering::Relaxed) + 1, total);
    let big = |l: &WeightLayer| spectra::cost::is_big(l.view.rows, l.view.cols, l.view.slices);
    let layers = &extraction.layers;
    let big_layers: Vec<(usize, &WeightLayer)> =
        layers.iter().enumerate().filter(|(_, l)| big(l)).collect();
    let small_layers = || -> Indexed {
        (layers.par_iter().enumerate())
            .filter(|(_, l)| !big(l))
            .map(|(i, l)| {
                if stopped() {
                    return (i, LayerOutcome::default());
                }
                let o = analyze_layer(&extraction, l, opts, Par::Seq);
                tick();
                (i, o)
            })
            .collect()
    };
    // The file's hash (for the report) on one thread while the first layer starts.
    let ((), mut outcomes) = rayon::join(
        || {
            model.info();
        },
        || {
            analyze_big_layers(
                &extraction,
                &big_layers,
                opts,
                &tick,
                &stopped,
                &small_layers,
            )
        },
    );
    if stopped() {
        return Err(Error::Interrupted);
    }
    outcomes.sort_by_key(|(i, _)| *i);
    let outcomes = outcomes.into_iter().map(|(_, o)| o).collect();
    let t3 = Instant::now();
    Ok(assemble(
        &model,
        &extraction,
        outcomes,
        opts,
        [t0, t1, t2, t3],
    ))
}

fn assemble(
    model: &onnx::Model,
    extraction: &Extraction<'_>,
    outcomes: Vec<LayerOutcome>,
    opts: &AnalysisOptions,
    t: [Instant; 4],
) -> ModelAnalysis {
    let mut skipped = extraction.skipped.clone();
    let (mut rows, mut esd) = (Vec::new(), Vec::new());
    for o in outcomes {
        rows.extend(o.rows);
        esd.extend(o.esd);
        skipped.extend(o.skipped);
    }
    let n_size_skipped = (skipped.iter())
        .filter(|s| s.reason == SkipReason::SizeFilter)
        .count();
    let summary = summary::summarize(&rows, extraction.layers.len(), n_size_skipped, opts);
    let secs = |a: Instant, b: Instant| (b - a).as_secs_f64();
    ModelAnalysis {
        model: model.info().clone(),
        options: opts.clone(),
        rows,
        skipped,
        summary,
        esd,
        timings: Timings {
            load_s: secs(t[0], t[1]),
            extract_s: secs(t[1], t[2]),
            analyze_s: secs(t[2], t[3]),
        },
    }
}

/// Layer outcomes tagged with the layer's position, sorted back into layer order at the end.
type Indexed = Vec<(usize, LayerOutcome)>;

#[derive(Default)]
struct LayerOutcome {
    rows: Vec<Row>,
    esd: Vec<RowEsd>,
    skipped: Option<Skipped>,
}

fn skip(layer: &WeightLayer, reason: SkipReason, detail: String) -> LayerOutcome {
    LayerOutcome {
        skipped: Some(Skipped {
            layer_id: Some(layer.layer_id),
            name: layer.name.clone(),
            op: layer.op.clone(),
            reason,
            detail,
        }),
        ..Default::default()
    }
}

/// A detached eigensolve holds its Gram matrix while the next big layer is decoded and
/// multiplied; above this size (a 5792-wide Gram matrix) the eigensolve runs in place instead,
/// so that memory stays at one big layer plus one Gram matrix of at most this size.
const DETACHED_GRAM_BYTES: usize = 256 << 20;

/// Every layer. The big layers, in order: each one's weights are decoded and its Gram products
/// formed with all threads (`Par::rayon`), the weights freed, and its eigensolves and fits
/// spawned to run on one thread beside the next big layer — one such detached layer at a time,
/// and only while its Gram matrices are small (`DETACHED_GRAM_BYTES`); otherwise they run in
/// place with all threads. The small layers (`small`) start once the first big layer's Gram
/// products are done, queued behind its eigensolve: the Gram product uses both cores well, the
/// sequential eigensolves do not, so that is where the small layers fill the second core.
/// Eigenvalues do not depend on the threads (`spectra`) and the outcomes are indexed, so the
/// result does not depend on which thread ran what.
fn analyze_big_layers(
    ex: &Extraction<'_>,
    big: &[(usize, &WeightLayer)],
    opts: &AnalysisOptions,
    tick: &(dyn Fn() + Sync),
    stopped: &(dyn Fn() -> bool + Sync),
    small: &(dyn Fn() -> Indexed + Sync),
) -> Indexed {
    let out = std::sync::Mutex::new(Indexed::new());
    let detached = std::sync::atomic::AtomicBool::new(false);
    let record = |i: usize, o: LayerOutcome| {
        out.lock().unwrap_or_else(|e| e.into_inner()).push((i, o));
        tick();
    };
    let record_all = |v: Indexed| out.lock().unwrap_or_else(|e| e.into_inner()).extend(v);
    rayon::scope(|s| {
        let mut small_started = false;
        for &(i, layer) in big {
            if stopped() {
                break;
            }
            let prepared = prepare_layer(ex, layer, opts, Par::rayon(0));
            if prepared.gram_bytes() <= DETACHED_GRAM_BYTES
                && !detached.swap(true, Ordering::AcqRel)
            {
                let (record, detached) = (&record, &detached);
                s.spawn(move |_| {
                    record(i, finish_layer(prepared, opts, Par::Seq));
                    detached.store(false, Ordering::Release);
                });
            } else {
                // In place, with all threads: the other core joins in once it is free.
                record(i, finish_layer(prepared, opts, Par::rayon(0)));
            }
            if !small_started {
                small_started = true;
                let record_all = &record_all;
                s.spawn(move |_| record_all(small()));
            }
        }
        if !small_started {
            record_all(small());
        }
    });
    out.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// One layer: size filter, decode, then its rows. A per-layer problem becomes a row status.
fn analyze_layer(
    ex: &Extraction<'_>,
    layer: &WeightLayer,
    opts: &AnalysisOptions,
    par: Par,
) -> LayerOutcome {
    finish_layer(prepare_layer(ex, layer, opts, par), opts, par)
}

/// A layer whose weights are no longer needed: either finished, or its rows' Gram products
/// formed and waiting for their eigensolves (`finish_layer`).
enum PreparedLayer<'e> {
    Done(LayerOutcome),
    Rows {
        layer: &'e WeightLayer,
        plans: Vec<layer::RowPlan<'e>>,
        spectra: Vec<std::result::Result<spectra::PreparedRow, spectra::SpectrumError>>,
    },
}

impl PreparedLayer<'_> {
    fn gram_bytes(&self) -> usize {
        match self {
            PreparedLayer::Done(_) => 0,
            PreparedLayer::Rows { spectra, .. } => spectra
                .iter()
                .flatten()
                .map(spectra::PreparedRow::bytes)
                .sum(),
        }
    }
}

/// The eigensolves (`par` threads in their GEMMs, which does not change their results), fits
/// and metrics of a prepared layer.
fn finish_layer(prepared: PreparedLayer<'_>, opts: &AnalysisOptions, par: Par) -> LayerOutcome {
    match prepared {
        PreparedLayer::Done(outcome) => outcome,
        PreparedLayer::Rows {
            layer,
            plans,
            spectra,
        } => {
            let started = Instant::now();
            let spectra: Vec<_> = spectra
                .into_iter()
                .map(|p| p.and_then(|p| p.solve(par)))
                .collect();
            tracing::debug!(
                layer = %layer.name,
                eigensolve_s = started.elapsed().as_secs_f64(),
                "eigensolves done"
            );
            finish_rows(layer, &plans, spectra, opts)
        }
    }
}

/// Size filter, decode, and the rows' Gram products with `par` threads; the weights are freed
/// on return unless an option reads them after the spectrum (then the layer is finished here).
fn prepare_layer<'e>(
    ex: &'e Extraction<'_>,
    layer: &'e WeightLayer,
    opts: &AnalysisOptions,
    par: Par,
) -> PreparedLayer<'e> {
    let dims = layer.view.dims(layer.kind, opts.quirk(Quirk::ConvNmSwap));
    if let Some(why) = weights::size_filter(&dims, opts) {
        return PreparedLayer::Done(skip(layer, SkipReason::SizeFilter, why));
    }
    let span = tracing::debug_span!("layer", id = layer.layer_id, name = %layer.name);
    let _enter = span.enter();
    // Spectra and norms do not depend on orientation; randomize and vectors read the matrix
    // as the graph uses it.
    let orientation = if layer::needs_matrices(opts) {
        weights::Orientation::Effective
    } else {
        weights::Orientation::Any
    };
    if let Some(s) = ex.streamable(layer)
        && streams(layer, s, opts)
    {
        return prepare_streamed(ex, layer, dims, s, opts, par);
    }
    let decode_started = Instant::now();
    let w = match ex.matrix_in(layer, orientation) {
        Ok(w) => {
            tracing::debug!(
                decode_s = decode_started.elapsed().as_secs_f64(),
                values = w.data.len(),
                "decoded"
            );
            w
        }
        Err(problem) => {
            let status = problem.status();
            return PreparedLayer::Done(problem_row(layer, &dims, status, problem.to_string()));
        }
    };
    let plans = match layer::plan_rows(layer, dims, &w, opts, par) {
        Ok(p) => p,
        Err(e) => {
            let status = RowStatus::Malformed;
            return PreparedLayer::Done(problem_row(layer, &dims, status, e.to_string()));
        }
    };
    if layer::needs_matrices(opts) {
        let spectra: Vec<_> = plans.iter().map(|p| layer::row_spectrum(p, opts)).collect();
        return PreparedLayer::Done(finish_rows(layer, &plans, spectra, opts));
    }
    let started = Instant::now();
    let spectra: Vec<_> = plans
        .iter()
        .map(|p| layer::prepare_spectrum(p, opts))
        .collect();
    tracing::debug!(
        gram_s = started.elapsed().as_secs_f64(),
        "gram products done"
    );
    // Nothing reads the matrix again: free it (a big dense layer's f64 copy) before the
    // eigensolves.
    let detached: Vec<_> = plans.iter().map(|p| p.detached(layer)).collect();
    drop(plans);
    drop(w);
    PreparedLayer::Rows {
        layer,
        plans: detached,
        spectra,
    }
}

/// Whether a layer goes through the band-by-band path: block-quantised weights decodable in
/// bands (`Extraction::streamable`), tall as stored (their Gram matrix is AᵀA of the bands),
/// one dense row, and options that read nothing but the spectrum. The result is the same to
/// the bit as decoding the layer whole (`spectra::TallGram`); only the memory differs.
fn streams(layer: &WeightLayer, s: weights::Streamed, opts: &AnalysisOptions) -> bool {
    s.rows >= s.cols
        && !layer.kind.is_conv()
        && !layer::needs_matrices(opts)
        && opts.eigensolver == crate::options::Eigensolver::Gram
}

/// `prepare_layer` for a streamed layer: decode `GRAM_BAND_ROWS` rows at a time into one
/// buffer and add each band to the Gram matrix, so that the layer's f64 copy never exists (an
/// int4 lm_head of 128256 × 4096 would need 4.2 GB).
fn prepare_streamed<'e>(
    ex: &'e Extraction<'_>,
    layer: &'e WeightLayer,
    dims: weights::Dims,
    s: weights::Streamed,
    opts: &AnalysisOptions,
    par: Par,
) -> PreparedLayer<'e> {
    let budget = ex.model().limits().layer_memory_budget;
    let (band, cols) = (spectra::GRAM_BAND_ROWS as u64, s.cols as u64);
    let bytes = (2 * band)
        .checked_mul(cols)
        .and_then(|b| b.checked_add(cols.checked_mul(cols)?))
        .and_then(|b| b.checked_mul(8))
        .unwrap_or(u64::MAX);
    if bytes > budget {
        let problem = weights::LayerProblem::OverBudget { bytes, budget };
        return PreparedLayer::Done(problem_row(
            layer,
            &dims,
            problem.status(),
            problem.to_string(),
        ));
    }
    let started = Instant::now();
    let mut gram = spectra::TallGram::new(s.rows, s.cols, par);
    let streamed = ex.stream_rows(layer, spectra::GRAM_BAND_ROWS, |_, band| gram.add(band));
    if let Err(problem) = streamed {
        let status = problem.status();
        return PreparedLayer::Done(problem_row(layer, &dims, status, problem.to_string()));
    }
    tracing::debug!(
        decode_and_gram_s = started.elapsed().as_secs_f64(),
        values = s.rows * s.cols,
        "streamed"
    );
    let plan = layer::streamed_row(layer, dims, opts, par);
    PreparedLayer::Rows {
        layer,
        plans: vec![plan],
        spectra: vec![gram.finish(1.0)],
    }
}

/// The rows of one layer from their spectra; a failed eigensolve becomes a row status.
fn finish_rows(
    layer: &WeightLayer,
    plans: &[layer::RowPlan<'_>],
    spectra: Vec<std::result::Result<spectra::Spectrum, spectra::SpectrumError>>,
    opts: &AnalysisOptions,
) -> LayerOutcome {
    let mut out = LayerOutcome::default();
    for (plan, spec) in plans.iter().zip(spectra) {
        match spec.and_then(|s| layer::finish_row(plan, s, opts)) {
            Ok((row, esd)) => {
                out.rows.push(row);
                out.esd.push(esd);
            }
            Err(e) => {
                let mut row = layer::identity(layer, plan.slice_id, &plan.dims);
                row.set(Column::Status, RowStatus::EigensolverFailed);
                row.set(Column::Problem, e.to_string());
                row.set(Column::HasEsd, false);
                out.rows.push(row);
            }
        }
    }
    out
}

fn problem_row(
    layer: &WeightLayer,
    dims: &weights::Dims,
    status: RowStatus,
    detail: String,
) -> LayerOutcome {
    tracing::warn!(layer = %layer.name, %status, "{detail}");
    let mut row = layer::identity(layer, None, dims);
    row.set(Column::Status, status);
    row.set(Column::Problem, detail);
    row.set(Column::HasEsd, false);
    LayerOutcome {
        rows: vec![row],
        ..Default::default()
    }
}
