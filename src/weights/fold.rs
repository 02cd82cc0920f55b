//! The constant folder: constant expressions built from initializers and Constant nodes through the
//! pass-through and dequantisation ops of onnx-weights.md §3.3, evaluated on demand in f64.
//!
//! Every output size is checked against the element and memory budget before it is allocated
//! (§8.2: a 20-byte ConstantOfShape can request 10¹⁸ elements), and the number of evaluated ops is
//! bounded so that a hostile DAG cannot make evaluation exponential.

use std::sync::Arc;

use tract_onnx::pb::{AttributeProto, NodeProto, SparseTensorProto, TensorProto};

use crate::onnx::Model;
use crate::onnx::convert::{self, Order};
use crate::onnx::dtype::{self, id};
use crate::onnx::tensor::{self, Dense, TensorError};

/// Ops evaluated per expression before giving up (a chain of real exports is a handful).
pub const MAX_FOLD_OPS: usize = 4096;

/// Where a constant leaf is stored.
#[derive(Debug)]
pub enum LeafSrc<'m> {
    Init(&'m TensorProto),
    /// `Constant` node with a `value` tensor.
    ConstTensor(&'m TensorProto),
    Sparse(&'m SparseTensorProto),
    /// `Constant` node with `value_float(s)` / `value_int(s)` or `sparse_value`.
    ConstAttr(&'m AttributeProto),
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

/// A constant expression.
#[derive(Debug)]
pub enum Expr<'m> {
    Leaf(Leaf<'m>),
    /// A foldable node; `output` selects among several outputs (Split).
    Op {
        node: &'m NodeProto,
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
    },
    /// Swap the last two axes (Gemm / FusedMatMul `trans*`).
    SwapLast2(Arc<Expr<'m>>),
    /// Multiply by a scalar (Gemm / FusedMatMul `alpha`).
    Scale(Arc<Expr<'m>>, f64),
}

/// The ops §3.3 allows to fold.
pub fn foldable(op: &str) -> bool {
    matches!(
        op,
        "Identity"
            | "Cast"
            | "Transpose"
            | "Reshape"
            | "Flatten"
            | "Squeeze"
            | "Unsqueeze"
            | "Slice"
            | "Concat"
            | "Split"
            | "Gather"
            | "Mul"
            | "Div"
            | "Add"
            | "Sub"
            | "DequantizeLinear"
            | "ConstantOfShape"
    )
}

pub fn attr<'a>(n: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}
pub fn attr_i(n: &NodeProto, name: &str) -> Option<i64> {
    attr(n, name).map(|a| a.i)
}
pub fn attr_f(n: &NodeProto, name: &str) -> Option<f32> {
    attr(n, name).map(|a| a.f)
}
pub fn attr_ints<'a>(n: &'a NodeProto, name: &str) -> Option<&'a [i64]> {
    attr(n, name).map(|a| a.ints.as_slice())
}

fn mal<T>(m: impl Into<String>) -> Result<T, TensorError> {
    Err(TensorError::Malformed(m.into()))
}

/// Evaluation context: the model (for external data and limits) and the op budget.
pub struct Eval<'a> {
    pub model: &'a Model,
    ops: usize,
}

impl<'a> Eval<'a> {
    pub fn new(model: &'a Model) -> Self {
        Eval { model, ops: 0 }
    }

    fn alloc_check(&self, count: usize) -> Result<(), TensorError> {
        tensor::check_budget(count, self.model.limits())
    }

    fn numel(&self, shape: &[usize]) -> Result<usize, TensorError> {
        let n = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| TensorError::Malformed("folded shape overflows".into()))?;
        self.alloc_check(n)?;
        Ok(n)
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
                self.op(node, *output, vals, *opset)
            }
            Expr::Dequant {
                x, scale, zp, axis, ..
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
                dequant(x, scale.as_ref(), zp.as_ref(), *axis, 0)
            }
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
                swap_last2(x)
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
            LeafSrc::ConstAttr(a) => const_attr(self.model, a),
        }
    }

    fn op(
        &mut self,
        n: &NodeProto,
        output: usize,
        mut v: Vec<Option<Dense>>,
        opset: i64,
    ) -> Result<Dense, TensorError> {
        let op = n.op_type.as_str();
        let mut take = |i: usize| -> Result<Dense, TensorError> {
            v.get_mut(i)
                .and_then(Option::take)
                .ok_or_else(|| TensorError::Malformed(format!("{op}: missing input {i}")))
        };
        match op {
            "Identity" => take(0),
            "Cast" => {
                let mut x = take(0)?;
                let to = attr_i(n, "to").unwrap_or(0) as i32;
                if !dtype::decodable(to) {
                    return Err(TensorError::Unsupported(dtype::name(to)));
                }
                x.data.iter_mut().for_each(|e| *e = dtype::round_to(to, *e));
                x.dtype = to;
                Ok(x)
            }
            "Transpose" => {
                let x = take(0)?;
                let r = x.shape.len();
                let perm: Vec<usize> = match attr_ints(n, "perm") {
                    Some(p) if !p.is_empty() => p
                        .iter()
                        .map(|&a| usize::try_from(a).ok().filter(|&a| a < r))
                        .collect::<Option<_>>()
                        .ok_or_else(|| TensorError::Malformed("Transpose: bad perm".into()))?,
                    _ => (0..r).rev().collect(),
                };
                let mut seen = vec![false; r];
                for &p in &perm {
                    if let Some(s) = seen.get_mut(p) {
                        *s = true;
                    }
                }
                if perm.len() != r || seen.iter().any(|s| !s) {
                    return mal("Transpose: perm is not a permutation");
                }
                if swaps_last_two(&perm) {
                    // Blocked for the cache; the general index walk takes seconds on a big layer.
                    return swap_last2(x);
                }
                Ok(transpose(&x, &perm))
            }
            "Reshape" => {
                let x = take(0)?;
                let spec: Vec<i64> = if opset >= 5 {
                    ints(&take(1)?)
                } else {
                    attr_ints(n, "shape").unwrap_or(&[]).to_vec()
                };
                let allowzero = attr_i(n, "allowzero").unwrap_or(0) == 1;
                let shape = reshape_target(&x.shape, &spec, allowzero)?;
                Ok(Dense { shape, ..x })
            }
            "Flatten" => {
                let x = take(0)?;
                let r = x.shape.len() as i64;
                let mut axis = attr_i(n, "axis").unwrap_or(1);
                if axis < 0 {
                    axis += r;
                }
                if !(0..=r).contains(&axis) {
                    return mal("Flatten: axis out of range");
                }
                let (a, b) = x.shape.split_at(axis as usize);
                let shape = vec![a.iter().product(), b.iter().product()];
                Ok(Dense { shape, ..x })
            }
            "Squeeze" => {
                let x = take(0)?;
                let axes = axes_arg(n, &mut v_get(&mut take, 1, opset >= 13), opset >= 13);
                let r = x.shape.len();
                let axes: Vec<usize> = match axes {
                    None => (0..r).filter(|&i| x.shape.get(i) == Some(&1)).collect(),
                    Some(a) => norm_axes(&a, r)?,
                };
                if axes.iter().any(|&a| x.shape.get(a) != Some(&1)) {
                    return mal("Squeeze: axis is not of size 1");
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
            "Unsqueeze" => {
                let x = take(0)?;
                let axes = axes_arg(n, &mut v_get(&mut take, 1, opset >= 13), opset >= 13)
                    .ok_or_else(|| TensorError::Malformed("Unsqueeze: no axes".into()))?;
                let out_r = x.shape.len() + axes.len();
                if out_r > self.model.limits().max_rank {
                    return mal("Unsqueeze: rank over the limit");
                }
                let axes = norm_axes(&axes, out_r)?;
                let mut shape = Vec::with_capacity(out_r);
                let mut it = x.shape.iter();
                for i in 0..out_r {
                    if axes.contains(&i) {
                        shape.push(1);
                    } else {
                        shape.push(*it.next().ok_or_else(|| {
                            TensorError::Malformed("Unsqueeze: duplicate axes".into())
                        })?);
                    }
                }
                Ok(Dense { shape, ..x })
            }
            "Slice" => {
                let x = take(0)?;
                let (starts, ends, axes, steps) = if opset >= 10 {
                    let starts = ints(&take(1)?);
                    let ends = ints(&take(2)?);
                    let axes = take(3).ok().map(|d| ints(&d));
                    let steps = take(4).ok().map(|d| ints(&d));
                    (starts, ends, axes, steps)
                } else {
                    (
                        attr_ints(n, "starts").unwrap_or(&[]).to_vec(),
                        attr_ints(n, "ends").unwrap_or(&[]).to_vec(),
                        attr_ints(n, "axes").map(<[i64]>::to_vec),
                        None,
                    )
                };
                self.slice(x, &starts, &ends, axes, steps)
            }
            "Concat" => {
                let parts: Vec<Dense> = v.into_iter().flatten().collect();
                let axis = attr_i(n, "axis").unwrap_or(0);
                self.concat(parts, axis)
            }
            "Split" => {
                let x = take(0)?;
                let r = x.shape.len();
                let axis = *norm_axes(&[attr_i(n, "axis").unwrap_or(0)], r.max(1))?
                    .first()
                    .unwrap_or(&0);
                let dim = *x
                    .shape
                    .get(axis)
                    .ok_or_else(|| TensorError::Malformed("Split: axis out of range".into()))?;
                let sizes: Vec<usize> = {
                    let given: Option<Vec<i64>> = if opset >= 13 {
                        take(1).ok().map(|d| ints(&d))
                    } else {
                        attr_ints(n, "split").map(<[i64]>::to_vec)
                    };
                    match given {
                        Some(s) if !s.is_empty() => s
                            .iter()
                            .map(|&v| usize::try_from(v).ok())
                            .collect::<Option<_>>()
                            .ok_or_else(|| TensorError::Malformed("Split: bad sizes".into()))?,
                        _ => {
                            let parts = attr_i(n, "num_outputs")
                                .and_then(|k| usize::try_from(k).ok())
                                .unwrap_or(n.output.len())
                                .max(1);
                            let each = dim.div_ceil(parts);
                            (0..parts)
                                .map(|i| each.min(dim.saturating_sub(i * each)))
                                .collect()
                        }
                    }
                };
                if sizes.iter().sum::<usize>() != dim {
                    return mal("Split: sizes do not add up");
                }
                let start: usize = sizes.iter().take(output).sum();
                let len = *sizes
                    .get(output)
                    .ok_or_else(|| TensorError::Malformed("Split: no such output".into()))?;
                let mut starts = vec![0i64; r];
                let mut ends: Vec<i64> = x.shape.iter().map(|&d| d as i64).collect();
                if let (Some(s), Some(e)) = (starts.get_mut(axis), ends.get_mut(axis)) {
                    *s = start as i64;
                    *e = (start + len) as i64;
                }
                self.slice(x, &starts, &ends, None, None)
            }
            "Gather" => {
                let x = take(0)?;
                let idx = take(1)?;
                let axis = attr_i(n, "axis").unwrap_or(0);
                self.gather(x, &idx, axis)
            }
            "Mul" | "Div" | "Add" | "Sub" => {
                let a = take(0)?;
                let b = take(1)?;
                let f: fn(f64, f64) -> f64 = match op {
                    "Mul" => |a, b| a * b,
                    "Div" => |a, b| a / b,
                    "Add" => |a, b| a + b,
                    _ => |a, b| a - b,
                };
                let mut out = self.broadcast(&a, &b, f)?;
                if !dtype::is_float(out.dtype) {
                    out.data
                        .iter_mut()
                        .for_each(|e| *e = dtype::round_to(out.dtype, *e));
                }
                Ok(out)
            }
            "DequantizeLinear" => {
                let x = take(0)?;
                let s = take(1)?;
                let zp = take(2).ok();
                let axis = attr_i(n, "axis").unwrap_or(1);
                let block = attr_i(n, "block_size").unwrap_or(0);
                dequant(x, Some(&s), zp.as_ref(), axis, block)
            }
            "ConstantOfShape" => {
                let shape_t = take(0)?;
                let mut shape = Vec::new();
                for &d in &shape_t.data {
                    if !(d >= 0.0 && d.fract() == 0.0) {
                        return mal("ConstantOfShape: bad dimension");
                    }
                    shape.push(d as usize);
                }
                if shape.len() > self.model.limits().max_rank {
                    return mal("ConstantOfShape: rank over the limit");
                }
                let count = self.numel(&shape)?;
                let (value, dt) = match attr(n, "value").and_then(|a| a.t.as_ref()) {
                    Some(t) => {
                        let d = tensor::decode(self.model, t)?;
                        (d.data.first().copied().unwrap_or(0.0), d.dtype)
                    }
                    None => (0.0, id::FLOAT),
                };
                Ok(Dense {
                    shape,
                    data: vec![value; count],
                    dtype: dt,
                })
            }
            other => Err(TensorError::Malformed(format!("{other} is not foldable"))),
        }
    }

    fn slice(
        &self,
        x: Dense,
        starts: &[i64],
        ends: &[i64],
        axes: Option<Vec<i64>>,
        steps: Option<Vec<i64>>,
    ) -> Result<Dense, TensorError> {
        let r = x.shape.len();
        let axes = match axes {
            Some(a) => norm_axes(&a, r)?,
            None => (0..starts.len()).collect(),
        };
        if starts.len() != axes.len() || ends.len() != axes.len() {
            return mal("Slice: starts/ends/axes lengths differ");
        }
        // Per axis: (start, step, count), with ONNX clamping rules.
        let mut plan: Vec<(i64, i64, usize)> = x.shape.iter().map(|&d| (0, 1, d)).collect();
        for (k, &ax) in axes.iter().enumerate() {
            let dim = *x.shape.get(ax).unwrap_or(&0) as i64;
            let step = steps.as_ref().and_then(|s| s.get(k).copied()).unwrap_or(1);
            if step == 0 {
                return mal("Slice: step 0");
            }
            let fix = |v: i64, lo: i64, hi: i64| {
                let v = if v < 0 { v.saturating_add(dim) } else { v };
                v.clamp(lo, hi)
            };
            let s0 = starts.get(k).copied().unwrap_or(0);
            let e0 = ends.get(k).copied().unwrap_or(dim);
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
        let count = self.numel(&shape)?;
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

    fn concat(&self, parts: Vec<Dense>, axis: i64) -> Result<Dense, TensorError> {
        let first = parts
            .first()
            .ok_or_else(|| TensorError::Malformed("Concat: no inputs".into()))?;
        let r = first.shape.len();
        let ax = *norm_axes(&[axis], r)?.first().unwrap_or(&0);
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
                return mal("Concat: shapes differ");
            }
            total = total.saturating_add(*p.shape.get(ax).unwrap_or(&0));
        }
        if let Some(s) = shape.get_mut(ax) {
            *s = total;
        }
        let count = self.numel(&shape)?;
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

    fn gather(&self, x: Dense, idx: &Dense, axis: i64) -> Result<Dense, TensorError> {
        let r = x.shape.len();
        let ax = *norm_axes(&[axis], r)?.first().unwrap_or(&0);
        let dim = *x.shape.get(ax).unwrap_or(&0);
        let picks: Vec<usize> = idx
            .data
            .iter()
            .map(|&i| {
                let i = if i < 0.0 { i + dim as f64 } else { i };
                if i >= 0.0 && i < dim as f64 {
                    Ok(i as usize)
                } else {
                    mal("Gather: index out of range")
                }
            })
            .collect::<Result<_, _>>()?;
        let mut shape: Vec<usize> = x.shape.iter().take(ax).copied().collect();
        shape.extend_from_slice(&idx.shape);
        shape.extend(x.shape.iter().skip(ax + 1));
        let count = self.numel(&shape)?;
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

    fn broadcast(
        &self,
        a: &Dense,
        b: &Dense,
        f: fn(f64, f64) -> f64,
    ) -> Result<Dense, TensorError> {
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
        let count = self.numel(&shape)?;
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
}

/// Squeeze/Unsqueeze axes: an input from opset 13, an attribute before.
fn axes_arg(n: &NodeProto, input: &mut Option<Dense>, from_input: bool) -> Option<Vec<i64>> {
    if from_input {
        input.as_ref().map(ints)
    } else {
        attr_ints(n, "axes").map(<[i64]>::to_vec)
    }
}

fn v_get(
    take: &mut impl FnMut(usize) -> Result<Dense, TensorError>,
    i: usize,
    wanted: bool,
) -> Option<Dense> {
    if wanted { take(i).ok() } else { None }
}

fn ints(d: &Dense) -> Vec<i64> {
    // `as` saturates: INT64_MAX ends stay "to the end".
    d.data.iter().map(|&v| v as i64).collect()
}

fn norm_axes(axes: &[i64], rank: usize) -> Result<Vec<usize>, TensorError> {
    let r = rank as i64;
    axes.iter()
        .map(|&a| {
            let a = if a < 0 { a + r } else { a };
            if (0..r).contains(&a) {
                Ok(a as usize)
            } else {
                mal(format!("axis {a} out of range for rank {rank}"))
            }
        })
        .collect()
}

fn reshape_target(
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
                TensorError::Malformed("Reshape: 0 copies a missing dimension".into())
            })?),
            s if s >= 0 => out.push(s as usize),
            _ => return mal(format!("Reshape: bad target {spec:?}")),
        }
    }
    let known = out
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| TensorError::Malformed("Reshape: target overflows".into()))?;
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return mal(format!(
                "Reshape: cannot infer -1 in {spec:?} for {input:?}"
            ));
        }
        if let Some(slot) = out.get_mut(i) {
            *slot = total / known;
        }
    } else if known != total {
        return mal(format!("Reshape: {input:?} cannot become {spec:?}"));
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
fn swaps_last_two(perm: &[usize]) -> bool {
    let r = perm.len();
    r >= 2
        && perm[..r - 2].iter().enumerate().all(|(i, &p)| p == i)
        && perm[r - 2] == r - 1
        && perm[r - 1] == r - 2
}

/// Swap the last two axes (Gemm / FusedMatMul `trans*`), blocked for the cache.
fn swap_last2(x: Dense) -> Result<Dense, TensorError> {
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
        *norm_axes(&[axis], r)?.first().unwrap_or(&0)
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

/// A Constant node's non-tensor value attributes (§3.1).
fn const_attr(model: &Model, a: &AttributeProto) -> Result<Dense, TensorError> {
    let (shape, data, dtype) = match a.name.as_str() {
        "value_float" => (vec![], vec![a.f as f64], id::FLOAT),
        "value_floats" => (
            vec![a.floats.len()],
            a.floats.iter().map(|&f| f as f64).collect(),
            id::FLOAT,
        ),
        "value_int" => (vec![], vec![a.i as f64], id::INT64),
        "value_ints" => (
            vec![a.ints.len()],
            a.ints.iter().map(|&i| i as f64).collect(),
            id::INT64,
        ),
        "sparse_value" => {
            let s = a
                .sparse_tensor
                .as_ref()
                .ok_or_else(|| TensorError::Malformed("sparse_value without a tensor".into()))?;
            return tensor::decode_sparse(model, s);
        }
        other => {
            return Err(TensorError::Unsupported(format!(
                "Constant attribute {}",
                crate::error::display_name(other)
            )));
        }
    };
    Ok(Dense { shape, data, dtype })
}

/// The stored shape of a leaf, without decoding its values.
pub fn leaf_shape(l: &Leaf<'_>, model: &Model) -> Result<Vec<usize>, TensorError> {
    let lim = model.limits();
    match &l.src {
        LeafSrc::Init(t) | LeafSrc::ConstTensor(t) => Ok(tensor::shape_of(&t.dims, lim)?.0),
        LeafSrc::Sparse(s) => Ok(tensor::shape_of(&s.dims, lim)?.0),
        LeafSrc::ConstAttr(a) => match a.name.as_str() {
            "value_floats" => Ok(vec![a.floats.len()]),
            "value_ints" => Ok(vec![a.ints.len()]),
            "sparse_value" => {
                Ok(tensor::shape_of(a.sparse_tensor.as_ref().map_or(&[][..], |s| &s.dims), lim)?.0)
            }
            _ => Ok(vec![]),
        },
    }
}

pub fn leaf_dtype(l: &Leaf<'_>) -> i32 {
    match &l.src {
        LeafSrc::Init(t) | LeafSrc::ConstTensor(t) => t.data_type,
        LeafSrc::Sparse(s) => s.values.as_ref().map_or(0, |v| v.data_type),
        LeafSrc::ConstAttr(a) => match a.name.as_str() {
            "value_float" | "value_floats" => id::FLOAT,
            "value_int" | "value_ints" => id::INT64,
            _ => a
                .sparse_tensor
                .as_ref()
                .and_then(|s| s.values.as_ref())
                .map_or(0, |v| v.data_type),
        },
    }
}

/// Shape of an expression: from the dims for leaves and orientation wrappers; folded ops are
/// evaluated (once, at extraction; the values are dropped).
pub fn shape(e: &Expr<'_>, model: &Model) -> Result<Vec<usize>, TensorError> {
    match e {
        Expr::Leaf(l) => leaf_shape(l, model),
        Expr::Dequant { x, .. } | Expr::Scale(x, _) => shape(x, model),
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

#[cfg(test)]
#[path = "fold_tests.rs"]
mod tests;
