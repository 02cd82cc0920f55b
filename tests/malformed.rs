//! Hostile and malformed inputs exit 2 with a message naming the file, the problem and its class
//! (onnx-weights.md §8.1: one fixture per attack pattern). Each fixture asserts the exact class.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tailwatch_testkit::*;
use tract_onnx::pb::{GraphProto, ModelProto};

fn describe(p: &Path) -> (i32, String) {
    let out = Command::cargo_bin("tailwatch")
        .unwrap()
        .args(["describe", p.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Rejected with exit 2, the file named, `needle` in the message and exactly class `kind`.
fn assert_rejected(p: &Path, kind: &str, needle: &str) {
    let (code, err) = describe(p);
    assert_eq!(code, 2, "{needle}: {err}");
    assert!(err.starts_with("tailwatch: error: "), "{err}");
    assert!(
        err.contains(p.file_name().unwrap().to_str().unwrap()),
        "names the file: {err}"
    );
    assert!(err.contains(needle), "expected {needle:?} in {err}");
    assert!(
        err.trim_end().ends_with(&format!("[{kind}]")),
        "expected class {kind}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

fn model_with(t: tract_onnx::pb::TensorProto) -> ModelProto {
    Graph::new("g")
        .input("x")
        .init(t)
        .node("MatMul", "", &["x", "w"], &["y"])
        .model()
}

fn in_dir(dir: &Path, m: &ModelProto) -> PathBuf {
    write(dir, "m.onnx", m).unwrap()
}

#[test]
fn truncated_random_and_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = encode(&model_with(f32_raw("w", &[4, 4], &iota(16))));
    let p = dir.path().join("trunc.onnx");
    std::fs::write(&p, &good[..good.len() - 7]).unwrap();
    assert_rejected(&p, "truncated", "not a valid ONNX model");
    let p = dir.path().join("random.onnx");
    std::fs::write(&p, tailwatch_testkit::TestRng::new(1).bytes(4096)).unwrap();
    assert_rejected(&p, "not_onnx", "not a valid ONNX model");
    let p = dir.path().join("empty.onnx");
    std::fs::write(&p, b"").unwrap();
    assert_rejected(&p, "not_onnx", "no graph");
    let (code, err) = describe(&dir.path().join("missing.onnx"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("No such file"), "{err}");
}

#[test]
fn bad_dims_and_payload_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let p = in_dir(dir.path(), &model_with(f32_raw("w", &[-2, 2], &iota(4))));
    assert_rejected(&p, "negative_dim", "negative dimension -2");
    let p = in_dir(
        dir.path(),
        &model_with(f32_raw("w", &[i64::MAX, 4], &iota(4))),
    );
    assert_rejected(&p, "dim_overflow", "more than");
    let p = in_dir(dir.path(), &model_with(f32_raw("w", &[1_000_000], &[1.0])));
    assert_rejected(
        &p,
        "length_mismatch",
        "raw_data has 4 bytes, dims and dtype float need 4000000",
    );
    let p = in_dir(
        dir.path(),
        &model_with(f32_typed("w", &[2, 2], &[1.0, 2.0, 3.0])),
    );
    assert_rejected(
        &p,
        "length_mismatch",
        "float_data has 3 entries, dims need 4",
    );
    let mut both = f32_raw("w", &[1], &[1.0]);
    both.float_data = vec![1.0];
    let p = in_dir(dir.path(), &model_with(both));
    assert_rejected(&p, "bad_payload", "more than one payload");
    // STRING with raw_data panics tract's loader; here it is a clean error.
    let p = in_dir(dir.path(), &model_with(raw("w", 8, &[1], vec![b'a'])));
    assert_rejected(&p, "bad_payload", "STRING tensor cannot use raw_data");
    let p = in_dir(dir.path(), &model_with(f32_raw("w", &[1; 17], &[1.0])));
    assert_rejected(&p, "too_large", "rank 17 exceeds the limit 16");
}

fn ext_model(location: &str, offset: &str, length: &str) -> ModelProto {
    model_with(external(
        "w",
        1,
        &[2, 2],
        &[
            ("location", location),
            ("offset", offset),
            ("length", length),
        ],
    ))
}

#[test]
fn external_data_outside_the_directory_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("model");
    std::fs::create_dir(&dir).unwrap();
    let secret = root.path().join("secret.bin");
    std::fs::write(&secret, [0u8; 64]).unwrap();
    std::fs::write(dir.join("ok.bin"), [0u8; 16]).unwrap();

    let p = in_dir(&dir, &ext_model("../secret.bin", "0", "16"));
    assert_rejected(
        &p,
        "path_traversal",
        "leaves or refers to the model directory",
    );
    let p = in_dir(&dir, &ext_model("sub/../../secret.bin", "0", "16"));
    assert_rejected(
        &p,
        "path_traversal",
        "leaves or refers to the model directory",
    );
    let p = in_dir(&dir, &ext_model(secret.to_str().unwrap(), "0", "16"));
    assert_rejected(&p, "path_traversal", "is absolute");
    let p = in_dir(&dir, &ext_model("C:\\secret.bin", "0", "16"));
    assert_rejected(&p, "path_traversal", "drive or backslash");

    std::os::unix::fs::symlink(&secret, dir.join("link.bin")).unwrap();
    let p = in_dir(&dir, &ext_model("link.bin", "0", "16"));
    assert_rejected(&p, "symlink", "symlink");
    std::os::unix::fs::symlink(root.path(), dir.join("up")).unwrap();
    let p = in_dir(&dir, &ext_model("up/secret.bin", "0", "16"));
    assert_rejected(&p, "symlink", "symlink");

    std::fs::hard_link(&secret, dir.join("hard.bin")).unwrap();
    let p = in_dir(&dir, &ext_model("hard.bin", "0", "16"));
    assert_rejected(&p, "hardlink", "hard links");
}

#[test]
fn external_data_bounds_and_keys_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("w.bin"), [0u8; 20]).unwrap();
    let p = in_dir(dir.path(), &ext_model("nope.bin", "0", "16"));
    assert_rejected(&p, "external_file", "No such file");
    let p = in_dir(dir.path(), &ext_model("w.bin", "8", "16"));
    assert_rejected(&p, "out_of_bounds", "past the end of the file (20 bytes)");
    let p = in_dir(
        dir.path(),
        &ext_model("w.bin", "18446744073709551615", "16"),
    );
    assert_rejected(&p, "out_of_bounds", "past the end of the file");
    let p = in_dir(dir.path(), &ext_model("w.bin", "-1", "16"));
    assert_rejected(&p, "bad_external_key", "not an unsigned decimal");
    let p = in_dir(dir.path(), &ext_model("w.bin", "0", "99999999999999"));
    assert_rejected(&p, "length_mismatch", "differs from the payload size 16");
    let p = in_dir(
        dir.path(),
        &model_with(external(
            "w",
            1,
            &[2, 2],
            &[("location", "w.bin"), ("__class__", "x")],
        )),
    );
    assert_rejected(&p, "bad_external_key", "unknown external_data key");
    // The valid reference still works.
    let (code, err) = describe(&in_dir(dir.path(), &ext_model("w.bin", "4", "16")));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn structural_problems() {
    let dir = tempfile::tempdir().unwrap();
    // A value defined twice in one graph (onnx-weights.md §3.4): reported, not guessed.
    let m = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[2, 2], &iota(4)))
        .node("Identity", "", &["x"], &["w"])
        .model();
    assert_rejected(
        &in_dir(dir.path(), &m),
        "duplicate_name",
        "defined more than once",
    );
    // Subgraphs nested deeper than 16.
    let mut g = Graph::new("leaf").build();
    for i in 0..18 {
        g = Graph::new(&format!("g{i}"))
            .node_with("Loop", "l", &[], &[], vec![a_graph("body", g)])
            .build();
    }
    let m = Graph { g }.model();
    assert_rejected(&in_dir(dir.path(), &m), "too_deep", "nested deeper than 16");
    // Cycle between two foldable nodes: no execution order exists, so the file is refused
    // (before this check it was resolved as a run-time operand; either way no hang).
    let m = Graph::new("g")
        .input("x")
        .node("Identity", "", &["b"], &["a"])
        .node("Identity", "", &["a"], &["b"])
        .node("MatMul", "", &["x", "a"], &["y"])
        .model();
    assert_rejected(&in_dir(dir.path(), &m), "cycle", "nodes form a cycle");
    // A self-loop, and a cycle closed through a subgraph's outer-scope read.
    let m = Graph::new("g")
        .input("x")
        .node("MatMul", "self", &["x", "y"], &["y"])
        .model();
    assert_rejected(&in_dir(dir.path(), &m), "cycle", "node self");
    let body = Graph::new("body")
        .node("Identity", "", &["b"], &["inner"])
        .build();
    let m = Graph::new("g")
        .input("c")
        .node_with(
            "If",
            "if",
            &["c"],
            &["a"],
            vec![a_graph("then_branch", body)],
        )
        .node("Identity", "", &["a"], &["b"])
        .model();
    assert_rejected(&in_dir(dir.path(), &m), "cycle", "nodes form a cycle");
    // A node naming a tensor nothing defines (not an input, initializer or node output).
    let m = Graph::new("g")
        .input("x")
        .node("MatMul", "mm", &["x", "ghost"], &["y"])
        .model();
    assert_rejected(
        &in_dir(dir.path(), &m),
        "missing_tensor",
        "node mm reads \"ghost\", which nothing defines",
    );
    // The same inside a subgraph; an outer-scope value read from a subgraph is fine.
    let body = Graph::new("body")
        .node("MatMul", "inner", &["x", "w", "nope"], &["z"])
        .build();
    let m = if_model(body, true);
    assert_rejected(
        &in_dir(dir.path(), &m),
        "missing_tensor",
        "in subgraph if/then_branch",
    );
    // Duplicate initializer names, and a duplicate inside a subgraph.
    let m = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[2, 2], &iota(4)))
        .init(f32_raw("w", &[2, 2], &iota(4)))
        .node("MatMul", "", &["x", "w"], &["y"])
        .model();
    assert_rejected(
        &in_dir(dir.path(), &m),
        "duplicate_name",
        "\"w\" is defined more than once",
    );
    let body = Graph::new("body")
        .node("Identity", "", &["x"], &["z"])
        .node("Identity", "", &["x"], &["z"])
        .build();
    let m = if_model(body, false);
    assert_rejected(
        &in_dir(dir.path(), &m),
        "duplicate_name",
        "in subgraph if/then_branch",
    );
    // Bad options exit 2 as well.
    let out = Command::cargo_bin("tailwatch")
        .unwrap()
        .args(["describe", "x.onnx", "--set", "nope=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown option"));
}

