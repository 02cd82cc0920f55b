//! Loading an ONNX model safely: size limit, prost decoding (recursion limit on), SHA-256, and a
//! validation pass over every tensor so that a malformed file fails the run up front
//! (onnx-weights.md §7, §8).
//!
//! The file is mapped, not read, and decoded without its in-file weights (`skeleton`): they are
//! read in place, one layer at a time (`source`), so the model is never held decoded.

pub(crate) mod attr;
pub(crate) mod convert;
pub mod dtype;
pub(crate) mod external;
pub(crate) mod regular;
pub(crate) mod skeleton;
pub(crate) mod source;
pub(crate) mod tensor;
pub(crate) mod validate;

use std::path::{Path, PathBuf};

use prost::Message;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use tract_onnx::pb::{GraphProto, ModelProto, NodeProto, TensorProto};

use crate::error::{Error, ModelErrorKind as K, Result};
use source::{Backing, Bytes, Elided, Payloads};

/// Loading limits (onnx-weights.md §8.2), all with safe defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Largest model file (in-file weights included): protobuf's hard limit, 2 GiB − 1.
    pub max_file_bytes: u64,
    /// If/Loop/Scan nesting depth.
    pub max_subgraph_depth: usize,
    /// Nodes per graph (the main graph and each subgraph alike).
    pub max_nodes: usize,
    /// Initializers per graph, sparse ones included.
    pub max_initializers: usize,
    /// Node attributes per graph, summed over its nodes.
    pub max_attributes: usize,
    /// Dims per tensor.
    pub max_rank: usize,
    /// Elements per tensor, after checked multiplication (also the folded-constant budget).
    pub max_elements: u64,
    /// Memory for one layer: its f64 copy plus one slice's Gram matrix (checked before
    /// allocating; over it, the layer gets status `over_budget`).
    pub layer_memory_budget: u64,
    /// Declared tensor data of the whole model, inline and external (checked at load, before
    /// any tensor is decoded; over it, the run fails with `over_budget`).
    pub model_memory_budget: u64,
    /// Longest name echoed into messages.
    pub max_name_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: (2u64 << 30) - 1,
            max_subgraph_depth: 16,
            max_nodes: 1_000_000,
            max_initializers: 1_000_000,
            max_attributes: 1_000_000,
            max_rank: 16,
            max_elements: 1u64 << 31,
            layer_memory_budget: 4u64 << 30,
            // Larger than any published model's weights; registries can lower it.
            model_memory_budget: 1u64 << 40,
            max_name_len: crate::error::MAX_NAME_IN_MESSAGE,
        }
    }
}

/// One entry of the model's `opset_import`.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Opset {
    /// Operator set domain ("" or `ai.onnx` for the standard one).
    pub domain: String,
    /// Operator set version.
    pub version: i64,
}

/// The facts of a model file that outputs report: file, hash, and `ModelProto` header fields.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct ModelInfo {
    /// The path as given on the command line.
    pub file: String,
    /// SHA-256 of the model file, lowercase hex.
    pub sha256: String,
    /// Size of the model file in bytes.
    pub bytes: u64,
    /// `ModelProto.ir_version`.
    pub ir_version: i64,
    /// `ModelProto.producer_name`.
    pub producer_name: String,
    /// `ModelProto.producer_version`.
    pub producer_version: String,
    /// `ModelProto.domain`.
    pub domain: String,
    /// `ModelProto.model_version`.
    pub model_version: i64,
    /// The main graph's name.
    pub graph_name: String,
    /// `ModelProto.opset_import`, in file order.
    pub opsets: Vec<Opset>,
}

/// A decoded, validated model.
pub struct Model {
    /// The decoded protobuf; the main graph's initializers have empty `raw_data` when their
    /// payloads were elided: read them with `raw_data`.
    proto: ModelProto,
    elided: Elided,
    path: PathBuf,
    dir: PathBuf,
    /// All of `info` but the file's hash, which is computed on first use: hashing a big file
    /// takes a core for a while, and `analysis` does it beside the first layers' work.
    header: ModelInfo,
    info: OnceLock<ModelInfo>,
    limits: Limits,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("info", &self.header).finish()
    }
}

