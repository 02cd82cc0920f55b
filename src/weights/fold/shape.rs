//! Reshaping ops: Identity, Transpose, Reshape, Flatten, Squeeze, Unsqueeze (the values are kept,
//! or permuted), and the index helpers the other families share.

use super::{Call, Eval, Inputs, OpDef, ints, mal, norm_axes, show_ints};
use crate::onnx::attr::AttrProblem;
use crate::onnx::convert::{self, Order};
use crate::onnx::tensor::{Dense, TensorError};

type R = Result<Dense, TensorError>;

pub(super) const OPS: &[OpDef] = &[
    OpDef {
        name: "Identity",
        eval: identity,
    },
    OpDef {
        name: "Transpose",
        eval: transpose_op,
    },
    OpDef {
        name: "Reshape",
        eval: reshape,
    },
    OpDef {
        name: "Flatten",
        eval: flatten,
    },
    OpDef {
        name: "Squeeze",
        eval: squeeze,
    },
    OpDef {
        name: "Unsqueeze",
        eval: unsqueeze,
    },
];

fn identity(_: &mut Eval<'_>, _: &Call<'_>, mut v: Inputs) -> R {
    v.take(0)
}

fn transpose_op(_: &mut Eval<'_>, c: &Call<'_>, mut v: Inputs) -> R {
    let x = v.take(0)?;
    let r = x.shape.len();
    let perm: Vec<usize> = match c.node.get::<&[i64]>("perm")? {
        Some(p) if !p.is_empty() => p
            .iter()
            .map(|&a| usize::try_from(a).ok().filter(|&a| a < r))
            .collect::<Option<Vec<_>>>()
            .filter(|q| is_permutation(q, r))
            .ok_or_else(|| {
                c.node.bad_value(
                    "perm",
                    format!("{} is not a permutation of the {r} axes", show_ints(p)),
                )
            })?,
        _ => (0..r).rev().collect(),
    };
    if swaps_last_two(&perm) {
        // Blocked for the cache; the general index walk takes seconds on a big layer.
        return swap_last2(x);
    }
    Ok(transpose(&x, &perm))
}

fn is_permutation(perm: &[usize], rank: usize) -> bool {
    let mut seen = vec![false; rank];
    for &p in perm {
        if let Some(s) = seen.get_mut(p) {
            *s = true;
        }
    }
    perm.len() == rank && seen.iter().all(|&s| s)
}

fn reshape(_: &mut Eval<'_>, c: &Call<'_>, mut v: Inputs) -> R {
    let x = v.take(0)?;
    let spec: Vec<i64> = if c.opset >= 5 {
        ints(&v.take(1)?)
    } else {
        c.node.require::<&[i64]>("shape")?.to_vec()
    };
    let allowzero = c.node.get_or("allowzero", 0i64)? == 1;
    let shape = reshape_target(&x.shape, &spec, allowzero)?;
    Ok(Dense { shape, ..x })
}

fn flatten(_: &mut Eval<'_>, c: &Call<'_>, mut v: Inputs) -> R {
    let x = v.take(0)?;
    let r = x.shape.len() as i64;
    let given = c.node.get_or("axis", 1i64)?;
    let axis = if given < 0 { given + r } else { given };
    if !(0..=r).contains(&axis) {
        return Err(c
            .node
            .bad_value("axis", format!("{given} is out of range for rank {r}"))
            .into());
    }
    let (a, b) = x.shape.split_at(axis as usize);
    let shape = vec![a.iter().product(), b.iter().product()];
    Ok(Dense { shape, ..x })
}

/// Squeeze/Unsqueeze axes: input 1 from opset 13, the `axes` attribute before; with the
/// attribute's name when they came from it.
fn axes_of(
    c: &Call<'_>,
    v: &mut Inputs,
) -> Result<(Option<Vec<i64>>, Option<&'static str>), TensorError> {
    Ok(if c.opset >= 13 {
        (v.opt(1).map(|d| ints(&d)), None)
    } else {
        (
            c.node.get::<&[i64]>("axes")?.map(<[i64]>::to_vec),
            Some("axes"),
        )
    })
}

