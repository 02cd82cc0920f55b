//! Properties of `analyze` that must hold whatever the reference files say (methods.md §17):
//! orientation invariance, scaling laws, the random-matrix baseline, degenerate weights, thread
//! independence, and native (op-aware) agreement with the reference models of `tests/data/ww-0.7.7`.

mod common;

use std::path::{Path, PathBuf};
use tailwatch::schema::Column;

use common::data::reference;
use tailwatch::analysis::{ModelAnalysis, analyze_file};
use tailwatch::metrics::row::Row;
use tailwatch::options::{AnalysisOptions, AnalysisOverrides, Preset};
use tailwatch_testkit::{Graph, TestRng, a_int, f32_raw, write};

/// Standard normal draws from the test kit's seeded generator: reproducible test matrices.
fn gaussian(n: usize, seed: u64) -> Vec<f32> {
    TestRng::new(seed).normals(n)
}

/// Heavy-tailed draws (Student-t-like: a Gaussian over a random scale), like trained weights.
fn heavy_tailed(n: usize, seed: u64) -> Vec<f32> {
    let g = gaussian(n, seed);
    let s = gaussian(n, seed + 1000);
    g.iter().zip(&s).map(|(a, b)| a / (0.3 + b.abs())).collect()
}

fn opts(set: &str) -> AnalysisOptions {
    let ov: AnalysisOverrides = serde_saphyr::from_str(set).unwrap();
    AnalysisOptions::resolve(Preset::Ww, &ov).unwrap()
}

/// A one-layer Gemm model, W stored [out, in] with transB = 1 (PyTorch Linear).
fn gemm_model(dir: &Path, file: &str, out: usize, inp: usize, w: &[f32]) -> PathBuf {
    let g = Graph::new("g")
        .input("x")
        .output("y")
        .init(f32_raw("fc.weight", &[out as i64, inp as i64], w))
        .node_with(
            "Gemm",
            "fc",
            &["x", "fc.weight"],
            &["y"],
            vec![a_int("transB", 1)],
        );
    write(dir, file, &g.model()).unwrap()
}

/// The same weights as a MatMul with W stored [in, out].
fn matmul_model(dir: &Path, file: &str, out: usize, inp: usize, w: &[f32]) -> PathBuf {
    let mut t = vec![0f32; w.len()];
    for o in 0..out {
        for i in 0..inp {
            t[i * out + o] = w[o * inp + i];
        }
    }
    let g = Graph::new("g")
        .input("x")
        .output("y")
        .init(f32_raw("fc.weight", &[inp as i64, out as i64], &t))
        .node("MatMul", "fc", &["x", "fc.weight"], &["y"]);
    write(dir, file, &g.model()).unwrap()
}

fn only_row(a: &ModelAnalysis) -> &Row {
    assert_eq!(a.rows.len(), 1, "{:?}", a.rows);
    &a.rows[0]
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        ((a - b) / a.abs().max(b.abs())).abs()
    }
}

#[test]
fn gemm_and_matmul_of_the_same_weights_agree() {
    let dir = tempfile::tempdir().unwrap();
    let w = heavy_tailed(300 * 200, 1);
    let o = opts("{ mp_fit: true, detX: true }");
    let a = analyze_file(&gemm_model(dir.path(), "g.onnx", 200, 300, &w), &o).unwrap();
    let b = analyze_file(&matmul_model(dir.path(), "m.onnx", 200, 300, &w), &o).unwrap();
    let (ra, rb) = (only_row(&a), only_row(&b));
    for (col, v) in ra.cells() {
        match (v.as_f64(), rb.num(*col)) {
            (Some(x), Some(y)) => assert!(rel(x, y) < 1e-10, "{col}: {x} vs {y}"),
            _ => assert_eq!(Some(v), rb.get(*col), "{col}"),
        }
    }
    assert_eq!(
        (ra.num(Column::N), ra.num(Column::M)),
        (Some(300.0), Some(200.0))
    );
}

