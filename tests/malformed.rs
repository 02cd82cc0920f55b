//! Hostile and malformed inputs exit 2 with a message naming the file and the problem
//! (onnx-weights.md §8.1: one fixture per attack pattern).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tailwatch::testkit::*;
use tract_onnx::pb::ModelProto;

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

fn assert_rejected(p: &Path, needle: &str) {
    let (code, err) = describe(p);
    assert_eq!(code, 2, "{needle}: {err}");
    assert!(err.starts_with("tailwatch: error: "), "{err}");
    assert!(
        err.contains(p.file_name().unwrap().to_str().unwrap()),
        "names the file: {err}"
    );
    assert!(err.contains(needle), "expected {needle:?} in {err}");
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
    assert_rejected(&p, "not a valid ONNX model");
    let p = dir.path().join("random.onnx");
    // Deterministic pseudo-random bytes (xorshift).
    let mut s = 0x9E3779B97F4A7C15u64;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s as u8
        })
        .collect();
    std::fs::write(&p, bytes).unwrap();
    assert_rejected(&p, "not a valid ONNX model");
    let p = dir.path().join("empty.onnx");
    std::fs::write(&p, b"").unwrap();
    assert_rejected(&p, "no graph");
    assert_rejected(&dir.path().join("missing.onnx"), "No such file");
}

#[test]
fn bad_dims_and_payload_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let p = in_dir(dir.path(), &model_with(f32_raw("w", &[-2, 2], &iota(4))));
    assert_rejected(&p, "negative dimension -2");
    let p = in_dir(
        dir.path(),
        &model_with(f32_raw("w", &[i64::MAX, 4], &iota(4))),
    );
    assert_rejected(&p, "more than");
    let p = in_dir(dir.path(), &model_with(f32_raw("w", &[1_000_000], &[1.0])));
    assert_rejected(
        &p,
        "raw_data has 4 bytes, dims and dtype float need 4000000",
    );
    let p = in_dir(
        dir.path(),
        &model_with(f32_typed("w", &[2, 2], &[1.0, 2.0, 3.0])),
    );
    assert_rejected(&p, "float_data has 3 entries, dims need 4");
    let mut both = f32_raw("w", &[1], &[1.0]);
    both.float_data = vec![1.0];
    let p = in_dir(dir.path(), &model_with(both));
    assert_rejected(&p, "more than one payload");
    // STRING with raw_data panics tract's loader; here it is a clean error.
    let p = in_dir(dir.path(), &model_with(raw("w", 8, &[1], vec![b'a'])));
    assert_rejected(&p, "STRING tensor cannot use raw_data");
    let p = in_dir(dir.path(), &model_with(f32_raw("w", &[1; 17], &[1.0])));
    assert_rejected(&p, "rank 17 exceeds the limit 16");
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
    assert_rejected(&p, "leaves or refers to the model directory");
    let p = in_dir(&dir, &ext_model("sub/../../secret.bin", "0", "16"));
    assert_rejected(&p, "leaves or refers to the model directory");
    let p = in_dir(&dir, &ext_model(secret.to_str().unwrap(), "0", "16"));
    assert_rejected(&p, "is absolute");
    let p = in_dir(&dir, &ext_model("C:\\secret.bin", "0", "16"));
    assert_rejected(&p, "drive or backslash");

    std::os::unix::fs::symlink(&secret, dir.join("link.bin")).unwrap();
    let p = in_dir(&dir, &ext_model("link.bin", "0", "16"));
    assert_rejected(&p, "symlink");
    std::os::unix::fs::symlink(root.path(), dir.join("up")).unwrap();
    let p = in_dir(&dir, &ext_model("up/secret.bin", "0", "16"));
    assert_rejected(&p, "symlink");

    std::fs::hard_link(&secret, dir.join("hard.bin")).unwrap();
    let p = in_dir(&dir, &ext_model("hard.bin", "0", "16"));
    assert_rejected(&p, "hard links");
}

#[test]
fn external_data_bounds_and_keys_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("w.bin"), [0u8; 20]).unwrap();
    let p = in_dir(dir.path(), &ext_model("nope.bin", "0", "16"));
    assert_rejected(&p, "No such file");
    let p = in_dir(dir.path(), &ext_model("w.bin", "8", "16"));
    assert_rejected(&p, "past the end of the file (20 bytes)");
    let p = in_dir(
        dir.path(),
        &ext_model("w.bin", "18446744073709551615", "16"),
    );
    assert_rejected(&p, "past the end of the file");
    let p = in_dir(dir.path(), &ext_model("w.bin", "-1", "16"));
    assert_rejected(&p, "not an unsigned decimal");
    let p = in_dir(dir.path(), &ext_model("w.bin", "0", "99999999999999"));
    assert_rejected(&p, "differs from the payload size 16");
    let p = in_dir(
        dir.path(),
        &model_with(external(
            "w",
            1,
            &[2, 2],
            &[("location", "w.bin"), ("__class__", "x")],
        )),
    );
    assert_rejected(&p, "unknown external_data key");
    // The valid reference still works.
    let (code, err) = describe(&in_dir(dir.path(), &ext_model("w.bin", "4", "16")));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn structural_problems() {
    let dir = tempfile::tempdir().unwrap();
    // A value defined twice in one graph (§3.4): reported, not guessed.
    let m = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[2, 2], &iota(4)))
        .node("Identity", "", &["x"], &["w"])
        .model();
    assert_rejected(&in_dir(dir.path(), &m), "defined more than once");
    // Subgraphs nested deeper than 16.
    let mut g = Graph::new("leaf").build();
    for i in 0..18 {
        g = Graph::new(&format!("g{i}"))
            .node_with("Loop", "l", &[], &[], vec![a_graph("body", g)])
            .build();
    }
    let m = Graph { g }.model();
    assert_rejected(&in_dir(dir.path(), &m), "nested deeper than 16");
    // Cycle between two foldable nodes: no hang, no crash; the slot is a run-time operand.
    let m = Graph::new("g")
        .input("x")
        .node("Identity", "", &["b"], &["a"])
        .node("Identity", "", &["a"], &["b"])
        .node("MatMul", "", &["x", "a"], &["y"])
        .model();
    let (code, err) = describe(&in_dir(dir.path(), &m));
    assert_eq!(code, 0, "{err}");
    // Bad options exit 2 as well.
    let out = Command::cargo_bin("tailwatch")
        .unwrap()
        .args(["describe", "x.onnx", "--set", "nope=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown option"));
}
