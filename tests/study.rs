//! `tailwatch study` end to end: outputs, the trajectory correlation, re-running stages from
//! saved analyses, byte-for-byte determinism, and config errors rejected before any work.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tailwatch_testkit::STUDY_OUTPUTS;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/mnist-vgg-mini")
        .join(name)
}

fn tailwatch() -> Command {
    Command::cargo_bin("tailwatch").unwrap()
}

/// The trajectory series of the demo as its own study file in `dir`.
fn trajectory_study(dir: &Path) -> PathBuf {
    let models = [
        ("ep01", "vgg11_bn_mini_ep01.onnx", 46.92, 10.2),
        ("ep02", "vgg11_bn_mini_ep02.onnx", 14.64, 1.36),
        ("ep03", "vgg11_bn_mini_ep03.onnx", 10.16, 0.76),
        ("ep05", "vgg11_bn_mini_ep05.onnx", 7.16, 0.52),
        ("ep08", "vgg11_bn_mini_ep08.onnx", 5.88, 0.08),
        ("ep15", "vgg11_bn_mini.onnx", 4.04, 0.16),
    ];
    let mut y = String::from("name: trajectory\npreset: ww\nanalysis: { mp_fit: true }\nmodels:\n");
    for (n, f, t1, t5) in models {
        y.push_str(&format!(
            "  - {{ name: {n}, path: {}, top1_error: {t1}, top5_error: {t5} }}\n",
            fixture(f).display()
        ));
    }
    y.push_str("stages: [extract, eigensolve, mp_fit, powerlaw_fit, correlate, report]\n");
    y.push_str("correlate: { metrics: [log_norm, alpha, alpha_weighted, log_spectral_norm, stable_rank, mp_softrank] }\n");
    let p = dir.join("study.yaml");
    std::fs::write(&p, y).unwrap();
    p
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn trajectory_study_writes_every_output_and_finds_the_strong_relation() {
    let dir = tempfile::tempdir().unwrap();
    let study = trajectory_study(dir.path());
    let out = dir.path().join("out");
    tailwatch()
        .args(["study"])
        .arg(&study)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    for f in STUDY_OUTPUTS {
        assert!(out.join(f).is_file(), "{f}");
    }
    let corr = read(&out.join("correlations.csv"));
    let header = corr.lines().next().unwrap();
    assert!(header.starts_with(
        "group,metric,target,n,slope,intercept,rmse,r2,kendall_tau,kendall_p,spearman_rho,spearman_p,pearson_r,pearson_p"
    ));
    // Training lowers the log norms monotonically enough: |τ| ≥ 0.8 against top-1 accuracy.
    let row = corr
        .lines()
        .find(|l| l.starts_with("all,log_spectral_norm,top1,"))
        .unwrap();
    let cells: Vec<&str> = row.split(',').collect();
    assert_eq!(cells[3], "6");
    let tau: f64 = cells[8].parse().unwrap();
    let p: f64 = cells[9].parse().unwrap();
    assert!(tau <= -0.8 && p < 0.05, "tau {tau} p {p}");
    let summary = read(&out.join("summary.csv"));
    assert_eq!(summary.lines().count(), 7);
    assert!(summary.lines().next().unwrap().starts_with("model,"));
    let details = read(&out.join("details.csv"));
    assert!(details.starts_with("model,layer_id,name,"));
    // 8 conv + 3 fc layers in each of 6 models.
    assert_eq!(details.lines().count(), 1 + 6 * 11);
    let report: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    assert_eq!(report["schema_version"], 3);
    assert_eq!(report["complete"], true);
    assert_eq!(report["models"][0]["sha256"].as_str().unwrap().len(), 64);
    assert!(report["study"]["config_sha256"].is_string());
    let html = read(&out.join("report.html"));
    assert!(html.contains("<svg") && !html.contains("<script"));
    // These exports folded BatchNorm away: the report says the comparison caveat.
    assert!(read(&out.join("report.md")).contains("BatchNorm: 0 of 6 models keep"));
}

#[test]
fn rerunning_correlate_and_report_reuses_analyses_and_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let study = trajectory_study(dir.path());
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    tailwatch()
        .arg("study")
        .arg(&study)
        .arg("--out")
        .arg(&a)
        .assert()
        .success();
    tailwatch()
        .arg("study")
        .arg(&study)
        .arg("--out")
        .arg(&b)
        .assert()
        .success();
    for f in STUDY_OUTPUTS.iter().filter(|f| **f != "timings.json") {
        assert_eq!(
            read(&a.join(f)),
            read(&b.join(f)),
            "{f} differs between runs"
        );
    }
    let before = read(&a.join("report.html"));
    tailwatch()
        .arg("study")
        .arg(&study)
        .args(["--stages", "correlate,report", "--out"])
        .arg(&a)
        .assert()
        .success();
    let timings: serde_json::Value = serde_json::from_str(&read(&a.join("timings.json"))).unwrap();
    assert!(
        timings["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["status"] == "reused")
    );
    assert_eq!(before, read(&a.join("report.html")));
}

#[test]
fn correlate_without_saved_analyses_is_an_error_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let study = trajectory_study(dir.path());
    let out = dir.path().join("empty");
    tailwatch()
        .arg("study")
        .arg(&study)
        .args(["--stages", "correlate,report", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("run the eigensolve stage first"));
    assert!(!out.join("report.json").exists());
}

fn bad_study(body: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.yaml");
    std::fs::write(
        &p,
        body.replace("MODEL", &fixture("vgg11_mini.onnx").display().to_string()),
    )
    .unwrap();
    (dir, p)
}

fn rejects(body: &str, expect: &[&str]) {
    let (dir, p) = bad_study(body);
    let out = dir.path().join("out");
    let assert = tailwatch()
        .arg("study")
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(err.contains("bad.yaml"), "{err}");
    for e in expect {
        assert!(err.contains(e), "expected {e:?} in: {err}");
    }
    assert!(
        !out.join("models").exists(),
        "work was done before the error"
    );
}

#[test]
fn config_errors_name_the_file_line_and_key() {
    rejects(
        "name: x\nmodels:\n  - { name: a, path: MODEL, top1_eror: 2.0 }\n",
        &["line 3", "top1_eror"],
    );
    rejects(
        "name: x\nmodels:\n  - { name: a, path: MODEL, top1_error: many }\n",
        &["line 3"],
    );
    rejects(
        "name: x\nmodels:\n  - { name: a, path: nowhere.onnx, top1_error: 2 }\n",
        &["nowhere.onnx", "does not exist"],
    );
    rejects(
        "name: x\nanalysis: { mp_fit: false }\nstages: [eigensolve, mp_fit]\nmodels:\n  - { name: a, path: MODEL, top1_error: 2 }\n",
        &["inconsistent"],
    );
    rejects(
        "name: x\nmodels:\n  - { name: a, path: MODEL, top1_error: 2 }\ncorrelate: { metrics: [alfa] }\n",
        &["unknown metric", "alfa"],
    );
    rejects(
        "name: x\nanalysis: { xmax: force }\nmodels:\n  - { name: a, path: MODEL, top1_error: 2 }\n",
        &["xmax: force"],
    );
    rejects(
        "name: x\nmodels:\n  - { name: ../evil, path: MODEL, top1_error: 2 }\n",
        &["model name"],
    );
}

#[test]
fn a_model_that_cannot_be_read_is_reported_not_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.onnx");
    std::fs::write(&broken, b"this is not an onnx model").unwrap();
    let y = format!(
        "name: mixed\nmodels:\n  - {{ name: good, path: {}, top1_error: 4 }}\n  - {{ name: broken, path: {}, top1_error: 5 }}\n",
        fixture("vgg11_mini.onnx").display(),
        broken.display()
    );
    let p = dir.path().join("s.yaml");
    std::fs::write(&p, y).unwrap();
    let out = dir.path().join("out");
    tailwatch()
        .arg("study")
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("broken"));
    let report: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    assert_eq!(report["complete"], false);
    assert_eq!(report["models"][1]["status"], "failed");
    assert!(read(&out.join("report.md")).contains("INCOMPLETE"));
    // n < 3 models: statistics are reported with a note, not dropped.
    assert!(read(&out.join("correlations.csv")).contains("broken"));
}

#[test]
fn the_extract_stage_alone_lists_layers_without_spectra() {
    let dir = tempfile::tempdir().unwrap();
    let study = trajectory_study(dir.path());
    let out = dir.path().join("out");
    tailwatch()
        .arg("study")
        .arg(&study)
        .args(["--stages", "extract", "--out"])
        .arg(&out)
        .assert()
        .success();
    let listing: serde_json::Value =
        serde_json::from_str(&read(&out.join("layers/ep01.json"))).unwrap();
    assert_eq!(listing["layers"].as_array().unwrap().len(), 11);
    assert!(!out.join("models").exists() && !out.join("report.json").exists());
}
