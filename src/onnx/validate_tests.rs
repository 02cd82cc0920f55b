use super::*;
use tailwatch_testkit::{Graph, a_graph};

#[test]
fn diamonds_and_unsorted_graphs_are_not_cycles() {
    // a → (b, c) → d, listed out of order: valid, only unsorted.
    let g = Graph::new("g")
        .input("x")
        .node("Add", "d", &["b", "c"], &["d"])
        .node("Relu", "b", &["a"], &["b"])
        .node("Relu", "c", &["a"], &["c"])
        .node("Relu", "a", &["x"], &["a"])
        .build();
    assert_eq!(acyclic(&g), Ok(()));
    let g = Graph::new("g")
        .node("Relu", "p", &["q"], &["p"])
        .node("Relu", "q", &["p"], &["q"])
        .node("Relu", "r", &["x"], &["r"])
        .build();
    assert!(acyclic(&g).unwrap_err().contains("cycle"));
}

#[test]
fn subgraph_reads_are_dependencies() {
    let body = Graph::new("body")
        .node("Relu", "", &["late"], &["z"])
        .build();
    let g = Graph::new("g")
        .input("c")
        .node_with(
            "If",
            "if",
            &["c"],
            &["y"],
            vec![a_graph("then_branch", body)],
        )
        .node("Relu", "late", &["y"], &["late"])
        .build();
    assert!(acyclic(&g).is_err());
}

#[test]
fn initializers_listed_as_inputs_are_one_definition() {
    let mut g = Graph::new("g")
        .input("w")
        .init(tailwatch_testkit::f32_raw("w", &[1], &[1.0]))
        .build();
    assert!(definitions(&g).is_ok());
    g.node.push(tract_onnx::pb::NodeProto {
        output: vec!["w".into()],
        ..Default::default()
    });
    assert!(definitions(&g).unwrap_err().contains("more than once"));
}
