//! TensorProto validation and decoding to f64, without tract's loader (it panics on STRING tensors
//! with raw_data and rejects BFLOAT16, onnx-weights.md §8.1). Every size is checked before any
//! allocation (§7.1, §8.2).

use tract_onnx::pb::{SparseTensorProto, TensorProto};

use super::convert::{self, Order};
use super::dtype::{self, TypedField, id};
use super::{Limits, Model, external};
use crate::error::ModelErrorKind as K;

/// A per-tensor problem. The caller decides whether it fails the run (load-time validation) or
/// only the layer (decoding for analysis).
#[derive(Clone, Debug, PartialEq)]
pub enum TensorError {
    Unsupported(String),
    /// A problem found while decoding or folding (becomes a layer status).
    Malformed(String),
    OverBudget {
        bytes: u64,
        budget: u64,
    },
    /// A loading rule broken (§8.1): fails the run at load time with this class.
    Rejected {
        kind: K,
        what: String,
    },
}

/// A broken loading rule of class `kind`.
pub fn rejected(kind: K, what: impl Into<String>) -> TensorError {
    TensorError::Rejected {
        kind,
        what: what.into(),
    }
}

impl std::fmt::Display for TensorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TensorError::Unsupported(d) => write!(f, "unsupported dtype {d}"),
            TensorError::Malformed(m) => f.write_str(m),
            TensorError::Rejected { what, .. } => f.write_str(what),
            TensorError::OverBudget { bytes, budget } => {
                write!(
                    f,
                    "needs {bytes} bytes, over the per-layer budget of {budget}"
                )
            }
        }
    }
}

/// A decoded tensor: row-major f64 values.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
    pub dtype: i32,
}

/// Checked shape: dims non-negative, rank and element count within the limits.
pub fn shape_of(dims: &[i64], limits: &Limits) -> Result<(Vec<usize>, usize), TensorError> {
    if dims.len() > limits.max_rank {
        return Err(rejected(
            K::TooLarge,
            format!("rank {} exceeds the limit {}", dims.len(), limits.max_rank),
        ));
    }
    let mut shape = Vec::with_capacity(dims.len());
    let mut count: usize = 1;
    for &d in dims {
        let d = usize::try_from(d).map_err(|_| {
            rejected(
                K::NegativeDim,
                format!("negative dimension {d} in {dims:?}"),
            )
        })?;
        count = count
            .checked_mul(d)
            .filter(|&c| c as u64 <= limits.max_elements)
            .ok_or_else(|| {
                rejected(
                    K::DimOverflow,
                    format!(
                        "dims {dims:?} hold more than {} elements",
                        limits.max_elements
                    ),
                )
            })?;
        shape.push(d);
    }
    Ok((shape, count))
}

/// Where a tensor's values are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    Raw,
    Typed(TypedField),
    External,
    Empty,
}

fn typed_fields(t: &TensorProto) -> Vec<TypedField> {
    let mut v = Vec::new();
    let mut add = |present: bool, f| {
        if present {
            v.push(f)
        }
    };
    add(!t.float_data.is_empty(), TypedField::Float);
    add(!t.int32_data.is_empty(), TypedField::Int32);
    add(!t.string_data.is_empty(), TypedField::String);
    add(!t.int64_data.is_empty(), TypedField::Int64);
    add(!t.double_data.is_empty(), TypedField::Double);
    add(!t.uint64_data.is_empty(), TypedField::Uint64);
    v
}

fn typed_len(t: &TensorProto, f: TypedField) -> usize {
    match f {
        TypedField::Float => t.float_data.len(),
        TypedField::Int32 => t.int32_data.len(),
        TypedField::String => t.string_data.len(),
        TypedField::Int64 => t.int64_data.len(),
        TypedField::Double => t.double_data.len(),
        TypedField::Uint64 => t.uint64_data.len(),
    }
}

/// `data_location = EXTERNAL` (1).
pub fn is_external(t: &TensorProto) -> bool {
    t.data_location == Some(1)
}

