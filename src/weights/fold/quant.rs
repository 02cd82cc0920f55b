//! Dequantisation: the `DequantizeLinear` op (QDQ models, onnx-weights.md §5.1), per tensor, per
//! axis and blocked (opset 21), and the (x − zp)·scale rule that the QLinear* and *Integer
//! consumers share (`Expr::Dequant`, §5.2–5.3).

use super::{Call, Eval, Inputs, OpDef, mal, norm_axes};
use crate::onnx::dtype::{self, id};
use crate::onnx::tensor::{Dense, TensorError};

pub(super) const OPS: &[OpDef] = &[
    OpDef {
        name: "DequantizeLinear",
        eval: dequantize_linear,
    },
    OpDef {
        name: "DynamicQuantizeLinear",
        eval: dynamic_quantize_linear,
    },
];

/// `DynamicQuantizeLinear` of a constant (what `quantize_dynamic` writes when a weight is a
/// `Constant` node, §5.3): outputs y (uint8), y_scale and y_zero_point, computed in float32 as
/// onnxruntime's kernel does. The range is widened to include 0; scale = (max − min)/255, or 1
/// when max = min; zero point = round_half_even(clamp(−min/scale, 0, 255));
/// y = clamp(round_half_even(x/scale) + zero point, 0, 255). NaN values are ignored by the
/// range, as by `fminf`/`fmaxf`.
fn dynamic_quantize_linear(
    _: &mut Eval<'_>,
    c: &Call<'_>,
    mut v: Inputs,
) -> Result<Dense, TensorError> {
    let x = v.take(0)?;
    let (lo, hi) = x.data.iter().fold((0f32, 0f32), |(lo, hi), &v| {
        let f = v as f32;
        (lo.min(f), hi.max(f))
    });
    let scale = if hi == lo { 1.0 } else { (hi - lo) / 255.0 };
    let zp = (0.0 - lo / scale).clamp(0.0, 255.0).round_ties_even();
    let scalar = |value: f32, dtype| Dense {
        shape: vec![],
        data: vec![f64::from(value)],
        dtype,
    };
    match c.output {
        0 => Ok(Dense {
            data: x
                .data
                .iter()
                .map(|&v| f64::from(((v as f32 / scale).round_ties_even() + zp).clamp(0.0, 255.0)))
                .collect(),
            shape: x.shape,
            dtype: id::UINT8,
        }),
        1 => Ok(scalar(scale, id::FLOAT)),
        2 => Ok(scalar(zp, id::UINT8)),
        k => mal(format!(
            "DynamicQuantizeLinear has 3 outputs, not {}",
            k + 1
        )),
    }
}

fn dequantize_linear(_: &mut Eval<'_>, c: &Call<'_>, mut v: Inputs) -> Result<Dense, TensorError> {
    let x = v.take(0)?;
    let s = v.take(1)?;
    let zp = v.opt(2);
    let axis = c.node.get_or("axis", 1i64)?;
    let block = c.node.int_at_least("block_size", 0, 0)?;
    // opset 21: `output_dtype` (0 = the scale's type) names the output type.
    let out = match c.node.get_or("output_dtype", 0i64)? {
        0 => s.dtype,
        t => i32::try_from(t)
            .ok()
            .filter(|&t| matches!(t, id::FLOAT | id::FLOAT16 | id::BFLOAT16))
            .ok_or_else(|| {
                c.node.bad_value(
                    "output_dtype",
                    format!("{t} is not float, float16 or bfloat16"),
                )
            })?,
    };
    let r = x.shape.len();
    if r > 0 {
        norm_axes(&[axis], r).map_err(|w| c.axes_error(Some("axis"), w))?;
    }
    let params = Params {
        axis,
        block,
        output: Some(out),
    };
    dequant(x, Some(&s), zp.as_ref(), &params)
}

/// The float32 product onnxruntime's dequantising kernels compute (§5.1, §5.5): (q − zp)·s, or
/// q·s − zp·s when `split` (MatMulNBits' float zero points beside float32 scales).
#[inline(always)]
pub(super) fn product(q: f32, z: f32, s: f32, split: bool) -> f32 {
    if split { q * s - z * s } else { (q - z) * s }
}

/// A float32 result in the output type: itself, or rounded once to float16/bfloat16.
#[inline]
pub(super) fn to_output(v: f32, out: i32) -> f64 {
    let y = f64::from(v);
    if out == id::FLOAT {
        y
    } else {
        dtype::round_to(out, y)
    }
}

