//! The op table (onnx-weights.md §2, §5, §6): which operand of which op is a weight, how to
//! dequantise and orient it, and which layout its matrix view has.

use std::sync::Arc;

use tract_onnx::pb::NodeProto;

use super::LayerKind;
use super::fold::{Expr, attr_f, attr_i};
use super::scope::{Scopes, is_onnx_domain};
use super::view::Layout;

/// BatchNormalization parameters following a conv (§6).
#[derive(Debug)]
pub struct Bn<'m> {
    pub name: String,
    pub gamma: Arc<Expr<'m>>,
    pub var: Arc<Expr<'m>>,
    pub eps: f64,
}

/// How a weight slot resolved.
pub enum Outcome<'m> {
    Plan(Plan<'m>),
    Runtime,
    Skip(&'static str, String),
}

pub struct Plan<'m> {
    /// The resolved constant operand before dequantisation/orientation (layer identity).
    pub base: Arc<Expr<'m>>,
    /// The effective real-valued weight.
    pub expr: Arc<Expr<'m>>,
    pub layout: Layout,
    pub kind: Option<LayerKind>,
    pub flags: Vec<String>,
    pub bn: Option<Bn<'m>>,
    /// Extra identity: dequantisation parameters and alpha.
    pub key_extra: Vec<usize>,
}

pub struct Candidate<'m> {
    pub slot: usize,
    pub input: String,
    pub outcome: Outcome<'m>,
}

fn input(n: &NodeProto, i: usize) -> Option<&str> {
    n.input.get(i).map(String::as_str).filter(|s| !s.is_empty())
}

fn ptr(e: &Option<Arc<Expr<'_>>>) -> usize {
    e.as_ref()
        .map_or(0, |a| Arc::as_ptr(a) as *const u8 as usize)
}

fn conv_kind(rank: Option<usize>, transpose: bool) -> Option<LayerKind> {
    match (transpose, rank?) {
        (true, 3..=5) => Some(LayerKind::ConvTranspose),
        (false, 3) => Some(LayerKind::Conv1d),
        (false, 4) => Some(LayerKind::Conv2d),
        (false, 5) => Some(LayerKind::Conv3d),
        _ => None,
    }
}

