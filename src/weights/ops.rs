//! The op table (onnx-weights.md §2, §5, §6): which operand of which op is a weight, how to
//! dequantise and orient it, and which layout its matrix view has.

use std::sync::Arc;

use tract_onnx::pb::NodeProto;

use super::LayerKind;
use super::fold::nbits::{Blocked, Form};
use super::fold::{ConstValue, Expr, LeafSrc};
use super::scope::{Resolved, Scopes, is_onnx_domain};
use super::view::Layout;
use crate::onnx::attr::{AttrError, Node};
use crate::schema::SkipReason;

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
    Skip(SkipReason, String),
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

/// The kind of a conv weight of static rank `rank`. A folded weight (behind a Cast, a
/// Transpose…) has no static rank: a plain conv's kind then comes from the folded shape
/// (`walk`), but a transposed conv must say so here, or it would be taken for a plain one.
fn conv_kind(rank: Option<usize>, transpose: bool) -> Option<LayerKind> {
    if transpose && rank.is_none() {
        return Some(LayerKind::ConvTranspose);
    }
    match (transpose, rank?) {
        (true, 3..=5) => Some(LayerKind::ConvTranspose),
        (false, 3) => Some(LayerKind::Conv1d),
        (false, 4) => Some(LayerKind::Conv2d),
        (false, 5) => Some(LayerKind::Conv3d),
        _ => None,
    }
}

/// Resolve input `i` of `n` (None when absent or computed at run time).
fn resolve<'m>(sc: &mut Scopes<'m>, n: &NodeProto, i: usize) -> Resolved<'m> {
    match input(n, i) {
        Some(name) => sc.resolve(name),
        None => Ok(None),
    }
}

/// The conv layout of `n`: its `group` (default 1) must be at least 1.
fn conv_layout(n: &Node<'_>) -> Result<Layout, AttrError> {
    let group = n.int_at_least("group", 1, 1)?;
    let group = usize::try_from(group)
        .map_err(|_| n.bad_value("group", format!("{group} groups are too many")))?;
    Ok(Layout::Conv { group })
}

/// Gemm / FusedMatMul attributes: `transA`, `transB` (any non-zero INT transposes, as in
/// onnxruntime) and `alpha`.
fn gemm_attrs(n: &Node<'_>) -> Result<(bool, bool, f64), AttrError> {
    let ta = n.get_or("transA", 0i64)? != 0;
    let tb = n.get_or("transB", 0i64)? != 0;
    let alpha = n.get_or("alpha", 1.0f32)? as f64;
    Ok((ta, tb, alpha))
}

