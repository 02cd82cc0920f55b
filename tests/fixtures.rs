//! Builder fixtures for every op, layout, dtype, storage form and scope case, checked against
//! hand-computed answers (layers, views, and matrix values of folded/dequantised weights).

use tailwatch::onnx::{self, Limits, Model};
use tailwatch::options::{AnalysisOptions, AnalysisOverrides, Preset};
use tailwatch::weights::{self, Extraction, LayerKind, LayerProblem, Origin, WeightLayer};
use tailwatch_testkit::*;
use tract_onnx::pb::{ModelProto, SparseTensorProto};

fn load(m: &ModelProto) -> (tempfile::TempDir, Model) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "m.onnx", m).unwrap();
    let model = onnx::load(&p, &Limits::default()).unwrap();
    (dir, model)
}

fn opts(pairs: &[&str]) -> AnalysisOptions {
    let pairs: Vec<String> = pairs.iter().map(|s| s.to_string()).collect();
    AnalysisOptions::resolve(Preset::Ww, &AnalysisOverrides::from_pairs(&pairs).unwrap()).unwrap()
}

fn extract<'m>(m: &'m Model, pairs: &[&str]) -> Extraction<'m> {
    weights::extract(m, &opts(pairs)).unwrap()
}

fn one(x: &Extraction<'_>) -> WeightLayer {
    assert_eq!(x.layers.len(), 1, "{:#?}", x.layers);
    x.layers[0].clone()
}

fn view(l: &WeightLayer) -> (usize, usize, usize) {
    (l.view.rows, l.view.cols, l.view.slices)
}

fn values(x: &Extraction<'_>, l: &WeightLayer) -> Vec<f64> {
    x.matrix(l).unwrap().data
}

#[test]
fn conv_ranks_and_transpose() {
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("w1", &[4, 2, 3], &iota(24)))
        .init(f32_raw("w3", &[4, 2, 2, 3, 2], &iota(96)))
        .init(f32_raw("wt", &[6, 3, 2, 2], &iota(72)))
        .node("Conv", "c1", &["x", "w1"], &["y1"])
        .node("Conv", "c3", &["x", "w3"], &["y3"])
        .node("ConvTranspose", "ct", &["x", "wt"], &["y4"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let k: Vec<_> = x.layers.iter().map(|l| (l.kind, view(l))).collect();
    assert_eq!(
        k,
        vec![
            (LayerKind::Conv1d, (4, 2, 3)),
            (LayerKind::Conv3d, (4, 2, 12)),
            (LayerKind::ConvTranspose, (6, 3, 4)),
        ]
    );
    let d = x.layers[2].view.dims(x.layers[2].kind, false);
    assert_eq!((d.n, d.m, d.rf), (6, 3, 4));
    // Conv1d slice p = W[:, :, p]: slice 0 holds values 1, 4, 7, … (stride 3).
    let v = values(&x, &x.layers[0]);
    assert_eq!(&v[..8], &[1.0, 4.0, 7.0, 10.0, 13.0, 16.0, 19.0, 22.0]);
}

#[test]
fn grouped_and_depthwise_conv() {
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("dw", &[4, 1, 3, 3], &iota(36)))
        .node_with("Conv", "dw", &["x", "dw"], &["y"], vec![a_int("group", 4)]);
    let (_d, m) = load(&g.model());
    let l = one(&extract(&m, &[]));
    assert_eq!(view(&l), (4, 1, 9));
    assert!(l.flags.contains(&"group_4".to_string()));
    let x = extract(&m, &["grouped_conv=blocks"]);
    let l = one(&x);
    assert_eq!(view(&l), (1, 1, 36));
    assert!(l.flags.contains(&"grouped_conv_blocks".to_string()));
    // Position 0, block j = W[j, 0, 0, 0] = 1 + 9j.
    assert_eq!(&values(&x, &l)[..4], &[1.0, 10.0, 19.0, 28.0]);
}