/// Weight-slot candidates of one node (empty for ops that have none).
pub fn candidates<'m>(sc: &mut Scopes<'m>, n: &'m NodeProto, rnn: bool) -> Vec<Candidate<'m>> {
    let op = n.op_type.as_str();
    let ms = n.domain == "com.microsoft";
    if !is_onnx_domain(n) && !ms {
        return vec![];
    }
    let group = attr_i(n, "group").unwrap_or(1).max(1) as usize;
    let conv = Layout::Conv { group };
    let dense = Layout::Stacked { rows: None };
    match op {
        "Conv" | "ConvTranspose" if !ms => {
            let t = op == "ConvTranspose";
            let mut c = slot(sc, n, 1, conv, |e, r| (e, conv_kind(r, t)));
            add_bn(sc, n, &mut c);
            vec![c]
        }
        "Gemm" if !ms => {
            let alpha = attr_f(n, "alpha").unwrap_or(1.0) as f64;
            let ta = attr_i(n, "transA").unwrap_or(0) != 0;
            let tb = attr_i(n, "transB").unwrap_or(0) != 0;
            matmul_like(sc, n, ta, tb, alpha)
        }
        "MatMul" if !ms => matmul_like(sc, n, false, false, 1.0),
        "FusedMatMul" if ms => {
            let alpha = attr_f(n, "alpha").unwrap_or(1.0) as f64;
            let ta = attr_i(n, "transA").unwrap_or(0) != 0;
            let tb = attr_i(n, "transB").unwrap_or(0) != 0;
            matmul_like(sc, n, ta, tb, alpha)
        }
        "Gather" if !ms => {
            // An embedding: constant rank-2 data, run-time indices, axis 0.
            let idx_const = input(n, 1).and_then(|i| sc.resolve(i)).is_some();
            if idx_const || attr_i(n, "axis").unwrap_or(0) != 0 {
                return vec![];
            }
            let Some(name) = input(n, 0) else {
                return vec![];
            };
            let Some(e) = sc.resolve(name) else {
                return vec![];
            };
            vec![Candidate {
                slot: 0,
                input: name.to_string(),
                outcome: Outcome::Plan(Plan {
                    base: e.clone(),
                    expr: e,
                    layout: dense,
                    kind: Some(LayerKind::Embedding),
                    flags: vec![],
                    bn: None,
                    key_extra: vec![],
                }),
            }]
        }
        "LSTM" | "GRU" | "RNN" if rnn && !ms => {
            let gates = match op {
                "LSTM" => 4,
                "GRU" => 3,
                _ => 1,
            };
            let h = attr_i(n, "hidden_size").and_then(|h| usize::try_from(h).ok());
            [1, 2]
                .into_iter()
                .map(|s| {
                    slot(sc, n, s, Layout::Stacked { rows: h }, |e, _| {
                        (e, Some(LayerKind::Rnn))
                    })
                })
                .map(|mut c| {
                    if let (Outcome::Plan(p), None) = (&mut c.outcome, h) {
                        p.layout = Layout::Stacked { rows: None };
                        p.flags.push(format!("gates_{gates}"));
                    }
                    c
                })
                .collect()
        }
        "QLinearConv" if !ms => {
            let mut c = quantized(sc, n, 3, Some(4), Some(5), 0, conv, "QLinearConv");
            add_bn(sc, n, &mut c);
            vec![c]
        }
        "ConvInteger" if !ms => {
            let scale = integer_scale(sc, n);
            let mut c = quantized_with(sc, n, 1, scale, input(n, 3), 0, conv, "ConvInteger");
            add_bn(sc, n, &mut c);
            vec![c]
        }
        "QLinearMatMul" if !ms => {
            if input(n, 3).and_then(|i| sc.resolve(i)).is_some() {
                vec![quantized(
                    sc,
                    n,
                    3,
                    Some(4),
                    Some(5),
                    -1,
                    dense,
                    "QLinearMatMul",
                )]
            } else {
                vec![quantized(
                    sc,
                    n,
                    0,
                    Some(1),
                    Some(2),
                    -2,
                    dense,
                    "QLinearMatMul",
                )]
            }
        }
        "MatMulInteger" if !ms => {
            let scale = integer_scale(sc, n);
            if input(n, 1).and_then(|i| sc.resolve(i)).is_some() {
                vec![quantized_with(
                    sc,
                    n,
                    1,
                    scale,
                    input(n, 3),
                    -1,
                    dense,
                    "MatMulInteger",
                )]
            } else {
                vec![quantized_with(
                    sc,
                    n,
                    0,
                    scale,
                    input(n, 2),
                    -2,
                    dense,
                    "MatMulInteger",
                )]
            }
        }
        "MatMulNBits" if ms => vec![Candidate {
            slot: 1,
            input: input(n, 1).unwrap_or("").to_string(),
            outcome: Outcome::Skip("unsupported op", "MatMulNBits is not decoded".into()),
        }],
        _ => vec![],
    }
}

/// Resolve input `i` and build its plan with `f(expr, rank) -> (effective, kind)`.
fn slot<'m>(
    sc: &mut Scopes<'m>,
    n: &'m NodeProto,
    i: usize,
    layout: Layout,
    f: impl FnOnce(Arc<Expr<'m>>, Option<usize>) -> (Arc<Expr<'m>>, Option<LayerKind>),
) -> Candidate<'m> {
    let name = input(n, i).unwrap_or("").to_string();
    let outcome = match input(n, i).and_then(|x| sc.resolve(x)) {
        None => Outcome::Runtime,
        Some(e) => {
            let rank = static_rank(&e);
            let (expr, kind) = f(e.clone(), rank);
            Outcome::Plan(Plan {
                base: e,
                expr,
                layout,
                kind,
                flags: vec![],
                bn: None,
                key_extra: vec![],
            })
        }
    };
    Candidate {
        slot: i,
        input: name,
        outcome,
    }
}

