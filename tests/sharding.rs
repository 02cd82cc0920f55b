//! `study --shard K/N` + `study --merge` must reproduce the unsharded report byte for byte
//! (timings.json aside), and refuse incomplete or foreign shard sets.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tailwatch_testkit::STUDY_OUTPUTS;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/mnist-vgg-mini")
        .join(format!("{name}.onnx"))
}

/// A five-model study over the shipped fixtures (absolute paths, so the file can live anywhere).
fn write_study(dir: &Path, extra: &str) -> PathBuf {
    let models = [
        ("vgg11_bn_mini_ep01", 46.92, "trajectory"),
        ("vgg11_bn_mini_ep02", 14.64, "trajectory"),
        ("vgg11_bn_mini_ep03", 10.16, "trajectory"),
        ("vgg11_bn_mini_ep05", 7.16, "trajectory"),
        ("vgg11_mini", 4.2, "family"),
    ];
    let mut y =
        format!("name: shard-test\npreset: ww\nanalysis: {{ mp_fit: true{extra} }}\nmodels:\n");
    for (name, err, group) in models {
        y.push_str(&format!(
            "  - {{ name: {name}, path: {:?}, top1_error: {err}, group: {group} }}\n",
            fixture(name).display().to_string()
        ));
    }
    y.push_str("correlate: { metrics: [alpha, log_norm, mp_softrank], targets: [top1] }\n");
    let p = dir.join("study.yaml");
    std::fs::write(&p, y).unwrap();
    p
}

fn study(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("tailwatch")
        .unwrap()
        .arg("-q")
        .arg("study")
        .args(args)
        .env("CI", "1")
        .assert()
}

fn stderr(a: assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn shards_merge_into_the_unsharded_report() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_study(tmp.path(), "");
    let (full, s1, s2, merged) = (
        tmp.path().join("full"),
        tmp.path().join("s1"),
        tmp.path().join("s2"),
        tmp.path().join("merged"),
    );
    study(&[s(&file), "--out", s(&full)]).success();
    study(&[s(&file), "--out", s(&s1), "--shard", "1/2"]).success();
    study(&[s(&file), "--out", s(&s2), "--shard", "2/2"]).success();

    // A shard writes its saved analyses and manifest, not a report.
    assert!(s1.join("shards/1-of-2.json").is_file());
    assert!(!s1.join("report.json").exists());
    let names = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d.join("models"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(&s1),
        [
            "vgg11_bn_mini_ep01.json",
            "vgg11_bn_mini_ep03.json",
            "vgg11_mini.json"
        ]
    );
    assert_eq!(
        names(&s2),
        ["vgg11_bn_mini_ep02.json", "vgg11_bn_mini_ep05.json"]
    );

    study(&[s(&file), "--out", s(&merged), "--merge", s(&s1), s(&s2)]).success();
    for f in STUDY_OUTPUTS.iter().filter(|f| **f != "timings.json") {
        let a = std::fs::read(full.join(f)).unwrap();
        let b = std::fs::read(merged.join(f)).unwrap();
        assert!(
            a == b,
            "{f} differs between the unsharded and the merged run"
        );
    }
    // Nothing was recomputed at the merge: every model is reused.
    let t: serde_json::Value =
        serde_json::from_slice(&std::fs::read(merged.join("timings.json")).unwrap()).unwrap();
    for m in t["models"].as_array().unwrap() {
        assert_eq!(m["status"], "reused", "{m}");
    }
}

#[test]
fn shards_may_share_one_directory_and_bad_sets_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_study(tmp.path(), "");
    let shared = tmp.path().join("shared");
    for k in ["1/3", "3/3"] {
        study(&[s(&file), "--out", s(&shared), "--shard", k]).success();
    }
    // Shard 2/3 missing.
    let out = tmp.path().join("m");
    let e = stderr(study(&[s(&file), "--out", s(&out), "--merge", s(&shared)]).code(2));
    assert!(e.contains("missing shards 2/3"), "{e}");
    study(&[s(&file), "--out", s(&shared), "--shard", "2/3"]).success();
    study(&[s(&file), "--out", s(&out), "--merge", s(&shared)]).success();
    assert!(out.join("report.json").is_file());

    // Shards of the same study with other options are refused.
    let other_dir = tmp.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other = write_study(&other_dir, ", min_evals: 9");
    let e = stderr(study(&[s(&other), "--out", s(&out), "--merge", s(&shared)]).code(2));
    assert!(e.contains("another study file or options"), "{e}");
    study(&[s(&file), "--shard", "0/3", "--out", s(&out)]).code(2);
}
