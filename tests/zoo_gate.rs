//! The shipped gates on real production models (`tests/data/zoo/README.md`): the default gate
//! passes them and fails their random and NaN copies; the release gate passes their benign
//! re-exports (renamed, fp16, int8) against the original and fails each damage kind of the
//! calibration (docs/gate.md). Damaged copies are made here, deterministically.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tailwatch::gate::{self, Gate, Status, Verdict};
use tailwatch_testkit::{self as testkit, TestRng};
use tract_onnx::pb::ModelProto;

fn zoo(name: &str) -> PathBuf {
    common::data::repo_file(&format!("tests/data/zoo/{name}"))
}
fn shipped(name: &str) -> Gate {
    Gate::load(&common::data::repo_file(&format!(
        "configs/gates/{name}.yaml"
    )))
    .unwrap()
}
fn failed(v: &Verdict) -> Vec<&str> {
    v.failed_rules().map(|r| r.name.as_str()).collect()
}
const REAL: [&str; 3] = [
    "ppocr-cls-v2.onnx",
    "magika-v1.onnx",
    "silero-v6.2-16k-op15.onnx",
];

/// The float weight with the most elements.
fn largest(m: &ModelProto) -> String {
    let w = testkit::weights(m);
    let size = |d: &Vec<i64>| d.iter().product::<i64>();
    w.iter().max_by_key(|(_, d)| size(d)).unwrap().0.clone()
}

fn copy(dir: &Path, src: &str, tag: &str, f: impl FnOnce(&mut ModelProto)) -> PathBuf {
    let mut m = testkit::read(&zoo(src)).unwrap();
    f(&mut m);
    testkit::write(dir, &format!("{tag}-{src}"), &m).unwrap()
}

fn on_largest(m: &mut ModelProto, f: impl FnMut(&[i64], &mut [f32])) {
    let name = largest(m);
    testkit::map_weights(m, Some(&name), f);
}

/// Every damage kind of the calibration, made on `src`.
fn damages(dir: &Path, src: &str) -> Vec<(&'static str, PathBuf)> {
    let mut rng = TestRng::new(7);
    let mut out = vec![
        (
            "random-all",
            copy(dir, src, "random-all", |m| testkit::randomize_he(m, 11)),
        ),
        (
            "reinit-largest",
            copy(dir, src, "reinit-largest", |m| {
                on_largest(m, |dims, v| {
                    let fan_in: i64 = dims.iter().skip(1).product();
                    let sd = (2.0 / fan_in.max(1) as f64).sqrt();
                    v.iter_mut().for_each(|x| *x = (rng.normal() * sd) as f32);
                })
            }),
        ),
        (
            "zero-one",
            copy(dir, src, "zero-one", |m| on_largest(m, |_, v| v.fill(0.0))),
        ),
        (
            "scale10-one",
            copy(dir, src, "scale10-one", |m| {
                on_largest(m, |_, v| v.iter_mut().for_each(|x| *x *= 10.0))
            }),
        ),
        (
            "rank-collapse",
            copy(dir, src, "rank-collapse", |m| {
                let n = largest(m);
                testkit::collapse_rank(m, &n, 1)
            }),
        ),
        (
            "nan-one",
            copy(dir, src, "nan-one", |m| {
                let n = largest(m);
                testkit::poison_nan(m, &n)
            }),
        ),
    ];
    let mut rng = TestRng::new(8);
    out.push((
        "shuffle-one",
        copy(dir, src, "shuffle-one", |m| {
            on_largest(m, |_, v| {
                for i in (1..v.len()).rev() {
                    v.swap(i, rng.below(i + 1));
                }
            })
        }),
    ));
    for bits in [2u32, 3] {
        let levels = (1i32 << (bits - 1)) - 1;
        let tag = if bits == 2 {
            "round-2bit"
        } else {
            "round-3bit"
        };
        out.push((
            tag,
            copy(dir, src, tag, |m| {
                testkit::map_weights(m, None, |_, v| {
                    let peak = v.iter().fold(0f32, |a, x| a.max(x.abs()));
                    let s = peak / levels as f32;
                    if s > 0.0 {
                        v.iter_mut().for_each(|x| *x = (*x / s).round() * s);
                    }
                })
            }),
        ));
    }
    out
}

#[test]
fn the_default_gate_passes_real_models_and_fails_their_random_and_nan_copies() {
    let g = shipped("default");
    let dir = tempfile::tempdir().unwrap();
    for m in REAL {
        let v = gate::eval::run(&g, &zoo(m), None).unwrap();
        assert_eq!(
            v.status,
            Status::Pass,
            "{m}: {:?}\n{}",
            failed(&v),
            gate::verdict::human(&v)
        );
        let random = copy(dir.path(), m, "random", |p| testkit::randomize_he(p, 5));
        let v = gate::eval::run(&g, &random, None).unwrap();
        assert_eq!(v.status, Status::Fail, "random copy of {m}");
        assert!(
            failed(&v).contains(&"learned-structure"),
            "{m}: {:?}",
            failed(&v)
        );
        let nan = copy(dir.path(), m, "nan", |p| {
            let n = largest(p);
            testkit::poison_nan(p, &n)
        });
        let v = gate::eval::run(&g, &nan, None).unwrap();
        assert_eq!(v.status, Status::Fail, "NaN copy of {m}");
        assert_eq!(failed(&v)[0], "finite-weights", "{m}");
    }
}

