//! A deterministic slice of the fuzz target in the default test run: every seed model, mutated
//! (byte flips, truncations, splices of the same model) with a fixed xorshift stream, goes through
//! `load_bytes` → `extract` → `matrix` without a panic. The libFuzzer target in `fuzz/` explores
//! far more; this keeps the property checked on every `cargo test`.

use std::path::Path;

use tailwatch::onnx::{Limits, load_bytes};
use tailwatch::options::{AnalysisOptions, LayerSource};
use tailwatch::testkit::{encode, seed_models};
use tailwatch::weights::extract;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = bytes.to_vec();
    match rng.below(4) {
        0 => {
            for _ in 0..=rng.below(4) {
                let i = rng.below(b.len());
                if let Some(x) = b.get_mut(i) {
                    *x ^= 1 << rng.below(8);
                }
            }
        }
        1 => b.truncate(rng.below(b.len())),
        2 => {
            // Interesting values where a varint or length is likely.
            let i = rng.below(b.len());
            let v = [0x00, 0x7f, 0x80, 0xff][rng.below(4)];
            if let Some(x) = b.get_mut(i) {
                *x = v;
            }
        }
        _ => {
            let (from, to) = (rng.below(b.len()), rng.below(b.len()));
            let len = rng.below(64);
            let chunk: Vec<u8> = b.iter().skip(from).take(len).copied().collect();
            let at = to.min(b.len());
            b.splice(at..at, chunk);
        }
    }
    b
}

fn exercise(bytes: &[u8], dir: &Path, limits: &Limits) -> bool {
    let Ok(model) = load_bytes(bytes, Path::new("m.onnx"), dir, limits) else {
        return false;
    };
    for source in [LayerSource::Ops, LayerSource::Initializers] {
        let opts = AnalysisOptions {
            layer_source: source,
            ..AnalysisOptions::default()
        };
        if let Ok(x) = extract(&model, &opts) {
            for l in &x.layers {
                let _ = x.matrix(l);
            }
        }
    }
    true
}

#[test]
fn mutated_seed_models_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("w.bin"), vec![0x3c; 4096]).unwrap();
    let dir = dir.path().canonicalize().unwrap();
    let limits = Limits {
        max_elements: 1 << 20,
        layer_memory_budget: 64 << 20,
        ..Limits::default()
    };
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (mut loaded, mut total) = (0, 0);
    for (_, m) in seed_models() {
        let bytes = encode(&m);
        assert!(exercise(&bytes, &dir, &limits), "seeds load");
        for _ in 0..1000 {
            total += 1;
            loaded += usize::from(exercise(&mutate(&bytes, &mut rng), &dir, &limits));
        }
    }
    // Some mutants must still load, or the walk and decoders were never reached.
    assert!(loaded > total / 20, "{loaded} of {total} mutants loaded");
}
