//! Hand-computed MatMulNBits / GatherBlockQuantized cases beside the onnxruntime oracle
//! (tests/quant_oracle.rs): bit order, padding of the last block, packed zero points, the fused
//! MLP form, band-by-band decoding equal to whole decoding, and contrib ops that are reported
//! instead of dropped.

use tailwatch::analysis;
use tailwatch::onnx::{self, Limits, Model};
use tailwatch::options::{AnalysisOptions, AnalysisOverrides, Preset};
use tailwatch::schema::SkipReason;
use tailwatch::weights::{self, Extraction, LayerKind, Orientation};
use tailwatch_testkit::*;
use tract_onnx::pb::ModelProto;

fn load(m: &ModelProto) -> (tempfile::TempDir, Model) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "m.onnx", m).unwrap();
    let model = onnx::load(&p, &Limits::default()).unwrap();
    (dir, model)
}

fn opts() -> AnalysisOptions {
    let o = ["min_evals=1".to_string()];
    AnalysisOptions::resolve(Preset::Ww, &AnalysisOverrides::from_pairs(&o).unwrap()).unwrap()
}

fn extract(m: &Model) -> Extraction<'_> {
    weights::extract(m, &opts()).unwrap()
}

/// A model of one MatMulNBits node reading `x`, B, scales `s` and the given extra inputs.
fn nbits_graph(
    g: Graph,
    inputs: &[&str],
    attrs: Vec<tract_onnx::pb::AttributeProto>,
) -> ModelProto {
    g.node_in("com.microsoft", "MatMulNBits", "mm", inputs, &["y"], attrs)
        .model()
}

/// A model of one GatherBlockQuantized node reading table `t`, indices `i` and scales `s`.
fn gbq_graph(g: Graph, attrs: Vec<tract_onnx::pb::AttributeProto>) -> ModelProto {
    g.node_in(
        "com.microsoft",
        "GatherBlockQuantized",
        "gbq",
        &["t", "i", "s"],
        &["y"],
        attrs,
    )
    .model()
}

fn nbits(k: i64, n: i64, bits: i64, block: i64) -> Vec<tract_onnx::pb::AttributeProto> {
    vec![
        a_int("K", k),
        a_int("N", n),
        a_int("bits", bits),
        a_int("block_size", block),
    ]
}

#[test]
fn two_bit_codes_low_bits_first_with_a_padded_last_block_and_packed_zero_points() {
    // K = 20 in blocks of 16: block 0 holds k 0..16, block 1 holds k 16..20 (12 codes padding).
    // N = 1; 2 bits: 4 codes a byte, lowest bits first; blob = 16·2/8 = 4 bytes.
    let codes: Vec<u8> = (0..32).map(|i| (i % 4) as u8).collect();
    let bytes: Vec<u8> = codes
        .chunks(4)
        .map(|c| c[0] | c[1] << 2 | c[2] << 4 | c[3] << 6)
        .collect();
    // Zero points 1 and 3, packed 2-bit in one byte: 1 | 3 << 2.
    let g = Graph::new("g")
        .input("x")
        .init(raw("B", id::UINT8, &[1, 2, 4], bytes))
        .init(f32_raw("s", &[1, 2], &[0.5, 2.0]))
        .init(u8_raw("zp", &[1, 1], &[1 | 3 << 2]));
    let (_d, m) = load(&nbits_graph(g, &["x", "B", "s", "zp"], nbits(20, 1, 2, 16)));
    let x = extract(&m);
    let l = &x.layers[0];
    assert_eq!(
        (l.kind, l.view.rows, l.view.cols),
        (LayerKind::Dense, 20, 1)
    );
    assert_eq!(l.dtype, "int2 (dequantized, block 16, asym)");
    let w = x.matrix(l).unwrap().data;
    let want: Vec<f64> = (0..20)
        .map(|k| {
            let q = (k % 4) as f64;
            if k < 16 {
                (q - 1.0) * 0.5
            } else {
                (q - 3.0) * 2.0
            }
        })
        .collect();
    assert_eq!(w, want);
}

#[test]
fn eight_bit_codes_default_zero_point_and_float16_scales_round_to_float16() {
    // One row, K = 16, bits 8: W = (q − 128)·s rounded to float16.
    let q: Vec<u8> = (0..16).map(|i| 120 + i as u8).collect();
    let g = Graph::new("g")
        .input("x")
        .init(raw("B", id::UINT8, &[1, 1, 16], q.clone()))
        .init(f16_raw("s", &[1, 1], &[0.1]));
    let (_d, m) = load(&nbits_graph(g, &["x", "B", "s"], nbits(16, 1, 8, 16)));
    let x = extract(&m);
    let w = x.matrix(&x.layers[0]).unwrap().data;
    let s = half::f16::from_f32(0.1).to_f32();
    for (i, v) in w.iter().enumerate() {
        let exact = ((q[i] as f32 - 128.0) * s) as f64;
        assert_eq!(*v, half::f16::from_f64(exact).to_f64(), "{i}");
    }
}

