//! Raw little-endian payloads to f64 (onnx-weights.md §7.1), in stored order or with the last two
//! axes swapped, converting in chunks so that mapped source pages are released as soon as they
//! have been read (`source::Bytes::release`).
//!
//! Swapping while decoding matters for Gemm weights stored transposed (`transB = 1`, the usual
//! PyTorch export): decoding then transposing would hold two f64 copies of the layer at once.

use std::ops::Range;

use super::dtype::{self, id};
use super::source::{Bytes, RELEASE_CHUNK};
use super::tensor::TensorError;

/// Layout of decoded values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// As stored: row-major over the stored shape.
    Stored,
    /// The last two axes swapped: stored `[…, rows, cols]` comes out as `[…, cols, rows]`.
    SwapLast2 { rows: usize, cols: usize },
}

/// Source rows per block of the swapped copy: the block's rows are read as parallel streams and
/// each output row gets a run of this many values.
const BLOCK: usize = 64;

/// Bytes per element of a fixed-width dtype, or why it has none.
fn width(dtype: i32) -> Result<usize, TensorError> {
    match dtype::layout(dtype) {
        Some(l) if l.bits % 8 == 0 => Ok((l.bits / 8) as usize),
        _ => Err(TensorError::Unsupported(dtype::name(dtype))),
    }
}

/// Decode `count` elements of `dtype` from `raw` into `order`.
pub fn decode(
    dtype: i32,
    raw: Bytes<'_>,
    count: usize,
    order: Order,
) -> Result<Vec<f64>, TensorError> {
    if let Order::SwapLast2 { rows, cols } = order
        && count != 0
        && rows
            .checked_mul(cols)
            .is_none_or(|p| p == 0 || !count.is_multiple_of(p))
    {
        return Err(TensorError::Malformed(format!(
            "{count} values do not form {rows}×{cols} matrices"
        )));
    }
    if let Some((bits, table)) = dtype::small(dtype) {
        return decode_small(bits, table, raw, count, order);
    }
    let w = width(dtype)?;
    check_len(raw, count, w)?;
    let v = match dtype {
        id::FLOAT => run(raw, count, order, |b| f32::from_le_bytes(b) as f64),
        id::DOUBLE => run(raw, count, order, f64::from_le_bytes),
        id::FLOAT16 => run(raw, count, order, |b| half::f16::from_le_bytes(b).to_f64()),
        id::BFLOAT16 => run(raw, count, order, |b| half::bf16::from_le_bytes(b).to_f64()),
        id::INT8 => run(raw, count, order, |b| i8::from_le_bytes(b) as f64),
        id::UINT8 => run(raw, count, order, |b| u8::from_le_bytes(b) as f64),
        id::INT16 => run(raw, count, order, |b| i16::from_le_bytes(b) as f64),
        id::UINT16 => run(raw, count, order, |b| u16::from_le_bytes(b) as f64),
        id::INT32 => run(raw, count, order, |b| i32::from_le_bytes(b) as f64),
        id::UINT32 => run(raw, count, order, |b| u32::from_le_bytes(b) as f64),
        id::INT64 => run(raw, count, order, |b| i64::from_le_bytes(b) as f64),
        id::UINT64 => run(raw, count, order, |b| u64::from_le_bytes(b) as f64),
        other => return Err(TensorError::Unsupported(dtype::name(other))),
    };
    Ok(v)
}

/// The narrow types (float8, int4/uint4, float4, int2/uint2; §7.1): `8 / bits` codes per byte,
/// the first in the lowest bits; an odd count leaves the last byte's high bits as padding.
fn decode_small(
    bits: u32,
    table: &[f64],
    raw: Bytes<'_>,
    count: usize,
    order: Order,
) -> Result<Vec<f64>, TensorError> {
    let need = (count as u64).saturating_mul(u64::from(bits)).div_ceil(8);
    if raw.len() as u64 != need {
        return Err(TensorError::Malformed(format!(
            "payload has {} bytes, expected {need}",
            raw.len()
        )));
    }
    let per = (8 / bits) as usize;
    let mask = ((1u16 << bits) - 1) as u8;
    let bytes = raw.as_slice();
    let mut stored = Vec::with_capacity(count);
    for (k, chunk) in bytes.chunks(RELEASE_CHUNK).enumerate() {
        for &b in chunk {
            for j in 0..per {
                if stored.len() == count {
                    break;
                }
                let code = (b >> (bits as usize * j)) & mask;
                stored.push(table.get(usize::from(code)).copied().unwrap_or(f64::NAN));
            }
        }
        raw.release(k * RELEASE_CHUNK..k * RELEASE_CHUNK + chunk.len());
    }
    if order == Order::Stored {
        return Ok(stored);
    }
    let mut out = vec![0.0; count];
    reorder(&stored, &mut out, order, |x| *x, |_| {});
    Ok(out)
}

