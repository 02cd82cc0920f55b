//! A model's protobuf with the in-file weights left out, so that decoding it copies no weights.
//!
//! The scan walks three message levels only: `ModelProto.graph` (field 7) → `GraphProto.initializer`
//! (field 5) → `TensorProto.raw_data` (field 9). It re-emits everything else byte for byte, drops
//! every `raw_data` field of those initializers and records where the last one's bytes are (a
//! repeated singular field keeps its last value in protobuf, as prost does), then fixes the
//! enclosing lengths. Decoding the result gives the same `ModelProto` as decoding the file,
//! except that those `raw_data` are empty; `source::Payloads` serves them from the file.
//!
//! Anything at these levels the scan does not fully understand (a malformed varint or length, a
//! group, a wrong wire type on one of the three fields) makes it give up; the caller then decodes
//! the original bytes, so errors and odd-but-valid files behave exactly as before.

use std::ops::Range;

const MODEL_GRAPH: u64 = 7;
const GRAPH_INITIALIZER: u64 = 5;
const TENSOR_RAW_DATA: u64 = 9;
/// Wire type of length-delimited fields (messages, bytes).
const LEN: u64 = 2;

/// The elided protobuf and, per main-graph initializer in order, its `raw_data` range in the
/// source (None when it has none or an empty one).
#[derive(Debug, PartialEq)]
pub struct Skeleton {
    pub proto: Vec<u8>,
    pub raw: Vec<Option<Range<usize>>>,
}

/// One field: its number and wire type, where its key starts, where its value starts (after the
/// length prefix for length-delimited fields) and where it ends.
struct Field {
    number: u64,
    wire: u64,
    start: usize,
    key_end: usize,
    value: Range<usize>,
}

/// The skeleton of `src`, or None when the scan gives up (see the module comment).
pub fn elide(src: &[u8]) -> Option<Skeleton> {
    let mut raw = Vec::new();
    let proto = message(src, 0..src.len(), &mut |f, out| {
        if f.number != MODEL_GRAPH {
            return Some(false);
        }
        if f.wire != LEN {
            return None;
        }
        let body = message(src, f.value.clone(), &mut |g, out| {
            if g.number != GRAPH_INITIALIZER {
                return Some(false);
            }
            if g.wire != LEN {
                return None;
            }
            let (body, payload) = tensor(src, g.value.clone())?;
            raw.push(payload);
            nested(src, g, &body, out)?;
            Some(true)
        })?;
        nested(src, f, &body, out)?;
        Some(true)
    })?;
    Some(Skeleton { proto, raw })
}

/// Re-emit the fields of `src[range]`; `rewrite(field, out)` writes a field itself and returns
/// true, or returns false to have it copied verbatim, or None to give up.
fn message(
    src: &[u8],
    range: Range<usize>,
    rewrite: &mut dyn FnMut(&Field, &mut Vec<u8>) -> Option<bool>,
) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = range.start;
    while pos < range.end {
        let f = field(src, pos, range.end)?;
        if !rewrite(&f, &mut out)? {
            out.extend_from_slice(src.get(f.start..f.value.end)?);
        }
        pos = f.value.end;
    }
    Some(out)
}

/// A TensorProto without its `raw_data` fields, and the last one's range.
fn tensor(src: &[u8], range: Range<usize>) -> Option<(Vec<u8>, Option<Range<usize>>)> {
    let mut payload = None;
    let body = message(src, range, &mut |f, _| {
        if f.number != TENSOR_RAW_DATA {
            return Some(false);
        }
        if f.wire != LEN {
            return None;
        }
        payload = Some(f.value.clone()).filter(|r| !r.is_empty());
        Some(true)
    })?;
    Some((body, payload))
}

/// Write a length-delimited field with the original key and a new body.
fn nested(src: &[u8], f: &Field, body: &[u8], out: &mut Vec<u8>) -> Option<()> {
    out.extend_from_slice(src.get(f.start..f.key_end)?);
    put_varint(out, body.len() as u64);
    out.extend_from_slice(body);
    Some(())
}

/// Parse the field at `pos`, which must end by `end`. Rules as prost's decoder: key ≤ u32::MAX,
/// field number ≥ 1, wire types 0, 1, 2, 5 (groups, 3 and 4, make the scan give up).
fn field(src: &[u8], pos: usize, end: usize) -> Option<Field> {
    let (key, key_end) = varint(src, pos, end)?;
    if key > u64::from(u32::MAX) || key >> 3 == 0 {
        return None;
    }
    let (number, wire) = (key >> 3, key & 7);
    let (start, stop) = match wire {
        0 => {
            let (_, e) = varint(src, key_end, end)?;
            (key_end, e)
        }
        1 => (key_end, key_end.checked_add(8)?),
        2 => {
            let (len, s) = varint(src, key_end, end)?;
            (s, s.checked_add(usize::try_from(len).ok()?)?)
        }
        5 => (key_end, key_end.checked_add(4)?),
        _ => return None,
    };
    (stop <= end).then_some(Field {
        number,
        wire,
        start: pos,
        key_end,
        value: start..stop,
    })
}

/// A varint at `pos` (at most 10 bytes, the 10th at most 1, as prost); its value and end.
fn varint(src: &[u8], pos: usize, end: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for i in 0..10 {
        let at = pos + i;
        if at >= end {
            return None;
        }
        let b = *src.get(at)?;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return (i < 9 || b < 2).then_some((value, at + 1));
        }
    }
    None
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
#[path = "skeleton_tests.rs"]
mod tests;
