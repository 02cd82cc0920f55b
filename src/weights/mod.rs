//! Weight layers of an ONNX model (onnx-weights.md): the op-aware walk over the graph and its
//! subgraphs, constant folding, dequantisation, deduplication, and WeightWatcher's initializer
//! scan (methods.md §2.6). Matrices are decoded one layer at a time, on demand.

pub mod dedup;
pub mod fold;
pub mod ops;
pub mod scope;
pub mod view;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use tract_onnx::pb::{GraphProto, NodeProto};

use crate::error::{Error, ModelErrorKind, Result, display_name};
use crate::onnx::tensor::{Dense, TensorError};
use crate::onnx::{Model, dtype, node_label, tensor};
use crate::options::{AnalysisOptions, GroupedConv, LayerSource};
use crate::schema::RowStatus;
use fold::{Eval, Expr, Leaf, LeafSrc};
use ops::{Bn, Outcome, Plan};
use scope::{Frame, Scopes};
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

#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub layer_id: Option<usize>,
    pub name: String,
    pub op: String,
    pub reason: String,
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

/// Find the weight layers of `model` per `opts.layer_source`.
pub fn extract<'m>(model: &'m Model, opts: &AnalysisOptions) -> Result<Extraction<'m>> {
    let mut x = Extraction {
        layers: vec![],
        skipped: vec![],
        model,
        recipes: vec![],
        fold_bn: opts.fold_bn,
    };
    match opts.layer_source {
        LayerSource::Initializers => scan_initializers(&mut x, opts),
        LayerSource::Ops => {
            let mut w = Walker {
                x: &mut x,
                sc: Scopes::new(model.onnx_opset()),
                next_frame: 0,
                opts,
                by_key: HashMap::new(),
                by_content: dedup::Registry::default(),
                used_leaves: HashSet::new(),
                next_id: 0,
            };
            w.graph(model.graph(), String::new())
                .map_err(|m| Error::model(model.path(), ModelErrorKind::DuplicateName, m))?;
            let used = std::mem::take(&mut w.used_leaves);
            report_unused_constants(&mut x, model.graph(), &used);
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
    /// Decode one layer's matrix now, in its effective orientation. Callable from several
    /// threads.
    pub fn matrix(&self, layer: &WeightLayer) -> std::result::Result<WeightMatrix, LayerProblem> {
        self.matrix_in(layer, Orientation::Effective)
    }

    /// As `matrix`, in the given orientation.
    pub fn matrix_in(
        &self,
        layer: &WeightLayer,
        orientation: Orientation,
    ) -> std::result::Result<WeightMatrix, LayerProblem> {
        let idx = self
            .layers
            .iter()
            .position(|l| l.layer_id == layer.layer_id && l.name == layer.name)
            .ok_or_else(|| {
                LayerProblem::Malformed("layer is not part of this extraction".into())
            })?;
        let r = self
            .recipes
            .get(idx)
            .ok_or_else(|| LayerProblem::Malformed("no recipe for layer".into()))?;
        layer_budget(&layer.view, self.model.limits().layer_memory_budget)?;
        let mut ev = Eval::new(self.model);
        // Only a transpose at the top of a plain stacked layout is dropped: a transpose under a
        // dequantisation or scale, RNN gate blocks and convolutions keep their effective order.
        let stored = match (orientation, r.expr.as_ref(), &r.layout, &r.bn) {
            (Orientation::Any, Expr::SwapLast2(inner), Layout::Stacked { rows: None }, None) => {
                Some(inner)
            }
            _ => None,
        };
        let mut t = ev.eval(stored.unwrap_or(&r.expr))?;
        if self.fold_bn
            && let Some(bn) = &r.bn
        {
            fold_bn(&mut ev, &mut t, bn)?;
        }
        let (nan, inf) = t.data.iter().fold((0, 0), |(n, i), v| {
            (
                n + usize::from(v.is_nan()),
                i + usize::from(v.is_infinite()),
            )
        });
        if nan + inf > 0 {
            return Err(LayerProblem::InvalidValues { nan, inf });
        }
        if t.data.iter().all(|&v| v == 0.0) {
            return Err(LayerProblem::Degenerate(format!(
                "all {} values are zero",
                t.data.len()
            )));
        }
        let mut v = layer.view.clone();
        if stored.is_some() {
            std::mem::swap(&mut v.rows, &mut v.cols);
        }
        let data = view::slices_of(&r.layout, &v, t).map_err(LayerProblem::Malformed)?;
        Ok(WeightMatrix {
            rows: v.rows,
            cols: v.cols,
            slices: v.slices,
            data,
        })
    }

    pub fn model(&self) -> &Model {
        self.model
    }
}

/// The per-layer memory budget covers the f64 copy of every slice plus one slice's Gram matrix
/// (min(rows, cols)² f64), checked before anything is decoded (onnx-weights.md §8.2).
fn layer_budget(v: &MatrixView, budget: u64) -> std::result::Result<(), LayerProblem> {
    let (r, c, s) = (v.rows as u64, v.cols as u64, v.slices as u64);
    let side = r.min(c);
    let bytes = r
        .checked_mul(c)
        .and_then(|x| x.checked_mul(s))
        .and_then(|x| x.checked_add(side.checked_mul(side)?))
        .and_then(|x| x.checked_mul(8))
        .unwrap_or(u64::MAX);
    if bytes > budget {
        return Err(LayerProblem::OverBudget { bytes, budget });
    }
    Ok(())
}

/// W′[o,…] = W[o,…]·γ_o/√(σ²_o + ε) (onnx-weights.md §6, `fold_bn`).
fn fold_bn(ev: &mut Eval<'_>, t: &mut Dense, bn: &Bn<'_>) -> std::result::Result<(), LayerProblem> {
    let g = ev.eval(&bn.gamma)?;
    let v = ev.eval(&bn.var)?;
    let out = *t.shape.first().unwrap_or(&0);
    if g.data.len() != out || v.data.len() != out || out == 0 {
        return Err(LayerProblem::Malformed(format!(
            "BatchNormalization {} has {} channels, the conv {out}",
            display_name(&bn.name),
            g.data.len()
        )));
    }
    let per = t.data.len() / out;
    for (o, chunk) in t.data.chunks_mut(per.max(1)).enumerate() {
        let s = g.data.get(o).copied().unwrap_or(f64::NAN)
            / (v.data.get(o).copied().unwrap_or(f64::NAN) + bn.eps).sqrt();
        chunk.iter_mut().for_each(|x| *x *= s);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Initializer scan (methods.md §2.6, quirk Q13)

fn scan_initializers(x: &mut Extraction<'_>, _opts: &AnalysisOptions) {
    let model = x.model;
    let g = model.graph();
    let readers = readers_of(g);
    for (i, t) in g.initializer.iter().enumerate() {
        let consumer = readers.get(t.name.as_str()).and_then(|v| v.first());
        let op = consumer
            .map(|(n, _, _)| n.op_type.clone())
            .unwrap_or_default();
        let skip = |x: &mut Extraction<'_>, reason: &str, detail: String| {
            x.skipped.push(Skipped {
                layer_id: Some(i),
                name: t.name.clone(),
                op: op.clone(),
                reason: reason.into(),
                detail,
            })
        };
        let Ok((shape, _)) = tensor::shape_of(&t.dims, model.limits()) else {
            skip(x, "malformed", "bad dims".into());
            continue;
        };
        let kind = match shape.len() {
            2 => LayerKind::Dense,
            4 => LayerKind::Conv2d,
            r => {
                skip(
                    x,
                    "rank",
                    format!("rank {r}: the initializer scan takes only 2-D and 4-D"),
                );
                continue;
            }
        };
        if !dtype::is_float(t.data_type) {
            skip(x, "unsupported dtype", dtype::name(t.data_type));
            continue;
        }
        let layout = if kind == LayerKind::Dense {
            Layout::Stacked { rows: None }
        } else {
            Layout::Conv { group: 1 }
        };
        let Ok(view) = view::view_for(&layout, &shape, GroupedConv::Stacked) else {
            skip(x, "malformed", "no matrix view".into());
            continue;
        };
        let consumers: Vec<Consumer> = readers
            .get(t.name.as_str())
            .map(|v| {
                v.iter()
                    .map(|(n, k, slot)| Consumer {
                        node: node_label(n, *k),
                        op: n.op_type.clone(),
                        path: String::new(),
                        slot: *slot,
                    })
                    .collect()
            })
            .unwrap_or_default();
        x.layers.push(WeightLayer {
            layer_id: i,
            name: t.name.clone(),
            kind,
            op,
            consumers,
            path: String::new(),
            stored_shape: shape,
            dtype: dtype::name(t.data_type),
            origin: Origin::Initializer,
            source: format!("init:{}", t.name),
            flags: vec![],
            tied: vec![],
            view,
            bn: None,
        });
        x.recipes.push(Recipe {
            expr: Arc::new(Expr::Leaf(Leaf {
                name: &t.name,
                src: LeafSrc::Init(t),
                overridable: false,
                depth: 0,
            })),
            layout,
            bn: None,
        });
    }
}

/// Value name → (node, node index, input slot) in one graph.
fn readers_of(g: &GraphProto) -> HashMap<&str, Vec<(&NodeProto, usize, usize)>> {
    let mut m: HashMap<&str, Vec<_>> = HashMap::new();
    for (k, n) in g.node.iter().enumerate() {
        for (s, i) in n.input.iter().enumerate() {
            m.entry(i.as_str()).or_default().push((n, k, s));
        }
    }
    m
}

// ---------------------------------------------------------------------------------------------
// Op-aware walk (onnx-weights.md §4, §9)

struct Walker<'a, 'm> {
    x: &'a mut Extraction<'m>,
    sc: Scopes<'m>,
    next_frame: usize,
    opts: &'a AnalysisOptions,
    /// Identity key → layer index.
    by_key: HashMap<Vec<usize>, usize>,
    /// Layers by weight content (ties across subgraphs).
    by_content: dedup::Registry<'m>,
    used_leaves: HashSet<usize>,
    next_id: usize,
}

impl<'m> Walker<'_, 'm> {
    fn graph(&mut self, g: &'m GraphProto, path: String) -> std::result::Result<(), String> {
        let frame = Frame::new(self.next_frame, g, path.clone())?;
        self.next_frame += 1;
        self.sc.frames.push(frame);
        for (k, n) in g.node.iter().enumerate() {
            let label = node_label(n, k);
            for c in ops::candidates(&mut self.sc, n, self.opts.rnn) {
                let consumer = Consumer {
                    node: label.clone(),
                    op: n.op_type.clone(),
                    path: path.clone(),
                    slot: c.slot,
                };
                self.candidate(c.input, consumer, c.outcome);
            }
            for a in &n.attribute {
                for sub in a.g.iter().chain(a.graphs.iter()) {
                    let p = if path.is_empty() {
                        format!("{label}/{}", a.name)
                    } else {
                        format!("{path}/{label}/{}", a.name)
                    };
                    self.graph(sub, p)?;
                }
            }
        }
        self.sc.frames.pop();
        Ok(())
    }

    fn skip(&mut self, id: Option<usize>, name: String, op: &str, reason: &str, detail: String) {
        self.x.skipped.push(Skipped {
            layer_id: id,
            name,
            op: op.to_string(),
            reason: reason.to_string(),
            detail,
        });
    }

    fn candidate(&mut self, input: String, consumer: Consumer, outcome: Outcome<'m>) {
        let op = consumer.op.clone();
        let plan = match outcome {
            Outcome::Runtime => {
                let detail = format!(
                    "{} input {} is computed at run time",
                    consumer.node, consumer.slot
                );
                return self.skip(None, input, &op, "runtime operand", detail);
            }
            Outcome::Skip(reason, detail) => return self.skip(None, input, &op, reason, detail),
            Outcome::Plan(p) => p,
        };
        let key: Vec<usize> = std::iter::once(Arc::as_ptr(&plan.base) as *const u8 as usize)
            .chain(plan.key_extra.iter().copied())
            .collect();
        if let Some(&li) = self.by_key.get(&key) {
            return self.tie(li, consumer, "tied");
        }
        mark_leaves(&plan.expr, &mut self.used_leaves);
        let info = describe_expr(&plan.expr, self.x.model);
        let id = self.next_id;
        self.next_id += 1;
        let name = info.name.clone().unwrap_or(input);
        let shape = match fold::shape(&plan.expr, self.x.model) {
            Ok(s) => s,
            Err(e) => {
                let reason = match e {
                    TensorError::Unsupported(_) => "unsupported dtype",
                    TensorError::OverBudget { .. } => "over budget",
                    TensorError::Malformed(_) | TensorError::Rejected { .. } => "malformed",
                };
                return self.skip(Some(id), name, &op, reason, e.to_string());
            }
        };
        let kind = plan.kind.or(match (&plan.layout, shape.len()) {
            (Layout::Conv { .. }, 3) => Some(LayerKind::Conv1d),
            (Layout::Conv { .. }, 4) => Some(LayerKind::Conv2d),
            (Layout::Conv { .. }, 5) => Some(LayerKind::Conv3d),
            _ => None,
        });
        let Some(kind) = kind else {
            let d = format!("weight of rank {} is not a supported kernel", shape.len());
            return self.skip(Some(id), name, &op, "unsupported rank", d);
        };
        if matches!(plan.layout, Layout::Stacked { .. }) && shape.len() < 2 {
            let d = format!("rank-{} constant is a vector, not a matrix", shape.len());
            return self.skip(Some(id), name, &op, "not a matrix", d);
        }
        let view = match view::view_for(&plan.layout, &shape, self.opts.grouped_conv) {
            Ok(v) => v,
            Err(d) => return self.skip(Some(id), name, &op, "unsupported shape", d),
        };
        let mut flags = plan.flags.clone();
        flags.extend(info.flags.iter().cloned());
        if let Layout::Conv { group } = plan.layout
            && group > 1
        {
            flags.push(format!("group_{group}"));
            if self.opts.grouped_conv == GroupedConv::Blocks {
                flags.push("grouped_conv_blocks".into());
            }
        }
        if matches!(plan.layout, Layout::Stacked { rows: None }) && shape.len() > 2 {
            flags.push(format!("batch_shape{:?}", &shape[..shape.len() - 2]));
        }
        if !flags.iter().any(|f| f == "synthetic_constant") && self.all_equal(&plan.expr) {
            flags.push("synthetic_constant".into());
        }
        let content = if flags.iter().any(|f| f == "synthetic_constant") {
            None
        } else {
            content_of(&plan, &shape, self.x.model)
        };
        if let Some(c) = &content
            && let Some(li) = self.by_content.find(c)
        {
            self.next_id -= 1;
            self.by_key.insert(key, li);
            return self.tie(li, consumer, "tied_by_content");
        }
        let li = self.x.layers.len();
        self.by_key.insert(key, li);
        if let Some(c) = content {
            self.by_content.insert(c, li);
        }
        let stored_shape = info.stored_shape.clone().unwrap_or_else(|| shape.clone());
        self.x.layers.push(WeightLayer {
            layer_id: id,
            name,
            kind,
            op: op.clone(),
            path: consumer.path.clone(),
            consumers: vec![consumer],
            stored_shape,
            dtype: info.dtype,
            origin: info.origin,
            source: info.source,
            flags,
            tied: vec![],
            view,
            bn: plan.bn.as_ref().map(|b| b.name.clone()),
        });
        self.x.recipes.push(Recipe {
            expr: plan.expr,
            layout: plan.layout,
            bn: plan.bn,
        });
    }

    fn tie(&mut self, li: usize, consumer: Consumer, flag: &str) {
        if let Some(l) = self.x.layers.get_mut(li) {
            if !l.flags.iter().any(|f| f == flag) {
                l.flags.push(flag.to_string());
            }
            l.consumers.push(consumer.clone());
            l.tied.push(consumer);
        }
    }

    /// Whether every value is equal (a synthetic constant, §3.2). Evaluated only for folded
    /// expressions and in-memory leaves; external data is not read here.
    fn all_equal(&self, e: &Expr<'_>) -> bool {
        // A leaf, or a leaf with its last two axes swapped (the same values permuted), is
        // answered from its payload, stopping at the first differing value: decoding a big layer
        // here would cost its full f64 copy at extraction.
        let leaf = match e {
            Expr::SwapLast2(x) if ops::static_rank(x).is_some_and(|r| r >= 2) => x.as_ref(),
            e => e,
        };
        if let Expr::Leaf(Leaf {
            src: LeafSrc::Init(t) | LeafSrc::ConstTensor(t),
            ..
        }) = leaf
        {
            return !tensor::is_external(t) && tensor::all_equal(self.x.model, t).unwrap_or(false);
        }
        let leaf_inline = |t: &tract_onnx::pb::TensorProto| !tensor::is_external(t);
        let ok = match e {
            Expr::Leaf(Leaf {
                src: LeafSrc::Init(t) | LeafSrc::ConstTensor(t),
                ..
            }) => leaf_inline(t),
            Expr::Leaf(_) => true,
            _ => !contains_external(e),
        };
        if !ok {
            return false;
        }
        match Eval::new(self.x.model).eval(e) {
            Ok(d) => d.data.len() > 1 && d.data.windows(2).all(|w| w[0] == w[1]),
            Err(_) => false,
        }
    }
}

fn contains_external(e: &Expr<'_>) -> bool {
    match e {
        Expr::Leaf(Leaf {
            src: LeafSrc::Init(t) | LeafSrc::ConstTensor(t),
            ..
        }) => tensor::is_external(t),
        Expr::Leaf(_) => false,
        Expr::Op { inputs, .. } => inputs.iter().flatten().any(|i| contains_external(i)),
        Expr::Dequant { x, scale, zp, .. } => {
            contains_external(x)
                || scale.as_deref().is_some_and(contains_external)
                || zp.as_deref().is_some_and(contains_external)
        }
        Expr::SwapLast2(x) | Expr::Scale(x, _) => contains_external(x),
    }
}

/// The content of a plain in-file leaf (dtype, effective shape, payload) for ties by content:
/// catches exporters that duplicate an initializer per subgraph (§9). Dequantised or scaled
/// weights are not merged.
fn content_of<'m>(
    plan: &Plan<'m>,
    shape: &[usize],
    model: &'m Model,
) -> Option<dedup::Content<'m>> {
    if !plan
        .key_extra
        .iter()
        .all(|&k| k == 0 || k == 1f64.to_bits() as usize)
    {
        return None;
    }
    let base = match plan.expr.as_ref() {
        Expr::SwapLast2(b) => b.as_ref(),
        e => e,
    };
    let Expr::Leaf(Leaf {
        src: LeafSrc::Init(t) | LeafSrc::ConstTensor(t),
        ..
    }) = base
    else {
        return None;
    };
    dedup::Content::new(t.data_type, shape, model.raw_data(t))
}

