//! The constant folder: constant expressions built from initializers and Constant nodes through the
//! pass-through and dequantisation ops of onnx-weights.md §3.3, evaluated on demand in f64.
//!
//! One table, `OPS`, lists the foldable ops by family, each with its evaluator: it answers both
//! "can this node fold" (`foldable`, used when an expression is built) and "how" (`Eval`). An
//! error while evaluating a node names it (name or `#index`, and op).
//!
//! Every output size is checked against the element and memory budget before it is allocated
//! (§8.2: a 20-byte ConstantOfShape can request 10¹⁸ elements), and the number of evaluated ops is
//! bounded so that a hostile DAG cannot make evaluation exponential.

mod elementwise;
mod generate;
mod leaf;
pub mod nbits;
mod quant;
mod select;
mod shape;

use std::sync::Arc;

use tract_onnx::pb::{AttributeProto, SparseTensorProto, TensorProto};

use crate::error::{ModelErrorKind as K, display_name};
use crate::onnx::Model;
use crate::onnx::attr::{AttrError, Node};
use crate::onnx::tensor::{self, Dense, TensorError};
pub use leaf::{ConstValue, constant as constant_leaf, leaf_dtype, leaf_shape};
#[cfg(test)]
use quant::Params as DequantParams;
pub use quant::dequant;

/// Ops evaluated per expression before giving up (a chain of real exports is a handful).
pub const MAX_FOLD_OPS: usize = 4096;

/// Where a constant leaf is stored.
#[derive(Debug)]
pub enum LeafSrc<'m> {
    Init(&'m TensorProto),
    /// `Constant` node with a `value` tensor.
    ConstTensor(&'m TensorProto),
    Sparse(&'m SparseTensorProto),
    /// `Constant` node with `value_float(s)` / `value_int(s)` or `sparse_value`: the attribute
    /// (its address is the leaf's identity) and its value, read with its declared type checked.
    ConstAttr(&'m AttributeProto, ConstValue<'m>),
}

#[derive(Debug)]
pub struct Leaf<'m> {
    pub name: &'m str,
    pub src: LeafSrc<'m>,
    /// An initializer that is also a graph input: a runtime value can replace it (§1).
    pub overridable: bool,
    /// Nesting depth of the graph that defines it (0 = main graph).
    pub depth: usize,
}

impl Leaf<'_> {
    /// The declared dims (None for a `Constant` node's scalar or list attribute).
    pub fn dims(&self) -> Option<&[i64]> {
        match &self.src {
            LeafSrc::Init(t) | LeafSrc::ConstTensor(t) => Some(&t.dims),
            LeafSrc::Sparse(s) => Some(&s.dims),
            LeafSrc::ConstAttr(..) => None,
        }
    }
}

/// A constant expression.
#[derive(Debug)]
pub enum Expr<'m> {
    Leaf(Leaf<'m>),
    /// A foldable node; `output` selects among several outputs (Split).
    Op {
        node: Node<'m>,
        output: usize,
        inputs: Vec<Option<Arc<Expr<'m>>>>,
        opset: i64,
    },
    /// (x − zp)·scale along `axis` (QLinear*, *Integer, §5.2–5.3); scale None = unknown (1).
    Dequant {
        x: Arc<Expr<'m>>,
        scale: Option<Arc<Expr<'m>>>,
        zp: Option<Arc<Expr<'m>>>,
        axis: i64,
        op: &'static str,
        /// The consumer that dequantises (named in errors).
        node: Node<'m>,
    },
    /// The weight of a block-quantised com.microsoft consumer (`MatMulNBits`,
    /// `GatherBlockQuantized`, §5.5), dequantised as onnxruntime does.
    Blocked(Box<nbits::Blocked<'m>>),
    /// Swap the last two axes (Gemm / FusedMatMul `trans*`).
    SwapLast2(Arc<Expr<'m>>),
    /// Multiply by a scalar (Gemm / FusedMatMul `alpha`).
    Scale(Arc<Expr<'m>>, f64),
}

// ---------------------------------------------------------------------------------------------
// The op table

/// Evaluates one node from its evaluated inputs.
pub type EvalFn = fn(&mut Eval<'_>, &Call<'_>, Inputs) -> Result<Dense, TensorError>;

/// A foldable op of the default ONNX domain.
pub struct OpDef {
    pub name: &'static str,
    pub eval: EvalFn,
}

/// The ops §3.3 allows to fold, by family: reshaping, selecting and joining, elementwise
/// arithmetic, dequantisation, and generated constants.
pub const OPS: [&[OpDef]; 5] = [
    shape::OPS,
    select::OPS,
    elementwise::OPS,
    quant::OPS,
    generate::OPS,
];

/// The table entry for `op`.
pub fn op_def(op: &str) -> Option<&'static OpDef> {
    OPS.iter().flat_map(|f| f.iter()).find(|d| d.name == op)
}

/// Whether `op` (default domain) folds.
pub fn foldable(op: &str) -> bool {
    op_def(op).is_some()
}

/// The node being evaluated.
pub struct Call<'n> {
    pub node: Node<'n>,
    /// Which output is asked for (Split).
    pub output: usize,
    /// Opset of the default domain (where inputs replaced attributes).
    pub opset: i64,
}

impl Call<'_> {
    /// An axis list outside the rank: an attribute error when `attr` names the attribute it came
    /// from, else (it came from an input) a malformed expression.
    fn axes_error(&self, attr: Option<&str>, why: String) -> TensorError {
        match attr {
            Some(a) => self.node.bad_value(a, why).into(),
            None => TensorError::Malformed(why),
        }
    }
}