#[test]
fn json_describe_reports_the_class_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let p = in_dir(dir.path(), &model_with(f32_raw("w", &[-2, 2], &iota(4))));
    let out = Command::cargo_bin("tailwatch")
        .unwrap()
        .args(["describe", p.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["class"], "negative_dim");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("negative dimension -2")
    );
}

#[test]
fn not_a_model_proto_and_protobuf_bombs() {
    let dir = tempfile::tempdir().unwrap();
    // A GraphProto is valid protobuf but not a ModelProto (field 1 has the wrong wire type).
    let g = Graph::new("g")
        .input("x")
        .node("Relu", "r", &["x"], &["y"])
        .build();
    let p = dir.path().join("graph.onnx");
    std::fs::write(&p, prost::Message::encode_to_vec(&g)).unwrap();
    assert_rejected(&p, "not_onnx", "not a valid ONNX model");
    // A TensorProto: its packed dims (field 1) clash with ModelProto.ir_version.
    let p = dir.path().join("tensor.onnx");
    std::fs::write(
        &p,
        prost::Message::encode_to_vec(&f32_raw("w", &[2], &[1.0, 2.0])),
    )
    .unwrap();
    assert_rejected(&p, "not_onnx", "ir_version: invalid wire type");
    // Protobuf nesting past the decoder's recursion limit (100): nested Loop bodies, 3 message
    // levels each, built as raw bytes so that no encoder recursion is involved.
    let mut graph: Vec<u8> = Vec::new();
    for _ in 0..60 {
        let attr = [field(1, b"body"), field(6, &graph), vec![0xa0, 0x01, 5]].concat();
        let node = [field(4, b"Loop"), field(5, &attr)].concat();
        graph = field(1, &node);
    }
    let model = [vec![0x08, 8], field(7, &graph)].concat();
    let p = dir.path().join("deep.onnx");
    std::fs::write(&p, model).unwrap();
    assert_rejected(&p, "too_deep", "recursion limit");
    // A directory is not a model file.
    let sub = dir.path().join("dir.onnx");
    std::fs::create_dir(&sub).unwrap();
    let (code, err) = describe(&sub);
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A length-delimited protobuf field (wire type 2).
fn field(num: u8, bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![(num << 3) | 2];
    let mut n = bytes.len();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            v.push(b);
            break;
        }
        v.push(b | 0x80);
    }
    v.extend_from_slice(bytes);
    v
}

