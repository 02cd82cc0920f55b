//! Constant leaves: the value attributes of `Constant` nodes (§3.1), read with their declared
//! type checked, and the shape and dtype of any leaf without decoding it.

use tract_onnx::pb::{SparseTensorProto, TensorProto};

use super::Leaf;
use super::LeafSrc;
use crate::error::display_name;
use crate::onnx::Model;
use crate::onnx::attr::{AttrError, Node};
use crate::onnx::dtype::id;
use crate::onnx::tensor::{self, Dense, TensorError};

/// The value of a `Constant` node's non-tensor attribute.
#[derive(Debug)]
pub enum ConstValue<'m> {
    Float(f32),
    Floats(&'m [f32]),
    Int(i64),
    Ints(&'m [i64]),
    Sparse(&'m SparseTensorProto),
    /// An attribute name `Constant` does not define: unsupported when evaluated.
    Other(&'m str),
}

/// The leaf a `Constant` node defines: None when it has no attribute or holds strings (not a
/// number, so never a weight). Its first attribute is read as the type its name calls for.
pub fn constant<'m>(node: Node<'m>) -> Result<Option<LeafSrc<'m>>, AttrError> {
    let Some(a) = node.proto.attribute.first() else {
        return Ok(None);
    };
    let v = match a.name.as_str() {
        "value" => return Ok(Some(LeafSrc::ConstTensor(node.typed::<&TensorProto>(a)?))),
        "value_string" => {
            node.typed::<&[u8]>(a)?;
            return Ok(None);
        }
        "value_strings" => {
            node.typed::<&[Vec<u8>]>(a)?;
            return Ok(None);
        }
        "sparse_value" => ConstValue::Sparse(node.typed(a)?),
        "value_float" => ConstValue::Float(node.typed(a)?),
        "value_floats" => ConstValue::Floats(node.typed(a)?),
        "value_int" => ConstValue::Int(node.typed(a)?),
        "value_ints" => ConstValue::Ints(node.typed(a)?),
        other => ConstValue::Other(other),
    };
    Ok(Some(LeafSrc::ConstAttr(a, v)))
}

/// A Constant attribute's value as a tensor.
pub(super) fn const_value(model: &Model, v: &ConstValue<'_>) -> Result<Dense, TensorError> {
    let (shape, data, dtype) = match v {
        ConstValue::Float(f) => (vec![], vec![*f as f64], id::FLOAT),
        ConstValue::Floats(f) => (
            vec![f.len()],
            f.iter().map(|&f| f as f64).collect(),
            id::FLOAT,
        ),
        ConstValue::Int(i) => (vec![], vec![*i as f64], id::INT64),
        ConstValue::Ints(v) => (
            vec![v.len()],
            v.iter().map(|&i| i as f64).collect(),
            id::INT64,
        ),
        ConstValue::Sparse(s) => return tensor::decode_sparse(model, s),
        ConstValue::Other(name) => {
            return Err(TensorError::Unsupported(format!(
                "Constant attribute {}",
                display_name(name)
            )));
        }
    };
    Ok(Dense { shape, data, dtype })
}

/// The stored shape of a leaf, without decoding its values.
pub fn leaf_shape(l: &Leaf<'_>, model: &Model) -> Result<Vec<usize>, TensorError> {
    let lim = model.limits();
    match &l.src {
        LeafSrc::Init(t) | LeafSrc::ConstTensor(t) => Ok(tensor::shape_of(&t.dims, lim)?.0),
        LeafSrc::Sparse(s) | LeafSrc::ConstAttr(_, ConstValue::Sparse(s)) => {
            Ok(tensor::shape_of(&s.dims, lim)?.0)
        }
        LeafSrc::ConstAttr(_, v) => Ok(match v {
            ConstValue::Floats(f) => vec![f.len()],
            ConstValue::Ints(i) => vec![i.len()],
            _ => vec![],
        }),
    }
}

pub fn leaf_dtype(l: &Leaf<'_>) -> i32 {
    match &l.src {
        LeafSrc::Init(t) | LeafSrc::ConstTensor(t) => t.data_type,
        LeafSrc::Sparse(s) | LeafSrc::ConstAttr(_, ConstValue::Sparse(s)) => {
            s.values.as_ref().map_or(0, |v| v.data_type)
        }
        LeafSrc::ConstAttr(_, v) => match v {
            ConstValue::Float(_) | ConstValue::Floats(_) => id::FLOAT,
            ConstValue::Int(_) | ConstValue::Ints(_) => id::INT64,
            _ => 0,
        },
    }
}
