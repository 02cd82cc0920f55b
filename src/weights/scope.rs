//! Lexical scopes over the main graph and its If/Loop/Scan subgraphs (onnx-weights.md §3.4, §4),
//! and resolution of a value name to a constant expression.

use std::collections::HashMap;
use std::sync::Arc;

use tract_onnx::pb::{GraphProto, NodeProto, TensorProto};

use super::fold::{self, Expr, Leaf, LeafSrc, foldable};
use crate::error::display_name;
use crate::onnx::attr::{AttrError, Node};

/// Longest fold chain followed from a weight slot; longer chains (or cycles in a hostile file)
/// are treated as run-time values instead of recursing without bound.
pub const MAX_FOLD_DEPTH: usize = 64;

/// A constant expression, None for a run-time value, or the attribute that made the node
/// defining it unreadable.
pub type Resolved<'m> = Result<Option<Arc<Expr<'m>>>, AttrError>;

#[derive(Clone, Copy, Debug)]
pub enum Def<'m> {
    Init(&'m TensorProto, bool),
    Sparse(&'m tract_onnx::pb::SparseTensorProto),
    /// Output `.1` of a node.
    Node(Node<'m>, usize),
    Runtime,
}

pub struct Frame<'m> {
    pub id: usize,
    pub defs: HashMap<&'m str, Def<'m>>,
    /// Value name → nodes of this graph that read it.
    pub readers: HashMap<&'m str, Vec<Node<'m>>>,
}

impl<'m> Frame<'m> {
    /// Build the definitions of one graph; a name defined twice is a validation error (§3.4).
    pub fn new(id: usize, graph: &'m GraphProto) -> Result<Frame<'m>, String> {
        let mut defs: HashMap<&'m str, Def<'m>> = HashMap::new();
        let inits: std::collections::HashSet<&str> =
            graph.initializer.iter().map(|t| t.name.as_str()).collect();
        let mut define = |name: &'m str, d: Def<'m>| -> Result<(), String> {
            if name.is_empty() {
                return Ok(());
            }
            if defs.insert(name, d).is_some() {
                return Err(format!(
                    "value {:?} is defined more than once in graph {:?}",
                    display_name(name),
                    display_name(&graph.name)
                ));
            }
            Ok(())
        };
        for i in &graph.input {
            // IR < 4 lists initializers as inputs too: the initializer defines it (overridable).
            if !inits.contains(i.name.as_str()) {
                define(&i.name, Def::Runtime)?;
            }
        }
        let inputs: std::collections::HashSet<&str> =
            graph.input.iter().map(|i| i.name.as_str()).collect();
        for t in &graph.initializer {
            define(&t.name, Def::Init(t, inputs.contains(t.name.as_str())))?;
        }
        for s in &graph.sparse_initializer {
            if let Some(v) = &s.values {
                define(&v.name, Def::Sparse(s))?;
            }
        }
        let mut readers: HashMap<&'m str, Vec<Node<'m>>> = HashMap::new();
        for (index, n) in graph.node.iter().enumerate() {
            let node = Node::new(n, index);
            for (k, o) in n.output.iter().enumerate() {
                define(o, Def::Node(node, k))?;
            }
            for i in &n.input {
                readers.entry(i.as_str()).or_default().push(node);
            }
        }
        Ok(Frame { id, defs, readers })
    }
}

/// The scope stack during the walk, with memoised resolution so that a shared constant is one
/// expression (tied-weight identity, §9) and a diamond-shaped DAG is resolved once.
pub struct Scopes<'m> {
    pub frames: Vec<Frame<'m>>,
    memo: HashMap<(usize, &'m str), Option<Arc<Expr<'m>>>>,
    pub opset: i64,
}

impl<'m> Scopes<'m> {
    pub fn new(opset: i64) -> Self {
        Scopes {
            frames: Vec::new(),
            memo: HashMap::new(),
            opset,
        }
    }

    /// Innermost frame at or below `level` that defines `name`.
    fn lookup(&self, name: &str, level: usize) -> Option<(usize, Def<'m>)> {
        (0..=level)
            .rev()
            .find_map(|l| self.frames.get(l)?.defs.get(name).map(|d| (l, *d)))
    }

    /// The constant expression for `name` as seen from the innermost frame, or None if it is a
    /// run-time value.
    pub fn resolve(&mut self, name: &str) -> Resolved<'m> {
        let Some(level) = self.frames.len().checked_sub(1) else {
            return Ok(None);
        };
        self.resolve_at(name, level, 0)
    }

    /// The node defining `name` as seen from the innermost frame.
    pub fn producer(&self, name: &str) -> Option<Node<'m>> {
        let level = self.frames.len().checked_sub(1)?;
        match self.lookup(name, level)? {
            (_, Def::Node(n, _)) => Some(n),
            _ => None,
        }
    }

    fn resolve_at(&mut self, name: &str, level: usize, depth: usize) -> Resolved<'m> {
        if depth > MAX_FOLD_DEPTH {
            return Ok(None);
        }
        let Some((l, def)) = self.lookup(name, level) else {
            return Ok(None);
        };
        let Some(frame_id) = self.frames.get(l).map(|f| f.id) else {
            return Ok(None);
        };
        let key_name: Option<&'m str> = match def {
            Def::Init(t, _) => Some(&t.name),
            Def::Sparse(s) => s.values.as_ref().map(|v| v.name.as_str()),
            Def::Node(n, k) => n.proto.output.get(k).map(String::as_str),
            Def::Runtime => None,
        };
        let Some(key_name) = key_name else {
            return Ok(None);
        };
        if let Some(m) = self.memo.get(&(frame_id, key_name)) {
            return Ok(m.clone());
        }
        let e = self.build(def, key_name, l, depth)?;
        self.memo.insert((frame_id, key_name), e.clone());
        Ok(e)
    }

    fn build(&mut self, def: Def<'m>, name: &'m str, level: usize, depth: usize) -> Resolved<'m> {
        let leaf = |src, overridable| {
            Arc::new(Expr::Leaf(Leaf {
                name,
                src,
                overridable,
                depth: level,
            }))
        };
        Ok(match def {
            Def::Runtime => None,
            Def::Init(t, ov) => Some(leaf(LeafSrc::Init(t), ov)),
            Def::Sparse(s) => Some(leaf(LeafSrc::Sparse(s), false)),
            Def::Node(n, _) if n.op_type == "Constant" && n.domain.is_empty() => {
                fold::constant_leaf(n)?.map(|src| leaf(src, false))
            }
            Def::Node(n, k) if foldable(&n.op_type) && is_onnx_domain(&n) => {
                let mut inputs = Vec::with_capacity(n.input.len());
                for i in &n.input {
                    if i.is_empty() {
                        inputs.push(None);
                    } else {
                        let Some(e) = self.resolve_at(i, level, depth + 1)? else {
                            return Ok(None);
                        };
                        inputs.push(Some(e));
                    }
                }
                // Ops other than ConstantOfShape need at least one input.
                if inputs.is_empty() && n.op_type != "ConstantOfShape" {
                    return Ok(None);
                }
                Some(Arc::new(Expr::Op {
                    node: n,
                    output: k,
                    inputs,
                    opset: self.opset,
                }))
            }
            Def::Node(..) => None,
        })
    }
}

pub fn is_onnx_domain(n: &NodeProto) -> bool {
    n.domain.is_empty() || n.domain == "ai.onnx"
}