#[test]
fn every_external_reference_takes_the_same_checks() {
    // Sparse initializers and Constant attributes in subgraphs (the ORT sparse-initializer
    // bypass): the same path rules apply.
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("model");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(root.path().join("secret.bin"), [0u8; 64]).unwrap();
    let ext = |loc: &str| {
        external(
            "v",
            1,
            &[2],
            &[("location", loc), ("offset", "0"), ("length", "8")],
        )
    };
    let mut m = Graph::new("g").input("x").model();
    m.graph
        .as_mut()
        .unwrap()
        .sparse_initializer
        .push(tract_onnx::pb::SparseTensorProto {
            values: Some(ext("../secret.bin")),
            indices: Some(i64_typed("i", &[2], &[0, 1])),
            dims: vec![4],
        });
    assert_rejected(
        &in_dir(&dir, &m),
        "path_traversal",
        "leaves or refers to the model directory",
    );
    let body = Graph::new("body").constant("k", ext("/etc/passwd")).build();
    let m = Graph::new("g")
        .input("c")
        .node_with(
            "If",
            "if",
            &["c"],
            &["y"],
            vec![a_graph("then_branch", body)],
        )
        .model();
    assert_rejected(&in_dir(&dir, &m), "path_traversal", "is absolute");
}

#[test]
fn budgets_are_checked_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    // Per model: 64×64 f32 = 16 KiB of declared data against a 4 KiB budget.
    let p = in_dir(
        dir.path(),
        &model_with(f32_raw("w", &[64, 64], &[0.5; 4096])),
    );
    let out = Command::cargo_bin("tailwatch")
        .unwrap()
        .args(["describe", p.to_str().unwrap(), "--max-model-bytes", "4096"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("16384 bytes, over the per-model budget of 4096"),
        "{err}"
    );
    assert!(err.trim_end().ends_with("[over_budget]"), "{err}");
    // External data counts too: a petabyte-scale declared length is refused before any read.
    std::fs::write(dir.path().join("w.bin"), [0u8; 16]).unwrap();
    let p = in_dir(
        dir.path(),
        &model_with(external(
            "w",
            1,
            &[1 << 24, 1 << 24],
            &[("location", "w.bin"), ("length", "1125899906842624")],
        )),
    );
    assert_rejected(&p, "dim_overflow", "hold more than 2147483648 elements");
}