#[test]
fn alpha_is_scale_invariant_and_log_norms_shift_by_two_log_c() {
    let dir = tempfile::tempdir().unwrap();
    let w = heavy_tailed(256 * 128, 2);
    // A power of two scales f32 weights exactly, so only the analysis can differ.
    let c = 4.0f32;
    let wc: Vec<f32> = w.iter().map(|x| x * c).collect();
    let o = opts("{ mp_fit: true }");
    let a = analyze_file(&gemm_model(dir.path(), "a.onnx", 128, 256, &w), &o).unwrap();
    let b = analyze_file(&gemm_model(dir.path(), "b.onnx", 128, 256, &wc), &o).unwrap();
    let (ra, rb) = (only_row(&a), only_row(&b));
    let shift = 2.0 * (c as f64).log10();
    for col in [
        "alpha",
        "D",
        "sigma",
        "stable_rank",
        "entropy",
        "sigma_mp",
        "mp_softrank",
    ] {
        let c = Column::from_name(col).unwrap();
        let (x, y) = (ra.num(c).unwrap(), rb.num(c).unwrap());
        assert!(rel(x, y) < 1e-9, "{col}: {x} vs {y}");
    }
    for col in ["log_norm", "log_spectral_norm"] {
        let c = Column::from_name(col).unwrap();
        let (x, y) = (ra.num(c).unwrap(), rb.num(c).unwrap());
        assert!(
            (y - x - shift).abs() < 1e-9,
            "{col}: {x} → {y}, expected +{shift}"
        );
    }
    assert_eq!(ra.num(Column::NumPlSpikes), rb.num(Column::NumPlSpikes));
    assert_eq!(ra.num(Column::NumSpikes), rb.num(Column::NumSpikes));
}

#[test]
fn a_gaussian_matrix_has_no_heavy_tail_and_fits_the_mp_bulk() {
    let dir = tempfile::tempdir().unwrap();
    let (n, m) = (1000usize, 400usize);
    let w = gaussian(n * m, 3);
    let a = analyze_file(
        &gemm_model(dir.path(), "g.onnx", m, n, &w),
        &opts("{ mp_fit: true }"),
    )
    .unwrap();
    let r = only_row(&a);
    let alpha = r.num(Column::Alpha).unwrap();
    assert!(alpha > 6.0, "alpha {alpha}");
    assert_eq!(r.text(Column::Warning), Some("under-trained"));
    // Rescaled to mean eigenvalue 1, an i.i.d. matrix has sigma_mp ≈ 1 and a bulk that reaches λ_max.
    let sigma = r.num(Column::SigmaMp).unwrap();
    assert!((sigma - 1.0).abs() < 0.05, "sigma_mp {sigma}");
    assert!(r.num(Column::NumSpikes).unwrap() <= 1.0);
    assert!(r.num(Column::MpSoftrank).unwrap() > 0.9);
}

#[test]
fn degenerate_weights_get_a_status_and_the_rest_is_analyzed() {
    let dir = tempfile::tempdir().unwrap();
    let good = heavy_tailed(64 * 32, 4);
    let zeros = vec![0f32; 64 * 32];
    let rank1: Vec<f32> = (0..64 * 32)
        .map(|k| ((k / 32) as f32 + 1.0) * ((k % 32) as f32 - 10.0))
        .collect();
    let mut nan = good.clone();
    nan[17] = f32::NAN;
    nan[18] = f32::INFINITY;
    let layer = |g: Graph, name: &str, w: &[f32], x: &str, y: &str| {
        g.init(f32_raw(name, &[64, 32], w))
            .node("MatMul", name, &[x, name], &[y])
    };
    let g = Graph::new("g").input("x").output("y4");
    let g = layer(g, "good", &good, "x", "y1");
    let g = layer(g, "zeros", &zeros, "y1", "y2");
    let g = layer(g, "rank1", &rank1, "y2", "y3");
    let g = layer(g, "nan", &nan, "y3", "y4");
    let p = write(dir.path(), "d.onnx", &g.model()).unwrap();
    let a = analyze_file(&p, &opts("{ mp_fit: true, detX: true }")).unwrap();
    let by = |n: &str| {
        a.rows
            .iter()
            .find(|r| r.text(Column::Name) == Some(n))
            .unwrap()
    };
    assert_eq!(by("good").text(Column::Status), Some("success"));
    // All-zero weights are a per-layer problem (no spectrum to speak of), not a failed fit.
    assert_eq!(by("zeros").text(Column::Status), Some("degenerate"));
    assert_eq!(by("zeros").num(Column::Alpha), None);
    assert_eq!(by("rank1").text(Column::Status), Some("failed"));
    assert_eq!(by("rank1").num(Column::MatrixRank), Some(1.0));
    assert_eq!(by("nan").text(Column::Status), Some("invalid_values"));
    assert!(by("nan").text(Column::Problem).unwrap().contains("NaN"));
    assert_eq!(a.summary.counts.n_invalid, 2);
    assert_eq!(a.summary.counts.n_fit_failed, 1);
    // Only the good layer enters the alpha mean.
    assert_eq!(a.summary.get(Column::Alpha), by("good").num(Column::Alpha));
}

