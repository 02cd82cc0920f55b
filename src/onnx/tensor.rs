//! TensorProto validation and decoding to f64, without tract's loader (it panics on STRING tensors
//! with raw_data and rejects BFLOAT16, onnx-weights.md §8.1). Every size is checked before any
//! allocation (§7.1, §8.2).

use tract_onnx::pb::{SparseTensorProto, TensorProto};

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

/// Exactly one payload, of the right kind and exact length (§7.1). Returns the payload kind and
/// the raw byte length it must have.
pub fn check_payload(t: &TensorProto, count: usize) -> Result<(Payload, u64), TensorError> {
    let mal = |m: String| Err(rejected(K::BadPayload, m));
    let short = |m: String| Err(rejected(K::LengthMismatch, m));
    if t.segment.is_some() {
        return mal("segmented (chunked) tensors are obsolete and not supported".into());
    }
    let typed = typed_fields(t);
    let ext = is_external(t);
    let sources = typed.len() + usize::from(!t.raw_data.is_empty()) + usize::from(ext);
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
        if !t.raw_data.is_empty() || ext {
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
    if !t.raw_data.is_empty() {
        if t.raw_data.len() as u64 != bytes {
            return short(format!(
                "raw_data has {} bytes, dims and dtype {} need {bytes}",
                t.raw_data.len(),
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
    limits: &Limits,
) -> Result<u64, TensorError> {
    let (_, count) = shape_of(&t.dims, limits)?;
    let checked = check_payload(t, count);
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

/// Decode a tensor to f64 (one tensor at a time; external data through a read-only mmap).
pub fn decode(model: &Model, t: &TensorProto) -> Result<Dense, TensorError> {
    let limits = model.limits();
    let (shape, count) = shape_of(&t.dims, limits)?;
    if !dtype::decodable(t.data_type) {
        return Err(TensorError::Unsupported(dtype::name(t.data_type)));
    }
    let (payload, bytes) = check_payload(t, count)?;
    check_budget(count, limits)?;
    let data = match payload {
        Payload::Empty => Vec::new(),
        Payload::Raw => decode_raw(t.data_type, &t.raw_data, count)?,
        Payload::External => {
            let map = external::map(model.dir(), t, bytes)?;
            decode_raw(t.data_type, map.bytes(), count)?
        }
        Payload::Typed(field) => decode_typed(t, field, count)?,
    };
    Ok(Dense {
        shape,
        data,
        dtype: t.data_type,
    })
}

fn le<const N: usize>(c: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(c);
    a
}

/// Little-endian fixed-width decoding (§7.1).
pub fn decode_raw(dtype: i32, raw: &[u8], count: usize) -> Result<Vec<f64>, TensorError> {
    let width = match dtype::layout(dtype) {
        Some(l) if l.bits % 8 == 0 => (l.bits / 8) as usize,
        _ => return Err(TensorError::Unsupported(dtype::name(dtype))),
    };
    if raw.len() != count.saturating_mul(width) {
        return Err(TensorError::Malformed(format!(
            "payload has {} bytes, expected {}",
            raw.len(),
            count.saturating_mul(width)
        )));
    }
    let chunks = raw.chunks_exact(width);
    let v: Vec<f64> = match dtype {
        id::FLOAT => chunks.map(|c| f32::from_le_bytes(le(c)) as f64).collect(),
        id::DOUBLE => chunks.map(|c| f64::from_le_bytes(le(c))).collect(),
        id::FLOAT16 => chunks
            .map(|c| half::f16::from_le_bytes(le(c)).to_f64())
            .collect(),
        id::BFLOAT16 => chunks
            .map(|c| half::bf16::from_le_bytes(le(c)).to_f64())
            .collect(),
        id::INT8 => chunks.map(|c| i8::from_le_bytes(le(c)) as f64).collect(),
        id::UINT8 => chunks.map(|c| u8::from_le_bytes(le(c)) as f64).collect(),
        id::INT16 => chunks.map(|c| i16::from_le_bytes(le(c)) as f64).collect(),
        id::UINT16 => chunks.map(|c| u16::from_le_bytes(le(c)) as f64).collect(),
        id::INT32 => chunks.map(|c| i32::from_le_bytes(le(c)) as f64).collect(),
        id::UINT32 => chunks.map(|c| u32::from_le_bytes(le(c)) as f64).collect(),
        id::INT64 => chunks.map(|c| i64::from_le_bytes(le(c)) as f64).collect(),
        id::UINT64 => chunks.map(|c| u64::from_le_bytes(le(c)) as f64).collect(),
        other => return Err(TensorError::Unsupported(dtype::name(other))),
    };
    Ok(v)
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