/// Run `analyze`; returns (exit code, stderr, details.csv as (name, status) pairs).
fn analyze(p: &Path, extra: &[&str]) -> (i32, String, Vec<(String, String)>) {
    let out_dir = p.parent().unwrap().join("out");
    let out = Command::cargo_bin("tailwatch")
        .unwrap()
        .args([
            "analyze",
            p.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ])
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut rows = Vec::new();
    if let Ok(mut r) = csv::Reader::from_path(out_dir.join("details.csv")) {
        let h = r.headers().unwrap().clone();
        let col = |n: &str| h.iter().position(|c| c == n).unwrap();
        let (name, status) = (col("name"), col("status"));
        for rec in r.records() {
            let rec = rec.unwrap();
            rows.push((rec[name].to_string(), rec[status].to_string()));
        }
    }
    (out.status.code().unwrap_or(-1), err, rows)
}

#[test]
fn nan_inf_and_zero_weights_fail_the_layer_not_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut nan = noise(64 * 64, 11);
    nan[5] = f32::NAN;
    let mut inf = noise(64 * 64, 12);
    inf[7] = f32::NEG_INFINITY;
    let m = Graph::new("g")
        .input("x")
        .init(f32_raw("w_nan", &[64, 64], &nan))
        .init(f32_raw("w_inf", &[64, 64], &inf))
        .init(f32_raw("w_zero", &[64, 64], &[0.0; 64 * 64]))
        .init(f32_raw("w_good", &[64, 64], &noise(64 * 64, 13)))
        .node("MatMul", "a", &["x", "w_nan"], &["y1"])
        .node("MatMul", "b", &["y1", "w_inf"], &["y2"])
        .node("MatMul", "c", &["y2", "w_zero"], &["y3"])
        .node("MatMul", "d", &["y3", "w_good"], &["y4"])
        .model();
    let p = in_dir(dir.path(), &m);
    let (code, err, rows) = analyze(&p, &[]);
    assert_eq!(code, 0, "{err}");
    let status = |n: &str| rows.iter().find(|r| r.0 == n).map(|r| r.1.as_str());
    assert_eq!(status("w_nan"), Some("invalid_values"), "{rows:?}");
    assert_eq!(status("w_inf"), Some("invalid_values"), "{rows:?}");
    assert_eq!(status("w_zero"), Some("degenerate"), "{rows:?}");
    assert_eq!(status("w_good"), Some("success"), "{rows:?}");
    // A per-layer budget below one 64×64 layer (32 KiB copy + 32 KiB Gram) fails every layer,
    // still without failing the run.
    let (code, err, rows) = analyze(&p, &["--max-layer-bytes", "60000"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().all(|r| r.1 == "over_budget"), "{rows:?}");
}