/// Weight-slot candidates of one node (empty for ops that have none). An attribute that the
/// op's interpretation depends on and that is mistyped or out of range is an error.
pub fn candidates<'m>(
    sc: &mut Scopes<'m>,
    node: Node<'m>,
    rnn: bool,
) -> Result<Vec<Candidate<'m>>, AttrError> {
    let n = node.proto;
    let op = n.op_type.as_str();
    let ms = n.domain == "com.microsoft";
    let onnx = is_onnx_domain(n);
    let dense = Layout::Stacked { rows: None };
    Ok(match op {
        "Conv" | "ConvTranspose" if onnx => {
            let t = op == "ConvTranspose";
            let mut c = slot(sc, n, 1, conv_layout(&node)?, |e, r| (e, conv_kind(r, t)))?;
            add_bn(sc, n, &mut c)?;
            vec![c]
        }
        "Gemm" if onnx => {
            let (ta, tb, alpha) = gemm_attrs(&node)?;
            matmul_like(sc, n, ta, tb, alpha)?
        }
        "MatMul" if onnx => matmul_like(sc, n, false, false, 1.0)?,
        "FusedMatMul" if ms => {
            let (ta, tb, alpha) = gemm_attrs(&node)?;
            matmul_like(sc, n, ta, tb, alpha)?
        }
        "Gather" if onnx => {
            // An embedding: constant rank-2 data, run-time indices, axis 0.
            let idx_const = resolve(sc, n, 1)?.is_some();
            if idx_const || node.get_or("axis", 0i64)? != 0 {
                return Ok(vec![]);
            }
            let Some(name) = input(n, 0) else {
                return Ok(vec![]);
            };
            let Some(e) = sc.resolve(name)? else {
                return Ok(vec![]);
            };
            let mut flags = vec![];
            let (expr, key_extra) = match gathered_dequant(sc, n, &e)? {
                Gathered::Dequantized(x, keys) => (x, keys),
                Gathered::Plain => (e.clone(), vec![]),
                Gathered::NotFolded(why) => {
                    // Analysed as stored, and said so (§5.1).
                    flags.push(format!("raw_integers({why})"));
                    (e.clone(), vec![])
                }
            };
            vec![Candidate {
                slot: 0,
                input: name.to_string(),
                outcome: Outcome::Plan(Plan {
                    base: e,
                    expr,
                    layout: dense,
                    kind: Some(LayerKind::Embedding),
                    flags,
                    bn: None,
                    key_extra,
                }),
            }]
        }
        "LSTM" | "GRU" | "RNN" if rnn && onnx => {
            let gates = match op {
                "LSTM" => 4,
                "GRU" => 3,
                _ => 1,
            };
            // Optional (the gate blocks are then not split); when given, at least 1.
            let h = match node.get::<i64>("hidden_size")? {
                Some(h) if h >= 1 => usize::try_from(h).ok(),
                Some(h) => {
                    return Err(node
                        .bad_value("hidden_size", format!("expected an integer ≥ 1, found {h}")));
                }
                None => None,
            };
            let mut out = Vec::with_capacity(2);
            for s in [1, 2] {
                let mut c = slot(sc, n, s, Layout::Stacked { rows: h }, |e, _| {
                    (e, Some(LayerKind::Rnn))
                })?;
                if let (Outcome::Plan(p), None) = (&mut c.outcome, h) {
                    p.layout = Layout::Stacked { rows: None };
                    p.flags.push(format!("gates_{gates}"));
                }
                out.push(c);
            }
            out
        }
        "QLinearConv" if onnx => {
            let conv = conv_layout(&node)?;
            let q = Quant::new(node, 3, 0, conv, "QLinearConv");
            let mut c = quantized(sc, q, Some(4), Some(5))?;
            add_bn(sc, n, &mut c)?;
            vec![c]
        }
        "ConvInteger" if onnx => {
            let conv = conv_layout(&node)?;
            let scale = integer_scale(sc, n)?;
            let q = Quant::new(node, 1, 0, conv, "ConvInteger");
            let mut c = quantized_with(sc, q, scale, input(n, 3))?;
            add_bn(sc, n, &mut c)?;
            vec![c]
        }
        "QLinearMatMul" if onnx => {
            if resolve(sc, n, 3)?.is_some() {
                let q = Quant::new(node, 3, -1, dense, "QLinearMatMul");
                vec![quantized(sc, q, Some(4), Some(5))?]
            } else {
                let q = Quant::new(node, 0, -2, dense, "QLinearMatMul");
                vec![quantized(sc, q, Some(1), Some(2))?]
            }
        }
        "MatMulInteger" if onnx => {
            let scale = integer_scale(sc, n)?;
            if resolve(sc, n, 1)?.is_some() {
                let q = Quant::new(node, 1, -1, dense, "MatMulInteger");
                vec![quantized_with(sc, q, scale, input(n, 3))?]
            } else {
                let q = Quant::new(node, 0, -2, dense, "MatMulInteger");
                vec![quantized_with(sc, q, scale, input(n, 2))?]
            }
        }
        "MatMulNBits" if ms => vec![matmul_nbits(sc, node, NBitsSlots::MATMUL)?],
        // Two MatMulNBits projections fused (gate and up of an MLP), same K, N, bits, block.
        "MatMulNBitsMlp" if ms => vec![
            matmul_nbits(sc, node, NBitsSlots::MLP_GATE)?,
            matmul_nbits(sc, node, NBitsSlots::MLP_UP)?,
        ],
        "GatherBlockQuantized" if ms => gather_block_quantized(sc, node)?,
        "FusedConv" if ms => {
            let mut c = slot(sc, n, 1, conv_layout(&node)?, |e, r| {
                (e, conv_kind(r, false))
            })?;
            add_bn(sc, n, &mut c)?;
            vec![c]
        }
        "FusedGemm" if ms => {
            let (ta, tb, alpha) = gemm_attrs(&node)?;
            matmul_like(sc, n, ta, tb, alpha)?
        }
        "TransposeMatMul" if ms => {
            let (ta, tb, alpha) = gemm_attrs(&node)?;
            matmul_like(sc, n, ta, tb, alpha)?
        }
        // B int8/uint8 with its scale and zero point as inputs (per tensor or per column).
        "DynamicQuantizeMatMul" if ms => {
            let scale = resolve(sc, n, 2)?;
            let q = Quant::new(node, 1, -1, dense, "DynamicQuantizeMatMul");
            vec![quantized_with(sc, q, scale, input(n, 3))?]
        }
        // B (input 3) with b_scale and b_zero_point per tensor or per column of the effective B.
        "QGemm" if ms => {
            let (_, tb, alpha) = gemm_attrs(&node)?;
            let q = Quant::new(node, 3, if tb { 0 } else { -1 }, dense, "QGemm");
            let mut c = quantized(sc, q, Some(4), Some(5))?;
            if let Outcome::Plan(p) = &mut c.outcome {
                if tb {
                    p.expr = Arc::new(Expr::SwapLast2(p.expr.clone()));
                }
                if alpha != 1.0 {
                    p.expr = Arc::new(Expr::Scale(p.expr.clone(), alpha));
                    p.flags.push(format!("alpha_scaled({alpha})"));
                    p.key_extra.push(alpha.to_bits() as usize);
                }
            }
            vec![c]
        }
        "MatMulIntegerToFloat" if ms => {
            let scale = resolve(sc, n, 3)?;
            let q = Quant::new(node, 1, -1, dense, "MatMulIntegerToFloat");
            vec![quantized_with(sc, q, scale, input(n, 5))?]
        }
        _ if !onnx => unsupported(sc, node)?,
        _ => vec![],
    })
}