/// analysis.json of `p` analyzed on a pool of `threads` threads.
fn analysis_json_with_threads(p: &Path, o: &AnalysisOptions, threads: usize) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let a = pool.install(|| analyze_file(p, o)).unwrap();
    serde_json::to_string(&tailwatch::report::analysis::analysis_json(&a, "ww")).unwrap()
}

/// Six square `size`×`size` MatMul layers in a chain, heavy-tailed weights seeded from `seed`.
fn matmul_chain(dir: &Path, size: usize, seed: u64) -> PathBuf {
    let mut g = Graph::new("g").input("x0");
    for k in 0..6 {
        let name = format!("w{k}");
        let (x, y) = (format!("x{k}"), format!("x{}", k + 1));
        let dims = [size as i64, size as i64];
        g = g
            .init(f32_raw(&name, &dims, &heavy_tailed(size * size, seed + k)))
            .node("MatMul", &name, &[&x, &name], &[&y]);
    }
    write(dir, "chain.onnx", &g.output("x6").model()).unwrap()
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let p = matmul_chain(dir.path(), 48, 10);
    let o = opts("{ mp_fit: true, randomize: true, detX: true, vectors: true, seed: 7 }");
    let one = analysis_json_with_threads(&p, &o, 1);
    assert_eq!(one, analysis_json_with_threads(&p, &o, 2));
    assert_eq!(one, analysis_json_with_threads(&p, &o, 3));
    assert!(one.contains("rand_distance"));
}

/// Big layers take another schedule (Gram products with all threads, eigensolves detached beside
/// the next big layer, the two-stage eigensolver): the output must still be byte-identical for
/// any thread count.
#[test]
fn big_layer_schedule_does_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2200; // 2200³ + 4/3·2200³ flops ≥ spectra::cost::BIG_LAYER_FLOPS
    assert!(tailwatch::spectra::cost::is_big(n, n, 1));
    let mut g = Graph::new("g").input("x0");
    for k in 0..3 {
        let name = format!("w{k}");
        let (x, y) = (format!("x{k}"), format!("x{}", k + 1));
        // Two big layers (the first one's eigensolve runs detached) and a small one.
        let shape = [n, if k == 2 { 40 } else { n }];
        g = g
            .init(f32_raw(
                &name,
                &shape.map(|d| d as i64),
                &heavy_tailed(shape[0] * shape[1], 20 + k as u64),
            ))
            .node("MatMul", &name, &[&x, &name], &[&y]);
    }
    let p = write(dir.path(), "big.onnx", &g.output("x3").model()).unwrap();
    let o = opts("{ mp_fit: true }");
    let one = analysis_json_with_threads(&p, &o, 1);
    assert_eq!(one.matches("\"layer_id\"").count(), 3, "three rows");
    assert_eq!(one, analysis_json_with_threads(&p, &o, 2));
    assert_eq!(one, analysis_json_with_threads(&p, &o, 3));
}

/// Native op-aware extraction agrees with WW wherever WW is not quirky: the MLPs and the CNN
/// (whose layers are all real weights), by weight name.
#[test]
fn native_mode_matches_the_reference_by_name() {
    for model in ["mlp_gemm", "mlp_matmul", "cnn_conv2d"] {
        let a = analyze_file(
            &reference(&format!("{model}.onnx")),
            &opts("{ mp_fit: true }"),
        )
        .unwrap();
        let mut r = csv::Reader::from_path(reference(&format!("{model}__mp_fit.csv"))).unwrap();
        let headers = r.headers().unwrap().clone();
        let mut n = 0;
        for rec in r.records() {
            let rec = rec.unwrap();
            let get = |c: &str| {
                rec.get(headers.iter().position(|h| h == c).unwrap())
                    .unwrap()
            };
            let ours = a
                .rows
                .iter()
                .find(|x| x.text(Column::Name) == Some(get("name")))
                .unwrap();
            for col in [
                "alpha",
                "xmin",
                "D",
                "lambda_max",
                "log_norm",
                "sigma_mp",
                "num_spikes",
                "num_pl_spikes",
            ] {
                let (w, g): (f64, f64) = (
                    get(col).parse().unwrap(),
                    ours.num(Column::from_name(col).unwrap()).unwrap(),
                );
                assert!(
                    rel(w, g) < 1e-9,
                    "{model} {} {col}: {w} vs {g}",
                    get("name")
                );
            }
            n += 1;
        }
        assert_eq!(n, a.rows.len(), "{model}");
    }
}

