//! Selecting and joining ops: Slice, Split, Concat, Gather (LSTM gate reordering, packed
//! weights, embedding rows).

use super::shape::{for_each_index, strides};
use super::{Call, Eval, Inputs, OpDef, ints, mal, norm_axes};
use crate::onnx::tensor::{Dense, TensorError};

type R = Result<Dense, TensorError>;

pub(super) const OPS: &[OpDef] = &[
    OpDef {
        name: "Slice",
        eval: slice_op,
    },
    OpDef {
        name: "Concat",
        eval: concat_op,
    },
    OpDef {
        name: "Split",
        eval: split,
    },
    OpDef {
        name: "Gather",
        eval: gather_op,
    },
];

fn slice_op(e: &mut Eval<'_>, c: &Call<'_>, mut v: Inputs) -> R {
    let x = v.take(0)?;
    if c.opset >= 10 {
        let starts = ints(&v.take(1)?);
        let ends = ints(&v.take(2)?);
        let axes = v.opt(3).map(|d| ints(&d));
        let steps = v.opt(4).map(|d| ints(&d));
        let sel = Sel {
            starts: &starts,
            ends: &ends,
            axes,
            steps,
            axes_attr: None,
        };
        slice(e, c, x, sel)
    } else {
        let sel = Sel {
            starts: c.node.require::<&[i64]>("starts")?,
            ends: c.node.require::<&[i64]>("ends")?,
            axes: c.node.get::<&[i64]>("axes")?.map(<[i64]>::to_vec),
            steps: None,
            axes_attr: Some("axes"),
        };
        slice(e, c, x, sel)
    }
}

/// What to slice: per listed axis a start, an end and a step (ONNX clamping rules).
struct Sel<'s> {
    starts: &'s [i64],
    ends: &'s [i64],
    axes: Option<Vec<i64>>,
    steps: Option<Vec<i64>>,
    /// The attribute the axes came from (before opset 10), for messages.
    axes_attr: Option<&'static str>,
}

fn slice(e: &Eval<'_>, c: &Call<'_>, x: Dense, sel: Sel<'_>) -> R {
    let r = x.shape.len();
    let axes = match &sel.axes {
        Some(a) => norm_axes(a, r).map_err(|w| c.axes_error(sel.axes_attr, w))?,
        None => (0..sel.starts.len()).collect(),
    };
    if sel.starts.len() != axes.len() || sel.ends.len() != axes.len() {
        return mal("starts, ends and axes have different lengths");
    }
    // Per axis: (start, step, count), with ONNX clamping rules.
    let mut plan: Vec<(i64, i64, usize)> = x.shape.iter().map(|&d| (0, 1, d)).collect();
    for (k, &ax) in axes.iter().enumerate() {
        let dim = *x.shape.get(ax).unwrap_or(&0) as i64;
        let step = sel
            .steps
            .as_ref()
            .and_then(|s| s.get(k).copied())
            .unwrap_or(1);
        if step == 0 {
            return mal("step 0");
        }
        let fix = |v: i64, lo: i64, hi: i64| {
            let v = if v < 0 { v.saturating_add(dim) } else { v };
            v.clamp(lo, hi)
        };
        let s0 = sel.starts.get(k).copied().unwrap_or(0);
        let e0 = sel.ends.get(k).copied().unwrap_or(dim);
        let (s, e) = if step > 0 {
            (fix(s0, 0, dim), fix(e0, 0, dim))
        } else {
            (fix(s0, 0, dim - 1), fix(e0, -1, dim - 1))
        };
        let n = if step > 0 {
            if e > s { (e - s + step - 1) / step } else { 0 }
        } else if s > e {
            (s - e + (-step) - 1) / (-step)
        } else {
            0
        };
        if let Some(p) = plan.get_mut(ax) {
            *p = (s, step, n.max(0) as usize);
        }
    }
    let shape: Vec<usize> = plan.iter().map(|p| p.2).collect();
    let count = e.numel(&shape)?;
    let strides = strides(&x.shape);
    let mut data = Vec::with_capacity(count);
    for_each_index(&shape, |idx| {
        let off: i64 = idx
            .iter()
            .zip(&plan)
            .zip(&strides)
            .map(|((&i, &(s, st, _)), &sd)| (s + i as i64 * st) * sd as i64)
            .sum();
        data.push(x.data.get(off as usize).copied().unwrap_or(f64::NAN));
    });
    Ok(Dense {
        shape,
        data,
        dtype: x.dtype,
    })
}