/// A model whose only node is `If(c)` with `body` as then-branch; `with_w` adds the initializer
/// `w` [2, 2] at the top level (for outer-scope references).
fn if_model(body: GraphProto, with_w: bool) -> ModelProto {
    let mut g = Graph::new("g").input("x").input("c");
    if with_w {
        g = g.init(f32_raw("w", &[2, 2], &iota(4)));
    }
    g.node_with(
        "If",
        "if",
        &["c"],
        &["y"],
        vec![a_graph("then_branch", body)],
    )
    .model()
}

/// `x → node(op, w)` with weight `w` [4, 2, 3, 3] and the given attributes.
fn conv_with(op: &str, attrs: Vec<tract_onnx::pb::AttributeProto>) -> ModelProto {
    Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[4, 2, 3, 3], &iota(72)))
        .node_with(op, "conv", &["x", "w"], &["y"], attrs)
        .model()
}

fn gemm_with(attrs: Vec<tract_onnx::pb::AttributeProto>) -> ModelProto {
    Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[3, 2], &iota(6)))
        .node_with("Gemm", "fc", &["x", "w"], &["y"], attrs)
        .model()
}

#[test]
fn mistyped_consumer_attributes_name_node_op_and_attribute() {
    let dir = tempfile::tempdir().unwrap();
    let check = |m: &ModelProto, needle: &str| {
        assert_rejected(&in_dir(dir.path(), m), "bad_attribute", needle);
    };
    // A FLOAT group used to read as 0 and become 1; an INTS transB as 0 (not transposed).
    check(
        &conv_with("Conv", vec![a_float("group", 2.0)]),
        "node conv (Conv): attribute group: expected type INT, found FLOAT",
    );
    check(
        &gemm_with(vec![a_ints("transB", &[1])]),
        "node fc (Gemm): attribute transB: expected type INT, found INTS",
    );
    check(
        &gemm_with(vec![a_int("alpha", 2)]),
        "node fc (Gemm): attribute alpha: expected type FLOAT, found INT",
    );
    let mut untyped = a_int("transA", 1);
    untyped.r#type = 0;
    check(
        &gemm_with(vec![untyped]),
        "node fc (Gemm): attribute transA: expected type INT, found UNDEFINED",
    );
    check(
        &gemm_with(vec![a_int("transB", 1), a_int("transB", 0)]),
        "node fc (Gemm): attribute transB: given more than once",
    );
    // Out-of-range values, for every conv-like consumer.
    for op in ["Conv", "ConvTranspose"] {
        for g in [0, -3] {
            check(
                &conv_with(op, vec![a_int("group", g)]),
                &format!("node conv ({op}): attribute group: expected an integer ≥ 1, found {g}"),
            );
        }
    }
    // An unnamed node is named by its index; a node in a subgraph says where it is.
    let m = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[4, 2, 3, 3], &iota(72)))
        .node("Relu", "r", &["x"], &["x1"])
        .node_with(
            "Conv",
            "",
            &["x1", "w"],
            &["y"],
            vec![a_float("group", 1.0)],
        )
        .model();
    check(&m, "node #1 (Conv): attribute group: expected type INT");
    let body = Graph::new("body")
        .node_with(
            "Conv",
            "inner",
            &["x", "w"],
            &["z"],
            vec![a_ints("group", &[2])],
        )
        .build();
    check(
        &if_model(body, true),
        "node inner (Conv): attribute group: expected type INT, found INTS in subgraph if/then_branch",
    );
    // A subgraph held by an attribute not declared GRAPH.
    let mut branch = a_graph("then_branch", Graph::new("body").build());
    branch.r#type = 2;
    let m = Graph::new("g")
        .input("c")
        .node_with("If", "if", &["c"], &["y"], vec![branch])
        .model();
    check(
        &m,
        "node if (If): attribute then_branch: expected type GRAPH, found INT",
    );
    // BatchNormalization after a conv: its epsilon is read for fold_bn.
    let m = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[2, 1, 1, 1], &[1.0, 2.0]))
        .init(f32_raw("s", &[2], &[1.0, 1.0]))
        .node("Conv", "conv", &["x", "w"], &["c"])
        .node_with(
            "BatchNormalization",
            "bn",
            &["c", "s", "s", "s", "s"],
            &["y"],
            vec![a_ints("epsilon", &[1])],
        )
        .model();
    check(
        &m,
        "node bn (BatchNormalization): attribute epsilon: expected type FLOAT, found INTS",
    );
    // analyze fails the same way (exit 2, nothing written as if the model were fine).
    let p = in_dir(dir.path(), &conv_with("Conv", vec![a_float("group", 2.0)]));
    let (code, err, rows) = analyze(&p, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("attribute group: expected type INT, found FLOAT [bad_attribute]"),
        "{err}"
    );
    assert!(rows.is_empty(), "{rows:?}");
    // The ONNX defaults still apply when the attribute is absent, and valid values pass.
    for m in [
        conv_with("Conv", vec![]),
        conv_with("Conv", vec![a_int("group", 2)]),
        gemm_with(vec![]),
        gemm_with(vec![a_int("transB", 1), a_float("alpha", 0.5)]),
    ] {
        let (code, err) = describe(&in_dir(dir.path(), &m));
        assert_eq!(code, 0, "{err}");
    }
}

