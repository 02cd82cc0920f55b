//! Weight layers of an ONNX model (onnx-weights.md): the op-aware walk over the graph and its
//! subgraphs, constant folding, dequantisation, deduplication, and WeightWatcher's initializer
//! scan (methods.md §2.6). Matrices are decoded one layer at a time, on demand.
//!
//! By job: `walk` (the op-aware walk and its layer candidates), `scan` (the initializer scan),
//! `describe` (what describe says about a weight expression), `matrix` (decoding a layer to
//! its matrices), `ops` (which operand of which op is a weight), `scope` (name resolution),
//! `fold` (constant folding), `skip` (the skip reasons).

pub(crate) mod dedup;
mod describe;
pub(crate) mod fold;
mod matrix;
pub(crate) mod ops;
mod scan;
pub(crate) mod scope;
pub mod view;
mod walk;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::onnx::Model;
use crate::onnx::tensor::TensorError;
use crate::options::{AnalysisOptions, LayerSource};
use crate::schema::{RowStatus, SkipReason};
use fold::Expr;
use ops::Bn;
pub use view::{Dims, Layout, MatrixView, size_filter};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    Dense,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose,
    Embedding,
    Rnn,
}

impl LayerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LayerKind::Dense => "dense",
            LayerKind::Conv1d => "conv1d",
            LayerKind::Conv2d => "conv2d",
            LayerKind::Conv3d => "conv3d",
            LayerKind::ConvTranspose => "conv_transpose",
            LayerKind::Embedding => "embedding",
            LayerKind::Rnn => "rnn",
        }
    }
    /// Conv kinds, including the transposed one (they get conv scaling, methods.md §2.4).
    pub fn is_conv(self) -> bool {
        matches!(
            self,
            LayerKind::Conv1d | LayerKind::Conv2d | LayerKind::Conv3d | LayerKind::ConvTranspose
        )
    }
}

/// One node reading a weight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Consumer {
    /// Node name, or `#<index>` in its graph when unnamed.
    pub node: String,
    pub op: String,
    /// Subgraph path, e.g. `If_0/then_branch` ("" in the main graph).
    pub path: String,
    pub slot: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Initializer,
    ConstantNode,
    Folded,
    Subgraph,
    Dequantized,
    Sparse,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Initializer => "initializer",
            Origin::ConstantNode => "constant_node",
            Origin::Folded => "folded",
            Origin::Subgraph => "subgraph",
            Origin::Dequantized => "dequantized",
            Origin::Sparse => "sparse",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct WeightLayer {
    pub layer_id: usize,
    pub name: String,
    pub kind: LayerKind,
    /// Op of the first consumer.
    pub op: String,
    pub consumers: Vec<Consumer>,
    /// Subgraph path of the first consumer.
    pub path: String,
    pub stored_shape: Vec<usize>,
    pub dtype: String,
    pub origin: Origin,
    /// Fold chain, e.g. `init:w → Transpose → Cast`.
    pub source: String,
    pub flags: Vec<String>,
    /// Consumers after the first, deduplicated into this layer (§9).
    pub tied: Vec<Consumer>,
    pub view: MatrixView,
    /// BatchNormalization after a conv (§6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bn: Option<String>,
}

/// A weight layer (or weight candidate) that produced no row, and why.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Skipped {
    /// The layer's id, for layers that were numbered before they were skipped.
    pub layer_id: Option<usize>,
    pub name: String,
    pub op: String,
    pub reason: SkipReason,
    pub detail: String,
}

/// The effective real-valued weight: slice p is `data[p*rows*cols ..][..rows*cols]`, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightMatrix {
    pub rows: usize,
    pub cols: usize,
    pub slices: usize,
    pub data: Vec<f64>,
}

