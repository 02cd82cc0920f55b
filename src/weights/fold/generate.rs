//! Ops that make new values rather than move them: `Cast` (values rounded to the target dtype)
//! and `ConstantOfShape` (a synthetic constant, §3.2).

use super::{Call, Eval, Inputs, OpDef, mal};
use crate::onnx::dtype::{self, id};
use crate::onnx::tensor::{self, Dense, TensorError};
use tract_onnx::pb::TensorProto;

type R = Result<Dense, TensorError>;

pub(super) const OPS: &[OpDef] = &[
    OpDef {
        name: "Cast",
        eval: cast,
    },
    OpDef {
        name: "ConstantOfShape",
        eval: constant_of_shape,
    },
];

fn cast(_: &mut Eval<'_>, c: &Call<'_>, mut v: Inputs) -> R {
    let mut x = v.take(0)?;
    let to = c.node.require::<i64>("to")?;
    let to = i32::try_from(to).map_err(|_| {
        c.node
            .bad_value("to", format!("{to} is not a TensorProto data type"))
    })?;
    // Rounding into the narrow float8/int4 formats is not folded (it needs their saturation
    // rules); reading them is.
    if !dtype::decodable(to) || dtype::small(to).is_some() {
        return Err(TensorError::Unsupported(format!(
            "Cast to {}",
            dtype::name(to)
        )));
    }
    x.data.iter_mut().for_each(|e| *e = dtype::round_to(to, *e));
    x.dtype = to;
    Ok(x)
}

fn constant_of_shape(e: &mut Eval<'_>, c: &Call<'_>, mut v: Inputs) -> R {
    let shape_t = v.take(0)?;
    let mut shape = Vec::new();
    for &d in &shape_t.data {
        if !(d >= 0.0 && d.fract() == 0.0) {
            return mal(format!("bad dimension {d} in the shape input"));
        }
        shape.push(d as usize);
    }
    if shape.len() > e.max_rank() {
        return mal(format!(
            "rank {} is over the limit {}",
            shape.len(),
            e.max_rank()
        ));
    }
    let count = e.numel(&shape)?;
    let (value, dt) = match c.node.get::<&TensorProto>("value")? {
        Some(t) => {
            let d = tensor::decode(e.model, t)?;
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