/// Exactly one payload, of the right kind and exact length (§7.1). `raw` is the tensor's
/// `raw_data` wherever it is kept (`Model::raw_data`). Returns the payload kind and the raw byte
/// length it must have.
pub fn check_payload(
    t: &TensorProto,
    raw: &[u8],
    count: usize,
) -> Result<(Payload, u64), TensorError> {
    let mal = |m: String| Err(rejected(K::BadPayload, m));
    let short = |m: String| Err(rejected(K::LengthMismatch, m));
    if t.segment.is_some() {
        return mal("segmented (chunked) tensors are obsolete and not supported".into());
    }
    let typed = typed_fields(t);
    let ext = is_external(t);
    let sources = typed.len() + usize::from(!raw.is_empty()) + usize::from(ext);
    if sources > 1 {
        return mal("more than one payload (raw_data, typed fields, external data)".into());
    }
    if let Some(loc) = t.data_location
        && loc != 0
        && loc != 1
    {
        return mal(format!("unknown data_location {loc}"));
    }
    if t.data_type == id::STRING {
        if !raw.is_empty() || ext {
            return mal("a STRING tensor cannot use raw_data or external data".into());
        }
        return Ok((Payload::Typed(TypedField::String), 0));
    }
    let Some(layout) = dtype::layout(t.data_type) else {
        return Err(TensorError::Unsupported(dtype::name(t.data_type)));
    };
    let bits = (count as u64).checked_mul(layout.bits);
    let bytes = bits
        .map(|b| b.div_ceil(8))
        .ok_or_else(|| rejected(K::DimOverflow, "payload size overflows"))?;
    if sources == 0 {
        return if count == 0 {
            Ok((Payload::Empty, 0))
        } else {
            mal(format!("no payload for {count} elements"))
        };
    }
    if ext {
        return Ok((Payload::External, bytes));
    }
    if !raw.is_empty() {
        if raw.len() as u64 != bytes {
            return short(format!(
                "raw_data has {} bytes, dims and dtype {} need {bytes}",
                raw.len(),
                dtype::name(t.data_type)
            ));
        }
        return Ok((Payload::Raw, bytes));
    }
    let field = typed.first().copied().unwrap_or(layout.field);
    if field != layout.field {
        return mal(format!(
            "{} is not the field for dtype {}",
            field.name(),
            dtype::name(t.data_type)
        ));
    }
    let want = match layout.per_entry {
        0 => (count as u64).checked_mul(2),
        n => Some((count as u64).div_ceil(n)),
    };
    let have = typed_len(t, field) as u64;
    if want != Some(have) {
        return short(format!(
            "{} has {have} entries, dims need {}",
            field.name(),
            want.map_or_else(|| "too many".to_string(), |w| w.to_string())
        ));
    }
    Ok((Payload::Typed(field), bytes))
}

/// Validate a tensor's header and payload without decoding values: the load-time pass that turns
/// a malformed file into exit code 2. External references are opened and bounds-checked.
/// Unknown or undecodable dtypes pass here (they become a per-layer status).
/// Returns the payload's size in bytes (0 for an undecodable dtype).
pub fn validate(
    model_dir: &std::path::Path,
    t: &TensorProto,
    raw: &[u8],
    limits: &Limits,
) -> Result<u64, TensorError> {
    let (_, count) = shape_of(&t.dims, limits)?;
    let checked = check_payload(t, raw, count);
    let bytes = checked.as_ref().map_or(0, |&(_, b)| b);
    match checked {
        Ok((Payload::External, bytes)) => external::check(model_dir, t, bytes).map(|_| bytes),
        Ok(_) | Err(TensorError::Unsupported(_)) => {
            if !is_external(t) && !t.external_data.is_empty() {
                return Err(rejected(
                    K::BadPayload,
                    "external_data entries on a tensor whose data_location is not EXTERNAL",
                ));
            }
            Ok(bytes)
        }
        Err(e) => Err(e),
    }
}

/// Bytes needed for an f64 copy of `count` elements, checked against the per-layer budget.
pub fn check_budget(count: usize, limits: &Limits) -> Result<(), TensorError> {
    let bytes = (count as u64).saturating_mul(8);
    if count as u64 > limits.max_elements || bytes > limits.layer_memory_budget {
        return Err(TensorError::OverBudget {
            bytes,
            budget: limits.layer_memory_budget,
        });
    }
    Ok(())
}

/// Decode a tensor to f64 (one tensor at a time; in-file and external data read in place).
pub fn decode(model: &Model, t: &TensorProto) -> Result<Dense, TensorError> {
    decode_ordered(model, t, false)
}

