//! Dequantisation: the `DequantizeLinear` op (QDQ models, §5.1) and the (x − zp)·scale rule that
//! the QLinear* and *Integer consumers share (`Expr::Dequant`, §5.2–5.3).

use super::{Call, Eval, Inputs, OpDef, mal, norm_axes};
use crate::onnx::dtype::id;
use crate::onnx::tensor::{Dense, TensorError};

pub(super) const OPS: &[OpDef] = &[OpDef {
    name: "DequantizeLinear",
    eval: dequantize_linear,
}];

fn dequantize_linear(_: &mut Eval<'_>, c: &Call<'_>, mut v: Inputs) -> Result<Dense, TensorError> {
    let x = v.take(0)?;
    let s = v.take(1)?;
    let zp = v.opt(2);
    let axis = c.node.get_or("axis", 1i64)?;
    let block = c.node.int_at_least("block_size", 0, 0)?;
    let r = x.shape.len();
    if r > 0 {
        norm_axes(&[axis], r).map_err(|w| c.axes_error(Some("axis"), w))?;
    }
    dequant(x, Some(&s), zp.as_ref(), axis, block)
}

/// y = (x − zp)·scale (onnx-weights.md §5.1): scale scalar (per tensor), 1-D of length
/// shape[axis] (per axis; any shape with that many elements is accepted, e.g. [1, N]), or blocked
/// along `axis` when `block` > 0.
pub fn dequant(
    x: Dense,
    scale: Option<&Dense>,
    zp: Option<&Dense>,
    axis: i64,
    block: i64,
) -> Result<Dense, TensorError> {
    let r = x.shape.len();
    let ax = if r == 0 {
        0
    } else {
        *norm_axes(&[axis], r)
            .map_err(TensorError::Malformed)?
            .first()
            .unwrap_or(&0)
    };
    let dim = x.shape.get(ax).copied().unwrap_or(1);
    let inner: usize = x.shape.iter().skip(ax + 1).product();
    let block = usize::try_from(block).unwrap_or(0);
    let channel = |i: usize| -> usize { (i / inner.max(1)) % dim.max(1) };
    let pick = |d: Option<&Dense>, i: usize, default: f64| -> Result<f64, TensorError> {
        let Some(d) = d else { return Ok(default) };
        let n = d.data.len();
        let k = if n == 1 {
            0
        } else if block > 0 {
            // Blocked (opset 21): same rank as x with ⌈D/block⌉ along the axis.
            let outer = i / (inner * dim).max(1);
            let blocks = dim.div_ceil(block);
            (outer * blocks + channel(i) / block) * inner + i % inner.max(1)
        } else if n == dim {
            channel(i)
        } else {
            return mal(format!(
                "dequantisation parameter has {n} values; expected 1 or {dim} (axis {ax})"
            ));
        };
        d.data
            .get(k)
            .copied()
            .ok_or_else(|| TensorError::Malformed("dequantisation parameter too short".into()))
    };
    let mut data = Vec::with_capacity(x.data.len());
    for (i, &q) in x.data.iter().enumerate() {
        let s = pick(scale, i, 1.0)?;
        let z = pick(zp, i, 0.0)?;
        data.push((q - z) * s);
    }
    Ok(Dense {
        shape: x.shape,
        data,
        dtype: scale.map_or(id::FLOAT, |s| s.dtype),
    })
}
