//! Write the seed corpus: small models built with the test kit, valid and malformed, covering the
//! op-aware walk (Conv, Gemm, MatMul, folding, subgraphs, quantised forms) and every attack
//! pattern of onnx-weights.md §8.1.
use std::path::PathBuf;

use tailwatch::testkit::write;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus/load".into()));
    std::fs::create_dir_all(&dir)?;
    for (name, m) in tailwatch::testkit::seed_models() {
        write(&dir, &format!("seed-{name}.onnx"), &m)?;
    }
    Ok(())
}