#[test]
fn fold_op_attributes_are_typed_and_range_checked() {
    let dir = tempfile::tempdir().unwrap();
    // w [2, 3] → op → MatMul.
    let chain = |op: &str, attrs: Vec<tract_onnx::pb::AttributeProto>| {
        Graph::new("g")
            .input("x")
            .init(f32_raw("w", &[2, 3], &iota(6)))
            .node_with(op, "f", &["w"], &["wf"], attrs)
            .node("MatMul", "mm", &["x", "wf"], &["y"])
            .model()
    };
    let check = |m: &ModelProto, needle: &str| {
        let p = in_dir(dir.path(), m);
        assert_rejected(&p, "bad_attribute", needle);
        // The consumer whose weight was being folded is named too.
        let (_, err) = describe(&p);
        assert!(
            err.contains("(folding input 1 of node mm (MatMul))"),
            "{err}"
        );
    };
    check(
        &chain("Transpose", vec![a_floats("perm", &[1.0, 0.0])]),
        "node f (Transpose): attribute perm: expected type INTS, found FLOATS",
    );
    check(
        &chain("Transpose", vec![a_ints("perm", &[0, 0])]),
        "node f (Transpose): attribute perm: [0, 0] is not a permutation of the 2 axes",
    );
    check(
        &chain("Flatten", vec![a_int("axis", 3)]),
        "node f (Flatten): attribute axis: 3 is out of range for rank 2",
    );
    check(
        &chain("Cast", vec![]),
        "node f (Cast): attribute to: required, but the node has none",
    );
    check(
        &chain("Cast", vec![a_float("to", 1.0)]),
        "node f (Cast): attribute to: expected type INT, found FLOAT",
    );
    let m = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[2, 3], &iota(6)))
        .init(i64_typed("i", &[2], &[1, 0]))
        .node_with("Gather", "f", &["w", "i"], &["wf"], vec![a_int("axis", -3)])
        .node("MatMul", "mm", &["x", "wf"], &["y"])
        .model();
    check(
        &m,
        "node f (Gather): attribute axis: axis -3 is out of range for rank 2",
    );
    let m = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[2, 3], &iota(6)))
        .node_with("Concat", "f", &["w", "w"], &["wf"], vec![a_int("axis", 2)])
        .node("MatMul", "mm", &["x", "wf"], &["y"])
        .model();
    check(
        &m,
        "node f (Concat): attribute axis: axis 2 is out of range for rank 2",
    );
    let m = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[2, 3], &iota(6)))
        .node("Concat", "f", &["w", "w"], &["wf"])
        .node("MatMul", "mm", &["x", "wf"], &["y"])
        .model();
    check(
        &m,
        "node f (Concat): attribute axis: required, but the node has none",
    );
    let m = Graph::new("g")
        .input("x")
        .init(i8_raw("wq", &[2, 2], &[1, 2, 3, 4]))
        .init(f32_raw("s", &[], &[0.5]))
        .node_with(
            "DequantizeLinear",
            "f",
            &["wq", "s"],
            &["wf"],
            vec![a_int("block_size", -1)],
        )
        .node("MatMul", "mm", &["x", "wf"], &["y"])
        .model();
    check(
        &m,
        "node f (DequantizeLinear): attribute block_size: expected an integer ≥ 0, found -1",
    );
    // A Constant node's value attribute must have the type its name calls for.
    let mut ints = a_ints("value_floats", &[1, 2, 3, 4]);
    ints.floats = vec![1.0, 2.0, 3.0, 4.0];
    let m = Graph::new("g")
        .input("x")
        .node_with("Constant", "k", &[], &["wf"], vec![ints])
        .node("MatMul", "mm", &["x", "wf"], &["y"])
        .model();
    assert_rejected(
        &in_dir(dir.path(), &m),
        "bad_attribute",
        "node k (Constant): attribute value_floats: expected type FLOATS, found INTS",
    );
    let mut empty = a_tensor("value", f32_raw("v", &[2, 2], &iota(4)));
    empty.t = None;
    let m = Graph::new("g")
        .input("x")
        .node_with("Constant", "k", &[], &["wf"], vec![empty])
        .node("MatMul", "mm", &["x", "wf"], &["y"])
        .model();
    assert_rejected(
        &in_dir(dir.path(), &m),
        "bad_attribute",
        "node k (Constant): attribute value: declared TENSOR but holds none",
    );
}

