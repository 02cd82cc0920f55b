//! Loading an ONNX model safely: size limit, prost decoding (recursion limit on), SHA-256, and a
//! validation pass over every tensor so that a malformed file fails the run up front
//! (onnx-weights.md §7, §8).

pub mod dtype;
pub mod external;
pub mod tensor;

use std::io::Read;
use std::path::{Path, PathBuf};

use prost::Message;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tract_onnx::pb::{GraphProto, ModelProto, NodeProto, TensorProto};

use crate::error::{Error, Result, display_name};

/// Loading limits (onnx-weights.md §8.2), all with safe defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Largest model file read into memory: protobuf's hard limit, 2 GiB − 1.
    pub max_file_bytes: u64,
    /// If/Loop/Scan nesting depth.
    pub max_subgraph_depth: usize,
    pub max_nodes: usize,
    pub max_initializers: usize,
    pub max_attributes: usize,
    pub max_rank: usize,
    /// Elements per tensor, after checked multiplication (also the folded-constant budget).
    pub max_elements: u64,
    /// Memory for one layer's f64 copy (checked before allocating).
    pub layer_memory_budget: u64,
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
            max_name_len: crate::error::MAX_NAME_IN_MESSAGE,
        }
    }
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Opset {
    pub domain: String,
    pub version: i64,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct ModelInfo {
    /// The path as given on the command line.
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
    pub ir_version: i64,
    pub producer_name: String,
    pub producer_version: String,
    pub domain: String,
    pub model_version: i64,
    pub graph_name: String,
    pub opsets: Vec<Opset>,
}

/// A decoded, validated model.
pub struct Model {
    proto: ModelProto,
    path: PathBuf,
    dir: PathBuf,
    info: ModelInfo,
    limits: Limits,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("info", &self.info).finish()
    }
}

impl Model {
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The canonical directory that external data must stay inside.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
    pub fn proto(&self) -> &ModelProto {
        &self.proto
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
        self.info
            .opsets
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map_or(1, |o| o.version)
    }
}

/// Read, decode and validate a model file.
pub fn load(path: &Path, limits: &Limits) -> Result<Model> {
    let bytes = read_bounded(path, limits.max_file_bytes)?;
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    // prost keeps its recursion limit (100) on: deep-nesting bombs fail to decode.
    let proto = ModelProto::decode(bytes.as_slice())
        .map_err(|e| Error::model(path, format!("not a valid ONNX model (protobuf: {e})")))?;
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| Error::model(path, "not a valid ONNX model: it has no graph"))?;
    let canon = path.canonicalize().map_err(|e| Error::io(path, e))?;
    let dir = canon
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::model(path, "the model file has no parent directory"))?;
    validate_graph(graph, &dir, limits, 0, "").map_err(|m| Error::model(path, m))?;
    let info = ModelInfo {
        file: path.display().to_string(),
        sha256,
        bytes: bytes.len() as u64,
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
        path: path.to_path_buf(),
        dir,
        info,
        limits: limits.clone(),
    })
}

fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let md = file.metadata().map_err(|e| Error::io(path, e))?;
    if !md.is_file() {
        return Err(Error::model(path, "not a regular file"));
    }
    if md.len() > max {
        return Err(Error::model(
            path,
            format!(
                "file is {} bytes, over the {max}-byte limit for a protobuf model (use external data)",
                md.len()
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(md.len() as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(Error::model(
            path,
            format!("file grew past the {max}-byte limit"),
        ));
    }
    Ok(bytes)
}

fn check_tensor(
    t: &TensorProto,
    dir: &Path,
    limits: &Limits,
    what: &str,
) -> std::result::Result<(), String> {
    tensor::validate(dir, t, limits).map_err(|e| format!("{what} {:?}: {e}", display_name(&t.name)))
}

/// Structure limits and every tensor's header/payload, recursively through subgraphs.
fn validate_graph(
    g: &GraphProto,
    dir: &Path,
    limits: &Limits,
    depth: usize,
    path: &str,
) -> std::result::Result<(), String> {
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" in subgraph {}", display_name(path))
    };
    if depth > limits.max_subgraph_depth {
        return Err(format!(
            "subgraphs nested deeper than {}{at}",
            limits.max_subgraph_depth
        ));
    }
    if g.node.len() > limits.max_nodes {
        return Err(format!(
            "{} nodes exceed the limit {}{at}",
            g.node.len(),
            limits.max_nodes
        ));
    }
    let inits = g.initializer.len() + g.sparse_initializer.len();
    if inits > limits.max_initializers {
        return Err(format!(
            "{inits} initializers exceed the limit {}{at}",
            limits.max_initializers
        ));
    }
    let attrs: usize = g.node.iter().map(|n| n.attribute.len()).sum();
    if attrs > limits.max_attributes {
        return Err(format!(
            "{attrs} attributes exceed the limit {}{at}",
            limits.max_attributes
        ));
    }
    for t in &g.initializer {
        check_tensor(t, dir, limits, &format!("initializer{at}"))?;
    }
    for s in &g.sparse_initializer {
        for t in s.values.iter().chain(s.indices.iter()) {
            check_tensor(t, dir, limits, &format!("sparse initializer{at}"))?;
        }
        tensor::shape_of(&s.dims, limits).map_err(|e| format!("sparse initializer{at}: {e}"))?;
    }
    for (i, n) in g.node.iter().enumerate() {
        validate_node(n, i, dir, limits, depth, path)?;
    }
    Ok(())
}

/// Node label for paths and messages: its name, or `#<index>` when unnamed (§9).
pub fn node_label(n: &NodeProto, index: usize) -> String {
    if n.name.is_empty() {
        format!("#{index}")
    } else {
        n.name.clone()
    }
}

fn validate_node(
    n: &NodeProto,
    index: usize,
    dir: &Path,
    limits: &Limits,
    depth: usize,
    path: &str,
) -> std::result::Result<(), String> {
    let label = node_label(n, index);
    for a in &n.attribute {
        let what = format!(
            "attribute {} of node {}",
            display_name(&a.name),
            display_name(&label)
        );
        for t in a.t.iter().chain(a.tensors.iter()) {
            check_tensor(t, dir, limits, &what)?;
        }
        for s in a.sparse_tensor.iter().chain(a.sparse_tensors.iter()) {
            for t in s.values.iter().chain(s.indices.iter()) {
                check_tensor(t, dir, limits, &what)?;
            }
        }
        for g in a.g.iter().chain(a.graphs.iter()) {
            let sub = format!("{}{label}/{}", sub_prefix(path), a.name);
            validate_graph(g, dir, limits, depth + 1, &sub)?;
        }
    }
    Ok(())
}

fn sub_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    }
}
