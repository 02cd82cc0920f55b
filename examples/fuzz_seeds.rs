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
    // Block-quantised weights (the onnxruntime exports in tests/data/quant are seeds too, copied
    // by fuzz/run.sh): MatMulNBits with each bit width, zero points packed and in float, g_idx,
    // a short last block; GatherBlockQuantized over int4 and packed uint8.
    let nbits =
        |k: i64, n: i64, bits: i64, extra: &[&str], inits: Vec<tract_onnx::pb::TensorProto>| {
            let blocks = (k + 15) / 16;
            let blob = 16 * bits / 8;
            let mut g = Graph::new("g")
                .input("x")
                .init(raw(
                    "B",
                    2,
                    &[n, blocks, blob],
                    vec![0x5a; (n * blocks * blob) as usize],
                ))
                .init(f32_raw(
                    "s",
                    &[n, blocks],
                    &vec![0.25; (n * blocks) as usize],
                ));
            for t in inits {
                g = g.init(t);
            }
            let mut inputs = vec!["x", "B", "s"];
            inputs.extend_from_slice(extra);
            let attrs = vec![
                a_int("K", k),
                a_int("N", n),
                a_int("bits", bits),
                a_int("block_size", 16),
            ];
            g.node_in("com.microsoft", "MatMulNBits", "mm", &inputs, &["y"], attrs)
                .model()
        };
    let quant = [
        ("nbits4", nbits(20, 3, 4, &[], vec![])),
        ("nbits2", nbits(40, 2, 2, &[], vec![])),
        ("nbits8", nbits(16, 4, 8, &[], vec![])),
        (
            "nbits_zp_packed",
            nbits(
                20,
                3,
                4,
                &["zp"],
                vec![raw("zp", 2, &[3, 1], vec![0x37; 3])],
            ),
        ),
        (
            "nbits_zp_float",
            nbits(
                20,
                3,
                4,
                &["zp"],
                vec![f32_raw("zp", &[3, 2], &[8.0, 7.5, 3.0, 9.0, 0.0, 15.0])],
            ),
        ),
        (
            "nbits_g_idx",
            nbits(
                20,
                3,
                4,
                &["", "g"],
                vec![raw(
                    "g",
                    6,
                    &[20],
                    (0..20i32).flat_map(|i| (i % 2).to_le_bytes()).collect(),
                )],
            ),
        ),
    ];
    for (name, m) in quant {
        write(&dir, &format!("quant-{name}.onnx"), &m)?;
    }
    let gbq = |data: tract_onnx::pb::TensorProto, bits: i64| {
        Graph::new("g")
            .input("i")
            .init(data)
            .init(f32_raw("s", &[4, 2], &[0.5; 8]))
            .node_in(
                "com.microsoft",
                "GatherBlockQuantized",
                "gbq",
                &["d", "i", "s"],
                &["y"],
                vec![a_int("block_size", 16), a_int("bits", bits)],
            )
            .model()
    };
    write(
        &dir,
        "quant-gbq_int4.onnx",
        &gbq(raw("d", 22, &[4, 32], vec![0x71; 64]), 4),
    )?;
    write(
        &dir,
        "quant-gbq_uint8.onnx",
        &gbq(raw("d", 2, &[4, 16], vec![0x71; 64]), 4),
    )?;
    Ok(())
}
