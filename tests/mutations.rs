//! A deterministic slice of the fuzz target in the default test run: every seed model, mutated
//! (byte flips, truncations, splices of the same model) with a fixed seeded stream
//! (`testkit::TestRng`), goes through `load_bytes` → `extract` → `matrix` without a panic. The
//! libFuzzer target in `fuzz/` explores far more; this keeps the property checked on every
//! `cargo test`.

use std::path::Path;

use tailwatch::onnx::{Limits, load_bytes};
use tailwatch::options::{AnalysisOptions, LayerSource};
use tailwatch::weights::extract;
use tailwatch_testkit::{TestRng, encode, seed_models};

fn mutate(bytes: &[u8], rng: &mut TestRng) -> Vec<u8> {
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
    let mut rng = TestRng::new(0x2545_F491_4F6C_DD1D);
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

/// Special files beside the model, as the fuzz target makes them: a FIFO, a socket, a directory
/// and a symlink to a device.
fn special_files(dir: &Path) {
    std::fs::create_dir_all(dir.join("w.dir")).unwrap();
    for fifo in [dir.join("w.fifo"), dir.join("w.dir").join("w.fifo")] {
        tailwatch_testkit::mkfifo(&fifo);
    }
    drop(std::os::unix::net::UnixListener::bind(dir.join("w.sock")).unwrap());
    std::os::unix::fs::symlink("/dev/zero", dir.join("w.zero")).unwrap();
}

#[test]
fn external_data_naming_special_files_is_refused_and_never_blocks() {
    use tailwatch::error::ModelErrorKind as K;
    use tailwatch_testkit::{Graph, external};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    special_files(&dir);
    let cases = [
        ("w.fifo", K::ExternalFile),
        ("w.sock", K::ExternalFile),
        ("w.dir", K::ExternalFile),
        ("w.dir/w.fifo", K::ExternalFile),
        ("w.zero", K::Symlink),
    ];
    // A blocked open cannot be interrupted: run on a thread and fail on a deadline instead.
    let (tx, rx) = std::sync::mpsc::channel();
    let d = dir.clone();
    std::thread::spawn(move || {
        let limits = Limits::default();
        let mut rng = TestRng::new(0x9E37_79B9_7F4A_7C15);
        for (loc, kind) in cases {
            let m = Graph::new("g")
                .input("x")
                .init(external("w", 1, &[2, 2], &[("location", loc)]))
                .node("MatMul", "mm", &["x", "w"], &["y"])
                .model();
            let bytes = encode(&m);
            let got = load_bytes(&bytes, Path::new("m.onnx"), &d, &limits)
                .err()
                .and_then(|e| e.model_kind().map(|k| (k, e.to_string())));
            let _ = tx.send(Some((loc, kind, got)));
            for _ in 0..200 {
                exercise(&mutate(&bytes, &mut rng), &d, &limits);
            }
        }
        let _ = tx.send(None);
    });
    let deadline = std::time::Duration::from_secs(60);
    loop {
        match rx.recv_timeout(deadline) {
            Ok(Some((loc, kind, got))) => {
                let (k, msg) = got.unwrap_or_else(|| panic!("{loc}: not refused"));
                assert_eq!(k, kind, "{loc}: {msg}");
                assert!(msg.contains(&format!("{loc:?}")), "{loc}: {msg}");
            }
            Ok(None) => break,
            Err(e) => panic!("loading blocked on a special file ({e})"),
        }
    }
}