#[test]
fn the_release_gate_passes_benign_re_exports_and_fails_every_damage() {
    let g = shipped("release");
    let base = gate::BaselineSource::Model(zoo("ppocr-cls-v2.onnx"));
    for (kind, warned) in [
        ("ppocr-cls-v2.onnx", None),
        (
            "ppocr-cls-v2.renamed.onnx",
            Some("layers were matched by order"),
        ),
        ("ppocr-cls-v2.fp16.onnx", None),
        // This model keeps its weights in Constant nodes, which quantize_dynamic leaves in
        // place behind a DynamicQuantizeLinear: the names do not change.
        ("ppocr-cls-v2.int8-dynamic.onnx", None),
    ] {
        let v = gate::eval::run(&g, &zoo(kind), Some(&base)).unwrap();
        assert_eq!(
            v.status,
            Status::Pass,
            "{kind}: {}",
            gate::verdict::human(&v)
        );
        match warned {
            Some(w) => assert!(
                v.warnings.iter().any(|x| x.contains(w)),
                "{kind}: {:?}",
                v.warnings
            ),
            None => assert!(v.warnings.is_empty(), "{kind}: {:?}", v.warnings),
        }
        let c = v.comparison.as_ref().unwrap();
        assert_eq!(c.layers.len(), v.n_rows, "{kind}");
    }
    let dir = tempfile::tempdir().unwrap();
    for src in ["ppocr-cls-v2.onnx", "silero-v6.2-16k-op15.onnx"] {
        let base = gate::BaselineSource::Model(zoo(src));
        for (kind, p) in damages(dir.path(), src) {
            let v = gate::eval::run(&g, &p, Some(&base)).unwrap();
            assert_eq!(
                v.status,
                Status::Fail,
                "{src} {kind}: {}",
                gate::verdict::human(&v)
            );
            let expect = match kind {
                "nan-one" => "finite-weights",
                "zero-one" => "nonzero-weights",
                _ => "weights-kept",
            };
            assert!(
                failed(&v).contains(&expect),
                "{src} {kind}: {:?}",
                failed(&v)
            );
        }
    }
}

fn cli(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("tailwatch")
        .unwrap()
        .current_dir(common::data::repo())
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn release_gate_bad_baselines_exit_2_naming_the_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let model = s(&zoo("ppocr-cls-v2.int8-dynamic.onnx"));
    // Another architecture.
    let (code, text) = cli(&[
        "gate",
        "configs/gates/release.yaml",
        &model,
        "--baseline",
        &s(&zoo("magika-v1.onnx")),
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("missing from the baseline") && text.contains("nor do they match by order"),
        "{text}"
    );
    // No baseline, a missing one, and a report (which holds no weights to compare).
    let (code, text) = cli(&["gate", "configs/gates/release.yaml", &model]);
    assert_eq!(code, 2);
    assert!(text.contains("--baseline"), "{text}");
    let (code, text) = cli(&[
        "gate",
        "configs/gates/release.yaml",
        &model,
        "--baseline",
        &s(&dir.path().join("nope.onnx")),
    ]);
    assert_eq!(code, 2);
    assert!(text.contains("nope.onnx"), "{text}");
    let out = dir.path().join("base");
    let (code, text) = cli(&[
        "analyze",
        &s(&zoo("ppocr-cls-v2.onnx")),
        "--out",
        &s(&out),
        "--set",
        "mp_fit=true",
        "--set",
        "eigensolver=svd",
    ]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = cli(&[
        "gate",
        "configs/gates/release.yaml",
        &model,
        "--baseline-report",
        &s(&out.join("analysis.json")),
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("a report holds no weights: give --baseline MODEL.onnx"),
        "{text}"
    );
}

#[test]
fn the_readme_ci_example_writes_a_markdown_summary_with_failing_layers_first() {
    // README "CI": the release gate against the production model, with every report.
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let bad = copy(dir.path(), "ppocr-cls-v2.onnx", "scale10", |m| {
        on_largest(m, |_, v| v.iter_mut().for_each(|x| *x *= 10.0))
    });
    let (md, json) = (
        dir.path().join("out/summary.md"),
        dir.path().join("out/gate.json"),
    );
    let (code, text) = cli(&[
        "gate",
        "configs/gates/release.yaml",
        &s(&bad),
        "--baseline",
        &s(&zoo("ppocr-cls-v2.onnx")),
        "--json",
        &s(&json),
        "--summary-md",
        &s(&md),
    ]);
    assert_eq!(code, 1, "{text}");
    let summary = std::fs::read_to_string(&md).unwrap();
    assert!(
        summary.starts_with("### tailwatch gate: FAIL\n"),
        "{summary}"
    );
    assert!(summary.len() < 1 << 20);
    let first_rule = summary.find("| FAIL | weights-kept |").unwrap();
    let passing = summary.find("| PASS |").unwrap();
    assert!(first_rule < passing, "{summary}");
    assert!(
        summary.contains("#### weights-kept — 1 of 51 layer(s)"),
        "{summary}"
    );
    assert!(
        summary.contains("delta\\_w\\_rel 9 &gt; 0.3 by 8.7"),
        "{summary}"
    );
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let c = &j["verdict"]["comparison"];
    assert_eq!(c["matched_by"], "name");
    assert_eq!(c["summary"]["n_compared"], 51.0);
    assert!((c["summary"]["delta_w_rel_max"].as_f64().unwrap() - 9.0).abs() < 1e-6);
}