/// A per-layer problem: a layer status, not a run failure (onnx-weights.md §8.2).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum LayerProblem {
    InvalidValues {
        nan: usize,
        inf: usize,
    },
    UnsupportedDtype(String),
    OverBudget {
        bytes: u64,
        budget: u64,
    },
    /// Every value is zero: there is no spectrum to fit (and WeightWatcher's fits divide by it).
    Degenerate(String),
    Malformed(String),
}

impl LayerProblem {
    pub fn status(&self) -> RowStatus {
        match self {
            LayerProblem::InvalidValues { .. } => RowStatus::InvalidValues,
            LayerProblem::UnsupportedDtype(_) => RowStatus::UnsupportedDtype,
            LayerProblem::OverBudget { .. } => RowStatus::OverBudget,
            LayerProblem::Degenerate(_) => RowStatus::Degenerate,
            LayerProblem::Malformed(_) => RowStatus::Malformed,
        }
    }
}

impl fmt::Display for LayerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerProblem::InvalidValues { nan, inf } => {
                write!(f, "weight has {nan} NaN and {inf} infinite values")
            }
            LayerProblem::UnsupportedDtype(d) => write!(f, "unsupported dtype {d}"),
            LayerProblem::OverBudget { bytes, budget } => {
                write!(
                    f,
                    "needs {bytes} bytes, over the per-layer budget of {budget}"
                )
            }
            LayerProblem::Degenerate(m) => write!(f, "degenerate weight: {m}"),
            LayerProblem::Malformed(m) => write!(f, "malformed weight: {m}"),
        }
    }
}

impl From<TensorError> for LayerProblem {
    fn from(e: TensorError) -> Self {
        match e {
            TensorError::Unsupported(d) => LayerProblem::UnsupportedDtype(d),
            TensorError::Malformed(m) | TensorError::Rejected { what: m, .. } => {
                LayerProblem::Malformed(m)
            }
            TensorError::OverBudget { bytes, budget } => LayerProblem::OverBudget { bytes, budget },
        }
    }
}

/// How to rebuild one layer's matrix.
struct Recipe<'m> {
    expr: Arc<Expr<'m>>,
    layout: Layout,
    bn: Option<Bn<'m>>,
}

pub struct Extraction<'m> {
    pub layers: Vec<WeightLayer>,
    pub skipped: Vec<Skipped>,
    model: &'m Model,
    recipes: Vec<Recipe<'m>>,
    fold_bn: bool,
}

impl fmt::Debug for Extraction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extraction")
            .field("layers", &self.layers)
            .field("skipped", &self.skipped)
            .finish()
    }
}

/// Find the weight layers of `model` per `opts.layer_source`. A model whose graph cannot be walked
/// (a name defined twice, an attribute of a consumer or of a fold op that is mistyped or out of
/// range) is an error of its class.
pub fn extract<'m>(model: &'m Model, opts: &AnalysisOptions) -> Result<Extraction<'m>> {
    let mut x = Extraction {
        layers: vec![],
        skipped: vec![],
        model,
        recipes: vec![],
        fold_bn: opts.fold_bn,
    };
    match opts.layer_source {
        LayerSource::Initializers => scan::scan_initializers(&mut x),
        LayerSource::Ops => {
            walk::walk(&mut x, opts).map_err(|(kind, m)| Error::model(model.path(), kind, m))?
        }
    }
    Ok(x)
}

/// Which way round a layer's matrices come out of `Extraction::matrix_in`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Orientation {
    /// As the graph uses them: the effective weight (onnx-weights.md).
    Effective,
    /// The effective matrices or their transposes, whichever is cheaper to decode: a weight that
    /// the graph transposes (Gemm `transB`, a `Transpose` swapping the last two axes) comes in
    /// stored order. For consumers of orientation-free quantities only — singular values, norms
    /// (methods.md §2.1) — it saves a transposing copy of every transposed Gemm weight, and the
    /// stored [out, in] order is also the layout whose Gram product needs no copy at all
    /// (`spectra::gram_par`).
    Any,
}

impl Extraction<'_> {
    pub fn model(&self) -> &Model {
        self.model
    }
}