#[test]
fn the_quirks_model_natively_drops_pos_table_and_reports_true_sizes() {
    let a = analyze_file(&reference("quirks.onnx"), &AnalysisOptions::default()).unwrap();
    let names: Vec<&str> = a.rows.iter().filter_map(|r| r.text(Column::Name)).collect();
    assert_eq!(names, ["conv_even.weight", "dw.weight", "fc16.weight"]);
    let conv = &a.rows[0];
    // Native N ≥ M (Q1 fixed), true smallest singular value (Q2 fixed).
    assert_eq!(
        (
            conv.num(Column::N),
            conv.num(Column::M),
            conv.num(Column::Q)
        ),
        (Some(64.0), Some(32.0), Some(2.0))
    );
    // The true smallest singular value, from the reference files rather than a rounded
    // constant: WW's sliced run reports each slice's own minimum of √(rf/2)·S_p = √2·S_p
    // (quirks__seed_nb.csv), and the pooled matrices are √(1/2)·S_p, so the pooled minimum is
    // half the smallest sliced one (0.16488591701816744; the Q2 value is 0.1907).
    let mut r = csv::Reader::from_path(reference("quirks__seed_nb.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |c: &str| h.iter().position(|x| x == c).unwrap();
    let (name, sv) = (col("name"), col("sv_min"));
    let sliced_min = r
        .records()
        .map(|rec| rec.unwrap())
        .filter(|rec| &rec[name] == "conv_even.weight")
        .map(|rec| rec[sv].parse::<f64>().unwrap())
        .fold(f64::INFINITY, f64::min);
    let want = sliced_min / 2.0;
    let got = conv.num(Column::SvMin).unwrap();
    assert!(
        ((got - want) / want).abs() < 1e-12,
        "sv_min {got} vs {want}"
    );
    assert!(a.skipped.iter().any(|s| s.name == "pos_table"));
}

/// A `Cancel` flag stops an analysis before its next layer (`Error::Interrupted`); a flag that
/// is never set, or no scope at all, leaves the results unchanged.
#[test]
fn a_cancel_flag_stops_the_analysis_and_an_unset_one_changes_nothing() {
    use tailwatch::analysis::{Cancel, analyze_file_with_progress};
    let dir = tempfile::tempdir().unwrap();
    let p = matmul_chain(dir.path(), 40, 30);
    let o = opts("{ mp_fit: true }");
    let limits = tailwatch::onnx::Limits::default();
    let json = |a: &ModelAnalysis| {
        serde_json::to_string(&tailwatch::report::analysis::analysis_json(a, "ww")).unwrap()
    };
    let plain = json(&analyze_file(&p, &o).unwrap());
    let unset = Cancel::new();
    let scoped = unset.scope(|| analyze_file(&p, &o)).unwrap();
    assert_eq!(json(&scoped), plain);

    let set = Cancel::new();
    set.cancel();
    let e = set.scope(|| analyze_file(&p, &o)).unwrap_err();
    assert!(matches!(e, tailwatch::Error::Interrupted), "{e:?}");

    // Set while the layers run: the layers not yet started are not analyzed.
    let started = std::sync::atomic::AtomicUsize::new(0);
    let flag = Cancel::new();
    let r = flag.scope(|| {
        analyze_file_with_progress(&p, &o, &limits, &|_, _| {
            started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            flag.cancel();
        })
    });
    assert!(matches!(r, Err(tailwatch::Error::Interrupted)), "{r:?}");
    assert!(started.into_inner() < 6, "stopped before the last layers");
    // The scope is left: the thread's next analysis is not cancelled.
    assert_eq!(json(&analyze_file(&p, &o).unwrap()), plain);
}

/// `--set layers=[...]` (WeightWatcher's `layers`) reaches the command line: only the named
/// layers get rows, with their original ids.
#[test]
fn the_cli_selects_layers_by_id_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert_cmd::Command::cargo_bin("tailwatch")
        .unwrap()
        .arg("analyze")
        .arg(reference("cnn_conv2d.onnx"))
        .args(["--set", "layers=[fc.weight, 1]", "--out"])
        .arg(&out)
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.join("details.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("1,conv2.weight,"), "{csv}");
    assert!(lines[1].starts_with("4,fc.weight,"), "{csv}");
    let analysis = std::fs::read_to_string(out.join("analysis.json")).unwrap();
    assert!(
        analysis.contains("\"layers\": [\n      \"fc.weight\",\n      1\n    ]"),
        "{analysis}"
    );
    let missing = assert_cmd::Command::cargo_bin("tailwatch")
        .unwrap()
        .arg("describe")
        .arg(reference("cnn_conv2d.onnx"))
        .args(["--set", "layers=[conv9.weight]"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("\"conv9.weight\" match no layer"), "{err}");
}