/// Run `tailwatch <args>` with a deadline, so that a command blocking on a special file fails
/// the test instead of hanging the suite. Returns (exit code, stderr); a killed run is -1.
fn run_bounded(args: &[&str]) -> (i32, String, std::time::Duration) {
    let t = std::time::Instant::now();
    let out = Command::cargo_bin("tailwatch")
        .unwrap()
        .args(args)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        t.elapsed(),
    )
}

/// Both commands refuse `p` with exit 2, a message containing `needles` and class `kind`,
/// promptly.
fn assert_refused_quickly(p: &Path, kind: &str, needles: &[&str]) {
    let out = p.parent().unwrap().join("out");
    let (ps, os) = (p.to_str().unwrap(), out.to_str().unwrap());
    for args in [vec!["describe", ps], vec!["analyze", ps, "--out", os]] {
        let (code, err, took) = run_bounded(&args);
        assert_eq!(code, 2, "{args:?} (a killed run is -1): {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: expected {n:?} in {err}");
        }
        assert!(err.trim_end().ends_with(&format!("[{kind}]")), "{err}");
        // Nothing waits on the file: the run is over in well under the deadline.
        assert!(
            took < std::time::Duration::from_secs(10),
            "{args:?} took {took:?}"
        );
        assert!(!out.join("details.csv").exists(), "{args:?} wrote a report");
    }
}