#[test]
fn the_fused_mlp_form_gives_two_layers() {
    let attrs = {
        let mut a = nbits(32, 2, 4, 32);
        a.push(tract_onnx::pb::AttributeProto {
            name: "activation".into(),
            r#type: 3,
            s: b"silu".to_vec(),
            ..Default::default()
        });
        a
    };
    let b = |name: &str, v: u8| raw(name, id::UINT8, &[2, 1, 16], vec![v; 32]);
    let g = Graph::new("g")
        .input("x")
        .init(b("gate", 0x98))
        .init(f32_raw("gs", &[2, 1], &[1.0, 2.0]))
        .init(b("up", 0x7a))
        .init(f32_raw("us", &[2, 1], &[3.0, 4.0]))
        .node_in(
            "com.microsoft",
            "MatMulNBitsMlp",
            "mlp",
            &["x", "", "", "gate", "gs", "", "up", "us"],
            &["y"],
            attrs,
        );
    let (_d, m) = load(&g.model());
    let x = extract(&m);
    let names: Vec<&str> = x.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["gate", "up"]);
    // gate: codes 8 (low) and 9 (high) → 0 and 1 times the row's scale, K × N.
    let w = x.matrix(&x.layers[0]).unwrap().data;
    assert_eq!(&w[..4], &[0.0, 0.0, 1.0, 2.0]);
    let w = x.matrix(&x.layers[1]).unwrap().data;
    // up: codes 10 and 7 → 2 and −1.
    assert_eq!(&w[..4], &[6.0, 8.0, -3.0, -4.0]);
}

fn nbits_model(n: usize, k: usize, seed: u64) -> ModelProto {
    let mut rng = TestRng::new(seed);
    let blocks = k.div_ceil(32);
    let scales: Vec<f32> = (0..n * blocks)
        .map(|_| rng.uniform_in(-0.1, 0.1) as f32)
        .collect();
    let g = Graph::new("g")
        .input("x")
        .init(raw(
            "B",
            id::UINT8,
            &[n as i64, blocks as i64, 16],
            rng.bytes(n * blocks * 16),
        ))
        .init(f32_raw("s", &[n as i64, blocks as i64], &scales));
    nbits_graph(g, &["x", "B", "s"], nbits(k as i64, n as i64, 4, 32))
}

#[test]
fn band_by_band_decoding_gives_the_whole_matrix_and_the_same_analysis() {
    // 1100 rows: two full bands of 512 and a short one.
    let (d, m) = load(&nbits_model(1100, 96, 3));
    let x = extract(&m);
    let l = &x.layers[0];
    let s = x.streamable(l).unwrap();
    assert_eq!((s.rows, s.cols), (1100, 96));
    let whole = x.matrix_in(l, Orientation::Any).unwrap().data;
    let mut bands = Vec::new();
    let mut starts = Vec::new();
    x.stream_rows(l, 512, |r0, v| {
        starts.push(r0);
        bands.extend_from_slice(v);
    })
    .unwrap();
    assert_eq!(starts, [0, 512, 1024]);
    assert_eq!(bands, whole);
    // The analysis streams this layer; with randomize (which needs the matrix) it does not:
    // the spectra agree to the bit.
    let p = d.path().join("m.onnx");
    let a = analysis::analyze_file(&p, &opts()).unwrap();
    let with_matrix = {
        let o = ["min_evals=1".to_string(), "randomize=true".to_string()];
        let o = AnalysisOptions::resolve(Preset::Ww, &AnalysisOverrides::from_pairs(&o).unwrap())
            .unwrap();
        analysis::analyze_file(&p, &o).unwrap()
    };
    assert_eq!(a.esd[0].evals, with_matrix.esd[0].evals);
}

#[test]
fn nan_scales_and_zero_weights_are_layer_statuses_in_the_band_path_too() {
    let (_d, m) = load(&nbits_model(600, 64, 4));
    let x = extract(&m);
    let l = &x.layers[0];
    assert!(x.stream_rows(l, 512, |_, _| {}).is_ok());
    // All codes 8 with no zero point: every value is zero.
    let g = Graph::new("g")
        .input("x")
        .init(raw("B", id::UINT8, &[600, 2, 16], vec![0x88; 600 * 32]))
        .init(f32_raw("s", &[600, 2], &vec![1.0; 1200]));
    let (_d, m) = load(&nbits_graph(g, &["x", "B", "s"], nbits(64, 600, 4, 32)));
    let x = extract(&m);
    let e = x.stream_rows(&x.layers[0], 512, |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("zero"), "{e}");
}