/// As `decode`, with the last two axes swapped when `swap` (Gemm `trans*`): the values are
/// written in swapped order as they are decoded, so the layer is never held twice.
pub fn decode_ordered(model: &Model, t: &TensorProto, swap: bool) -> Result<Dense, TensorError> {
    let limits = model.limits();
    let (mut shape, count) = shape_of(&t.dims, limits)?;
    if !dtype::decodable(t.data_type) {
        return Err(TensorError::Unsupported(dtype::name(t.data_type)));
    }
    let raw = model.raw_data(t);
    let (payload, bytes) = check_payload(t, raw.as_slice(), count)?;
    check_budget(count, limits)?;
    let order = if swap {
        let [.., rows, cols] = shape.as_mut_slice() else {
            return Err(TensorError::Malformed(
                "transpose of a tensor with rank < 2".into(),
            ));
        };
        let order = Order::SwapLast2 {
            rows: *rows,
            cols: *cols,
        };
        std::mem::swap(rows, cols);
        order
    } else {
        Order::Stored
    };
    let data = match payload {
        Payload::Empty => Vec::new(),
        Payload::Raw => convert::decode(t.data_type, raw, count, order)?,
        Payload::External => {
            let map = external::map(model.dir(), t, bytes)?;
            convert::decode(t.data_type, map.bytes(), count, order)?
        }
        Payload::Typed(field) => {
            let v = decode_typed(t, field, count)?;
            if order == Order::Stored {
                v
            } else {
                let mut out = vec![0.0; v.len()];
                convert::reorder(&v, &mut out, order, |x| *x, |_| {});
                out
            }
        }
    };
    Ok(Dense {
        shape,
        data,
        dtype: t.data_type,
    })
}

/// The stored bytes of a one-byte or narrower tensor (uint8, int8, the 4- and 2-bit types and
/// float8), for decoders that unpack codes themselves (`MatMulNBits`): `f` gets them as stored
/// (raw, external or typed entries), after the payload checks. An f64 copy of a packed int4
/// weight would take 16 times its size.
pub fn with_bytes<R>(
    model: &Model,
    t: &TensorProto,
    f: impl FnOnce(&[u8]) -> R,
) -> Result<R, TensorError> {
    let limits = model.limits();
    let (_, count) = shape_of(&t.dims, limits)?;
    match dtype::layout(t.data_type) {
        Some(l) if l.bits <= 8 && t.data_type != id::BOOL => {}
        _ => return Err(TensorError::Unsupported(dtype::name(t.data_type))),
    }
    let raw = model.raw_data(t);
    let (payload, bytes) = check_payload(t, raw.as_slice(), count)?;
    Ok(match payload {
        Payload::Empty => f(&[]),
        Payload::Raw => {
            let r = f(raw.as_slice());
            raw.release(0..raw.len());
            r
        }
        Payload::External => {
            let map = external::map(model.dir(), t, bytes)?;
            let b = map.bytes();
            let r = f(b.as_slice());
            b.release(0..b.len());
            r
        }
        Payload::Typed(_) => {
            let v: Vec<u8> = t.int32_data.iter().map(|&x| x as u8).collect();
            f(&v)
        }
    })
}

/// Whether a tensor has at least two values and all compare equal, as `decode` then comparing
/// would say, but without decoding an in-file payload: it stops at the first value that differs
/// (a weight's second value, as a rule), where decoding would convert every value first.
pub fn all_equal(model: &Model, t: &TensorProto) -> Result<bool, TensorError> {
    let limits = model.limits();
    let (_, count) = shape_of(&t.dims, limits)?;
    if !dtype::decodable(t.data_type) {
        return Err(TensorError::Unsupported(dtype::name(t.data_type)));
    }
    let raw = model.raw_data(t);
    let (payload, _) = check_payload(t, raw.as_slice(), count)?;
    check_budget(count, limits)?;
    if payload == Payload::Raw {
        return convert::all_equal(t.data_type, raw, count);
    }
    let d = decode(model, t)?;
    Ok(d.data.len() > 1 && d.data.windows(2).all(|w| w[0] == w[1]))
}

/// Little-endian fixed-width decoding (§7.1), for tests of the converters.
#[cfg(test)]
pub fn decode_raw(dtype: i32, raw: &[u8], count: usize) -> Result<Vec<f64>, TensorError> {
    convert::decode(
        dtype,
        super::source::Bytes::plain(raw),
        count,
        Order::Stored,
    )
}

