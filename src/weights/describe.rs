//! What `describe` says about a weight expression: the name, dtype and stored shape of its
//! primary leaf, its origin, and the fold chain (`init:w → Transpose → Cast`).

use std::sync::Arc;

use super::Origin;
use super::fold::{self, ConstValue, Expr, Leaf, LeafSrc};
use crate::onnx::{Model, dtype};

/// What `describe` says about a weight expression.
pub(super) struct ExprInfo {
    pub name: Option<String>,
    pub dtype: String,
    pub origin: Origin,
    pub source: String,
    pub flags: Vec<String>,
    pub stored_shape: Option<Vec<usize>>,
}

pub(super) fn describe_expr(e: &Expr<'_>, model: &Model) -> ExprInfo {
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
            LeafSrc::ConstTensor(_) | LeafSrc::ConstAttr(..) => Origin::ConstantNode,
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
        dt = quant_form(e, model).unwrap_or_else(|| format!("{dt} (dequantized)"));
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

/// The stored form of a dequantised weight, e.g. `int8 (dequantized, per-axis 0, sym)` or
/// `int4 (dequantized, block 32, asym)`: the stored type, the granularity of its scales and
/// whether a non-zero zero point shifts it. None when the chain has no dequantising step.
fn quant_form(e: &Expr<'_>, model: &Model) -> Option<String> {
    let asym = |zp: Option<&Expr<'_>>| -> &'static str {
        let shifted = zp.is_some_and(|z| {
            fold::Eval::new(model)
                .eval(z)
                .map_or(true, |d| d.data.iter().any(|&v| v != 0.0))
        });
        if shifted { "asym" } else { "sym" }
    };
    let numel = |x: Option<&Expr<'_>>| -> Option<usize> {
        match x? {
            Expr::Leaf(l) => fold::leaf_shape(l, model).ok().map(|s| s.iter().product()),
            _ => None,
        }
    };
    let granularity = |scale: Option<&Expr<'_>>, axis: i64, block: i64| -> String {
        if block > 0 {
            format!("block {block}, axis {axis}")
        } else {
            match numel(scale) {
                Some(1) => "per-tensor".to_string(),
                Some(_) => format!("per-axis {axis}"),
                None => "scale folded".to_string(),
            }
        }
    };
    let stored = |x: &Expr<'_>| primary_leaf(x).map_or(0, fold::leaf_dtype);
    match e {
        Expr::Leaf(_) => None,
        Expr::Blocked(b) => {
            let asym = asym(b.zp.as_deref()) == "asym";
            Some(b.form.describe(stored(&b.q), asym))
        }
        Expr::Dequant { x, .. } if is_dynamic_quantize(x) => Some(format!(
            "uint8 (dequantized, DynamicQuantizeLinear of a {} constant, per-tensor, asym)",
            dtype::name(stored(x))
        )),
        Expr::Dequant {
            x, scale, zp, axis, ..
        } => Some(format!(
            "{} (dequantized, {}, {})",
            dtype::name(stored(x)),
            granularity(scale.as_deref(), *axis, 0),
            asym(zp.as_deref())
        )),
        Expr::Op { node, inputs, .. } if node.op_type == "DequantizeLinear" => {
            let at = |i: usize| inputs.get(i).and_then(|x| x.as_deref());
            let axis = node.get_or("axis", 1i64).unwrap_or(1);
            let block = node.get_or("block_size", 0i64).unwrap_or(0);
            let x = at(0)?;
            Some(format!(
                "{} (dequantized, {}, {})",
                dtype::name(stored(x)),
                granularity(at(1), axis, block),
                asym(at(2))
            ))
        }
        Expr::Op { inputs, .. } => quant_form(primary_input(inputs)?, model),
        Expr::SwapLast2(x) | Expr::Scale(x, _) => quant_form(x, model),
    }
}

/// Whether `x` is output 0 of `DynamicQuantizeLinear`: the model runs with the uint8
/// quantisation of a float constant, fixed by that constant, so that is what is analysed.
pub(super) fn is_dynamic_quantize(x: &Expr<'_>) -> bool {
    matches!(x, Expr::Op { node, output: 0, .. } if node.op_type == "DynamicQuantizeLinear")
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
        Expr::Blocked(b) => {
            *dequant = true;
            format!(
                "{} → {}",
                chain(&b.q, folded, dequant, synthetic),
                b.node.op_type
            )
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
                    LeafSrc::ConstAttr(_, v) => match v {
                        ConstValue::Floats(f) => f.len().max(1) as u128,
                        ConstValue::Ints(i) => i.len().max(1) as u128,
                        _ => 1,
                    },
                },
                Expr::Op { inputs, .. } => {
                    inputs.iter().flatten().map(|i| go(i)).max().unwrap_or(0)
                }
                Expr::Dequant { x, .. } | Expr::SwapLast2(x) | Expr::Scale(x, _) => go(x),
                Expr::Blocked(b) => go(&b.q),
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
        Expr::Blocked(b) => primary_leaf(&b.q),
    }
}
