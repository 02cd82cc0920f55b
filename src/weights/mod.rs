//! Weight layers of an ONNX model (onnx-weights.md): the op-aware walk over the graph and its
//! subgraphs, constant folding, dequantisation, deduplication, and WeightWatcher's initializer
//! scan (methods.md §2.6). Matrices are decoded one layer at a time, on demand.
//!
//! By job: `walk` (the op-aware walk and its layer candidates), `scan` (the initializer scan),
//! `describe` (what describe says about a weight expression), `matrix` (decoding a layer to
//! its matrices), `ops` (which operand of which op is a weight), `scope` (name resolution),
//! `fold` (constant folding), `skip` (the skip reasons), `select` (the `layers` option).

pub(crate) mod dedup;
mod describe;
pub(crate) mod fold;
mod matrix;
pub(crate) mod ops;
mod scan;
pub(crate) mod scope;
mod select;
mod view;
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
pub use matrix::Streamed;
use ops::Bn;
pub use view::{Dims, MatrixView};
pub(crate) use view::{Layout, size_filter};

/// What kind of layer a weight belongs to, from the op that reads it (the initializer scan:
/// from its rank, 2-D dense and 4-D conv2d).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    /// A `Gemm` or `MatMul` weight.
    Dense,
    /// A `Conv` weight of rank 3.
    Conv1d,
    /// A `Conv` weight of rank 4.
    Conv2d,
    /// A `Conv` weight of rank 5.
    Conv3d,
    /// A `ConvTranspose` weight (rank 3 to 5).
    ConvTranspose,
    /// The table of a `Gather` (an embedding).
    Embedding,
    /// An `LSTM`, `GRU` or `RNN` input or recurrence weight.
    Rnn,
}

impl LayerKind {
    /// The kind as written in outputs (`dense`, `conv2d`, `conv_transpose`...), its serde name.
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
    /// The node's op type (`Gemm`, `Conv`...).
    pub op: String,
    /// Subgraph path, e.g. `If_0/then_branch` ("" in the main graph).
    pub path: String,
    /// Which input of the node the weight is (0-based).
    pub slot: usize,
}

/// Where a weight's values come from (onnx-weights.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A main-graph initializer, used as stored.
    Initializer,
    /// A `Constant` node's tensor or attribute value.
    ConstantNode,
    /// Computed by constant folding (`Transpose`, `Reshape`, `Cast`...) from stored tensors.
    Folded,
    /// An initializer of an `If`/`Loop`/`Scan` subgraph.
    Subgraph,
    /// A quantised tensor dequantised by folding (`DequantizeLinear`, or `Cast`→`Mul` of an
    /// integer tensor).
    Dequantized,
    /// A sparse initializer or sparse constant, densified.
    Sparse,
}

impl Origin {
    /// The origin as written in outputs (`initializer`, `constant_node`...), its serde name.
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

/// One weight layer found by [`extract`]: what it is and how its matrices look. The values are
/// decoded later, by [`Extraction::matrix`].
#[derive(Clone, Debug, Serialize)]
pub struct WeightLayer {
    /// 0-based number of the layer, in the order the layers were found (the initializer scan:
    /// the initializer's index).
    pub layer_id: usize,
    /// The weight's name: that of the tensor it comes from, else the consumer's input name.
    pub name: String,
    /// What kind of layer reads it.
    pub kind: LayerKind,
    /// Op of the first consumer.
    pub op: String,
    /// Every node reading the weight: the first, then those tied into this layer.
    pub consumers: Vec<Consumer>,
    /// Subgraph path of the first consumer.
    pub path: String,
    /// Dims of the stored tensor the weight comes from, before folding.
    pub stored_shape: Vec<usize>,
    /// ONNX dtype name of the stored tensor (`float`, `float16`...); for a dequantised weight its
    /// stored form, e.g. `int4 (dequantized, block 32, asym)` (onnx-weights.md §5).
    pub dtype: String,
    /// Where the values come from.
    pub origin: Origin,
    /// Fold chain, e.g. `init:w → Transpose → Cast`.
    pub source: String,
    /// Notes on how the weight was read (`group_4`, `alpha_scaled(…)`, `followed_by_bn`,
    /// `overridable`...).
    pub flags: Vec<String>,
    /// Consumers after the first, deduplicated into this layer (§9).
    pub tied: Vec<Consumer>,
    /// How the effective weight is cut into matrices (methods.md §2).
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
    /// The weight's (or tensor's) name.
    pub name: String,
    /// Op type of the node reading it ("" when no node does).
    pub op: String,
    /// Why it was skipped.
    pub reason: SkipReason,
    /// The particulars, for people (`rank 3: ...`, `size filter: M = 3 < min_evals 10`).
    pub detail: String,
}

/// The effective real-valued weight: slice p is `data[p*rows*cols ..][..rows*cols]`, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightMatrix {
    /// Rows of each slice.
    pub rows: usize,
    /// Columns of each slice.
    pub cols: usize,
    /// Number of slices (kernel positions, stacked matrices, or group blocks).
    pub slices: usize,
    /// The values, `slices · rows · cols` of them.
    pub data: Vec<f64>,
}

/// A per-layer problem: a layer status, not a run failure (onnx-weights.md §8.2).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum LayerProblem {
    /// The weight holds NaN or infinite values.
    InvalidValues {
        /// How many values are NaN.
        nan: usize,
        /// How many values are ±∞.
        inf: usize,
    },
    /// A dtype tailwatch does not decode; the ONNX dtype name.
    UnsupportedDtype(String),
    /// Decoding the layer would need more memory than the per-layer budget.
    OverBudget {
        /// Bytes the layer needs.
        bytes: u64,
        /// The budget, in bytes.
        budget: u64,
    },
    /// Every value is zero: there is no spectrum to fit (and WeightWatcher's fits divide by it).
    Degenerate(String),
    /// The stored tensor cannot be decoded as declared; what is wrong.
    Malformed(String),
}

impl LayerProblem {
    /// The row status the problem gives its layer.
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

/// The weight layers of one model, from [`extract`], with what is needed to decode each on demand.
pub struct Extraction<'m> {
    /// The layers that get a row, in `layer_id` order.
    pub layers: Vec<WeightLayer>,
    /// The candidates that get none, and why.
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
    if let Some(sel) = &opts.layers {
        x.select(sel)?;
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
    /// The model the layers were found in.
    pub fn model(&self) -> &Model {
        self.model
    }
}