fn mark_leaves(e: &Expr<'_>, used: &mut HashSet<usize>) {
    match e {
        Expr::Leaf(l) => {
            used.insert(leaf_id(l));
        }
        Expr::Op { inputs, .. } => inputs.iter().flatten().for_each(|i| mark_leaves(i, used)),
        Expr::Dequant { x, scale, zp, .. } => {
            mark_leaves(x, used);
            scale
                .iter()
                .chain(zp.iter())
                .for_each(|i| mark_leaves(i, used));
        }
        Expr::SwapLast2(x) | Expr::Scale(x, _) => mark_leaves(x, used),
    }
}

fn leaf_id(l: &Leaf<'_>) -> usize {
    match &l.src {
        LeafSrc::Init(t) | LeafSrc::ConstTensor(t) => *t as *const _ as usize,
        LeafSrc::Sparse(s) => *s as *const _ as usize,
        LeafSrc::ConstAttr(a) => *a as *const _ as usize,
    }
}

/// What `describe` says about a weight expression.
struct ExprInfo {
    name: Option<String>,
    dtype: String,
    origin: Origin,
    source: String,
    flags: Vec<String>,
    stored_shape: Option<Vec<usize>>,
}

fn describe_expr(e: &Expr<'_>, model: &Model) -> ExprInfo {
    let mut folded = false;
    let mut dequant = false;
    let mut synthetic = false;
    let source = chain(e, &mut folded, &mut dequant, &mut synthetic);
    let leaf = primary_leaf(e);
    let leaf_dt = leaf.map_or(0, fold::leaf_dtype);
    // Cast→Mul of an integer tensor is a dequantisation too (§5.4).
    if folded && !dtype::is_float(leaf_dt) && leaf.is_some() {
        dequant = true;
    }
    let origin = match leaf {
        _ if dequant => Origin::Dequantized,
        _ if folded => Origin::Folded,
        Some(l) => match l.src {
            LeafSrc::Sparse(_) => Origin::Sparse,
            LeafSrc::ConstTensor(_) | LeafSrc::ConstAttr(_) => Origin::ConstantNode,
            LeafSrc::Init(_) if l.depth > 0 => Origin::Subgraph,
            LeafSrc::Init(_) => Origin::Initializer,
        },
        None => Origin::Folded,
    };
    let mut flags = vec![];
    if leaf.is_some_and(|l| l.overridable) {
        flags.push("overridable".to_string());
    }
    if synthetic {
        flags.push("synthetic_constant".to_string());
    }
    let mut dt = dtype::name(leaf_dt);
    if dequant {
        dt.push_str(" (dequantised)");
    }
    ExprInfo {
        name: leaf.map(|l| l.name.to_string()),
        dtype: dt,
        origin,
        source,
        flags,
        stored_shape: leaf.and_then(|l| fold::leaf_shape(l, model).ok()),
    }
}