/// What follows a gathered table.
enum Gathered<'m> {
    /// `DequantizeLinear` with constant parameters: the dequantised table and its identity keys.
    Dequantized(Arc<Expr<'m>>, Vec<usize>),
    /// No `DequantizeLinear` reads the gathered rows.
    Plain,
    /// A `DequantizeLinear` whose parameters cannot be moved onto the table: why.
    NotFolded(&'static str),
}

/// An integer table gathered then dequantised (`Gather → DequantizeLinear`, what
/// `quantize_dynamic` writes for embeddings, §5.1): the table dequantised with the
/// DequantizeLinear's constant scale and zero point, when they are per tensor (or per column of
/// the table: the gathered tensor's last axis).
fn gathered_dequant<'m>(
    sc: &mut Scopes<'m>,
    gather: &'m NodeProto,
    table: &Arc<Expr<'m>>,
) -> Result<Gathered<'m>, AttrError> {
    let Some(mut out) = gather.output.first() else {
        return Ok(Gathered::Plain);
    };
    let readers = |sc: &Scopes<'m>, name: &str| -> Vec<Node<'m>> {
        (sc.frames.last())
            .and_then(|f| f.readers.get(name).cloned())
            .unwrap_or_default()
    };
    // Ops that only move the gathered integers (a Transpose before the DequantizeLinear, as
    // quantize_dynamic leaves an embedding that feeds a GRU): the dequantisation then applies
    // to the table only when it is per tensor.
    let mut moved = false;
    for _ in 0..4 {
        match readers(sc, out).as_slice() {
            [t] if LAYOUT_OPS.contains(&t.op_type.as_str()) && is_onnx_domain(t.proto) => {
                let Some(o) = t.proto.output.first() else {
                    return Ok(Gathered::Plain);
                };
                out = o;
                moved = true;
            }
            _ => break,
        }
    }
    let dq = match readers(sc, out).as_slice() {
        [dq] if dq.op_type == "DequantizeLinear" && is_onnx_domain(dq.proto) => *dq,
        [mm] if !moved
            && mm.op_type == "MatMulInteger"
            && is_onnx_domain(mm.proto)
            && mm.proto.input.first() == Some(out) =>
        {
            return gathered_integer(sc, *mm, table);
        }
        _ => return Ok(Gathered::Plain),
    };
    if dq.get_or("block_size", 0i64)? != 0 {
        return Ok(Gathered::NotFolded("blocked DequantizeLinear after Gather"));
    }
    let axis = dq.get_or("axis", 1i64)?;
    let Some(scale) = resolve(sc, dq.proto, 1)? else {
        return Ok(Gathered::NotFolded("run-time scale"));
    };
    let Some(zp) = optional_const(sc, dq.proto, Some(2))? else {
        return Ok(Gathered::NotFolded("run-time zero point"));
    };
    let per_tensor = is_scalar(&scale);
    if moved && !per_tensor {
        return Ok(Gathered::NotFolded(
            "per-axis scale after a Transpose or Reshape of the gathered rows",
        ));
    }
    // Per axis, the axis must be the gathered rows' last, the table's columns: −1 for sure.
    if !per_tensor && axis != -1 {
        return Ok(Gathered::NotFolded(
            "per-axis scale on an axis other than -1",
        ));
    }
    Ok(dequantized_table(table, scale, zp, "DequantizeLinear", dq))
}