fn squeeze(_: &mut Eval<'_>, c: &Call<'_>, mut v: Inputs) -> R {
    let x = v.take(0)?;
    let (axes, from) = axes_of(c, &mut v)?;
    let r = x.shape.len();
    let axes: Vec<usize> = match axes {
        None => (0..r).filter(|&i| x.shape.get(i) == Some(&1)).collect(),
        Some(a) => norm_axes(&a, r).map_err(|w| c.axes_error(from, w))?,
    };
    if axes.iter().any(|&a| x.shape.get(a) != Some(&1)) {
        return mal("axis is not of size 1");
    }
    let shape = x
        .shape
        .iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, &d)| d)
        .collect();
    Ok(Dense { shape, ..x })
}

fn unsqueeze(e: &mut Eval<'_>, c: &Call<'_>, mut v: Inputs) -> R {
    let x = v.take(0)?;
    let (axes, from) = axes_of(c, &mut v)?;
    let axes = match (axes, from) {
        (Some(a), _) => a,
        (None, Some(attr)) => return Err(c.node.error(attr, AttrProblem::Missing).into()),
        (None, None) => return mal("input 1 (axes) is missing"),
    };
    let out_r = x.shape.len() + axes.len();
    if out_r > e.max_rank() {
        return mal(format!(
            "output rank {out_r} is over the limit {}",
            e.max_rank()
        ));
    }
    let axes = norm_axes(&axes, out_r).map_err(|w| c.axes_error(from, w))?;
    let mut shape = Vec::with_capacity(out_r);
    let mut it = x.shape.iter();
    for i in 0..out_r {
        if axes.contains(&i) {
            shape.push(1);
        } else {
            let d = it
                .next()
                .ok_or_else(|| c.axes_error(from, "duplicate axes".into()))?;
            shape.push(*d);
        }
    }
    Ok(Dense { shape, ..x })
}

pub(super) fn reshape_target(
    input: &[usize],
    spec: &[i64],
    allowzero: bool,
) -> Result<Vec<usize>, TensorError> {
    let total: usize = input.iter().product();
    let mut out = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (i, &s) in spec.iter().enumerate() {
        match s {
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allowzero => out.push(*input.get(i).ok_or_else(|| {
                TensorError::Malformed("target 0 copies a missing dimension".into())
            })?),
            s if s >= 0 => out.push(s as usize),
            _ => return mal(format!("bad target shape {}", show_ints(spec))),
        }
    }
    let known = out
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| TensorError::Malformed("target shape overflows".into()))?;
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return mal(format!(
                "cannot infer -1 in {} for {input:?}",
                show_ints(spec)
            ));
        }
        if let Some(slot) = out.get_mut(i) {
            *slot = total / known;
        }
    } else if known != total {
        return mal(format!("{input:?} cannot become {}", show_ints(spec)));
    }
    Ok(out)
}

pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Call `f` with every multi-index of `shape` in row-major order.
pub fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut idx = vec![0usize; shape.len()];
    loop {
        f(&idx);
        let mut k = shape.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
}

pub fn transpose(x: &Dense, perm: &[usize]) -> Dense {
    let shape: Vec<usize> = perm
        .iter()
        .map(|&p| x.shape.get(p).copied().unwrap_or(0))
        .collect();
    let st = strides(&x.shape);
    let pst: Vec<usize> = perm
        .iter()
        .map(|&p| st.get(p).copied().unwrap_or(0))
        .collect();
    let mut data = Vec::with_capacity(x.data.len());
    for_each_index(&shape, |idx| {
        let off: usize = idx.iter().zip(&pst).map(|(i, s)| i * s).sum();
        data.push(x.data.get(off).copied().unwrap_or(f64::NAN));
    });
    Dense {
        shape,
        data,
        dtype: x.dtype,
    }
}

/// Whether `perm` keeps every axis but swaps the last two.
pub(super) fn swaps_last_two(perm: &[usize]) -> bool {
    let r = perm.len();
    r >= 2
        && perm[..r - 2].iter().enumerate().all(|(i, &p)| p == i)
        && perm[r - 2] == r - 1
        && perm[r - 1] == r - 2
}

/// Swap the last two axes (Gemm / FusedMatMul `trans*`), blocked for the cache.
pub(super) fn swap_last2(x: Dense) -> R {
    let mut shape = x.shape;
    let [.., rows, cols] = shape.as_mut_slice() else {
        return mal("transpose of a tensor with rank < 2");
    };
    let order = Order::SwapLast2 {
        rows: *rows,
        cols: *cols,
    };
    std::mem::swap(rows, cols);
    let mut data = vec![0.0; x.data.len()];
    convert::reorder(&x.data, &mut data, order, |v| *v, |_| {});
    Ok(Dense {
        shape,
        data,
        dtype: x.dtype,
    })
}