/// The fold chain along the primary operand, e.g. `init:w → Transpose → Cast`.
fn chain(e: &Expr<'_>, folded: &mut bool, dequant: &mut bool, synthetic: &mut bool) -> String {
    match e {
        Expr::Leaf(l) => {
            let p = match l.src {
                LeafSrc::Init(_) => "init",
                LeafSrc::Sparse(_) => "sparse",
                _ => "const",
            };
            format!("{p}:{}", l.name)
        }
        Expr::Op { node, inputs, .. } => {
            *folded = true;
            match node.op_type.as_str() {
                "DequantizeLinear" => *dequant = true,
                "ConstantOfShape" => *synthetic = true,
                _ => {}
            }
            let inner = primary_input(inputs)
                .map(|i| chain(i, folded, dequant, synthetic))
                .unwrap_or_default();
            format!("{inner} → {}", node.op_type)
        }
        Expr::Dequant { x, op, .. } => {
            *dequant = true;
            format!("{} → {op}", chain(x, folded, dequant, synthetic))
        }
        Expr::SwapLast2(x) | Expr::Scale(x, _) => chain(x, folded, dequant, synthetic),
    }
}

/// The input carrying the weight: the one whose leaf has the most elements (a Mul's scale or a
/// Reshape's shape is smaller), the first on ties.
fn primary_input<'a, 'm>(inputs: &'a [Option<Arc<Expr<'m>>>]) -> Option<&'a Arc<Expr<'m>>> {
    let size = |e: &Expr<'_>| -> u128 {
        fn go(e: &Expr<'_>) -> u128 {
            match e {
                Expr::Leaf(l) => match &l.src {
                    LeafSrc::Init(t) | LeafSrc::ConstTensor(t) => t
                        .dims
                        .iter()
                        .fold(1u128, |a, &d| a.saturating_mul(d.max(0) as u128)),
                    LeafSrc::Sparse(s) => s
                        .dims
                        .iter()
                        .fold(1u128, |a, &d| a.saturating_mul(d.max(0) as u128)),
                    LeafSrc::ConstAttr(a) => (a.floats.len() + a.ints.len()).max(1) as u128,
                },
                Expr::Op { inputs, .. } => {
                    inputs.iter().flatten().map(|i| go(i)).max().unwrap_or(0)
                }
                Expr::Dequant { x, .. } | Expr::SwapLast2(x) | Expr::Scale(x, _) => go(x),
            }
        }
        go(e)
    };
    let mut best: Option<(&Arc<Expr<'m>>, u128)> = None;
    for i in inputs.iter().flatten() {
        let s = size(i);
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((i, s));
        }
    }
    best.map(|(i, _)| i)
}