/// The table dequantised along its columns by constant `scale` and `zp`, keyed by them.
fn dequantized_table<'m>(
    table: &Arc<Expr<'m>>,
    scale: Arc<Expr<'m>>,
    zp: Option<Arc<Expr<'m>>>,
    op: &'static str,
    node: Node<'m>,
) -> Gathered<'m> {
    let keys = vec![ptr(&Some(scale.clone())), ptr(&zp)];
    let x = Expr::Dequant {
        x: table.clone(),
        scale: Some(scale),
        zp,
        axis: -1,
        op,
        node,
    };
    Gathered::Dequantized(Arc::new(x), keys)
}

/// Whether a constant holds one value (a scalar, or every dim 1).
fn is_scalar(e: &Expr<'_>) -> bool {
    match e {
        Expr::Leaf(l) => match &l.src {
            LeafSrc::ConstAttr(_, ConstValue::Float(_) | ConstValue::Int(_)) => true,
            LeafSrc::ConstAttr(_, ConstValue::Floats(v)) => v.len() == 1,
            LeafSrc::ConstAttr(_, ConstValue::Ints(v)) => v.len() == 1,
            _ => l
                .dims()
                .is_some_and(|d| d.iter().all(|&x| x == 1) || d.is_empty()),
        },
        _ => false,
    }
}

/// Ops between a Gather and its DequantizeLinear that move values without changing them.
const LAYOUT_OPS: &[&str] = &[
    "Transpose",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Identity",
    "Flatten",
];

/// An integer table whose gathered rows are the left operand of a `MatMulInteger`, as
/// `quantize_dynamic` writes an embedding that feeds a quantised Gemm: the rows are dequantised
/// by the MatMulInteger's `a_zero_point` (input 2) and by the table's scale, which onnxruntime
/// multiplies into the product's scale, `Mul(a_scale, b_scale)` after the MatMulInteger's
/// `Cast → Mul` (§5.1): input 0 of that Mul.
fn gathered_integer<'m>(
    sc: &mut Scopes<'m>,
    mm: Node<'m>,
    table: &Arc<Expr<'m>>,
) -> Result<Gathered<'m>, AttrError> {
    let Some(zp) = optional_const(sc, mm.proto, Some(2))? else {
        return Ok(Gathered::NotFolded(
            "run-time zero point of the MatMulInteger",
        ));
    };
    if zp.as_ref().is_some_and(|z| !is_scalar(z)) {
        return Ok(Gathered::NotFolded(
            "a per-row zero point of the MatMulInteger",
        ));
    }
    let Some(scale) = product_scale(sc, mm.proto, 0)?.filter(|s| is_scalar(s)) else {
        return Ok(Gathered::NotFolded(
            "the table's scale is not a constant factor of the MatMulInteger's output scale",
        ));
    };
    Ok(dequantized_table(table, scale, zp, "MatMulInteger", mm))
}

/// Contrib ops known to carry weights in an encoding tailwatch does not decode, with why: their
/// weights are reported skipped, never dropped in silence.
const UNDECODED: &[(&str, &str)] = &[
    (
        "MatMulBnb4",
        "FP4/NF4 codebook weights (bitsandbytes) are not decoded",
    ),
    (
        "MatMulFpQ4",
        "a prepacked MLAS blob, whose layout is not specified",
    ),
    (
        "MatMulBlockQuantizedFp8Weight",
        "fp8 block-scaled weights are not decoded yet",
    ),
    (
        "MatMulBlockQuantizedFp4Weight",
        "fp4 block-scaled weights are not decoded yet",
    ),
    (
        "MatMulNBitsQkv",
        "fused Q/K/V MatMulNBits projections are not decoded yet",
    ),
    (
        "QMoE",
        "quantised mixture-of-experts weights are not decoded",
    ),
    ("MoE", "mixture-of-experts expert weights are not decoded"),
    (
        "QAttention",
        "quantised merged Q/K/V attention weights are not decoded",
    ),
    (
        "Attention",
        "merged Q/K/V attention weights are not decoded",
    ),
    (
        "QOrderedMatMul",
        "column-ordered int8 (CUDA layouts) is not decoded",
    ),
    (
        "QOrderedAttention",
        "column-ordered int8 (CUDA layouts) is not decoded",
    ),
    (
        "QOrderedLongformerAttention",
        "column-ordered int8 (CUDA layouts) is not decoded",
    ),
    (
        "DynamicQuantizeLSTM",
        "quantised LSTM weights are not decoded",
    ),
    (
        "QLinearConv",
        "com.microsoft QLinearConv (channels-last) is not decoded",
    ),
    (
        "NhwcConv",
        "channels-last convolution weights are not decoded",
    ),
    (
        "NhwcFusedConv",
        "channels-last convolution weights are not decoded",
    ),
    (
        "EmbedLayerNormalization",
        "fused embedding tables are not decoded",
    ),
    (
        "QEmbedLayerNormalization",
        "quantised fused embedding tables are not decoded",
    ),
    ("SparseAttention", "not decoded"),
];