#[test]
fn gemm_trans_and_alpha() {
    // W [out=3, in=2] with transB=1, alpha 2: effective 2·Wᵀ, 2 × 3.
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[3, 2], &iota(6)))
        .node_with(
            "Gemm",
            "fc",
            &["x", "w"],
            &["y"],
            vec![a_int("transB", 1), a_float("alpha", 2.0)],
        );
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert_eq!(
        (l.kind, view(&l), l.op.as_str()),
        (LayerKind::Dense, (2, 3, 1), "Gemm")
    );
    assert_eq!(l.stored_shape, vec![3, 2]);
    assert!(l.flags.iter().any(|f| f.starts_with("alpha_scaled")));
    assert_eq!(values(&x, &l), vec![2.0, 6.0, 10.0, 4.0, 8.0, 12.0]);
    // Constant A with transA=1.
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("a", &[2, 3], &iota(6)))
        .node_with("Gemm", "fc", &["a", "x"], &["y"], vec![a_int("transA", 1)]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert_eq!((view(&l), l.consumers[0].slot), ((3, 2, 1), 0));
    assert_eq!(values(&x, &l), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
}

#[test]
fn any_orientation_skips_a_top_level_transpose_only() {
    use tailwatch::weights::Orientation::{Any, Effective};
    // Gemm transB = 1: effective Wᵀ (2 × 3); `Any` gives the stored W (3 × 2), undecoded order.
    let gemm = |attrs| {
        let g = Graph::new("g")
            .input("x")
            .init(f32_raw("w", &[3, 2], &iota(6)))
            .node_with("Gemm", "fc", &["x", "w"], &["y"], attrs);
        load(&g.model())
    };
    let (_d, m) = gemm(vec![a_int("transB", 1)]);
    let x = extract(&m, &[]);
    let l = one(&x);
    let eff = x.matrix_in(&l, Effective).unwrap();
    let any = x.matrix_in(&l, Any).unwrap();
    assert_eq!(
        (eff.rows, eff.cols, eff.data),
        (2, 3, vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0])
    );
    assert_eq!(
        (any.rows, any.cols, any.data),
        (3, 2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    );
    // A scale on top of the transpose keeps the effective order.
    let (_d, m) = gemm(vec![a_int("transB", 1), a_float("alpha", 2.0)]);
    let x = extract(&m, &[]);
    let l = one(&x);
    assert_eq!(
        x.matrix_in(&l, Any).unwrap(),
        x.matrix_in(&l, Effective).unwrap()
    );
    // No transpose: the same matrix either way.
    let (_d, m) = gemm(vec![]);
    let x = extract(&m, &[]);
    let l = one(&x);
    assert_eq!(x.matrix_in(&l, Any).unwrap(), x.matrix(&l).unwrap());
}

#[test]
fn matmul_sides_stacks_and_fused() {
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("left", &[3, 4], &iota(12)))
        .init(f32_raw("heads", &[2, 3, 4], &iota(24)))
        .init(f32_raw("fw", &[5, 4], &iota(20)))
        .init(f32_raw("vec", &[4], &iota(4)))
        .node("MatMul", "", &["left", "x"], &["a"])
        .node("MatMul", "", &["x", "heads"], &["b"])
        .node_in(
            "com.microsoft",
            "FusedMatMul",
            "fm",
            &["x", "fw"],
            &["c"],
            vec![a_int("transB", 1), a_float("alpha", 0.5)],
        )
        .node("MatMul", "", &["x", "vec"], &["d"])
        .node("MatMul", "qk", &["x", "x"], &["e"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let got: Vec<_> = x
        .layers
        .iter()
        .map(|l| (l.layer_id, l.name.as_str(), view(l)))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "left", (3, 4, 1)),
            (1, "heads", (3, 4, 2)),
            (2, "fw", (4, 5, 1))
        ]
    );
    assert_eq!(x.layers[0].consumers[0].node, "#0");
    assert!(
        x.layers[1]
            .flags
            .iter()
            .any(|f| f.starts_with("batch_shape"))
    );
    let fw = values(&x, &x.layers[2]);
    assert_eq!(&fw[..5], &[0.5, 2.5, 4.5, 6.5, 8.5]);
    // The vector consumes an id and is skipped; the run-time Q·Kᵀ is skipped without an id.
    let sk: Vec<_> = x
        .skipped
        .iter()
        .map(|s| (s.layer_id, s.name.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        sk,
        vec![
            (Some(3), "vec", "not a matrix"),
            (None, "x", "runtime operand")
        ]
    );
}

