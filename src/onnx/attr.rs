//! Typed node attributes, checked as tract's `pb_helpers` check them: reading an attribute
//! compares its declared `AttributeProto.type` with the type asked for, so that a FLOAT-typed
//! `group` or an INTS-typed `transB` is an error naming the node, its op and the attribute instead
//! of the zero that prost leaves in the field that was not written.
//!
//! An absent attribute is `None` (`get`), the ONNX default the caller gives (`get_or`), or an error
//! when the operator requires it (`require`). Values that cannot be right whatever the tensor
//! (a group below 1, a negative block size) are refused with the same naming (`int_at_least`);
//! checks that need an operand (an axis against its rank) use `bad_value` at the point of use.

use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::{AttributeProto, GraphProto, NodeProto, SparseTensorProto, TensorProto};

use super::node_label;
use crate::error::display_name;

/// A node and its position in its graph: enough to name it in a message (its name, or `#index`
/// when unnamed, as `node_label`).
#[derive(Clone, Copy, Debug)]
pub struct Node<'a> {
    pub proto: &'a NodeProto,
    pub index: usize,
}

impl<'a> std::ops::Deref for Node<'a> {
    type Target = NodeProto;
    fn deref(&self) -> &NodeProto {
        self.proto
    }
}

/// What is wrong with one attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttrProblem {
    /// Declared with another type than the operator's (an unknown or absent `type` included).
    WrongType { expected: AttributeType, found: i32 },
    /// The operator requires it and the node has none.
    Missing,
    /// Given more than once (the value a runtime would use is unknown).
    Duplicate,
    /// Declared TENSOR, GRAPH or SPARSE_TENSOR but the field holding it is absent.
    Empty(AttributeType),
    /// A value the operator does not allow: what was expected, and what was found.
    BadValue(String),
}

/// An attribute that cannot be used, with the node, op and attribute it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrError {
    /// The node's label, made safe to print.
    pub node: String,
    pub op: String,
    pub attr: String,
    pub problem: AttrProblem,
}

/// The protobuf name of an `AttributeProto.type` value (`INT`, `FLOATS`, …).
pub fn type_name(ty: i32) -> String {
    match AttributeType::try_from(ty) {
        Ok(t) => t.as_str_name().to_string(),
        Err(_) => format!("unknown type {ty}"),
    }
}

impl std::fmt::Display for AttrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "node {} ({}): attribute {}: ",
            self.node, self.op, self.attr
        )?;
        match &self.problem {
            AttrProblem::WrongType { expected, found } => write!(
                f,
                "expected type {}, found {}",
                expected.as_str_name(),
                type_name(*found)
            ),
            AttrProblem::Missing => f.write_str("required, but the node has none"),
            AttrProblem::Duplicate => f.write_str("given more than once"),
            AttrProblem::Empty(t) => write!(f, "declared {} but holds none", t.as_str_name()),
            AttrProblem::BadValue(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for AttrError {}

/// A Rust type one attribute type reads as.
pub trait AttrValue<'a>: Sized {
    const TYPE: AttributeType;
    /// The value, or None when the field that holds it is absent (a message field).
    fn read(a: &'a AttributeProto) -> Option<Self>;
}

impl<'a> AttrValue<'a> for i64 {
    const TYPE: AttributeType = AttributeType::Int;
    fn read(a: &'a AttributeProto) -> Option<Self> {
        Some(a.i)
    }
}
impl<'a> AttrValue<'a> for f32 {
    const TYPE: AttributeType = AttributeType::Float;
    fn read(a: &'a AttributeProto) -> Option<Self> {
        Some(a.f)
    }
}
impl<'a> AttrValue<'a> for &'a [i64] {
    const TYPE: AttributeType = AttributeType::Ints;
    fn read(a: &'a AttributeProto) -> Option<Self> {
        Some(&a.ints)
    }
}
impl<'a> AttrValue<'a> for &'a [f32] {
    const TYPE: AttributeType = AttributeType::Floats;
    fn read(a: &'a AttributeProto) -> Option<Self> {
        Some(&a.floats)
    }
}
/// STRING: the raw bytes (ONNX does not promise UTF-8).
impl<'a> AttrValue<'a> for &'a [u8] {
    const TYPE: AttributeType = AttributeType::String;
    fn read(a: &'a AttributeProto) -> Option<Self> {
        Some(&a.s)
    }
}
impl<'a> AttrValue<'a> for &'a [Vec<u8>] {
    const TYPE: AttributeType = AttributeType::Strings;
    fn read(a: &'a AttributeProto) -> Option<Self> {
        Some(&a.strings)
    }
}
impl<'a> AttrValue<'a> for &'a TensorProto {
    const TYPE: AttributeType = AttributeType::Tensor;
    fn read(a: &'a AttributeProto) -> Option<Self> {
        a.t.as_ref()
    }
}
impl<'a> AttrValue<'a> for &'a SparseTensorProto {
    const TYPE: AttributeType = AttributeType::SparseTensor;
    fn read(a: &'a AttributeProto) -> Option<Self> {
        a.sparse_tensor.as_ref()
    }
}
impl<'a> AttrValue<'a> for &'a GraphProto {
    const TYPE: AttributeType = AttributeType::Graph;
    fn read(a: &'a AttributeProto) -> Option<Self> {
        a.g.as_ref()
    }
}