/// Rank known without evaluation (leaves and wrappers); None for folded expressions, whose rank
/// the caller learns from the evaluated shape.
pub fn static_rank(e: &Expr<'_>) -> Option<usize> {
    match e {
        Expr::Leaf(l) => match &l.src {
            super::fold::LeafSrc::Init(t) | super::fold::LeafSrc::ConstTensor(t) => {
                Some(t.dims.len())
            }
            super::fold::LeafSrc::Sparse(s) => Some(s.dims.len()),
            super::fold::LeafSrc::ConstAttr(_) => Some(1),
        },
        Expr::Dequant { x, .. } | Expr::Scale(x, _) | Expr::SwapLast2(x) => static_rank(x),
        Expr::Op { .. } => None,
    }
}

/// Gemm / MatMul / FusedMatMul: the constant side is the weight (B normally, else A). Both
/// constant: a constant expression, not a layer (§2.1).
fn matmul_like<'m>(
    sc: &mut Scopes<'m>,
    n: &'m NodeProto,
    ta: bool,
    tb: bool,
    alpha: f64,
) -> Vec<Candidate<'m>> {
    let a = input(n, 0).and_then(|i| sc.resolve(i));
    let b = input(n, 1).and_then(|i| sc.resolve(i));
    let (i, e, trans) = match (a, b) {
        (Some(_), Some(_)) => {
            return vec![Candidate {
                slot: 1,
                input: input(n, 1).unwrap_or("").to_string(),
                outcome: Outcome::Skip("constant expression", "both operands are constant".into()),
            }];
        }
        (_, Some(b)) => (1, b, tb),
        (Some(a), None) => (0, a, ta),
        (None, None) => {
            return vec![Candidate {
                slot: 1,
                input: input(n, 1).unwrap_or("").to_string(),
                outcome: Outcome::Runtime,
            }];
        }
    };
    let mut expr = e.clone();
    let mut flags = vec![];
    if trans {
        expr = Arc::new(Expr::SwapLast2(expr));
    }
    if alpha != 1.0 {
        expr = Arc::new(Expr::Scale(expr, alpha));
        flags.push(format!("alpha_scaled({alpha})"));
    }
    vec![Candidate {
        slot: i,
        input: input(n, i).unwrap_or("").to_string(),
        outcome: Outcome::Plan(Plan {
            base: e,
            expr,
            layout: Layout::Stacked { rows: None },
            kind: Some(LayerKind::Dense),
            flags,
            bn: None,
            key_extra: if alpha != 1.0 {
                vec![alpha.to_bits() as usize]
            } else {
                vec![]
            },
        }),
    }]
}

#[allow(clippy::too_many_arguments)]
fn quantized<'m>(
    sc: &mut Scopes<'m>,
    n: &'m NodeProto,
    w: usize,
    scale: Option<usize>,
    zp: Option<usize>,
    axis: i64,
    layout: Layout,
    op: &'static str,
) -> Candidate<'m> {
    let scale = scale.and_then(|i| input(n, i)).and_then(|s| sc.resolve(s));
    let zp = zp.and_then(|i| input(n, i));
    let mut c = quantized_with(sc, n, w, scale, zp, axis, layout, op);
    if let Outcome::Plan(p) = &mut c.outcome
        && p.flags.iter().any(|f| f == "scale_unknown")
    {
        // QLinear* carry their scale as an input; a run-time scale is unusual but possible.
        p.flags.retain(|f| f != "scale_unknown");
        p.flags.push("scale_runtime".into());
    }
    c
}

