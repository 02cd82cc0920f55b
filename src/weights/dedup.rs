//! Ties by content (onnx-weights.md §9): exporters that copy an initializer into every subgraph
//! give equal weights under different names. A layer whose weight is a plain leaf (or a leaf with
//! its last two axes swapped) with the same dtype, effective shape and raw payload as an earlier
//! layer is tied to that layer.
//!
//! Hashing every payload in full read the whole model at extraction (VGG16: 553 MB, about a
//! third of the extraction time, with every page made resident). Here a cheap probe — dtype,
//! shape, length, first and last 4 KiB — picks the layers that could be equal, and the full
//! SHA-256 is computed only for those, once each. Equal payloads always have equal probes, so
//! the ties are exactly those of hashing everything.

use std::cell::OnceCell;
use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::onnx::source::Bytes;

/// Bytes of each end of a payload that go into the probe.
const PROBE_BYTES: usize = 4096;

/// One layer's payload, as far as ties are concerned.
pub struct Content<'m> {
    probe: [u8; 32],
    dtype: i32,
    shape: Vec<usize>,
    raw: Bytes<'m>,
    full: OnceCell<[u8; 32]>,
}

impl<'m> Content<'m> {
    /// None for an empty payload (nothing to compare).
    pub fn new(dtype: i32, shape: &[usize], raw: Bytes<'m>) -> Option<Self> {
        if raw.is_empty() {
            return None;
        }
        let bytes = raw.as_slice();
        let mut h = header(dtype, shape);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes.get(..PROBE_BYTES).unwrap_or(bytes));
        h.update(
            bytes
                .get(bytes.len().saturating_sub(PROBE_BYTES)..)
                .unwrap_or(bytes),
        );
        Some(Content {
            probe: h.finalize().into(),
            dtype,
            shape: shape.to_vec(),
            raw,
            full: OnceCell::new(),
        })
    }

    /// SHA-256 over (dtype, shape, payload), releasing mapped pages as it reads.
    fn full(&self) -> [u8; 32] {
        *self.full.get_or_init(|| {
            let mut h = header(self.dtype, &self.shape);
            self.raw.for_each_chunk(|c| {
                h.update(c);
                true
            });
            h.finalize().into()
        })
    }
}

fn header(dtype: i32, shape: &[usize]) -> Sha256 {
    let mut h = Sha256::new();
    h.update(dtype.to_le_bytes());
    for d in shape {
        h.update((*d as u64).to_le_bytes());
    }
    h
}

/// The layers registered so far, by probe.
#[derive(Default)]
pub struct Registry<'m> {
    by_probe: HashMap<[u8; 32], Vec<(Content<'m>, usize)>>,
}

impl<'m> Registry<'m> {
    /// The registered layer with the same content, if any.
    pub fn find(&self, c: &Content<'m>) -> Option<usize> {
        let same = self.by_probe.get(&c.probe)?;
        same.iter()
            .find(|(other, _)| other.full() == c.full())
            .map(|&(_, layer)| layer)
    }

    /// Register `layer` (call only when `find` found none).
    pub fn insert(&mut self, c: Content<'m>, layer: usize) {
        self.by_probe.entry(c.probe).or_default().push((c, layer));
    }
}

#[cfg(test)]
#[path = "dedup_tests.rs"]
mod tests;