/// How (x − zp)·scale is laid out and rounded.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// The axis the scale runs along (per axis or blocked).
    pub axis: i64,
    /// Block length along `axis` (0 = not blocked).
    pub block: i64,
    /// The float type the product is computed and stored in, as onnxruntime does for
    /// `DequantizeLinear`: float(x − zp)·scale in float32, then rounded to the output type.
    /// None: the exact product in f64 (the QLinear*/*Integer consumers, which never form it).
    pub output: Option<i32>,
}

impl Params {
    /// The QLinear*/*Integer rule: exact, along `axis`, not blocked.
    pub fn exact(axis: i64) -> Self {
        Params {
            axis,
            block: 0,
            output: None,
        }
    }
}

/// Where a dequantisation parameter's value for element (outer o, channel c, inner j) sits.
#[derive(Clone, Copy)]
enum Spread {
    Tensor,
    Axis,
    Blocked { blocks: usize, block: usize },
}

/// y = (x − zp)·scale (onnx-weights.md §5.1): scale scalar (per tensor), of length shape[axis]
/// (per axis; any shape with that many elements is accepted, e.g. [1, N]), or, when `block` > 0,
/// of x's rank with ⌈shape[axis]/block⌉ along the axis and x's dims elsewhere. A zero point has
/// the scale's shape. Shapes are checked before anything is computed.
pub fn dequant(
    x: Dense,
    scale: Option<&Dense>,
    zp: Option<&Dense>,
    p: &Params,
) -> Result<Dense, TensorError> {
    let r = x.shape.len();
    let ax = if r == 0 {
        0
    } else {
        *norm_axes(&[p.axis], r)
            .map_err(TensorError::Malformed)?
            .first()
            .unwrap_or(&0)
    };
    let dim = x.shape.get(ax).copied().unwrap_or(1);
    let inner: usize = x.shape.iter().skip(ax + 1).product();
    let outer: usize = x.shape.iter().take(ax).product();
    let block = usize::try_from(p.block).unwrap_or(0);
    let spread = |what: &str, d: &Dense| -> Result<Spread, TensorError> {
        let n = d.data.len();
        if block > 0 && n != 1 {
            let mut want = x.shape.clone();
            if let Some(w) = want.get_mut(ax) {
                *w = dim.div_ceil(block);
            }
            if d.shape != want {
                return mal(format!(
                    "blocked {what} has shape {:?}; block size {block} along axis {ax} of {:?} \
                     needs {want:?}",
                    d.shape, x.shape
                ));
            }
            return Ok(Spread::Blocked {
                blocks: dim.div_ceil(block),
                block,
            });
        }
        match n {
            1 => Ok(Spread::Tensor),
            n if n == dim => Ok(Spread::Axis),
            n => mal(format!(
                "{what} has {n} values; expected 1 or {dim} (axis {ax})"
            )),
        }
    };
    let s_spread = scale.map(|s| spread("scale", s)).transpose()?;
    let z_spread = zp.map(|z| spread("zero point", z)).transpose()?;
    if let (Some(s), Some(z)) = (scale, zp)
        && s.data.len() != z.data.len()
    {
        return mal(format!(
            "zero point has {} values, the scale {}",
            z.data.len(),
            s.data.len()
        ));
    }
    if x.data.len() != outer * dim * inner {
        return mal("tensor data does not match its shape");
    }
    let at = |d: Option<&Dense>, sp: Option<Spread>, o: usize, c: usize, j: usize, default| {
        let Some(d) = d else { return default };
        let k = match sp {
            None | Some(Spread::Tensor) => 0,
            Some(Spread::Axis) => c,
            Some(Spread::Blocked { blocks, block }) => (o * blocks + c / block) * inner + j,
        };
        d.data.get(k).copied().unwrap_or(f64::NAN)
    };
    let value = |q: f64, z: f64, s: f64| match p.output {
        None => (q - z) * s,
        // float(x − zp): the exact difference converted to float32 first.
        Some(out) => to_output(product((q - z) as f32, 0.0, s as f32, false), out),
    };
    let mut data = Vec::with_capacity(x.data.len());
    let mut values = x.data.iter();
    for o in 0..outer {
        for c in 0..dim {
            for j in 0..inner {
                let q = values.next().copied().unwrap_or(f64::NAN);
                let s = at(scale, s_spread, o, c, j, 1.0);
                let z = at(zp, z_spread, o, c, j, 0.0);
                data.push(value(q, z, s));
            }
        }
    }
    Ok(Dense {
        shape: x.shape,
        data,
        dtype: p.output.or(scale.map(|s| s.dtype)).unwrap_or(id::FLOAT),
    })
}