/// Constant inputs of at least this many elements and rank ≥ 2 of an op that tailwatch does
/// not know are reported as skipped weights ("unsupported op"): a matrix-sized constant is
/// almost always a weight. Smaller ones (norm scales, biases, shapes) are not.
const UNKNOWN_WEIGHT_MIN: u64 = 1024;

/// Ops of other domains that read large constants that are not weights (rotary caches,
/// attention masks): no skipped entry for them.
const NOT_WEIGHTS: &[&str] = &[
    "RotaryEmbedding",
    "GroupQueryAttention",
    "MultiHeadAttention",
    "PagedAttention",
    "SkipLayerNormalization",
    "SkipSimplifiedLayerNormalization",
    "SimplifiedLayerNormalization",
    "LayerNormalization",
    "GemmaRotaryEmbedding",
    "MRotaryEmbedding",
    "DecoderMaskedMultiHeadAttention",
];

/// A contrib (or other-domain) op without a decoder: its weight-like constant inputs are
/// skipped with the op named.
fn unsupported<'m>(sc: &mut Scopes<'m>, node: Node<'m>) -> Result<Vec<Candidate<'m>>, AttrError> {
    let n = node.proto;
    if NOT_WEIGHTS.contains(&n.op_type.as_str()) {
        return Ok(vec![]);
    }
    let known = UNDECODED.iter().find(|(op, _)| *op == n.op_type);
    let domain = if n.domain.is_empty() {
        "ai.onnx"
    } else {
        n.domain.as_str()
    };
    let mut out = vec![];
    for (i, name) in n.input.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        let Some(e) = sc.resolve(name)? else { continue };
        let numel = |d: &[i64]| {
            d.iter()
                .try_fold(1u64, |a, &x| a.checked_mul(u64::try_from(x).ok()?))
        };
        // A known weight-carrying op: every constant input that is not a scalar (their weights
        // may be 1-D packed blobs). Another op: matrix-sized constants. A folded constant
        // (dequantised, transposed…) is a weight either way.
        let weight_like = match e.as_ref() {
            Expr::Leaf(l) => l.dims().is_some_and(|d| match known {
                Some(_) => numel(d).is_some_and(|c| c > 1),
                None => d.len() >= 2 && numel(d).is_some_and(|c| c >= UNKNOWN_WEIGHT_MIN),
            }),
            _ => true,
        };
        if !weight_like {
            continue;
        }
        let why = match known {
            Some((_, why)) => format!("{domain}.{}: {why}", n.op_type),
            None => format!(
                "{domain}.{} input {i} is a matrix-sized constant; the op is not decoded",
                n.op_type
            ),
        };
        out.push(Candidate {
            slot: i,
            input: name.clone(),
            outcome: Outcome::Skip(SkipReason::UnsupportedOp, why),
        });
    }
    Ok(out)
}

/// An optional input that must be constant when given: `Some(None)` when absent, `Some(Some(e))`
/// when constant, None when it is computed at run time.
fn optional_const<'m>(
    sc: &mut Scopes<'m>,
    n: &'m NodeProto,
    i: Option<usize>,
) -> Result<Option<Option<Arc<Expr<'m>>>>, AttrError> {
    match i.and_then(|i| input(n, i)) {
        None => Ok(Some(None)),
        Some(name) => Ok(sc.resolve(name)?.map(Some)),
    }
}

/// Where a MatMulNBits-like node keeps B, scales, zero points and g_idx.
#[derive(Clone, Copy)]
struct NBitsSlots {
    b: usize,
    scales: usize,
    zp: Option<usize>,
    g_idx: Option<usize>,
}

impl NBitsSlots {
    const MATMUL: Self = NBitsSlots {
        b: 1,
        scales: 2,
        zp: Some(3),
        g_idx: Some(4),
    };
    const MLP_GATE: Self = NBitsSlots {
        b: 3,
        scales: 4,
        zp: None,
        g_idx: None,
    };
    const MLP_UP: Self = NBitsSlots {
        b: 6,
        scales: 7,
        zp: None,
        g_idx: None,
    };
}