fn concat_op(e: &mut Eval<'_>, c: &Call<'_>, v: Inputs) -> R {
    // Required from opset 4; Concat-1 defaulted to 1.
    let axis = if c.opset >= 4 {
        c.node.require::<i64>("axis")?
    } else {
        c.node.get_or("axis", 1i64)?
    };
    let parts = v.rest();
    let first = parts
        .first()
        .ok_or_else(|| TensorError::Malformed("no inputs".into()))?;
    let r = first.shape.len();
    let ax = *norm_axes(&[axis], r)
        .map_err(|w| c.axes_error(Some("axis"), w))?
        .first()
        .unwrap_or(&0);
    let mut shape = first.shape.clone();
    let mut total = 0usize;
    for p in &parts {
        let same = p.shape.len() == r
            && p.shape
                .iter()
                .zip(&first.shape)
                .enumerate()
                .all(|(i, (a, b))| i == ax || a == b);
        if !same {
            return mal(format!(
                "input shapes {:?} and {:?} differ off axis {ax}",
                first.shape, p.shape
            ));
        }
        total = total.saturating_add(*p.shape.get(ax).unwrap_or(&0));
    }
    if let Some(s) = shape.get_mut(ax) {
        *s = total;
    }
    let count = e.numel(&shape)?;
    let outer: usize = shape.iter().take(ax).product();
    let inner: usize = shape.iter().skip(ax + 1).product();
    let mut data = Vec::with_capacity(count);
    for o in 0..outer {
        for p in &parts {
            let w = p.shape.get(ax).unwrap_or(&0) * inner;
            data.extend_from_slice(p.data.get(o * w..(o + 1) * w).unwrap_or(&[]));
        }
    }
    Ok(Dense {
        shape,
        data,
        dtype: first.dtype,
    })
}

fn split(e: &mut Eval<'_>, c: &Call<'_>, mut v: Inputs) -> R {
    let x = v.take(0)?;
    let r = x.shape.len();
    let axis = c.node.get_or("axis", 0i64)?;
    let axis = *norm_axes(&[axis], r)
        .map_err(|w| c.axes_error(Some("axis"), w))?
        .first()
        .unwrap_or(&0);
    let dim = *x.shape.get(axis).unwrap_or(&0);
    let (given, from): (Option<Vec<i64>>, Option<&str>) = if c.opset >= 13 {
        (v.opt(1).map(|d| ints(&d)), None)
    } else {
        (
            c.node.get::<&[i64]>("split")?.map(<[i64]>::to_vec),
            Some("split"),
        )
    };
    let sizes: Vec<usize> = match given {
        Some(s) if !s.is_empty() => s
            .iter()
            .map(|&v| usize::try_from(v).ok())
            .collect::<Option<_>>()
            .ok_or_else(|| c.axes_error(from, "a split size is negative".into()))?,
        _ => {
            // One part per output; `num_outputs` (opset 18) must say as much.
            let outs = c.node.output.len().max(1);
            let parts = match c.node.get::<i64>("num_outputs")? {
                Some(k) if usize::try_from(k).is_ok_and(|k| (1..=outs).contains(&k)) => k as usize,
                Some(k) => {
                    return Err(c
                        .node
                        .bad_value(
                            "num_outputs",
                            format!("expected 1 to {outs} (the node's outputs), found {k}"),
                        )
                        .into());
                }
                None => outs,
            };
            let each = dim.div_ceil(parts);
            (0..parts)
                .map(|i| each.min(dim.saturating_sub(i * each)))
                .collect()
        }
    };
    if sizes.iter().fold(0usize, |a, &s| a.saturating_add(s)) != dim {
        return mal(format!(
            "split sizes do not add up to the dimension {dim} of axis {axis}"
        ));
    }
    let start: usize = sizes.iter().take(c.output).sum();
    let len = *sizes
        .get(c.output)
        .ok_or_else(|| TensorError::Malformed(format!("no output {}", c.output)))?;
    let mut starts = vec![0i64; r];
    let mut ends: Vec<i64> = x.shape.iter().map(|&d| d as i64).collect();
    if let (Some(s), Some(e)) = (starts.get_mut(axis), ends.get_mut(axis)) {
        *s = start as i64;
        *e = (start + len) as i64;
    }
    let sel = Sel {
        starts: &starts,
        ends: &ends,
        axes: None,
        steps: None,
        axes_attr: None,
    };
    slice(e, c, x, sel)
}

fn gather_op(e: &mut Eval<'_>, c: &Call<'_>, mut v: Inputs) -> R {
    let x = v.take(0)?;
    let idx = v.take(1)?;
    let axis = c.node.get_or("axis", 0i64)?;
    let r = x.shape.len();
    let ax = *norm_axes(&[axis], r)
        .map_err(|w| c.axes_error(Some("axis"), w))?
        .first()
        .unwrap_or(&0);
    let dim = *x.shape.get(ax).unwrap_or(&0);
    let picks: Vec<usize> = idx
        .data
        .iter()
        .map(|&i| {
            let k = if i < 0.0 { i + dim as f64 } else { i };
            if k >= 0.0 && k < dim as f64 {
                Ok(k as usize)
            } else {
                mal(format!("index {i} is out of range for dimension {dim}"))
            }
        })
        .collect::<Result<_, _>>()?;
    let mut shape: Vec<usize> = x.shape.iter().take(ax).copied().collect();
    shape.extend_from_slice(&idx.shape);
    shape.extend(x.shape.iter().skip(ax + 1));
    let count = e.numel(&shape)?;
    let outer: usize = x.shape.iter().take(ax).product();
    let inner: usize = x.shape.iter().skip(ax + 1).product();
    let mut data = Vec::with_capacity(count);
    for o in 0..outer {
        for &p in &picks {
            let start = (o * dim + p) * inner;
            data.extend_from_slice(x.data.get(start..start + inner).unwrap_or(&[]));
        }
    }
    Ok(Dense {
        shape,
        data,
        dtype: x.dtype,
    })
}