impl<'a> Node<'a> {
    pub fn new(proto: &'a NodeProto, index: usize) -> Self {
        Node { proto, index }
    }

    /// The node's name, or `#index` when unnamed, safe to print.
    pub fn label(&self) -> String {
        display_name(&node_label(self.proto, self.index))
    }

    /// An error about attribute `attr` of this node.
    pub fn error(&self, attr: &str, problem: AttrProblem) -> AttrError {
        AttrError {
            node: self.label(),
            op: display_name(&self.proto.op_type),
            attr: display_name(attr),
            problem,
        }
    }

    /// A value of `attr` that the operator does not allow (`why` says what it should be).
    pub fn bad_value(&self, attr: &str, why: impl Into<String>) -> AttrError {
        self.error(attr, AttrProblem::BadValue(why.into()))
    }

    /// The attribute named `name`, whatever its type; an error if it is given twice.
    pub fn find(&self, name: &str) -> Result<Option<&'a AttributeProto>, AttrError> {
        let mut it = self.proto.attribute.iter().filter(|a| a.name == name);
        let first = it.next();
        if first.is_some() && it.next().is_some() {
            return Err(self.error(name, AttrProblem::Duplicate));
        }
        Ok(first)
    }

    /// Check that `a` (an attribute of this node) is declared as `T`'s type, and read it.
    pub fn typed<T: AttrValue<'a>>(&self, a: &'a AttributeProto) -> Result<T, AttrError> {
        self.declared(a, T::TYPE)?;
        T::read(a).ok_or_else(|| self.error(&a.name, AttrProblem::Empty(T::TYPE)))
    }

    /// Attribute `name` as `T`; None when absent.
    pub fn get<T: AttrValue<'a>>(&self, name: &str) -> Result<Option<T>, AttrError> {
        self.find(name)?.map(|a| self.typed(a)).transpose()
    }

    /// Attribute `name` as `T`, or the operator's default when absent.
    pub fn get_or<T: AttrValue<'a>>(&self, name: &str, default: T) -> Result<T, AttrError> {
        Ok(self.get(name)?.unwrap_or(default))
    }

    /// Attribute `name` as `T`, which the operator requires.
    pub fn require<T: AttrValue<'a>>(&self, name: &str) -> Result<T, AttrError> {
        self.get(name)?
            .ok_or_else(|| self.error(name, AttrProblem::Missing))
    }

    /// The subgraphs of this node (If/Loop/Scan bodies) with the attribute holding each; a graph
    /// in an attribute not declared GRAPH (or GRAPHS, for a list) is refused.
    pub fn subgraphs(&self) -> Result<Vec<(&'a AttributeProto, &'a GraphProto)>, AttrError> {
        let mut out = Vec::new();
        for a in &self.proto.attribute {
            if let Some(g) = &a.g {
                self.declared(a, AttributeType::Graph)?;
                out.push((a, g));
            }
            if !a.graphs.is_empty() {
                self.declared(a, AttributeType::Graphs)?;
                out.extend(a.graphs.iter().map(|g| (a, g)));
            }
        }
        Ok(out)
    }

    fn declared(&self, a: &AttributeProto, ty: AttributeType) -> Result<(), AttrError> {
        if a.r#type == ty as i32 {
            Ok(())
        } else {
            Err(self.error(
                &a.name,
                AttrProblem::WrongType {
                    expected: ty,
                    found: a.r#type,
                },
            ))
        }
    }

    /// INT attribute `name` (default `default`), refused below `min`.
    pub fn int_at_least(&self, name: &str, default: i64, min: i64) -> Result<i64, AttrError> {
        let v = self.get_or(name, default)?;
        if v < min {
            return Err(self.bad_value(name, format!("expected an integer ≥ {min}, found {v}")));
        }
        Ok(v)
    }
}

#[cfg(test)]
#[path = "attr_tests.rs"]
mod tests;
