//! `describe` on the reference models of `tests/data/ww-0.7.7` and the mnist-vgg-mini family
//! (run the binary).

mod common;

use std::collections::HashMap;
use std::path::Path;

use assert_cmd::Command;
use common::data;
use serde_json::Value;

fn run(args: &[&str]) -> String {
    let out = Command::cargo_bin("tailwatch")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn csv_rows(text: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let head = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            head.iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

const MODELS: [&str; 4] = ["mlp_gemm", "mlp_matmul", "cnn_conv2d", "quirks"];

#[test]
fn initializer_scan_matches_weightwatcher_describe() {
    for m in MODELS {
        let model = data::reference(&format!("{m}.onnx"));
        let want = csv_rows(
            &std::fs::read_to_string(data::reference(&format!("{m}__describe.csv"))).unwrap(),
        );
        let got = csv_rows(&run(&[
            "describe",
            model.to_str().unwrap(),
            "--format",
            "csv",
            "--set",
            "layer_source=initializers",
            "--set",
            "compat=ww-0.7.7",
        ]));
        assert_eq!(got.len(), want.len(), "{m}");
        for (g, w) in got.iter().zip(&want) {
            for col in [
                "layer_id",
                "name",
                "M",
                "N",
                "layer_type",
                "longname",
                "num_evals",
                "rf",
            ] {
                assert_eq!(g[col], w[col], "{m} column {col}");
            }
            let (gq, wq): (f64, f64) = (g["Q"].parse().unwrap(), w["Q"].parse().unwrap());
            assert_eq!(gq, wq, "{m} Q");
        }
    }
}

fn json(model: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["describe", model.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&run(&args)).unwrap()
}

/// (layer_id, name, kind, N, M, rf) of every layer.
fn summary(doc: &Value) -> Vec<(u64, String, String, u64, u64, u64)> {
    doc["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["layer_id"].as_u64().unwrap(),
                l["name"].as_str().unwrap().to_string(),
                l["kind"].as_str().unwrap().to_string(),
                l["N"].as_u64().unwrap(),
                l["M"].as_u64().unwrap(),
                l["rf"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn s(
    id: u64,
    name: &str,
    kind: &str,
    n: u64,
    m: u64,
    rf: u64,
) -> (u64, String, String, u64, u64, u64) {
    (id, name.into(), kind.into(), n, m, rf)
}

#[test]
fn native_mode_lists_the_op_aware_layers() {
    let doc = json(&data::reference("quirks.onnx"), &[]);
    assert_eq!(
        summary(&doc),
        vec![
            s(0, "conv_even.weight", "conv2d", 64, 32, 4),
            s(1, "dw.weight", "conv2d", 64, 1, 9),
            s(2, "fc16.weight", "dense", 256, 128, 1),
        ]
    );
    let layers = doc["layers"].as_array().unwrap();
    assert_eq!(layers[2]["dtype"], "float16");
    assert_eq!(layers[0]["num_evals"], 128);
    // pos_table is reported as skipped, never as a layer; the int64 shape is not mentioned.
    let skipped = doc["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["name"], "pos_table");
    assert_eq!(skipped[0]["reason"], "not a weight slot");
    // JSON form: one object with model, layers, skipped.
    assert_eq!(doc["model"]["opsets"][0]["version"], 17);
    assert_eq!(doc["model"]["ir_version"], 14);
    assert_eq!(doc["model"]["sha256"].as_str().unwrap().len(), 64);

    let doc = json(&data::reference("mlp_matmul.onnx"), &[]);
    assert_eq!(
        summary(&doc),
        vec![
            s(0, "fc1.weight", "dense", 784, 512, 1),
            s(1, "fc2.weight", "dense", 512, 256, 1),
            s(2, "fc3.weight", "dense", 256, 10, 1),
        ]
    );
    assert!(
        doc["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["op"] == "MatMul")
    );
    let doc = json(&data::reference("mlp_gemm.onnx"), &[]);
    assert_eq!(
        summary(&doc),
        vec![
            s(0, "fc1.weight", "dense", 784, 512, 1),
            s(1, "fc2.weight", "dense", 512, 256, 1),
            s(2, "fc3.weight", "dense", 256, 10, 1),
        ]
    );
    let doc = json(&data::reference("cnn_conv2d.onnx"), &[]);
    assert_eq!(
        summary(&doc),
        vec![
            s(0, "conv1.weight", "conv2d", 32, 3, 9),
            s(1, "conv2.weight", "conv2d", 64, 32, 9),
            s(2, "conv3.weight", "conv2d", 128, 64, 9),
            s(3, "conv4.weight", "conv2d", 128, 128, 1),
            s(4, "fc.weight", "dense", 128, 10, 1),
        ]
    );
    // compat ww-0.7.7 in native mode reproduces the Q1 swap on conv_even.
    let doc = json(
        &data::reference("quirks.onnx"),
        &["--set", "compat=ww-0.7.7"],
    );
    let l0 = &doc["layers"][0];
    assert_eq!(
        (l0["N"].as_u64(), l0["M"].as_u64(), l0["Q"].as_f64()),
        (Some(32), Some(64), Some(0.5))
    );
}

/// Conv out-channel sequences of the mnist-vgg-mini architectures (their README).
fn channels(arch: &str) -> Vec<u64> {
    match arch {
        "vgg11" => vec![8, 16, 32, 32, 64, 64, 64, 64],
        "vgg13" => vec![8, 8, 16, 16, 32, 32, 64, 64, 64, 64],
        "vgg16" => vec![8, 8, 16, 16, 32, 32, 32, 64, 64, 64, 64, 64, 64],
        "vgg19" => vec![8, 8, 16, 16, 32, 32, 32, 32, 64, 64, 64, 64, 64, 64, 64, 64],
        other => panic!("unknown arch {other}"),
    }
}

#[test]
fn mnist_vgg_family_matches_conv_and_gemm_counts() {
    let text = std::fs::read_to_string(data::mnist_vgg("errors.csv")).unwrap();
    let rows: Vec<_> = csv_rows(&text)
        .into_iter()
        .filter(|r| !r["file"].is_empty())
        .collect();
    assert_eq!(rows.len(), 14);
    for r in rows {
        let doc = json(&data::mnist_vgg(&r["file"]), &[]);
        let layers = summary(&doc);
        let convs: Vec<_> = layers.iter().filter(|l| l.2 == "conv2d").collect();
        let dense: Vec<_> = layers.iter().filter(|l| l.2 == "dense").collect();
        assert_eq!(
            convs.len().to_string(),
            r["onnx_conv_nodes"],
            "{}",
            r["file"]
        );
        assert_eq!(
            dense.len().to_string(),
            r["onnx_gemm_nodes"],
            "{}",
            r["file"]
        );
        assert_eq!(layers.len(), convs.len() + dense.len());
        let outs = channels(&r["arch"]);
        let mut cin = 1;
        for (l, &cout) in convs.iter().zip(&outs) {
            assert_eq!(
                (l.3, l.4, l.5),
                (cout.max(cin), cout.min(cin), 9),
                "{} {}",
                r["file"],
                l.1
            );
            cin = cout;
        }
        let nm: Vec<_> = dense.iter().map(|l| (l.3, l.4, l.5)).collect();
        assert_eq!(
            nm,
            vec![(128, 64, 1), (128, 128, 1), (128, 10, 1)],
            "{}",
            r["file"]
        );
        // ids in graph order, no gaps (nothing skipped in these exports).
        let ids: Vec<u64> = layers.iter().map(|l| l.0).collect();
        assert_eq!(ids, (0..layers.len() as u64).collect::<Vec<_>>());
        assert!(doc["skipped"].as_array().unwrap().is_empty());
    }
}

#[test]
fn table_and_csv_formats_work_and_logs_stay_off_stdout() {
    let model = data::reference("cnn_conv2d.onnx");
    let t = run(&["-v", "describe", model.to_str().unwrap()]);
    assert!(t.contains("conv1.weight") && t.contains("5 weight layers"));
    let c = run(&["-v", "describe", model.to_str().unwrap(), "--format", "csv"]);
    assert!(c.starts_with("layer_id,name,M,N,Q,layer_type"));
    let j = run(&[
        "-v",
        "describe",
        model.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["layers"].as_array().unwrap().len(), 5);
}
