//! Elementwise arithmetic with NumPy broadcasting: Add, Sub, Mul, Div (scales, folded
//! dequantisation by hand, §5.4). Integer results are rounded back to their dtype.

use super::shape::{for_each_index, strides};
use super::{Call, Eval, Inputs, OpDef, mal};
use crate::onnx::dtype;
use crate::onnx::tensor::{Dense, TensorError};

type R = Result<Dense, TensorError>;

pub(super) const OPS: &[OpDef] = &[
    OpDef {
        name: "Add",
        eval: |e, c, v| binary(e, c, v, |a, b| a + b),
    },
    OpDef {
        name: "Sub",
        eval: |e, c, v| binary(e, c, v, |a, b| a - b),
    },
    OpDef {
        name: "Mul",
        eval: |e, c, v| binary(e, c, v, |a, b| a * b),
    },
    OpDef {
        name: "Div",
        eval: |e, c, v| binary(e, c, v, |a, b| a / b),
    },
];

fn binary(e: &mut Eval<'_>, _: &Call<'_>, mut v: Inputs, f: fn(f64, f64) -> f64) -> R {
    let a = v.take(0)?;
    let b = v.take(1)?;
    let mut out = broadcast(e, &a, &b, f)?;
    if !dtype::is_float(out.dtype) {
        out.data
            .iter_mut()
            .for_each(|e| *e = dtype::round_to(out.dtype, *e));
    }
    Ok(out)
}

fn broadcast(e: &Eval<'_>, a: &Dense, b: &Dense, f: fn(f64, f64) -> f64) -> R {
    let r = a.shape.len().max(b.shape.len());
    let pad = |s: &[usize]| {
        let mut v = vec![1; r - s.len()];
        v.extend_from_slice(s);
        v
    };
    let (sa, sb) = (pad(&a.shape), pad(&b.shape));
    let mut shape = Vec::with_capacity(r);
    for (&x, &y) in sa.iter().zip(&sb) {
        shape.push(match (x, y) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return mal(format!("{:?} and {:?} do not broadcast", a.shape, b.shape)),
        });
    }
    let count = e.numel(&shape)?;
    let bstride = |s: &[usize]| -> Vec<usize> {
        let st = strides(s);
        s.iter()
            .zip(st)
            .map(|(&d, t)| if d == 1 { 0 } else { t })
            .collect()
    };
    let (ta, tb) = (bstride(&sa), bstride(&sb));
    let mut data = Vec::with_capacity(count);
    for_each_index(&shape, |idx| {
        let ia: usize = idx.iter().zip(&ta).map(|(i, t)| i * t).sum();
        let ib: usize = idx.iter().zip(&tb).map(|(i, t)| i * t).sum();
        let x = a.data.get(ia).copied().unwrap_or(f64::NAN);
        let y = b.data.get(ib).copied().unwrap_or(f64::NAN);
        data.push(f(x, y));
    });
    Ok(Dense {
        shape,
        data,
        dtype: a.dtype,
    })
}
