//! Two decodings found by comparing real int8 and fp16 exports with their float originals
//! (the release gate's calibration, docs/gate.md): what `quantize_dynamic` writes for an
//! embedding that feeds a quantised Gemm, and a transposed conv whose weight is behind a Cast.

use tailwatch::onnx::{self, Limits, Model};
use tailwatch::options::AnalysisOptions;
use tailwatch::weights::{self, LayerKind};
use tailwatch_testkit::*;
use tract_onnx::pb::ModelProto;

fn load(m: &ModelProto) -> (tempfile::TempDir, Model) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "m.onnx", m).unwrap();
    let model = onnx::load(&p, &Limits::default()).unwrap();
    (dir, model)
}

#[test]
fn a_gathered_table_feeding_matmulinteger_takes_its_own_scale_and_zero_point() {
    // quantize_dynamic's pattern: Gather(uint8 table) → MatMulInteger(rows, W, a_zp, w_zp) →
    // Cast → Mul(·, Mul(a_scale, w_scale)), both scales constant. Table [3, 2], W [2, 4].
    let table: Vec<u8> = vec![130, 126, 128, 140, 100, 128];
    let w: Vec<i8> = vec![1, -2, 3, -4, 5, -6, 7, -8];
    let g = Graph::new("g")
        .input("idx")
        .init(u8_raw("emb_q", &[3, 2], &table))
        .init(u8_raw("emb_zp", &[], &[128]))
        .init(f32_raw("emb_scale", &[], &[0.25]))
        .init(i8_raw("w_q", &[2, 4], &w))
        .init(i8_raw("w_zp", &[], &[0]))
        .init(f32_raw("w_scale", &[], &[0.5]))
        .node("Gather", "gather", &["emb_q", "idx"], &["rows"])
        .node("Mul", "scales", &["emb_scale", "w_scale"], &["s"])
        .node(
            "MatMulInteger",
            "mm",
            &["rows", "w_q", "emb_zp", "w_zp"],
            &["acc"],
        )
        .node_with("Cast", "cast", &["acc"], &["accf"], vec![a_int("to", 1)])
        .node("Mul", "scale", &["accf", "s"], &["y"])
        .output("y")
        .model();
    let (_d, m) = load(&g);
    let opts = AnalysisOptions::default();
    let x = weights::extract(&m, &opts).unwrap();
    let emb = x.layers.iter().find(|l| l.name == "emb_q").unwrap();
    assert_eq!(emb.kind, LayerKind::Embedding);
    assert_eq!(emb.dtype, "uint8 (dequantized, per-tensor, asym)");
    let got = x.matrix(emb).unwrap();
    let mut want: Vec<f64> = table.iter().map(|&q| (q as f64 - 128.0) * 0.25).collect();
    // The embedding's matrix is its transpose when the table is wider than tall: compare as sets
    // of values in order of the view (rows × cols).
    if got.rows != 3 {
        want = (0..2)
            .flat_map(|j| (0..3).map(move |i| (i, j)))
            .map(|(i, j)| want[i * 2 + j])
            .collect();
    }
    assert_eq!(got.data, want);
    let wl = x.layers.iter().find(|l| l.name == "w_q").unwrap();
    assert_eq!(wl.dtype, "int8 (dequantized, per-tensor, sym)");
    let mut vals = x.matrix(wl).unwrap().data;
    vals.sort_by(f64::total_cmp);
    let mut want: Vec<f64> = w.iter().map(|&q| q as f64 * 0.5).collect();
    want.sort_by(f64::total_cmp);
    // The weight's own scale, not the product 0.25 · 0.5 of both.
    assert_eq!(vals, want);
}

#[test]
fn a_transposed_conv_behind_a_cast_stays_a_transposed_conv() {
    // An fp16 conversion that keeps a float32 weight and casts it: Cast → ConvTranspose.
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[4, 3, 2, 2], &iota(48)))
        .node_with("Cast", "cast", &["w"], &["w16"], vec![a_int("to", 10)])
        .node("ConvTranspose", "deconv", &["x", "w16"], &["y"])
        .output("y")
        .model();
    let (_d, m) = load(&g);
    let x = weights::extract(&m, &AnalysisOptions::default()).unwrap();
    assert_eq!(x.layers.len(), 1);
    assert_eq!(x.layers[0].kind, LayerKind::ConvTranspose);
}