#[test]
fn dtypes_and_storage_forms_decode_exactly() {
    let v = [0.5f32, -1.25, 3.0, 1024.0, -0.0078125, 2.5];
    let cases = vec![
        ("f32raw", f32_raw("w", &[2, 3], &v), "float"),
        ("f32typed", f32_typed("w", &[2, 3], &v), "float"),
        ("f16raw", f16_raw("w", &[2, 3], &v), "float16"),
        ("f16typed", f16_typed("w", &[2, 3], &v), "float16"),
        ("bf16raw", bf16_raw("w", &[2, 3], &v), "bfloat16"),
        ("bf16typed", bf16_typed("w", &[2, 3], &v), "bfloat16"),
        ("f64raw", f64_raw("w", &[2, 3], &v.map(f64::from)), "double"),
        (
            "f64typed",
            f64_typed("w", &[2, 3], &v.map(f64::from)),
            "double",
        ),
    ];
    for (label, t, dt) in cases {
        let g = Graph::new("g")
            .input("x")
            .init(t)
            .node("MatMul", "mm", &["x", "w"], &["y"]);
        let (_d, m) = load(&g.model());
        let x = extract(&m, &[]);
        let l = one(&x);
        assert_eq!(l.dtype, dt, "{label}");
        assert_eq!(values(&x, &l), v.map(f64::from).to_vec(), "{label}");
    }
    // bf16 rounding is real: 1.01 is not representable.
    let g = Graph::new("g")
        .input("x")
        .init(bf16_raw("w", &[1, 2], &[1.01, 3.0]))
        .node("MatMul", "", &["x", "w"], &["y"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    assert_eq!(values(&x, &one(&x))[0], 1.0078125);
}

#[test]
fn constant_nodes_and_folding_chains() {
    // Constant node weight (PaddlePaddle style, unnamed node).
    let g = Graph::new("g")
        .input("x")
        .constant("cw", f32_raw("", &[2, 2], &[1.0, 2.0, 3.0, 4.0]))
        .node("MatMul", "", &["x", "cw"], &["y"]);
    let (_d, m) = load(&g.model());
    let l = one(&extract(&m, &[]));
    assert_eq!(
        (l.name.as_str(), l.origin, l.source.as_str()),
        ("cw", Origin::ConstantNode, "const:cw")
    );

    // init [3,2] → Transpose → Cast(f16) → Reshape([2,3]) → MatMul.
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 1.0001]))
        .init(i64_typed("shape", &[2], &[2, -1]))
        .node("Transpose", "t", &["w"], &["wt"])
        .node_with("Cast", "c", &["wt"], &["wh"], vec![a_int("to", 10)])
        .node("Reshape", "r", &["wh", "shape"], &["wr"])
        .node("MatMul", "mm", &["x", "wr"], &["y"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert_eq!(l.origin, Origin::Folded);
    assert_eq!(l.source, "init:w → Transpose → Cast → Reshape");
    assert_eq!(l.name, "w");
    assert_eq!(view(&l), (2, 3, 1));
    // Transposed, and 1.0001 rounded to float16 (1.0).
    assert_eq!(values(&x, &l), vec![1.0, 3.0, 5.0, 2.0, 4.0, 1.0]);
    assert!(x.skipped.is_empty(), "{:?}", x.skipped);
}

#[test]
fn lstm_style_gate_reordering_folds() {
    // W [4,2] rows r0..r3 → Concat(Slice rows 0..1, Slice rows 3..4, Slice 1..3) → Unsqueeze(0).
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[4, 2], &iota(8)))
        .init(i64_typed("s0", &[1], &[0]))
        .init(i64_typed("e1", &[1], &[1]))
        .init(i64_typed("s3", &[1], &[3]))
        .init(i64_typed("end", &[1], &[i64::MAX]))
        .init(i64_typed("ax0", &[1], &[0]))
        .node("Slice", "", &["w", "s0", "e1"], &["a"])
        .node("Slice", "", &["w", "s3", "end"], &["b"])
        .node("Slice", "", &["w", "e1", "s3"], &["c"])
        .node_with(
            "Concat",
            "",
            &["a", "b", "c"],
            &["cat"],
            vec![a_int("axis", 0)],
        )
        .node("Unsqueeze", "", &["cat", "ax0"], &["u"])
        .node("MatMul", "mm", &["x", "u"], &["y"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert_eq!(l.source, "init:w → Slice → Concat → Unsqueeze");
    assert_eq!(view(&l), (4, 2, 1));
    assert_eq!(values(&x, &l), vec![1.0, 2.0, 7.0, 8.0, 3.0, 4.0, 5.0, 6.0]);
    // The fold inputs (tiny int64 vectors) are not reported as anything.
    assert!(x.skipped.is_empty());
}

#[test]
fn qdq_per_axis_dequantises() {
    // W_q int8 [2,1,1,2], scale [0.5, 2], zp [1, -1], axis 0.
    let g = qdq_conv(
        i8_raw("wq", &[2, 1, 1, 2], &[3, 5, -1, 2]),
        f32_raw("s", &[2], &[0.5, 2.0]),
        i8_raw("zp", &[2], &[1, -1]),
    );
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert_eq!(
        (l.origin, l.dtype.as_str(), l.name.as_str()),
        (
            Origin::Dequantized,
            "int8 (dequantized, per-axis 0, asym)",
            "wq"
        )
    );
    // Slices: p=0 → [(3−1)·0.5, (−1+1)·2] = [1, 0]; p=1 → [(5−1)·0.5, (2+1)·2] = [2, 6].
    assert_eq!(values(&x, &l), vec![1.0, 0.0, 2.0, 6.0]);
}

#[test]
fn qlinear_ops_dequantise() {
    let g = Graph::new("g")
        .input("x")
        .input("xs")
        .input("xz")
        .input("ys")
        .input("yz")
        .init(u8_raw("w", &[2, 1, 1, 1], &[10, 20]))
        .init(f32_raw("ws", &[2], &[0.5, 0.25]))
        .init(u8_raw("wz", &[2], &[8, 4]))
        .init(i8_raw("b", &[2, 3], &[1, 2, 3, 4, 5, 6]))
        .init(f32_raw("bs", &[3], &[1.0, 2.0, 3.0]))
        .init(i8_raw("bz", &[3], &[0, 1, 2]))
        .node(
            "QLinearConv",
            "qc",
            &["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"],
            &["y"],
        )
        .node(
            "QLinearMatMul",
            "qm",
            &["x", "xs", "xz", "b", "bs", "bz", "ys", "yz"],
            &["z"],
        );
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    assert_eq!(x.layers.len(), 2);
    assert_eq!(values(&x, &x.layers[0]), vec![1.0, 4.0]);
    assert_eq!(x.layers[0].dtype, "uint8 (dequantized, per-axis 0, asym)");
    // b per column: (b − bz[j])·bs[j].
    assert_eq!(
        values(&x, &x.layers[1]),
        vec![1.0, 2.0, 3.0, 4.0, 8.0, 12.0]
    );
}

#[test]
fn integer_ops_find_their_scale() {
    // ConvInteger → Cast → Mul(·, Mul(x_scale, w_scale)) with w_scale constant.
    let g = Graph::new("g")
        .input("xq")
        .input("xs")
        .init(u8_raw("w", &[2, 1, 1, 1], &[10, 20]))
        .init(u8_raw("wz", &[], &[8]))
        .init(f32_raw("wscale", &[], &[0.5]))
        .node("ConvInteger", "ci", &["xq", "w", "", "wz"], &["acc"])
        .node_with("Cast", "", &["acc"], &["accf"], vec![a_int("to", 1)])
        .node("Mul", "", &["xs", "wscale"], &["sc"])
        .node("Mul", "", &["accf", "sc"], &["y"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert!(!l.flags.iter().any(|f| f == "scale_unknown"));
    assert_eq!(values(&x, &l), vec![1.0, 6.0]);
    // Without the Mul the scale is unknown: w − zp, flagged.
    let g = Graph::new("g")
        .input("xq")
        .init(u8_raw("w", &[2, 1, 1, 1], &[10, 20]))
        .init(u8_raw("wz", &[], &[8]))
        .node("ConvInteger", "ci", &["xq", "w", "", "wz"], &["acc"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert!(l.flags.contains(&"scale_unknown".to_string()));
    assert_eq!(values(&x, &l), vec![2.0, 12.0]);
    // MatMulInteger, per-column zero point, constant scale after Cast.
    let g = Graph::new("g")
        .input("xq")
        .init(i8_raw("b", &[2, 2], &[1, 2, 3, 4]))
        .init(i8_raw("bz", &[2], &[1, 2]))
        .init(f32_raw("s", &[2], &[2.0, 10.0]))
        .node("MatMulInteger", "mi", &["xq", "b", "", "bz"], &["acc"])
        .node_with("Cast", "", &["acc"], &["accf"], vec![a_int("to", 1)])
        .node("Mul", "", &["accf", "s"], &["y"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    assert_eq!(values(&x, &one(&x)), vec![0.0, 0.0, 4.0, 20.0]);
}

#[test]
fn weight_only_int8_cast_mul() {
    let g = Graph::new("g")
        .input("x")
        .init(i8_raw("wq", &[2, 3], &[1, -2, 3, 4, 5, -6]))
        .init(f32_raw("scale", &[1, 3], &[0.5, 1.0, 2.0]))
        .node_with("Cast", "", &["wq"], &["wf"], vec![a_int("to", 1)])
        .node("Mul", "", &["wf", "scale"], &["w"])
        .node("MatMul", "mm", &["x", "w"], &["y"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert_eq!(
        (l.name.as_str(), l.origin, l.dtype.as_str()),
        ("wq", Origin::Dequantized, "int8 (dequantized)")
    );
    assert_eq!(l.source, "init:wq → Cast → Mul");
    assert_eq!(values(&x, &l), vec![0.5, -2.0, 6.0, 2.0, 5.0, -12.0]);
}

#[test]
fn tied_weights_are_one_layer() {
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("emb", &[4, 3], &iota(12)))
        .node("Gather", "lookup", &["emb", "x"], &["e"])
        .node_with(
            "Gemm",
            "head",
            &["e", "emb"],
            &["y"],
            vec![a_int("transB", 1)],
        );
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert_eq!(l.kind, LayerKind::Embedding);
    assert_eq!(l.tied.len(), 1);
    assert_eq!(l.tied[0].node, "head");
    assert!(l.flags.contains(&"tied".to_string()));
}

#[test]
fn subgraphs_outer_scope_and_constants() {
    let then_b = Graph::new("then")
        .node("Conv", "conv_a", &["x", "w0"], &["ya"])
        .output("ya")
        .build();
    let else_b = Graph::new("else")
        .node("Conv", "conv_b", &["x", "w0"], &["yb"])
        .output("yb")
        .build();
    let body = Graph::new("body")
        .input("i")
        .input("cond")
        .constant("lw", f32_raw("", &[3, 2], &iota(6)))
        .node("MatMul", "mm", &["x2", "lw"], &["z"])
        .build();
    let g = Graph::new("main")
        .input("x")
        .input("x2")
        .input("c")
        .init(f32_raw("w0", &[2, 1, 3, 3], &iota(18)))
        .node_with(
            "If",
            "If_0",
            &["c"],
            &["y"],
            vec![
                a_graph("then_branch", then_b),
                a_graph("else_branch", else_b),
            ],
        )
        .node_with(
            "Loop",
            "Loop_0",
            &["", "c"],
            &["z"],
            vec![a_graph("body", body)],
        );
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    assert_eq!(x.layers.len(), 2);
    let a = &x.layers[0];
    assert_eq!(
        (a.name.as_str(), a.path.as_str(), a.origin),
        ("w0", "If_0/then_branch", Origin::Initializer)
    );
    assert_eq!(a.tied.len(), 1);
    assert_eq!(a.tied[0].path, "If_0/else_branch");
    let b = &x.layers[1];
    assert_eq!(
        (b.layer_id, b.name.as_str(), b.path.as_str(), b.origin),
        (1, "lw", "Loop_0/body", Origin::ConstantNode)
    );
}

#[test]
fn duplicated_content_across_branches_is_tied() {
    let then_b = Graph::new("then")
        .init(f32_raw("wa", &[2, 2], &iota(4)))
        .node("MatMul", "ma", &["x", "wa"], &["ya"])
        .build();
    let else_b = Graph::new("else")
        .init(f32_raw("wb", &[2, 2], &iota(4)))
        .node("MatMul", "mb", &["x", "wb"], &["yb"])
        .build();
    let g = Graph::new("main").input("x").input("c").node_with(
        "If",
        "if",
        &["c"],
        &["y"],
        vec![
            a_graph("then_branch", then_b),
            a_graph("else_branch", else_b),
        ],
    );
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert_eq!(l.origin, Origin::Subgraph);
    assert!(l.flags.contains(&"tied_by_content".to_string()));
    assert_eq!(l.tied[0].node, "mb");
}

#[test]
fn non_weights_and_overridable_inputs() {
    let g = Graph::new("g")
        .input("p")
        .input("x")
        .input("w") // IR < 4 style: the initializer is also an input
        .init(f32_raw("pos_table", &[4, 2], &iota(8)))
        .init(i64_typed("shape", &[2], &[1, -1]))
        .init(f32_raw("w", &[2, 2], &iota(4)))
        .node("Add", "", &["p", "pos_table"], &["q"])
        .node("Reshape", "", &["q", "shape"], &["r"])
        .node("MatMul", "", &["x", "w"], &["y"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert_eq!(l.name, "w");
    assert!(l.flags.contains(&"overridable".to_string()));
    assert_eq!(x.skipped.len(), 1);
    assert_eq!(
        (x.skipped[0].name.as_str(), x.skipped[0].reason.as_str()),
        ("pos_table", "not a weight slot")
    );
}

#[test]
fn batchnorm_is_detected_and_optionally_folded() {
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[2, 1, 1, 1], &[1.0, 1.0]))
        .init(f32_raw("gamma", &[2], &[2.0, 3.0]))
        .init(f32_raw("beta", &[2], &[0.0, 0.0]))
        .init(f32_raw("mean", &[2], &[0.0, 0.0]))
        .init(f32_raw("var", &[2], &[4.0, 9.0]))
        .node("Conv", "conv", &["x", "w"], &["y"])
        .node("Identity", "", &["y"], &["y2"])
        .node_with(
            "BatchNormalization",
            "bn",
            &["y2", "gamma", "beta", "mean", "var"],
            &["z"],
            vec![a_float("epsilon", 0.0)],
        );
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert!(l.flags.contains(&"followed_by_bn".to_string()));
    assert_eq!(l.bn.as_deref(), Some("bn"));
    assert_eq!(values(&x, &l), vec![1.0, 1.0]);
    let x = extract(&m, &["fold_bn=true"]);
    assert_eq!(values(&x, &one(&x)), vec![1.0, 1.0]); // γ/σ = 2/2, 3/3
}

#[test]
fn initializer_scan_mode_consumes_ids() {
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("a", &[2, 3], &iota(6)))
        .init(f32_raw("b3", &[2, 3, 4], &iota(24)))
        .init(f32_raw("c", &[4, 2, 3, 3], &iota(72)))
        .init(i8_raw("q", &[2, 2], &[1, 2, 3, 4]));
    let (_d, m) = load(&g.model());
    let x = extract(&m, &["layer_source=initializers"]);
    let ids: Vec<_> = x.layers.iter().map(|l| (l.layer_id, l.kind)).collect();
    assert_eq!(ids, vec![(0, LayerKind::Dense), (2, LayerKind::Conv2d)]);
    let sk: Vec<_> = x
        .skipped
        .iter()
        .map(|s| (s.layer_id, s.reason.as_str()))
        .collect();
    assert_eq!(sk, vec![(Some(1), "rank"), (Some(3), "unsupported dtype")]);
    assert_eq!(
        values(&x, &x.layers[0]),
        (1..=6).map(f64::from).collect::<Vec<_>>()
    );
}

#[test]
fn invalid_values_are_a_layer_problem() {
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[2, 2], &[1.0, f32::NAN, f32::INFINITY, 0.0]))
        .node("MatMul", "", &["x", "w"], &["y"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let e = x.matrix(&one(&x)).unwrap_err();
    assert_eq!(e, LayerProblem::InvalidValues { nan: 1, inf: 1 });
    assert_eq!(e.status().as_str(), "invalid_values");
}

#[test]
fn sparse_initializer_densifies() {
    let mut g = Graph::new("g")
        .input("x")
        .node("MatMul", "", &["x", "sw"], &["y"])
        .build();
    g.sparse_initializer.push(SparseTensorProto {
        values: Some(f32_raw("sw", &[2], &[5.0, 7.0])),
        indices: Some(i64_typed("", &[2], &[1, 4])),
        dims: vec![2, 3],
    });
    let m = Graph { g }.model();
    let (_d, m) = load(&m);
    let x = extract(&m, &[]);
    let l = one(&x);
    assert_eq!(l.origin, Origin::Sparse);
    assert_eq!(values(&x, &l), vec![0.0, 5.0, 0.0, 0.0, 7.0, 0.0]);
}

#[test]
fn external_data_is_read_through_mmap() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0u8; 16];
    for v in [1.5f32, 2.5, 3.5, 4.5] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/w.bin"), &bytes).unwrap();
    let g = Graph::new("g")
        .input("x")
        .init(external(
            "w",
            1,
            &[2, 2],
            &[
                ("location", "data/w.bin"),
                ("offset", "16"),
                ("length", "16"),
            ],
        ))
        .node("MatMul", "", &["x", "w"], &["y"]);
    let p = write(dir.path(), "m.onnx", &g.model()).unwrap();
    let m = onnx::load(&p, &Limits::default()).unwrap();
    let x = extract(&m, &[]);
    assert_eq!(values(&x, &one(&x)), vec![1.5, 2.5, 3.5, 4.5]);
}

#[test]
fn constant_of_shape_is_synthetic() {
    let g = Graph::new("g")
        .input("x")
        .init(i64_typed("shape", &[2], &[3, 2]))
        .node_with(
            "ConstantOfShape",
            "",
            &["shape"],
            &["w"],
            vec![a_tensor("value", f32_raw("", &[1], &[0.25]))],
        )
        .node("MatMul", "", &["x", "w"], &["y"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    let l = one(&x);
    assert!(l.flags.contains(&"synthetic_constant".to_string()));
    assert_eq!(values(&x, &l), vec![0.25; 6]);
    // A bomb: 2^40 elements is refused before allocation, as a skipped layer.
    let g = Graph::new("g")
        .input("x")
        .init(i64_typed("shape", &[2], &[1 << 20, 1 << 20]))
        .node("ConstantOfShape", "", &["shape"], &["w"])
        .node("MatMul", "", &["x", "w"], &["y"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    assert!(x.layers.is_empty());
    assert_eq!(x.skipped[0].reason.as_str(), "over budget");
}

#[test]
fn extraction_is_sync_and_matrices_are_deterministic() {
    fn assert_sync<T: Sync>(_: &T) {}
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[3, 2], &iota(6)))
        .node("MatMul", "", &["x", "w"], &["y"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    assert_sync(&x);
    let l = one(&x);
    let a = std::thread::scope(|s| s.spawn(|| x.matrix(&l).unwrap()).join().unwrap());
    assert_eq!(a, x.matrix(&l).unwrap());
}

#[test]
fn fold_errors_name_the_node() {
    // A Reshape to an impossible shape and a Gather past the end: the weights are skipped as
    // malformed, and the detail says which node of the chain failed.
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[2, 3], &iota(6)))
        .init(i64_typed("shape", &[2], &[4, 4]))
        .init(i64_typed("i", &[1], &[5]))
        .node("Reshape", "r", &["w", "shape"], &["wr"])
        .node("MatMul", "mm", &["x", "wr"], &["y"])
        .node("Gather", "", &["w", "i"], &["wg"])
        .node("MatMul", "mm2", &["x", "wg"], &["z"]);
    let (_d, m) = load(&g.model());
    let x = extract(&m, &[]);
    assert!(x.layers.is_empty(), "{:?}", x.layers);
    let got: Vec<(&str, &str, &str, &str)> = x
        .skipped
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.op.as_str(),
                s.reason.as_str(),
                s.detail.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "w",
                "MatMul",
                "malformed",
                "node r (Reshape): [2, 3] cannot become [4, 4]"
            ),
            (
                "w",
                "MatMul",
                "malformed",
                "node #2 (Gather): index 5 is out of range for dimension 2"
            ),
        ]
    );
}

#[test]
fn a_bad_attribute_met_only_when_decoding_is_a_layer_problem() {
    // BN's gamma comes through a Transpose with a FLOATS perm: it is evaluated only when fold_bn
    // decodes the layer, so the layer fails with a message naming the node and attribute.
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[2, 1, 1, 1], &[1.0, 1.0]))
        .init(f32_raw("gamma", &[2], &[2.0, 3.0]))
        .init(f32_raw("s", &[2], &[1.0, 1.0]))
        .node_with(
            "Transpose",
            "t",
            &["gamma"],
            &["gt"],
            vec![a_floats("perm", &[0.0])],
        )
        .node("Conv", "conv", &["x", "w"], &["y"])
        .node(
            "BatchNormalization",
            "bn",
            &["y", "gt", "s", "s", "s"],
            &["z"],
        );
    let (_d, m) = load(&g.model());
    let x = extract(&m, &["fold_bn=true"]);
    let l = one(&x);
    assert_eq!(l.bn.as_deref(), Some("bn"));
    assert_eq!(
        x.matrix(&l).unwrap_err(),
        LayerProblem::Malformed(
            "node t (Transpose): attribute perm: expected type INTS, found FLOATS".into()
        )
    );
    // Without fold_bn the BN parameters are never read.
    let x = extract(&m, &[]);
    assert_eq!(values(&x, &one(&x)), vec![1.0, 1.0]);
}

#[test]
fn rnn_hidden_size_is_checked_when_rnn_weights_are_read() {
    let g = Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[1, 8, 3], &iota(24)))
        .init(f32_raw("r", &[1, 8, 2], &iota(16)))
        .node_with(
            "LSTM",
            "lstm",
            &["x", "w", "r"],
            &["y"],
            vec![a_int("hidden_size", 0)],
        );
    let (_d, m) = load(&g.model());
    let e = weights::extract(&m, &opts(&["rnn=true"])).unwrap_err();
    assert_eq!(
        e.model_kind(),
        Some(tailwatch::error::ModelErrorKind::BadAttribute)
    );
    assert!(
        e.to_string().ends_with(
            "node lstm (LSTM): attribute hidden_size: expected an integer ≥ 1, found 0 [bad_attribute]"
        ),
        "{e}"
    );
    // Gate matrices are not analyzed by default, and the attribute is then not read.
    assert!(extract(&m, &[]).layers.is_empty());
}