/// `MatMulNBits` (§5.5): W = (q − zp)·scale, [N, K] as stored, used as its transpose (Y = A·Wᵀ),
/// so the effective weight is K × N like the MatMul B it replaced. act-order `g_idx` is honoured;
/// execution-provider layouts (`weight_prepacked` ≠ 0) are skipped with that reason.
fn matmul_nbits<'m>(
    sc: &mut Scopes<'m>,
    node: Node<'m>,
    at: NBitsSlots,
) -> Result<Candidate<'m>, AttrError> {
    let n = node.proto;
    let name = input(n, at.b).unwrap_or("").to_string();
    let skip = |why: String| Candidate {
        slot: at.b,
        input: name.clone(),
        outcome: Outcome::Skip(SkipReason::UnsupportedOp, why),
    };
    let k = node.require::<i64>("K")?;
    let nn = node.require::<i64>("N")?;
    let bits = node.get_or("bits", 4i64)?;
    let block = node.require::<i64>("block_size")?;
    let prepacked = node.get_or("weight_prepacked", 0i64)?;
    if prepacked != 0 {
        return Ok(skip(format!(
            "{} with weight_prepacked = {prepacked}: B is in an execution provider's own layout",
            n.op_type
        )));
    }
    let Some(q) = resolve(sc, n, at.b)? else {
        return Ok(Candidate {
            slot: at.b,
            input: name,
            outcome: Outcome::Runtime,
        });
    };
    let Some(scales) = resolve(sc, n, at.scales)? else {
        return Ok(skip(format!(
            "{} scales are computed at run time",
            n.op_type
        )));
    };
    let Some(zp) = optional_const(sc, n, at.zp)? else {
        let why = format!("{} zero points are computed at run time", n.op_type);
        return Ok(skip(why));
    };
    let Some(g_idx) = optional_const(sc, n, at.g_idx)? else {
        return Ok(skip(format!("{} g_idx is computed at run time", n.op_type)));
    };
    let key_extra = vec![ptr(&Some(scales.clone())), ptr(&zp), ptr(&g_idx)];
    let flags = if g_idx.is_some() {
        vec!["act_order(g_idx)".to_string()]
    } else {
        vec![]
    };
    let blocked = Expr::Blocked(Box::new(Blocked {
        form: Form::NBits {
            k,
            n: nn,
            bits,
            block,
        },
        q: q.clone(),
        scales,
        zp,
        g_idx,
        node,
    }));
    Ok(Candidate {
        slot: at.b,
        input: name,
        outcome: Outcome::Plan(Plan {
            base: q,
            expr: Arc::new(Expr::SwapLast2(Arc::new(blocked))),
            layout: Layout::Stacked { rows: None },
            kind: Some(LayerKind::Dense),
            flags,
            bn: None,
            key_extra,
        }),
    })
}

/// `GatherBlockQuantized` (§5.5): a quantised embedding table, when gathered along axis 0 with
/// run-time indices (as `Gather` is).
fn gather_block_quantized<'m>(
    sc: &mut Scopes<'m>,
    node: Node<'m>,
) -> Result<Vec<Candidate<'m>>, AttrError> {
    let n = node.proto;
    let gather_axis = node.get_or("gather_axis", 0i64)?;
    let axis = node.get_or("quantize_axis", 1i64)?;
    let block = node.get_or("block_size", 128i64)?;
    let bits = node.get_or("bits", 4i64)?;
    let name = input(n, 0).unwrap_or("").to_string();
    let Some(q) = resolve(sc, n, 0)? else {
        return Ok(vec![]);
    };
    let skip = |why: String| Candidate {
        slot: 0,
        input: name.clone(),
        outcome: Outcome::Skip(SkipReason::UnsupportedOp, why),
    };
    if resolve(sc, n, 1)?.is_some() {
        return Ok(vec![Candidate {
            slot: 0,
            input: name.clone(),
            outcome: Outcome::Skip(
                SkipReason::ConstantExpression,
                "GatherBlockQuantized with constant indices".into(),
            ),
        }]);
    }
    if gather_axis != 0 {
        let why =
            format!("GatherBlockQuantized with gather_axis {gather_axis} is not an embedding");
        return Ok(vec![skip(why)]);
    }
    let Some(scales) = resolve(sc, n, 2)? else {
        return Ok(vec![skip(
            "GatherBlockQuantized scales are computed at run time".into(),
        )]);
    };
    let Some(zp) = optional_const(sc, n, Some(3))? else {
        let why = "GatherBlockQuantized zero points are computed at run time";
        return Ok(vec![skip(why.into())]);
    };
    let key_extra = vec![ptr(&Some(scales.clone())), ptr(&zp)];
    let expr = Arc::new(Expr::Blocked(Box::new(Blocked {
        form: Form::Gather { bits, block, axis },
        q: q.clone(),
        scales,
        zp,
        g_idx: None,
        node,
    })));
    Ok(vec![Candidate {
        slot: 0,
        input: name,
        outcome: Outcome::Plan(Plan {
            base: q,
            expr,
            layout: Layout::Stacked { rows: None },
            kind: Some(LayerKind::Embedding),
            flags: vec![],
            bn: None,
            key_extra,
        }),
    }])
}