impl Model {
    /// The model's facts, its SHA-256 included (computed now if no call did it yet).
    pub fn info(&self) -> &ModelInfo {
        self.info.get_or_init(|| ModelInfo {
            sha256: sha256_hex(self.elided.all()),
            ..self.header.clone()
        })
    }
    /// The model file's path, as given to [`load`].
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The canonical directory that external data must stay inside.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The limits the model was loaded under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
    /// The decoded protobuf. The `raw_data` of the main graph's initializers is usually empty
    /// here (left in the file): use `raw_data` to read any tensor's raw bytes.
    pub fn proto(&self) -> &ModelProto {
        &self.proto
    }
    /// The raw bytes of a tensor of this model: its `raw_data`, wherever it is kept.
    pub fn raw_data<'a>(&'a self, t: &'a TensorProto) -> Bytes<'a> {
        self.payloads().raw(t)
    }
    fn payloads(&self) -> Payloads<'_> {
        self.elided.payloads(&self.graph().initializer)
    }
    /// The main graph (presence is checked by `load`).
    pub fn graph(&self) -> &GraphProto {
        static EMPTY: std::sync::OnceLock<GraphProto> = std::sync::OnceLock::new();
        self.proto
            .graph
            .as_ref()
            .unwrap_or_else(|| EMPTY.get_or_init(GraphProto::default))
    }
    /// Opset version of the default ONNX domain ("" or "ai.onnx").
    pub fn onnx_opset(&self) -> i64 {
        self.header
            .opsets
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map_or(1, |o| o.version)
    }
}

/// Map, decode and validate a model file.
pub fn load(path: &Path, limits: &Limits) -> Result<Model> {
    let backing = map_bounded(path, limits.max_file_bytes)?;
    let canon = path.canonicalize().map_err(|e| Error::io(path, e))?;
    let dir = canon
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::model(path, K::NotOnnx, "the model file has no parent directory"))?;
    load_backing(backing, path, &dir, limits)
}

/// Decode and validate a model already in memory. `path` names it in messages; `dir` is the
/// directory that external data must stay inside (it should be canonical). This is the entry
/// point for fuzzing: everything `load` does after mapping the file, on a copy of `bytes`.
pub fn load_bytes(bytes: &[u8], path: &Path, dir: &Path, limits: &Limits) -> Result<Model> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(too_large(path, bytes.len() as u64, limits.max_file_bytes));
    }
    load_backing(Backing::Owned(bytes.to_vec()), path, dir, limits)
}

fn too_large(path: &Path, len: u64, max: u64) -> Error {
    Error::model(
        path,
        K::TooLarge,
        format!(
            "model is {len} bytes, over the {max}-byte limit for a protobuf model (use external data)"
        ),
    )
}

fn load_backing(backing: Backing, path: &Path, dir: &Path, limits: &Limits) -> Result<Model> {
    let all = backing.all();
    if all.len() as u64 > limits.max_file_bytes {
        return Err(too_large(path, all.len() as u64, limits.max_file_bytes));
    }
    let (proto, ranges) = decode(all.as_slice(), path)?;
    // Without elided payloads the backing is dropped below: hash it now.
    let sha256 = ranges.is_empty().then(|| sha256_hex(all));
    // The scan and prost touched the headers only (or everything, when prost decoded the file
    // itself): nothing of the file needs to stay resident.
    all.release(0..all.len());
    let bytes = all.len() as u64;
    let elided = if ranges.is_empty() {
        Elided::none()
    } else {
        Elided::new(backing, ranges)
    };
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| Error::model(path, K::NotOnnx, "not a valid ONNX model: it has no graph"))?;
    validate::model(graph, elided.payloads(&graph.initializer), dir, limits)
        .map_err(|(kind, m)| Error::model(path, kind, m))?;
    let header = ModelInfo {
        file: path.display().to_string(),
        sha256: String::new(),
        bytes,
        ir_version: proto.ir_version,
        producer_name: proto.producer_name.clone(),
        producer_version: proto.producer_version.clone(),
        domain: proto.domain.clone(),
        model_version: proto.model_version,
        graph_name: graph.name.clone(),
        opsets: proto
            .opset_import
            .iter()
            .map(|o| Opset {
                domain: o.domain.clone(),
                version: o.version,
            })
            .collect(),
    };
    Ok(Model {
        proto,
        elided,
        path: path.to_path_buf(),
        dir: dir.to_path_buf(),
        info: sha256.map_or_else(OnceLock::new, |sha256| {
            OnceLock::from(ModelInfo {
                sha256,
                ..header.clone()
            })
        }),
        header,
        limits: limits.clone(),
    })
}