fn decode_typed(t: &TensorProto, field: TypedField, count: usize) -> Result<Vec<f64>, TensorError> {
    let v: Vec<f64> = match (field, t.data_type) {
        (TypedField::Float, _) => t.float_data.iter().map(|&x| x as f64).collect(),
        (TypedField::Double, _) => t.double_data.clone(),
        (TypedField::Int64, _) => t.int64_data.iter().map(|&x| x as f64).collect(),
        (TypedField::Uint64, _) => t.uint64_data.iter().map(|&x| x as f64).collect(),
        // float16/bfloat16 keep their bit pattern in the low 16 bits (§7.1).
        (TypedField::Int32, id::FLOAT16) => t
            .int32_data
            .iter()
            .map(|&x| half::f16::from_bits(x as u16).to_f64())
            .collect(),
        (TypedField::Int32, id::BFLOAT16) => t
            .int32_data
            .iter()
            .map(|&x| half::bf16::from_bits(x as u16).to_f64())
            .collect(),
        // The narrow types keep one byte's worth of codes per entry (§7.1), as raw_data does.
        (TypedField::Int32, dt) if dtype::small(dt).is_some() => {
            let bytes: Vec<u8> = t.int32_data.iter().map(|&x| x as u8).collect();
            convert::decode(
                dt,
                super::source::Bytes::plain(&bytes),
                count,
                Order::Stored,
            )?
        }
        (TypedField::Int32, _) => t.int32_data.iter().map(|&x| x as f64).collect(),
        (TypedField::String, _) => return Err(TensorError::Unsupported("string".into())),
    };
    if v.len() != count {
        return Err(TensorError::Malformed(format!(
            "{} has {} entries, expected {count}",
            field.name(),
            v.len()
        )));
    }
    Ok(v)
}

/// Densify a sparse tensor after bounds-checking every index (§3.1).
pub fn decode_sparse(model: &Model, s: &SparseTensorProto) -> Result<Dense, TensorError> {
    let limits = model.limits();
    let (shape, count) = shape_of(&s.dims, limits)?;
    check_budget(count, limits)?;
    let values = s
        .values
        .as_ref()
        .ok_or_else(|| TensorError::Malformed("sparse tensor without values".into()))?;
    let values = decode(model, values)?;
    let nnz = values.data.len();
    if values.shape.len() != 1 {
        return Err(TensorError::Malformed("sparse values must be 1-D".into()));
    }
    let idx = match &s.indices {
        Some(i) => decode(model, i)?,
        None if nnz == 0 => Dense {
            shape: vec![0],
            data: vec![],
            dtype: id::INT64,
        },
        None => {
            return Err(TensorError::Malformed(
                "sparse tensor without indices".into(),
            ));
        }
    };
    let rank = shape.len();
    let linear: Vec<usize> = match idx.shape.as_slice() {
        [n] if *n == nnz => idx
            .data
            .iter()
            .map(|&v| index(v, count))
            .collect::<Result<_, _>>()?,
        [n, r] if *n == nnz && *r == rank => idx
            .data
            .chunks_exact(rank.max(1))
            .map(|c| {
                c.iter().zip(&shape).try_fold(0usize, |acc, (&v, &d)| {
                    let i = index(v, d)?;
                    Ok(acc * d + i)
                })
            })
            .collect::<Result<_, TensorError>>()?,
        _ => {
            return Err(TensorError::Malformed(format!(
                "sparse indices shape {:?} does not fit {nnz} values of rank {rank}",
                idx.shape
            )));
        }
    };
    let mut data = vec![0.0; count];
    for (i, v) in linear.into_iter().zip(values.data) {
        if let Some(slot) = data.get_mut(i) {
            *slot = v;
        }
    }
    Ok(Dense {
        shape,
        data,
        dtype: values.dtype,
    })
}

fn index(v: f64, bound: usize) -> Result<usize, TensorError> {
    if v >= 0.0 && v < bound as f64 && v.fract() == 0.0 {
        Ok(v as usize)
    } else {
        Err(TensorError::Malformed(format!(
            "sparse index {v} outside 0..{bound}"
        )))
    }
}

#[cfg(test)]
#[path = "tensor_tests.rs"]
mod tests;