fn primary_leaf<'e, 'm>(e: &'e Expr<'m>) -> Option<&'e Leaf<'m>> {
    match e {
        Expr::Leaf(l) => Some(l),
        Expr::Op { inputs, .. } => primary_leaf(primary_input(inputs)?),
        Expr::Dequant { x, .. } | Expr::SwapLast2(x) | Expr::Scale(x, _) => primary_leaf(x),
    }
}

/// Rank ≥ 2 float initializers that feed no weight slot: listed as skipped so that nothing
/// disappears silently (§1; e.g. the `pos_table` of quirks.onnx).
fn report_unused_constants(x: &mut Extraction<'_>, g: &GraphProto, used: &HashSet<usize>) {
    let readers = readers_of(g);
    for t in &g.initializer {
        if t.dims.len() >= 2
            && dtype::is_float(t.data_type)
            && !used.contains(&(t as *const _ as usize))
        {
            let op = readers
                .get(t.name.as_str())
                .and_then(|v| v.first())
                .map(|(n, _, _)| n.op_type.clone())
                .unwrap_or_default();
            x.skipped.push(Skipped {
                layer_id: None,
                name: t.name.clone(),
                op: op.clone(),
                reason: "not a weight slot".into(),
                detail: if op.is_empty() {
                    "not read by any node".into()
                } else {
                    format!("read by {op}, which has no weight operand there")
                },
            });
        }
    }
}