/// SHA-256 of the whole file, releasing its pages as the hash goes.
fn sha256_hex(bytes: Bytes<'_>) -> String {
    let mut h = Sha256::new();
    bytes.for_each_chunk(|c| {
        h.update(c);
        true
    });
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Decode the skeleton (weights left in the file) when the scan takes the file apart, else the
/// file itself. A skeleton that prost refuses is decoded again from the file, so that every
/// error message and class is the one the file itself produces.
fn decode(bytes: &[u8], path: &Path) -> Result<(ModelProto, Vec<Option<std::ops::Range<usize>>>)> {
    if let Some(sk) = skeleton::elide(bytes)
        && let Ok(proto) = ModelProto::decode(sk.proto.as_slice())
    {
        return Ok((proto, sk.raw));
    }
    // prost keeps its recursion limit (100) on: deep-nesting bombs fail to decode.
    let proto = ModelProto::decode(bytes).map_err(|e| {
        Error::model(
            path,
            decode_error_kind(&e, bytes),
            format!("not a valid ONNX model (protobuf: {e})"),
        )
    })?;
    Ok((proto, Vec::new()))
}

/// Open the model file, refusing anything but a regular file (followed through symlinks) without
/// waiting on it: a FIFO, socket, device or directory is named and refused before any read.
fn open_model(path: &Path) -> Result<(std::fs::File, std::fs::Metadata)> {
    let refuse = |what: &str| {
        Error::model(
            path,
            K::NotOnnx,
            format!("not a regular file: it is {what}"),
        )
    };
    let md = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if let Some(what) = regular::not_regular(&md.file_type()) {
        return Err(refuse(what));
    }
    // Non-blocking and checked again on the descriptor: the path may change after the stat.
    let file = regular::open_nonblocking(path, 0).map_err(|e| Error::io(path, e))?;
    let md = file.metadata().map_err(|e| Error::io(path, e))?;
    if let Some(what) = regular::not_regular(&md.file_type()) {
        return Err(refuse(what));
    }
    Ok((file, md))
}

fn map_bounded(path: &Path, max: u64) -> Result<Backing> {
    let (file, md) = open_model(path)?;
    if md.len() > max {
        return Err(Error::model(
            path,
            K::TooLarge,
            format!(
                "file is {} bytes, over the {max}-byte limit for a protobuf model (use external data)",
                md.len()
            ),
        ));
    }
    if md.len() == 0 {
        // mmap refuses empty lengths (and some files report 0 but have contents): read it.
        return Ok(Backing::Owned(read_to_end(file, path, max, 0)?));
    }
    // SAFETY: a read-only shared mapping of a regular file. Another process truncating the file
    // while it is mapped makes a later read fault: the documented limit of mmap-based loading
    // (module `source`), as for external data.
    let bytes = match unsafe { memmap2::Mmap::map(&file) } {
        Ok(map) => Backing::Mapped(map),
        // Some file systems cannot map files: read it instead (the weights then stay in memory).
        Err(_) => Backing::Owned(read_to_end(file, path, max, md.len())?),
    };
    if bytes.bytes().len() as u64 > max {
        return Err(grew(path, max));
    }
    Ok(bytes)
}

fn read_to_end(file: std::fs::File, path: &Path, max: u64, len: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(grew(path, max));
    }
    Ok(bytes)
}

fn grew(path: &Path, max: u64) -> Error {
    Error::model(
        path,
        K::TooLarge,
        format!("file grew past the {max}-byte limit"),
    )
}

/// Class of a protobuf decoding failure. Input that ends inside a field is `truncated` when it
/// starts like a ModelProto (field 1, `ir_version`, which every exporter writes first); anything
/// else is `not_onnx`, and a nesting bomb is `too_deep`.
fn decode_error_kind(e: &prost::DecodeError, bytes: &[u8]) -> K {
    let msg = e.to_string();
    if msg.contains("recursion limit") {
        return K::TooDeep;
    }
    let ends_early = [
        "buffer underflow",
        "invalid varint",
        "delimited length exceeded",
    ]
    .iter()
    .any(|m| msg.contains(m));
    if ends_early && bytes.first() == Some(&0x08) {
        K::Truncated
    } else {
        K::NotOnnx
    }
}

/// Node label for paths and messages: its name, or `#<index>` when unnamed (§9).
pub fn node_label(n: &NodeProto, index: usize) -> String {
    if n.name.is_empty() {
        format!("#{index}")
    } else {
        n.name.clone()
    }
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
