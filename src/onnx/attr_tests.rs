use super::*;
use tailwatch_testkit::{a_float, a_int, a_ints, a_tensor, f32_raw};

fn node(name: &str, attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        name: name.into(),
        op_type: "Conv".into(),
        attribute: attrs,
        ..Default::default()
    }
}

#[test]
fn the_declared_type_must_be_the_one_asked_for() {
    let n = node("c1", vec![a_float("group", 2.0), a_int("axis", -1)]);
    let n = Node::new(&n, 3);
    let e = n.get::<i64>("group").unwrap_err();
    assert_eq!(
        e.problem,
        AttrProblem::WrongType {
            expected: AttributeType::Int,
            found: AttributeType::Float as i32
        }
    );
    assert_eq!(
        e.to_string(),
        "node c1 (Conv): attribute group: expected type INT, found FLOAT"
    );
    assert_eq!(n.get::<i64>("axis").unwrap(), Some(-1));
    assert_eq!(n.get::<f32>("group").unwrap(), Some(2.0));
    // A list is not a scalar, and a scalar is not a list.
    assert!(n.get::<&[i64]>("axis").is_err());
}

#[test]
fn absent_attributes_take_the_default_or_fail_when_required() {
    let n = node("", vec![]);
    let n = Node::new(&n, 7);
    assert_eq!(n.get::<i64>("group").unwrap(), None);
    assert_eq!(n.get_or("group", 1i64).unwrap(), 1);
    let e = n.require::<&[i64]>("perm").unwrap_err();
    assert_eq!(e.problem, AttrProblem::Missing);
    // Unnamed nodes are named by their index.
    assert_eq!(
        e.to_string(),
        "node #7 (Conv): attribute perm: required, but the node has none"
    );
}

#[test]
fn undefined_unknown_duplicate_and_empty_attributes_are_refused() {
    let mut untyped = a_int("group", 2);
    untyped.r#type = 0;
    let mut unknown = a_int("axis", 1);
    unknown.r#type = 99;
    let mut empty = a_tensor("value", f32_raw("v", &[1], &[1.0]));
    empty.t = None;
    let n = node(
        "n",
        vec![
            untyped,
            unknown,
            empty,
            a_ints("pads", &[0]),
            a_ints("pads", &[1]),
        ],
    );
    let n = Node::new(&n, 0);
    let msg = |r: Result<Option<i64>, AttrError>| r.unwrap_err().to_string();
    assert!(msg(n.get("group")).ends_with("expected type INT, found UNDEFINED"));
    assert!(msg(n.get("axis")).ends_with("expected type INT, found unknown type 99"));
    assert_eq!(
        n.get::<&TensorProto>("value").unwrap_err().problem,
        AttrProblem::Empty(AttributeType::Tensor)
    );
    assert_eq!(
        n.get::<&[i64]>("pads").unwrap_err().problem,
        AttrProblem::Duplicate
    );
}

#[test]
fn out_of_range_values_are_refused_with_the_same_naming() {
    let n = node("g", vec![a_int("group", 0)]);
    let n = Node::new(&n, 0);
    let e = n.int_at_least("group", 1, 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "node g (Conv): attribute group: expected an integer ≥ 1, found 0"
    );
    let n = node("g", vec![a_int("group", 4)]);
    assert_eq!(Node::new(&n, 0).int_at_least("group", 1, 1).unwrap(), 4);
    let n = node("g", vec![]);
    assert_eq!(Node::new(&n, 0).int_at_least("group", 1, 1).unwrap(), 1);
}

#[test]
fn hostile_names_are_escaped() {
    let mut n = node("a\nb", vec![a_float("gr\u{7}oup", 1.0)]);
    n.op_type = "Co\0nv".into();
    let n = Node::new(&n, 0);
    let e = n.get::<i64>("gr\u{7}oup").unwrap_err().to_string();
    assert!(
        e.starts_with("node a\\nb (Co\\0nv): attribute gr\\u{7}oup:"),
        "{e}"
    );
}
