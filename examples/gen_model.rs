//! Writes large synthetic ONNX models for the end-to-end benchmarks (scripts/bench_vs_weightwatcher.sh).
//!
//! ```text
//! gen_model vgg16 OUT.onnx [--external]     VGG16 shapes, 138 M f32 parameters
//! gen_model llm OUT.onnx ROWSxCOLS[,ROWSxCOLS…]   dense MatMul layers, always external data
//! ```
//! Weights are i.i.d. heavy-tailed (a symmetric Pareto law with tail index 3, the regime of
//! trained layers' ESD tails), from a fixed seed, so every run writes the same bytes. External
//! data is streamed to `OUT.onnx.data` one tensor at a time: the generator never holds a model.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tailwatch::onnx::dtype::id;
use tailwatch_testkit::{self as testkit, Graph, a_int};

/// Writes tensors either into the model (raw_data) or into one external data file.
struct Sink {
    external: Option<(BufWriter<File>, String, u64)>,
    rng: testkit::TestRng,
}

impl Sink {
    fn tensor(&mut self, name: &str, dims: &[i64]) -> tract_onnx::pb::TensorProto {
        let n: i64 = dims.iter().product();
        let fan_in = dims.iter().skip(1).product::<i64>().max(1) as f64;
        let scale = 0.5 / fan_in.sqrt();
        match &mut self.external {
            Some((w, file, offset)) => {
                let mut chunk = Vec::with_capacity(1 << 20);
                for _ in 0..n {
                    chunk.extend_from_slice(
                        &(self.rng.symmetric_pareto(3.0, scale) as f32).to_le_bytes(),
                    );
                    if chunk.len() >= 1 << 20 {
                        w.write_all(&chunk).expect("write external data");
                        chunk.clear();
                    }
                }
                w.write_all(&chunk).expect("write external data");
                let len = n as u64 * 4;
                let (off, l) = (offset.to_string(), len.to_string());
                let kv = [
                    ("location", file.as_str()),
                    ("offset", &off),
                    ("length", &l),
                ];
                let t = testkit::external(name, id::FLOAT, dims, &kv);
                *offset += len;
                t
            }
            None => {
                let v: Vec<f32> = (0..n)
                    .map(|_| self.rng.symmetric_pareto(3.0, scale) as f32)
                    .collect();
                testkit::f32_raw(name, dims, &v)
            }
        }
    }
}

fn sink(out: &Path, external: bool) -> Sink {
    let external = external.then(|| {
        let file = format!(
            "{}.data",
            out.file_name().expect("file name").to_string_lossy()
        );
        let w = BufWriter::new(File::create(out.with_file_name(&file)).expect("create data file"));
        (w, file, 0u64)
    });
    Sink {
        external,
        rng: testkit::TestRng::new(20_240_607),
    }
}

/// VGG16 (torchvision layout): 13 3×3 convs, then fc6 25088→4096, fc7 4096→4096, fc8 4096→1000.
fn vgg16(out: &Path, external: bool) {
    let mut s = sink(out, external);
    let convs = [
        (3, 64),
        (64, 64),
        (64, 128),
        (128, 128),
        (128, 256),
        (256, 256),
        (256, 256),
        (256, 512),
        (512, 512),
        (512, 512),
        (512, 512),
        (512, 512),
        (512, 512),
    ];
    let mut g = Graph::new("vgg16").input("x");
    let mut x = "x".to_string();
    for (i, (cin, cout)) in convs.iter().enumerate() {
        let (w, b, y) = (
            format!("conv{i}.weight"),
            format!("conv{i}.bias"),
            format!("c{i}"),
        );
        g = g.init(s.tensor(&w, &[*cout, *cin, 3, 3]));
        g = g.init(s.tensor(&b, &[*cout]));
        g = g.node_with(
            "Conv",
            &format!("conv{i}"),
            &[&x, &w, &b],
            &[&y],
            vec![testkit::a_ints("pads", &[1, 1, 1, 1])],
        );
        x = y;
    }
    g = g.node("Flatten", "flatten", &[&x], &["flat"]);
    x = "flat".into();
    for (i, (fin, fout)) in [(25088, 4096), (4096, 4096), (4096, 1000)]
        .iter()
        .enumerate()
    {
        let (w, b, y) = (
            format!("fc{i}.weight"),
            format!("fc{i}.bias"),
            format!("f{i}"),
        );
        g = g.init(s.tensor(&w, &[*fout, *fin]));
        g = g.init(s.tensor(&b, &[*fout]));
        g = g.node_with(
            "Gemm",
            &format!("fc{i}"),
            &[&x, &w, &b],
            &[&y],
            vec![a_int("transB", 1)],
        );
        x = y;
    }
    finish(s, g.output(&x), out);
}

/// Dense MatMul layers of the given shapes (`ROWSxCOLS`, weight stored [rows, cols]).
fn llm(out: &Path, shapes: &str) {
    let mut s = sink(out, true);
    let mut g = Graph::new("llm").input("x");
    let mut x = "x".to_string();
    for (i, shape) in shapes.split(',').enumerate() {
        let (r, c) = shape.split_once('x').expect("shape ROWSxCOLS");
        let dims = [r.parse().expect("rows"), c.parse().expect("cols")];
        let (w, y) = (format!("layer{i}.weight"), format!("h{i}"));
        g = g.init(s.tensor(&w, &dims));
        g = g.node("MatMul", &format!("matmul{i}"), &[&x, &w], &[&y]);
        x = y;
    }
    finish(s, g.output(&x), out);
}

fn finish(s: Sink, g: Graph, out: &Path) {
    if let Some((mut w, _, _)) = s.external {
        w.flush().expect("flush external data");
    }
    testkit::write(
        out.parent().unwrap_or(Path::new(".")),
        &out.file_name().expect("file name").to_string_lossy(),
        &g.model(),
    )
    .expect("write model");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_model vgg16 OUT.onnx [--external] | gen_model llm OUT.onnx RxC[,RxC…]";
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["vgg16", out, rest @ ..] => vgg16(&PathBuf::from(out), rest.contains(&"--external")),
        ["llm", out, shapes] => llm(&PathBuf::from(out), shapes),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