/// Whether `count` (≥ 2) elements of `dtype` in `raw` all compare equal as f64, as decoding then
/// comparing would say (NaN equals nothing; −0 equals +0), stopping at the first difference.
/// Elements with the first one's bytes are equal to it without decoding.
pub fn all_equal(dtype: i32, raw: Bytes<'_>, count: usize) -> Result<bool, TensorError> {
    if dtype::small(dtype).is_some() {
        let v = decode(dtype, raw, count, Order::Stored)?;
        return Ok(v.len() > 1 && v.windows(2).all(|w| w[0] == w[1]));
    }
    let w = width(dtype)?;
    check_len(raw, count, w)?;
    if count < 2 {
        return Ok(false);
    }
    let first = raw.as_slice().get(..w).unwrap_or(&[]);
    let value = |b: &[u8]| {
        decode(dtype, Bytes::plain(b), 1, Order::Stored)
            .ok()
            .and_then(|v| v.first().copied())
    };
    let Some(v0) = value(first).filter(|v| !v.is_nan()) else {
        return Ok(false);
    };
    let mut equal = true;
    // RELEASE_CHUNK is a multiple of every width, so chunks hold whole elements.
    raw.for_each_chunk(|c| {
        equal = c
            .chunks_exact(w)
            .all(|e| e == first || value(e) == Some(v0));
        equal
    });
    Ok(equal)
}

fn check_len(raw: Bytes<'_>, count: usize, width: usize) -> Result<(), TensorError> {
    if raw.len() != count.saturating_mul(width) {
        return Err(TensorError::Malformed(format!(
            "payload has {} bytes, expected {}",
            raw.len(),
            count.saturating_mul(width)
        )));
    }
    Ok(())
}

/// Decode into a fresh buffer; `f` converts one element's bytes.
fn run<const W: usize>(
    raw: Bytes<'_>,
    count: usize,
    order: Order,
    f: impl Fn([u8; W]) -> f64,
) -> Vec<f64> {
    let (elements, _) = raw.as_slice().as_chunks::<W>();
    let mut out = vec![0.0; count];
    reorder(
        elements,
        &mut out,
        order,
        |b| f(*b),
        |r| raw.release(r.start * W..r.end * W),
    );
    out
}

/// Write `f(src[i])` into `out` in `order` (`out` as long as `src`), calling `done(range)` with
/// source element ranges that will not be read again, about every `RELEASE_CHUNK` bytes.
pub fn reorder<S>(
    src: &[S],
    out: &mut [f64],
    order: Order,
    f: impl Fn(&S) -> f64,
    mut done: impl FnMut(Range<usize>),
) {
    let step = (RELEASE_CHUNK / std::mem::size_of::<S>().max(1)).max(1);
    match order {
        Order::Stored => {
            for (k, (s, d)) in src.chunks(step).zip(out.chunks_mut(step)).enumerate() {
                for (x, y) in s.iter().zip(d.iter_mut()) {
                    *y = f(x);
                }
                done(k * step..k * step + s.len());
            }
        }
        Order::SwapLast2 { rows, cols } => {
            let plane = rows.saturating_mul(cols);
            if plane == 0 {
                return;
            }
            let mut released = 0;
            for (b, (sp, dp)) in src.chunks(plane).zip(out.chunks_mut(plane)).enumerate() {
                for i0 in (0..rows).step_by(BLOCK) {
                    let i1 = (i0 + BLOCK).min(rows);
                    let block = sp.get(i0 * cols..i1 * cols).unwrap_or(&[]);
                    swap_block(block, cols, dp, rows, i0..i1, &f);
                    let end = b * plane + i1 * cols;
                    if end - released >= step {
                        done(released..end);
                        released = end;
                    }
                }
            }
            done(released..src.len());
        }
    }
}

/// Source rows `rows_at` (held in `block`, `cols` wide) into `dst`, a `[cols][rows]` plane.
fn swap_block<S>(
    block: &[S],
    cols: usize,
    dst: &mut [f64],
    rows: usize,
    rows_at: Range<usize>,
    f: &impl Fn(&S) -> f64,
) {
    let lines: Vec<&[S]> = block.chunks_exact(cols).collect();
    for (j, column) in dst.chunks_exact_mut(rows).enumerate() {
        let Some(d) = column.get_mut(rows_at.clone()) else {
            return;
        };
        for (y, line) in d.iter_mut().zip(&lines) {
            if let Some(x) = line.get(j) {
                *y = f(x);
            }
        }
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
