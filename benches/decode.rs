//! Decoding quantized weights, under criterion, through the public API (`Extraction::matrix`
//! on a one-node model): throughput is the packed weight's bytes, so criterion's "B/s" reads as
//! bytes of stored int4/int8 per second. One thread (decoding a layer is sequential; layers run
//! in parallel in `analyze`).
//! - `matmul_nbits/bands/4bit_*`: `MatMulNBits` B [N, K/32, 16] with float32 scales, symmetric
//!   and with packed zero points, decoded `GRAM_BAND_ROWS` rows at a time into one buffer (what
//!   `analyze` does with tall layers): the decoding rate;
//! - `matmul_nbits/whole/4bit_*`: the same into a fresh f64 matrix (wide layers), which adds the
//!   first-touch page faults of 8 bytes per value.
//!
//! Shapes of a 1B LLM's MLP (8192×2048) and attention (2048²).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tailwatch::onnx::{self, Limits};
use tailwatch::options::{AnalysisOptions, AnalysisOverrides, Preset};
use tailwatch::weights;
use tailwatch_testkit::{self as tk, Graph, TestRng, a_int, id};

fn nbits_model(n: usize, k: usize, asym: bool) -> tract_onnx::pb::ModelProto {
    let mut rng = TestRng::new(7);
    let blocks = k.div_ceil(32);
    let b = tk::raw(
        "B",
        id::UINT8,
        &[n as i64, blocks as i64, 16],
        rng.bytes(n * blocks * 16),
    );
    let scales: Vec<f32> = (0..n * blocks)
        .map(|_| 0.01 + rng.uniform() as f32)
        .collect();
    let mut g = Graph::new("g")
        .input("x")
        .output("y")
        .init(b)
        .init(tk::f32_raw("s", &[(n * blocks) as i64], &scales));
    let mut inputs = vec!["x", "B", "s"];
    if asym {
        g = g.init(tk::raw(
            "zp",
            id::UINT8,
            &[n as i64, blocks.div_ceil(2) as i64],
            rng.bytes(n * blocks.div_ceil(2)),
        ));
        inputs.push("zp");
    }
    let attrs = vec![
        a_int("K", k as i64),
        a_int("N", n as i64),
        a_int("bits", 4),
        a_int("block_size", 32),
    ];
    g.node_in("com.microsoft", "MatMulNBits", "mm", &inputs, &["y"], attrs)
        .model()
}

fn decode(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = AnalysisOptions::resolve(Preset::Ww, &AnalysisOverrides::default()).expect("opts");
    let mut g = c.benchmark_group("matmul_nbits");
    g.sample_size(10);
    for (n, k) in [(8192, 2048), (2048, 2048)] {
        for asym in [false, true] {
            let file = format!("nb_{n}x{k}_{asym}.onnx");
            let p = tk::write(dir.path(), &file, &nbits_model(n, k, asym)).expect("write");
            let model = onnx::load(&p, &Limits::default()).expect("load");
            let x = weights::extract(&model, &opts).expect("extract");
            let layer = x.layers.first().expect("one layer").clone();
            g.throughput(Throughput::Bytes((n * k / 2) as u64));
            let id = format!("4bit_{}_{n}x{k}", if asym { "asym" } else { "sym" });
            // Bands of GRAM_BAND_ROWS into one reused buffer: the path `analyze` takes for tall
            // layers, and the decoding rate itself.
            g.bench_with_input(BenchmarkId::new("bands", &id), &layer, |b, l| {
                b.iter(|| {
                    x.stream_rows(l, tailwatch::spectra::GRAM_BAND_ROWS, |_, v| {
                        std::hint::black_box(v);
                    })
                    .expect("decode")
                })
            });
            // The whole f64 matrix in a fresh allocation (wide layers), page faults included.
            g.bench_with_input(BenchmarkId::new("whole", &id), &layer, |b, l| {
                b.iter(|| x.matrix_in(l, weights::Orientation::Any).expect("decode"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