use tailwatch_testkit::mkfifo;

/// A character device like /dev/null at `p`, when the test may create one (as root).
fn mknod_null(p: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mknod only creates a directory entry.
    unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 3)) == 0 }
}

#[test]
fn special_model_files_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.onnx");
    mkfifo(&fifo);
    let sock = dir.path().join("sock.onnx");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let sub = dir.path().join("dir.onnx");
    std::fs::create_dir(&sub).unwrap();
    // A symlinked model path is followed (as before): to a device, it is the device.
    let zero = dir.path().join("zero.onnx");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let cases = [
        (&fifo, "a FIFO (named pipe)"),
        (&sock, "a socket"),
        (&sub, "a directory"),
        (&zero, "a character device"),
    ];
    for (p, what) in cases {
        let msg = format!("not a regular file: it is {what}");
        assert_refused_quickly(p, "not_onnx", &[p.to_str().unwrap(), &msg]);
    }
    let (code, err, _) = run_bounded(&["describe", "/dev/null"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("/dev/null: not a regular file: it is a character device [not_onnx]"),
        "{err}"
    );
}

#[test]
fn special_external_data_files_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    mkfifo(&d.join("w.fifo"));
    let _listener = std::os::unix::net::UnixListener::bind(d.join("w.sock")).unwrap();
    std::fs::create_dir(d.join("w.dir")).unwrap();
    let mut cases = vec![
        ("w.fifo", "a FIFO (named pipe)"),
        ("w.sock", "a socket"),
        ("w.dir", "a directory"),
    ];
    if mknod_null(&d.join("w.null")) {
        cases.push(("w.null", "a character device"));
    }
    for (i, (loc, what)) in cases.into_iter().enumerate() {
        let p = write(d, &format!("m{i}.onnx"), &ext_model(loc, "0", "16")).unwrap();
        let msg = format!("external data file {loc:?} is not a regular file: it is {what}");
        assert_refused_quickly(&p, "external_file", &[p.to_str().unwrap(), &msg]);
    }
    // A symlink to a device is refused by the no-symlink rule, before anything is opened.
    std::os::unix::fs::symlink("/dev/zero", d.join("w.zero")).unwrap();
    let p = write(d, "mz.onnx", &ext_model("w.zero", "0", "16")).unwrap();
    assert_refused_quickly(
        &p,
        "symlink",
        &[
            p.to_str().unwrap(),
            "external data path \"w.zero\" goes through a symlink",
        ],
    );
    // So is a FIFO reached through a symlinked directory.
    std::os::unix::fs::symlink(d.join("w.dir"), d.join("link")).unwrap();
    mkfifo(&d.join("w.dir").join("inner.fifo"));
    let p = write(d, "ml.onnx", &ext_model("link/inner.fifo", "0", "16")).unwrap();
    assert_refused_quickly(&p, "symlink", &["goes through a symlink"]);
    // And one in a subdirectory is refused for what it is.
    let p = write(d, "ms.onnx", &ext_model("w.dir/inner.fifo", "0", "16")).unwrap();
    assert_refused_quickly(&p, "external_file", &["it is a FIFO (named pipe)"]);
}

/// The other files tailwatch reads (a study file, a gate file, a baseline report) are refused
/// the same way when they are FIFOs: exit 2 at once, naming the file, never a hang.
#[test]
fn special_config_and_report_files_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("cfg.fifo");
    mkfifo(&fifo);
    let f = fifo.to_str().unwrap();
    let model = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ww-0.7.7/mlp_gemm.onnx"
    );
    let gate = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/gates/default.yaml");
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let runs: [Vec<&str>; 3] = [
        vec!["study", f, "--out", o],
        vec!["gate", f, model],
        vec!["gate", gate, model, "--baseline-report", f],
    ];
    for args in runs {
        let (code, err, took) = run_bounded(&args);
        assert_eq!(code, 2, "{args:?} (a killed run is -1): {err}");
        assert!(
            err.contains(&format!(
                "{f}: not a regular file: it is a FIFO (named pipe)"
            )),
            "{args:?}: {err}"
        );
        assert!(
            took < std::time::Duration::from_secs(10),
            "{args:?} took {took:?}"
        );
    }
}