/// Resolve input `i` and build its plan with `f(expr, rank) -> (effective, kind)`.
fn slot<'m>(
    sc: &mut Scopes<'m>,
    n: &'m NodeProto,
    i: usize,
    layout: Layout,
    f: impl FnOnce(Arc<Expr<'m>>, Option<usize>) -> (Arc<Expr<'m>>, Option<LayerKind>),
) -> Result<Candidate<'m>, AttrError> {
    let name = input(n, i).unwrap_or("").to_string();
    let outcome = match resolve(sc, n, i)? {
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
    Ok(Candidate {
        slot: i,
        input: name,
        outcome,
    })
}

/// Rank known without evaluation (leaves and wrappers); None for folded expressions, whose rank
/// the caller learns from the evaluated shape.
pub fn static_rank(e: &Expr<'_>) -> Option<usize> {
    match e {
        Expr::Leaf(l) => match &l.src {
            LeafSrc::Init(t) | LeafSrc::ConstTensor(t) => Some(t.dims.len()),
            LeafSrc::Sparse(s) => Some(s.dims.len()),
            LeafSrc::ConstAttr(..) => Some(1),
        },
        Expr::Dequant { x, .. } | Expr::Scale(x, _) | Expr::SwapLast2(x) => static_rank(x),
        Expr::Blocked(b) => match b.form {
            super::fold::nbits::Form::NBits { .. } => Some(2),
            super::fold::nbits::Form::Gather { .. } => static_rank(&b.q),
        },
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
) -> Result<Vec<Candidate<'m>>, AttrError> {
    let a = resolve(sc, n, 0)?;
    let b = resolve(sc, n, 1)?;
    let (i, e, trans) = match (a, b) {
        (Some(_), Some(_)) => {
            return Ok(vec![Candidate {
                slot: 1,
                input: input(n, 1).unwrap_or("").to_string(),
                outcome: Outcome::Skip(
                    SkipReason::ConstantExpression,
                    "both operands are constant".into(),
                ),
            }]);
        }
        (_, Some(b)) => (1, b, tb),
        (Some(a), None) => (0, a, ta),
        (None, None) => {
            return Ok(vec![Candidate {
                slot: 1,
                input: input(n, 1).unwrap_or("").to_string(),
                outcome: Outcome::Runtime,
            }]);
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
    Ok(vec![Candidate {
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
    }])
}

/// A quantised consumer's weight slot: the node, the weight input, the axis its scale runs
/// along, the layout and the op name for the fold chain.
struct Quant<'m> {
    node: Node<'m>,
    w: usize,
    axis: i64,
    layout: Layout,
    op: &'static str,
}

impl<'m> Quant<'m> {
    fn new(node: Node<'m>, w: usize, axis: i64, layout: Layout, op: &'static str) -> Self {
        Quant {
            node,
            w,
            axis,
            layout,
            op,
        }
    }
}

/// QLinear*: scale and zero point are inputs `scale` and `zp` of the node.
fn quantized<'m>(
    sc: &mut Scopes<'m>,
    q: Quant<'m>,
    scale: Option<usize>,
    zp: Option<usize>,
) -> Result<Candidate<'m>, AttrError> {
    let n = q.node.proto;
    let scale = match scale {
        Some(i) => resolve(sc, n, i)?,
        None => None,
    };
    let zp = zp.and_then(|i| input(n, i));
    let mut c = quantized_with(sc, q, scale, zp)?;
    if let Outcome::Plan(p) = &mut c.outcome
        && p.flags.iter().any(|f| f == "scale_unknown")
    {
        // QLinear* carry their scale as an input; a run-time scale is unusual but possible.
        p.flags.retain(|f| f != "scale_unknown");
        p.flags.push("scale_runtime".into());
    }
    Ok(c)
}