#[test]
fn contrib_ops_without_a_decoder_are_reported_not_dropped() {
    let w = || f32_raw("w", &[64, 64], &iota(4096));
    // A known one, with its reason; an unknown op of another domain with a matrix-sized constant.
    for (domain, op, says) in [
        ("com.microsoft", "MatMulFpQ4", "prepacked MLAS blob"),
        (
            "com.acme",
            "FancyLinear",
            "com.acme.FancyLinear input 1 is a matrix-sized constant",
        ),
    ] {
        let g = Graph::new("g").input("x").init(w()).node_in(
            domain,
            op,
            "n",
            &["x", "w"],
            &["y"],
            vec![],
        );
        let (_d, m) = load(&g.model());
        let x = extract(&m);
        assert!(x.layers.is_empty());
        let s = x.skipped.iter().find(|s| s.name == "w").unwrap();
        assert_eq!(s.reason, SkipReason::UnsupportedOp);
        assert!(s.detail.contains(says), "{}", s.detail);
    }
    // Rotary caches of attention ops are not weights.
    let g = Graph::new("g").input("x").init(w()).node_in(
        "com.microsoft",
        "RotaryEmbedding",
        "r",
        &["x", "x", "w", "w"],
        &["y"],
        vec![],
    );
    let (_d, m) = load(&g.model());
    let x = extract(&m);
    assert!(
        x.skipped
            .iter()
            .all(|s| s.reason != SkipReason::UnsupportedOp),
        "{:?}",
        x.skipped
    );
}

#[test]
fn a_block_size_that_overflows_the_sizes_is_malformed_not_a_panic() {
    // bits 8, block 2^61: blob = block·bits/8 overflows; B [N, 1, 0] has no payload at all.
    let g = Graph::new("g")
        .input("x")
        .init(raw("B", id::UINT8, &[64, 1, 0], vec![]))
        .init(f32_raw("s", &[64], &[1.0; 64]));
    let (_d, m) = load(&nbits_graph(g, &["x", "B", "s"], nbits(64, 64, 8, 1 << 61)));
    let x = extract(&m);
    let e = x.matrix(&x.layers[0]).unwrap_err();
    assert!(e.to_string().contains("too large"), "{e}");
}

#[test]
fn a_rank_3_table_blocked_on_its_middle_axis_is_decoded_whole() {
    // [1, V, D] with quantize_axis 1: not the last axis, so not decoded in bands.
    let (v, d) = (64, 32);
    let mut rng = TestRng::new(9);
    let g = Graph::new("g")
        .input("i")
        .init(raw("t", 22, &[1, v, d], rng.bytes((v * d / 2) as usize)))
        .init(f32_raw(
            "s",
            &[1, v / 16, d],
            &vec![0.5; (v / 16 * d) as usize],
        ));
    let (_d, m) = load(&gbq_graph(
        g,
        vec![a_int("block_size", 16), a_int("quantize_axis", 1)],
    ));
    let x = extract(&m);
    let l = &x.layers[0];
    assert!(x.streamable(l).is_none());
    assert!(x.matrix(l).is_ok());
}

#[test]
fn one_dimensional_weights_of_known_undecoded_ops_and_odd_gathers_are_reported() {
    let g = Graph::new("g")
        .input("x")
        .init(raw("B", id::UINT8, &[512], vec![7; 512]))
        .init(f32_raw("absmax", &[16], &[1.0; 16]))
        .node_in(
            "com.microsoft",
            "MatMulBnb4",
            "bnb",
            &["x", "B", "absmax"],
            &["y"],
            vec![],
        );
    let (_d, m) = load(&g.model());
    let x = extract(&m);
    let s = x.skipped.iter().find(|s| s.name == "B").unwrap();
    assert!(s.detail.contains("MatMulBnb4"), "{}", s.detail);
    // GatherBlockQuantized on another axis than 0: skipped with the reason.
    let g = Graph::new("g")
        .input("i")
        .init(raw("t", 22, &[4, 32], vec![0x11; 64]))
        .init(f32_raw("s", &[4, 2], &[1.0; 8]));
    let (_d, m) = load(&gbq_graph(
        g,
        vec![a_int("block_size", 16), a_int("gather_axis", 1)],
    ));
    let x = extract(&m);
    assert!(x.layers.is_empty());
    let s = x.skipped.iter().find(|s| s.name == "t").unwrap();
    assert!(s.detail.contains("gather_axis 1"), "{}", s.detail);
}
