//! The bytes behind a loaded model: the model file mapped read-only (or an in-memory copy), the
//! byte ranges of the payloads that were left out of the decoded proto (`skeleton`), and page
//! release once a payload has been read.
//!
//! Why: a decoded `ModelProto` owns every in-file initializer's `raw_data`, i.e. a second copy of
//! the file held for the whole run. Keeping the file mapped and reading each payload in place
//! means a layer's weights are resident only while that layer is decoded; `Bytes::release` then
//! drops the pages from the process (they stay in the page cache, so a second read is cheap).
//!
//! Limit, as for external data (`external::map`): another process truncating the model file
//! while it is mapped makes the next read of a missing page fault (SIGBUS).

use std::ops::Range;

use memmap2::{Mmap, UncheckedAdvice};
use tract_onnx::pb::TensorProto;

/// Bytes converted or hashed between two page releases: large enough that `madvise` costs
/// nothing measurable, small enough that a layer's source pages never pile up in RSS.
pub const RELEASE_CHUNK: usize = 8 << 20;

/// Where the model's bytes live.
pub enum Backing {
    /// The model file, mapped read-only (`load`).
    Mapped(Mmap),
    /// A copy of bytes handed to `load_bytes` (fuzzing, tests).
    Owned(Vec<u8>),
}

impl Backing {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Backing::Mapped(m) => m,
            Backing::Owned(v) => v,
        }
    }

    fn map(&self) -> Option<&Mmap> {
        match self {
            Backing::Mapped(m) => Some(m),
            Backing::Owned(_) => None,
        }
    }

    /// All of it, as releasable bytes.
    pub fn all(&self) -> Bytes<'_> {
        Bytes {
            data: self.bytes(),
            map: self.map().map(|m| (m, 0)),
        }
    }
}

/// Payload bytes, possibly inside a read-only mapping whose pages can be released after use.
#[derive(Clone, Copy)]
pub struct Bytes<'a> {
    data: &'a [u8],
    /// The mapping `data` lies in and the offset of `data` in it.
    map: Option<(&'a Mmap, usize)>,
}

impl<'a> Bytes<'a> {
    /// Bytes that are not mapped (release does nothing).
    pub fn plain(data: &'a [u8]) -> Self {
        Bytes { data, map: None }
    }

    /// `data` inside `map`, starting at `offset`.
    pub fn mapped(map: &'a Mmap, offset: usize, data: &'a [u8]) -> Self {
        Bytes {
            data,
            map: Some((map, offset)),
        }
    }

    pub fn as_slice(&self) -> &'a [u8] {
        self.data
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Drop the pages under `data[range]` from the process's resident set. Best effort: an error
    /// only means the pages stay resident.
    pub fn release(&self, range: Range<usize>) {
        let Some((map, base)) = self.map else {
            return;
        };
        let len = range.end.saturating_sub(range.start);
        if len == 0 || range.end > self.data.len() {
            return;
        }
        // SAFETY: MADV_DONTNEED on a read-only file mapping only unmaps the pages: the next access
        // faults them in again from the file with the same contents (the mapping is never
        // written, so there are no private pages to lose), so borrows of these bytes — here or on
        // another thread reading a neighbouring tensor — keep seeing the same values. memmap2
        // checks the range against the mapping and aligns it to pages.
        let _ = unsafe {
            map.unchecked_advise_range(UncheckedAdvice::DontNeed, base + range.start, len)
        };
    }

    /// Visit the bytes in consecutive chunks of `RELEASE_CHUNK`, releasing each after `f`; stop
    /// early when `f` returns false.
    pub fn for_each_chunk(&self, mut f: impl FnMut(&[u8]) -> bool) {
        let mut start = 0;
        for chunk in self.data.chunks(RELEASE_CHUNK) {
            let go_on = f(chunk);
            self.release(start..start + chunk.len());
            start += chunk.len();
            if !go_on {
                return;
            }
        }
    }
}

/// The payloads left out of the decoded proto: `ranges[i]` is the `raw_data` of the main graph's
/// initializer `i`, as a byte range of the backing.
pub struct Elided {
    backing: Backing,
    ranges: Vec<Option<Range<usize>>>,
}

impl Elided {
    pub fn new(backing: Backing, ranges: Vec<Option<Range<usize>>>) -> Self {
        Elided { backing, ranges }
    }

    /// The whole backing, as releasable bytes.
    pub fn all(&self) -> Bytes<'_> {
        self.backing.all()
    }

    /// Nothing elided: every payload is in the proto (the backing is dropped).
    pub fn none() -> Self {
        Elided {
            backing: Backing::Owned(Vec::new()),
            ranges: Vec::new(),
        }
    }

    /// Payload lookup for tensors of a model whose main graph has these initializers.
    pub fn payloads<'a>(&'a self, initializers: &'a [TensorProto]) -> Payloads<'a> {
        Payloads {
            elided: self,
            initializers,
        }
    }
}

/// Finds the raw bytes of any tensor of one model.
#[derive(Clone, Copy)]
pub struct Payloads<'a> {
    elided: &'a Elided,
    initializers: &'a [TensorProto],
}

impl<'a> Payloads<'a> {
    /// `t.raw_data`, or, when `t` is a main-graph initializer whose payload was elided, those
    /// bytes in the backing.
    pub fn raw(&self, t: &'a TensorProto) -> Bytes<'a> {
        if !t.raw_data.is_empty() {
            return Bytes::plain(&t.raw_data);
        }
        let found = index_of(self.initializers, t)
            .and_then(|i| self.elided.ranges.get(i))
            .and_then(Option::as_ref)
            .and_then(|r| {
                let b = &self.elided.backing;
                let data = b.bytes().get(r.clone())?;
                Some(match b.map() {
                    Some(m) => Bytes::mapped(m, r.start, data),
                    None => Bytes::plain(data),
                })
            });
        found.unwrap_or(Bytes::plain(&[]))
    }
}

/// The position of `t` in `list`, by address: tensors are identified by where they live in the
/// decoded proto, the same identity the extraction uses for leaves.
fn index_of(list: &[TensorProto], t: &TensorProto) -> Option<usize> {
    let size = std::mem::size_of::<TensorProto>().max(1);
    let offset = (t as *const TensorProto as usize).checked_sub(list.as_ptr() as usize)?;
    let i = offset / size;
    (offset % size == 0 && list.get(i).is_some_and(|x| std::ptr::eq(x, t))).then_some(i)
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