/// A node's evaluated inputs, taken one by one (an absent optional input is `None`).
pub struct Inputs(Vec<Option<Dense>>);

impl Inputs {
    /// Input `i`, which the op requires.
    pub fn take(&mut self, i: usize) -> Result<Dense, TensorError> {
        self.opt(i)
            .ok_or_else(|| TensorError::Malformed(format!("input {i} is missing")))
    }
    /// Input `i` if it is given.
    pub fn opt(&mut self, i: usize) -> Option<Dense> {
        self.0.get_mut(i).and_then(Option::take)
    }
    /// Every input not taken yet, in order (variadic ops).
    pub fn rest(self) -> Vec<Dense> {
        self.0.into_iter().flatten().collect()
    }
}

impl From<AttrError> for TensorError {
    fn from(e: AttrError) -> Self {
        tensor::rejected(K::BadAttribute, e.to_string())
    }
}

/// Whether `e` is an attribute error (a model error, not a layer status).
pub fn is_attr_error(e: &TensorError) -> bool {
    matches!(
        e,
        TensorError::Rejected {
            kind: K::BadAttribute,
            ..
        }
    )
}

fn mal<T>(m: impl Into<String>) -> Result<T, TensorError> {
    Err(TensorError::Malformed(m.into()))
}

/// `in_node`, for decoders outside the folder (`Extraction::stream_rows`).
pub fn in_node_of(e: TensorError, n: &Node<'_>) -> TensorError {
    in_node(e, n)
}

