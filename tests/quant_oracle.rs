//! onnxruntime's quantized exports (tests/data/quant, made by `scripts/make_quant_fixtures.py`
//! with onnxruntime 1.32's own quantizers) against onnxruntime's own dequantized weights: every
//! element within one float32 ulp of the oracle, the top eigenvalues within 1e-6 relative, every
//! weight named by `describe`, and every malformed form a layer status with the rest of the model
//! analysed.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;
use tailwatch::analysis::{self, ModelAnalysis};
use tailwatch::onnx::{self, Limits};
use tailwatch::options::{AnalysisOptions, AnalysisOverrides, Preset};
use tailwatch::schema::Column;
use tailwatch::weights::{self, Origin};

fn dir() -> PathBuf {
    common::data::repo_file("tests/data/quant")
}

fn manifest() -> Value {
    let text = std::fs::read_to_string(dir().join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn opts() -> AnalysisOptions {
    AnalysisOptions::resolve(
        Preset::Ww,
        &AnalysisOverrides::from_pairs(&["min_evals=2".to_string()]).unwrap(),
    )
    .unwrap()
}

fn read_f32(p: &Path) -> Vec<f64> {
    let b = std::fs::read(p).unwrap();
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
        .collect()
}

/// One float32 ulp at `x` (the spacing of float32 values around it).
fn ulp32(x: f64) -> f64 {
    let f = (x as f32).abs();
    if f == 0.0 {
        f32::from_bits(1) as f64
    } else {
        (f32::from_bits(f.to_bits() + 1) - f) as f64
    }
}

fn usize_list(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// Our effective matrix in the oracle's orientation, row-major `rows × cols`.
fn ours_as_oracle(
    x: &weights::Extraction<'_>,
    l: &weights::WeightLayer,
    orientation: &str,
    shape: &[usize],
) -> Vec<f64> {
    let w = x.matrix(l).unwrap();
    let (rows, cols) = (shape[0], shape[1]);
    if orientation.starts_with("C_out×C_in·kh·kw") {
        // Slice p is K[:, :, p] (C_out × C_in); the oracle is W[o, i, p] row-major.
        let p_count = w.slices;
        assert_eq!((w.rows, w.cols * p_count), (rows, cols), "{}", l.name);
        let mut out = vec![0.0; rows * cols];
        for p in 0..p_count {
            for o in 0..w.rows {
                for i in 0..w.cols {
                    out[o * cols + i * p_count + p] = w.data[(p * w.rows + o) * w.cols + i];
                }
            }
        }
        return out;
    }
    assert_eq!(w.slices, 1, "{}", l.name);
    if orientation.starts_with("N×K") {
        // The oracle is the stored [N, K]; the effective weight is its transpose.
        assert_eq!((w.rows, w.cols), (cols, rows), "{}", l.name);
        let mut out = vec![0.0; rows * cols];
        for r in 0..rows {
            for c in 0..cols {
                out[r * cols + c] = w.data[c * w.cols + r];
            }
        }
        return out;
    }
    assert_eq!((w.rows, w.cols), (rows, cols), "{}", l.name);
    w.data
}

#[test]
fn every_fixture_weight_matches_onnxruntime_to_one_float32_ulp() {
    let m = manifest();
    let weights = m["weights"].as_array().unwrap();
    assert!(weights.len() >= 80, "{} weights", weights.len());
    let mut checked = 0;
    let mut eig_checked = 0;
    let mut analyses: std::collections::HashMap<String, ModelAnalysis> = Default::default();
    for w in weights {
        let fixture = w["fixture"].as_str().unwrap();
        let path = dir().join(fixture);
        let model = onnx::load(&path, &Limits::default()).unwrap();
        let x = weights::extract(&model, &opts()).unwrap();
        let stored = w["stored_tensor"].as_str().unwrap();
        let Some(l) = x.layers.iter().find(|l| l.name == stored) else {
            panic!(
                "{fixture}: no layer for {stored}; layers {:?}, skipped {:#?}",
                x.layers.iter().map(|l| &l.name).collect::<Vec<_>>(),
                x.skipped
            );
        };
        assert_eq!(l.origin, Origin::Dequantized, "{fixture} {stored}");
        assert!(
            l.dtype.contains("dequantized"),
            "{fixture} {stored}: {}",
            l.dtype
        );
        let shape = usize_list(&w["expected_shape"]);
        let expected = read_f32(&dir().join(w["expected"].as_str().unwrap()));
        assert_eq!(expected.len(), shape[0] * shape[1]);
        let orientation = w["orientation"].as_str().unwrap();
        let ours = ours_as_oracle(&x, l, orientation, &shape);
        for (i, (&a, &b)) in ours.iter().zip(&expected).enumerate() {
            assert!(
                (a - b).abs() <= ulp32(b),
                "{fixture} {stored} element {i}: ours {a:e}, onnxruntime {b:e}"
            );
        }
        checked += 1;
        // The spectrum the analysis fits, for the matrices whose ESD is the oracle matrix's.
        if orientation.starts_with("C_out") {
            continue;
        }
        let a = analyses
            .entry(fixture.to_string())
            .or_insert_with(|| analysis::analyze_file(&path, &opts()).unwrap());
        // The details row carries the stored form and origin `describe` gives.
        let row = (a.rows.iter())
            .find(|r| r.text(Column::Name) == Some(stored))
            .unwrap_or_else(|| panic!("{fixture} {stored}: no details row"));
        assert_eq!(
            row.text(Column::Dtype),
            Some(l.dtype.as_str()),
            "{fixture} {stored}"
        );
        assert_eq!(
            row.text(Column::Origin),
            Some("dequantized"),
            "{fixture} {stored}"
        );
        let key = l.layer_id.to_string();
        let Some(esd) = a.esd.iter().find(|e| e.key == key) else {
            let why = a.skipped.iter().find(|s| s.name == stored);
            panic!("{fixture} {stored}: no ESD; skipped: {why:?}");
        };
        let top: Vec<f64> = esd.evals.iter().rev().take(10).copied().collect();
        let wanted = w["eigenvalues_top"].as_array().unwrap();
        let lmax = wanted[0].as_f64().unwrap();
        for (k, (ours, want)) in top.iter().zip(wanted).enumerate() {
            let want = want.as_f64().unwrap();
            // Relative, except for the (rounding-level) zeros of a rank-deficient matrix.
            assert!(
                (ours - want).abs() <= 1e-6 * want.abs() + 1e-12 * lmax,
                "{fixture} {stored} eigenvalue {k}: ours {ours}, oracle {want}"
            );
        }
        eig_checked += 1;
    }
    assert_eq!(checked, weights.len());
    assert!(eig_checked >= 70, "{eig_checked}");
}

#[test]
fn describe_names_every_weight_of_every_fixture_and_its_form() {
    let m = manifest();
    for w in m["weights"].as_array().unwrap() {
        let fixture = w["fixture"].as_str().unwrap();
        let model = onnx::load(&dir().join(fixture), &Limits::default()).unwrap();
        let x = weights::extract(&model, &opts()).unwrap();
        let stored = w["stored_tensor"].as_str().unwrap();
        let l = (x.layers.iter().find(|l| l.name == stored))
            .unwrap_or_else(|| panic!("{fixture}: no layer {stored}; skipped {:#?}", x.skipped));
        let op = w["quant_op"].as_str().unwrap();
        let want = match op {
            "MatMulNBits" => format!("int{} (dequantized, block {}", w["bits"], w["block_size"]),
            "GatherBlockQuantized" => format!("(dequantized, block {}", w["block_size"]),
            _ => "(dequantized".to_string(),
        };
        assert!(
            l.dtype.contains(&want),
            "{fixture} {stored}: {} lacks {want}",
            l.dtype
        );
        if w["g_idx_tensor"].is_string() {
            assert!(
                l.flags.iter().any(|f| f == "act_order(g_idx)"),
                "{fixture} {stored}"
            );
        }
        let asym = w["symmetric"].as_str() == Some("asymmetric");
        if op == "MatMulNBits" || op == "GatherBlockQuantized" {
            let zp = if asym { "asym)" } else { "sym)" };
            assert!(l.dtype.ends_with(zp), "{fixture} {stored}: {}", l.dtype);
        }
    }
}

#[test]
fn malformed_forms_are_layer_statuses_and_the_float_layer_is_still_analysed() {
    let m = manifest();
    let cases = m["malformed"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let file = c["file"].as_str().unwrap();
        let what = c["what_is_wrong"].as_str().unwrap();
        let a = analysis::analyze_file(&dir().join(file), &opts())
            .unwrap_or_else(|e| panic!("{file} ({what}): the run failed: {e}"));
        let float = c["float_layer"]["weight"].as_str().unwrap();
        let row = a
            .rows
            .iter()
            .find(|r| r.text(Column::Name) == Some(float))
            .unwrap_or_else(|| panic!("{file}: no row for the float layer {float}"));
        assert!(row.is_analyzed(), "{file}: float layer not analysed");
        let others: Vec<String> = a
            .rows
            .iter()
            .filter(|r| r.text(Column::Name) != Some(float))
            .map(|r| {
                format!(
                    "{} {:?} {}",
                    r.text(Column::Name).unwrap_or(""),
                    r.status(),
                    r.text(Column::Problem).unwrap_or("")
                )
            })
            .chain(
                a.skipped
                    .iter()
                    .map(|s| format!("{} skipped: {}", s.name, s.detail)),
            )
            .collect();
        eprintln!("{file} ({what}): {others:?}");
    }
}
