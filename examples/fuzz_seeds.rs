//! Write the fuzzing seed corpus: `cargo run --example fuzz_seeds -- DIR`. Small models built with
//! the test kit, valid (Conv, Gemm, MatMul, folding, subgraphs, quantised forms, external data)
//! and hostile (onnx-weights.md §8.1 patterns, and external data naming the special files the fuzz
//! target creates), so that the fuzzer starts deep in the loader.
use std::path::PathBuf;

use tailwatch_testkit::*;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "corpus/load".into()),
    );
    std::fs::create_dir_all(&dir)?;
    for (name, m) in seed_models() {
        write(&dir, &format!("seed-{name}.onnx"), &m)?;
    }
    let with = |t| {
        Graph::new("g")
            .input("x")
            .init(t)
            .node("MatMul", "mm", &["x", "w"], &["y"])
            .model()
    };
    let ext = |kv: &[(&str, &str)]| with(external("w", 1, &[2, 2], kv));
    let hostile = [
        ("traversal", ext(&[("location", "../w.bin")])),
        ("absolute", ext(&[("location", "/etc/passwd")])),
        ("bad_key", ext(&[("location", "w.bin"), ("basepath", "/")])),
        (
            "past_end",
            ext(&[("location", "w.bin"), ("offset", "4090")]),
        ),
        (
            "huge_length",
            ext(&[("location", "w.bin"), ("length", "-1")]),
        ),
        ("negative_dim", with(f32_raw("w", &[-2, 2], &iota(4)))),
        ("overflow_dim", with(f32_raw("w", &[i64::MAX, 4], &iota(4)))),
        ("short_raw", with(f32_raw("w", &[1000], &[1.0]))),
        ("string_raw", with(raw("w", 8, &[1], vec![b'a']))),
        // Special files the fuzz target makes beside w.bin: each must be refused without
        // opening it for a blocking read (a FIFO would wait for a writer forever).
        ("ext_fifo", ext(&[("location", "w.fifo")])),
        ("ext_socket", ext(&[("location", "w.sock")])),
        ("ext_dir", ext(&[("location", "w.dir")])),
        ("ext_dev_symlink", ext(&[("location", "w.zero")])),
        ("ext_fifo_in_dir", ext(&[("location", "w.dir/w.fifo")])),
    ];
    for (name, m) in hostile {
        write(&dir, &format!("hostile-{name}.onnx"), &m)?;
    }
    Ok(())
}