#[allow(clippy::too_many_arguments)]
fn quantized_with<'m>(
    sc: &mut Scopes<'m>,
    n: &'m NodeProto,
    w: usize,
    scale: Option<Arc<Expr<'m>>>,
    zp: Option<&str>,
    axis: i64,
    layout: Layout,
    op: &'static str,
) -> Candidate<'m> {
    let zp = zp.and_then(|z| sc.resolve(z));
    let is_conv = matches!(layout, Layout::Conv { .. });
    slot(sc, n, w, layout, |e, rank| {
        let kind = if is_conv {
            conv_kind(rank, false)
        } else {
            Some(LayerKind::Dense)
        };
        let expr = Arc::new(Expr::Dequant {
            x: e,
            scale: scale.clone(),
            zp: zp.clone(),
            axis,
            op,
        });
        (expr, kind)
    })
    .with(|p| {
        if let Expr::Dequant { scale, zp, .. } = p.expr.as_ref() {
            p.key_extra = vec![ptr(scale), ptr(zp)];
            if scale.is_none() {
                p.flags.push("scale_unknown".into());
            }
        }
    })
}

impl<'m> Candidate<'m> {
    fn with(mut self, f: impl FnOnce(&mut Plan<'m>)) -> Self {
        if let Outcome::Plan(p) = &mut self.outcome {
            f(p);
        }
        self
    }
}

/// `ConvInteger`/`MatMulInteger` carry no scale; find the weight scale after the op:
/// `→ Cast → Mul(·, s)` with s constant, or `Mul(·, Mul(x_scale, w_scale))` with one constant
/// factor (§5.3). None ⇒ `scale_unknown`.
fn integer_scale<'m>(sc: &mut Scopes<'m>, n: &'m NodeProto) -> Option<Arc<Expr<'m>>> {
    let mut out = n.output.first()?.as_str();
    let readers = |sc: &Scopes<'m>, name: &str| -> Vec<&'m NodeProto> {
        sc.frames
            .last()
            .and_then(|f| f.readers.get(name).cloned())
            .unwrap_or_default()
    };
    let mut next = readers(sc, out);
    if let [c] = next.as_slice()
        && c.op_type == "Cast"
    {
        out = c.output.first()?.as_str();
        next = readers(sc, out);
    }
    let mul = next.into_iter().find(|m| m.op_type == "Mul")?;
    let other = mul.input.iter().find(|i| i.as_str() != out)?;
    if let Some(s) = sc.resolve(other) {
        return Some(s);
    }
    let inner = sc.producer(other).filter(|p| p.op_type == "Mul")?;
    inner.input.iter().find_map(|i| sc.resolve(i))
}

/// A conv followed (possibly through Identity) by BatchNormalization: flag it and remember the
/// BN parameters for `fold_bn` (§6).
fn add_bn<'m>(sc: &mut Scopes<'m>, n: &'m NodeProto, c: &mut Candidate<'m>) {
    let Outcome::Plan(p) = &mut c.outcome else {
        return;
    };
    let Some(mut out) = n.output.first().map(String::as_str) else {
        return;
    };
    for _ in 0..8 {
        let readers: Vec<&'m NodeProto> = sc
            .frames
            .last()
            .and_then(|f| f.readers.get(out).cloned())
            .unwrap_or_default();
        let [r] = readers.as_slice() else { return };
        match r.op_type.as_str() {
            "Identity" => match r.output.first() {
                Some(o) => out = o,
                None => return,
            },
            "BatchNormalization" => {
                p.flags.push("followed_by_bn".into());
                let gamma = input(r, 1).and_then(|i| sc.resolve(i));
                let var = input(r, 4).and_then(|i| sc.resolve(i));
                if let (Some(gamma), Some(var)) = (gamma, var) {
                    p.bn = Some(Bn {
                        name: if r.name.is_empty() {
                            r.output.first().cloned().unwrap_or_default()
                        } else {
                            r.name.clone()
                        },
                        gamma,
                        var,
                        eps: attr_f(r, "epsilon").unwrap_or(1e-5) as f64,
                    });
                }
                return;
            }
            _ => return,
        }
    }
}
