//! Fuzz the loader and the extraction walk on arbitrary bytes: `onnx::load_bytes`, then
//! `weights::extract` (op-aware and initializer scan), then `Extraction::matrix` for every layer
//! and, for block-quantised ones (MatMulNBits, GatherBlockQuantized), `Extraction::stream_rows`.
//! Any panic, abort, hang or out-of-memory is a finding.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tailwatch::onnx::{Limits, load_bytes};
use tailwatch::options::{AnalysisOptions, LayerSource};
use tailwatch::weights::extract;

/// A directory holding a small external-data file, so that inputs naming `w.bin` reach the
/// external-data checks and the mmap path, and special files that must be refused without
/// blocking: a FIFO (`w.fifo`, also `w.dir/w.fifo`), a socket (`w.sock`), a directory (`w.dir`)
/// and a symlink to a device (`w.zero`). A run that hangs on one is a finding (libFuzzer's
/// -timeout).
fn model_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("tailwatch-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(d.join("w.dir"));
        let _ = std::fs::write(
            d.join("w.bin"),
            (0..4096u32).map(|i| i as u8).collect::<Vec<_>>(),
        );
        for fifo in [d.join("w.fifo"), d.join("w.dir").join("w.fifo")] {
            if let Ok(c) = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()) {
                // SAFETY: a valid NUL-terminated path.
                let _ = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
            }
        }
        // The socket file stays when the listener is dropped.
        let _ = std::os::unix::net::UnixListener::bind(d.join("w.sock"));
        let _ = std::os::unix::fs::symlink("/dev/zero", d.join("w.zero"));
        d.canonicalize().unwrap_or(d)
    })
}

fn limits() -> Limits {
    // Small budgets keep each run fast; the checks are the same code at any size.
    Limits {
        max_elements: 1 << 20,
        layer_memory_budget: 64 << 20,
        ..Limits::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let dir = model_dir();
    let Ok(model) = load_bytes(data, Path::new("fuzz.onnx"), dir, &limits()) else {
        return;
    };
    for source in [LayerSource::Ops, LayerSource::Initializers] {
        let opts = AnalysisOptions {
            layer_source: source,
            ..AnalysisOptions::default()
        };
        let Ok(x) = extract(&model, &opts) else {
            continue;
        };
        for layer in &x.layers {
            let _ = x.matrix(layer);
            if x.streamable(layer).is_some() {
                let _ = x.stream_rows(layer, 7, |_, _| {});
            }
        }
    }
});