/// Name the node in a message that does not name it yet. Attribute errors already do; an
/// unsupported dtype and an over-budget size keep their own form (they are layer statuses).
fn in_node(e: TensorError, n: &Node<'_>) -> TensorError {
    let at = |m: String| format!("node {} ({}): {m}", n.label(), display_name(&n.op_type));
    match e {
        TensorError::Malformed(m) => TensorError::Malformed(at(m)),
        TensorError::Rejected { kind, what } if kind != K::BadAttribute => TensorError::Rejected {
            kind,
            what: at(what),
        },
        e => e,
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// Evaluation context: the model (for external data and limits) and the op budget.
pub struct Eval<'a> {
    pub model: &'a Model,
    ops: usize,
}

impl<'a> Eval<'a> {
    pub fn new(model: &'a Model) -> Self {
        Eval { model, ops: 0 }
    }

    /// Elements of `shape`, checked against the element and memory budget before allocating.
    fn numel(&self, shape: &[usize]) -> Result<usize, TensorError> {
        let n = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| TensorError::Malformed("folded shape overflows".into()))?;
        tensor::check_budget(n, self.model.limits())?;
        Ok(n)
    }

    fn max_rank(&self) -> usize {
        self.model.limits().max_rank
    }

    /// Count one evaluation step against `MAX_FOLD_OPS`.
    fn step(&mut self) -> Result<(), TensorError> {
        self.ops += 1;
        if self.ops > MAX_FOLD_OPS {
            return mal(format!(
                "constant expression needs more than {MAX_FOLD_OPS} fold steps"
            ));
        }
        Ok(())
    }

    pub fn eval(&mut self, e: &Expr<'_>) -> Result<Dense, TensorError> {
        self.step()?;
        match e {
            Expr::Leaf(l) => self.leaf(l),
            Expr::Op {
                node,
                output,
                inputs,
                opset,
            } => {
                let mut vals = Vec::with_capacity(inputs.len());
                for i in inputs {
                    vals.push(match i {
                        Some(x) => Some(self.eval(x)?),
                        None => None,
                    });
                }
                let call = Call {
                    node: *node,
                    output: *output,
                    opset: *opset,
                };
                let def = op_def(&node.op_type).ok_or_else(|| {
                    TensorError::Malformed(format!(
                        "{} is not foldable",
                        display_name(&node.op_type)
                    ))
                });
                def.and_then(|d| (d.eval)(self, &call, Inputs(vals)))
                    .map_err(|e| in_node(e, node))
            }
            Expr::Dequant {
                x,
                scale,
                zp,
                axis,
                node,
                op,
            } => {
                let x = self.eval(x)?;
                let scale = match scale {
                    Some(s) => Some(self.eval(s)?),
                    None => None,
                };
                let zp = match zp {
                    Some(z) => Some(self.eval(z)?),
                    None => None,
                };
                // A DequantizeLinear moved onto a gathered table keeps its rounding (§5.1).
                let p = quant::Params {
                    output: (*op == "DequantizeLinear").then(|| {
                        scale
                            .as_ref()
                            .map_or(crate::onnx::dtype::id::FLOAT, |s| s.dtype)
                    }),
                    ..quant::Params::exact(*axis)
                };
                dequant(x, scale.as_ref(), zp.as_ref(), &p).map_err(|e| in_node(e, node))
            }
            Expr::Blocked(b) => nbits::eval(self, b).map_err(|e| in_node(e, &b.node)),
            Expr::SwapLast2(x) => {
                if let Expr::Leaf(Leaf {
                    src: LeafSrc::Init(t) | LeafSrc::ConstTensor(t),
                    ..
                }) = x.as_ref()
                {
                    // The leaf's evaluation step, then decoding straight into swapped order: a
                    // transposed Gemm weight is never held twice (counted as before).
                    self.step()?;
                    return tensor::decode_ordered(self.model, t, true);
                }
                let x = self.eval(x)?;
                shape::swap_last2(x)
            }
            Expr::Scale(x, a) => {
                let mut x = self.eval(x)?;
                x.data.iter_mut().for_each(|v| *v *= a);
                Ok(x)
            }
        }
    }

    fn leaf(&mut self, l: &Leaf<'_>) -> Result<Dense, TensorError> {
        match &l.src {
            LeafSrc::Init(t) | LeafSrc::ConstTensor(t) => tensor::decode(self.model, t),
            LeafSrc::Sparse(s) => tensor::decode_sparse(self.model, s),
            LeafSrc::ConstAttr(_, v) => leaf::const_value(self.model, v),
        }
    }
}

/// Shape of an expression: from the dims for leaves and orientation wrappers; folded ops are
/// evaluated (once, at extraction; the values are dropped).
pub fn shape(e: &Expr<'_>, model: &Model) -> Result<Vec<usize>, TensorError> {
    match e {
        Expr::Leaf(l) => leaf_shape(l, model),
        Expr::Dequant { x, .. } | Expr::Scale(x, _) => shape(x, model),
        Expr::Blocked(b) => {
            let (qs, qd) = match b.q.as_ref() {
                Expr::Leaf(l) => (leaf_shape(l, model)?, leaf_dtype(l)),
                q => {
                    let d = Eval::new(model).eval(q)?;
                    (d.shape, d.dtype)
                }
            };
            nbits::shape(b, &qs, qd).map_err(|e| in_node(e, &b.node))
        }
        Expr::SwapLast2(x) => {
            let mut s = shape(x, model)?;
            let r = s.len();
            if r < 2 {
                return mal("transpose of a tensor with rank < 2");
            }
            s.swap(r - 2, r - 1);
            Ok(s)
        }
        Expr::Op { .. } => Ok(Eval::new(model).eval(e)?.shape),
    }
}

/// Axes normalised to `0..rank` (negative ones count from the end); the message says which is
/// out of range.
fn norm_axes(axes: &[i64], rank: usize) -> Result<Vec<usize>, String> {
    let r = rank as i64;
    axes.iter()
        .map(|&a| {
            let k = if a < 0 { a.saturating_add(r) } else { a };
            if (0..r).contains(&k) {
                Ok(k as usize)
            } else {
                Err(format!("axis {a} is out of range for rank {rank}"))
            }
        })
        .collect()
}

/// A list of ints for a message, cut after a few values (the list comes from the file).
fn show_ints(v: &[i64]) -> String {
    const SHOWN: usize = 8;
    let head: Vec<String> = v.iter().take(SHOWN).map(i64::to_string).collect();
    if v.len() > SHOWN {
        format!("[{}, … ({} values)]", head.join(", "), v.len())
    } else {
        format!("[{}]", head.join(", "))
    }
}

/// Integer values of an evaluated input (shape, axes, starts…). `as` saturates: INT64_MAX ends
/// stay "to the end".
fn ints(d: &Dense) -> Vec<i64> {
    d.data.iter().map(|&v| v as i64).collect()
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