fn quantized_with<'m>(
    sc: &mut Scopes<'m>,
    q: Quant<'m>,
    scale: Option<Arc<Expr<'m>>>,
    zp: Option<&str>,
) -> Result<Candidate<'m>, AttrError> {
    let zp = match zp {
        Some(z) => sc.resolve(z)?,
        None => None,
    };
    let Quant {
        node,
        w,
        axis,
        layout,
        op,
    } = q;
    let is_conv = matches!(layout, Layout::Conv { .. });
    Ok(slot(sc, node.proto, w, layout, |e, rank| {
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
            node,
        });
        (expr, kind)
    })?
    .with(|p| {
        if let Expr::Dequant { scale, zp, .. } = p.expr.as_ref() {
            p.key_extra = vec![ptr(scale), ptr(zp)];
            if scale.is_none() {
                p.flags.push("scale_unknown".into());
            }
        }
    }))
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
fn integer_scale<'m>(sc: &mut Scopes<'m>, n: &'m NodeProto) -> Resolved<'m> {
    product_scale(sc, n, 1)
}

/// The constant scale of operand `side` (0: A, 1: B) of an integer product `n`, read from the
/// float product that follows it: `n → [Cast] → Mul(·, s)`, where `s` is a constant (the one
/// operand's scale) or `Mul(a_scale, b_scale)`, as onnxruntime's quantizer writes it (A first).
/// For B, a lone constant factor is taken in either place (the other is an activation's
/// run-time scale); A's must be input 0.
fn product_scale<'m>(sc: &mut Scopes<'m>, n: &'m NodeProto, side: usize) -> Resolved<'m> {
    let Some(mut out) = n.output.first().map(String::as_str) else {
        return Ok(None);
    };
    let readers = |sc: &Scopes<'m>, name: &str| -> Vec<Node<'m>> {
        sc.frames
            .last()
            .and_then(|f| f.readers.get(name).cloned())
            .unwrap_or_default()
    };
    let mut next = readers(sc, out);
    if let [c] = next.as_slice()
        && c.op_type == "Cast"
    {
        let Some(o) = c.proto.output.first() else {
            return Ok(None);
        };
        out = o;
        next = readers(sc, out);
    }
    let Some(mul) = next.into_iter().find(|m| m.op_type == "Mul") else {
        return Ok(None);
    };
    let Some(other) = mul.proto.input.iter().find(|i| i.as_str() != out) else {
        return Ok(None);
    };
    // The product of the two scales, even when both are constants (it then folds into one
    // constant, which is the scale of neither operand).
    let Some(inner) = sc.producer(other).filter(|p| p.op_type == "Mul") else {
        // One constant: B's scale (A's is a run-time value). It cannot be A's alone.
        return if side == 0 {
            Ok(None)
        } else {
            sc.resolve(other)
        };
    };
    let factors: Vec<Option<Arc<Expr<'m>>>> = (inner.proto.input.iter())
        .map(|i| sc.resolve(i))
        .collect::<Result<_, _>>()?;
    Ok(match (side, factors.as_slice()) {
        (0, [Some(a), _]) => Some(a.clone()),
        (0, _) => None,
        (_, [_, Some(b)]) => Some(b.clone()),
        (_, [Some(s), None]) => Some(s.clone()),
        _ => None,
    })
}

/// A conv followed (possibly through Identity) by BatchNormalization: flag it and remember the
/// BN parameters for `fold_bn` (§6).
fn add_bn<'m>(
    sc: &mut Scopes<'m>,
    n: &'m NodeProto,
    c: &mut Candidate<'m>,
) -> Result<(), AttrError> {
    let Outcome::Plan(p) = &mut c.outcome else {
        return Ok(());
    };
    let Some(mut out) = n.output.first().map(String::as_str) else {
        return Ok(());
    };
    for _ in 0..8 {
        let readers: Vec<Node<'m>> = sc
            .frames
            .last()
            .and_then(|f| f.readers.get(out).cloned())
            .unwrap_or_default();
        let [r] = readers.as_slice() else {
            return Ok(());
        };
        let r = *r;
        match r.op_type.as_str() {
            "Identity" => match r.proto.output.first() {
                Some(o) => out = o,
                None => return Ok(()),
            },
            "BatchNormalization" => {
                p.flags.push("followed_by_bn".into());
                let gamma = resolve(sc, r.proto, 1)?;
                let var = resolve(sc, r.proto, 4)?;
                if let (Some(gamma), Some(var)) = (gamma, var) {
                    p.bn = Some(Bn {
                        name: if r.name.is_empty() {
                            r.output.first().cloned().unwrap_or_default()
                        } else {
                            r.name.clone()
                        },
                        gamma,
                        var,
                        eps: r.get_or("epsilon", 1e-5f32)? as f64,
                    });
                }
                return Ok(());
            }
            _ => return Ok(()),
        }
    }
    Ok(())
}
