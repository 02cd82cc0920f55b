//! Robustness sweep: every `.onnx` file under a directory is either analyzed (exit 0) or rejected
//! with a clear, classified error (exit 2, `tailwatch: error: … [class]`), within a time and a
//! memory bound, never a panic, abort, signal or hang.
//!
//! Default: `fixtures/` plus the test kit's seed models. Point it elsewhere with
//! `TAILWATCH_SWEEP_DIR=/path` (e.g. the ONNX backend test models shipped in the `onnx` wheel,
//! `site-packages/onnx/backend/test/data`). Bounds: `TAILWATCH_SWEEP_SECS` (default 120) per
//! file and `TAILWATCH_SWEEP_MEM_MB` (default 8192) of address space per process.

mod common;

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tailwatch_testkit::{seed_models, write};

#[derive(Debug)]
enum Outcome {
    Analyzed,
    Rejected(String),
    Failed(String),
}

fn onnx_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut entries: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            onnx_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "onnx") {
            out.push(p);
        }
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Analyze one file in a child process under an address-space limit and a wall-clock limit.
fn run_one(model: &Path, out: &Path, secs: u64, mem_mb: u64) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tailwatch"));
    cmd.args(["-q", "analyze"])
        .arg(model)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let bytes = mem_mb << 20;
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn tailwatch");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            return Outcome::Failed(format!("timed out after {secs} s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    classify(status.code(), &err)
}

fn classify(code: Option<i32>, err: &str) -> Outcome {
    let last = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    match code {
        _ if err.contains("panicked") => Outcome::Failed(format!("panic: {last}")),
        Some(0) => Outcome::Analyzed,
        Some(2) if last.starts_with("tailwatch: error: ") => {
            // Classified model errors end in `[class]`; others (I/O) are named by their text.
            let class = last
                .rsplit_once('[')
                .and_then(|(_, c)| c.strip_suffix(']'))
                .filter(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
                .map_or_else(|| "unclassified".to_string(), str::to_string);
            Outcome::Rejected(class)
        }
        other => Outcome::Failed(format!("exit {other:?}: {last}")),
    }
}

fn sweep(files: &[PathBuf], out: &Path) -> BTreeMap<String, usize> {
    let secs = env_u64("TAILWATCH_SWEEP_SECS", 120);
    let mem = env_u64("TAILWATCH_SWEEP_MEM_MB", 8192);
    let mut counts = BTreeMap::new();
    let mut failures = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let o = run_one(f, &out.join(i.to_string()), secs, mem);
        let key = match &o {
            Outcome::Analyzed => "analyzed".to_string(),
            Outcome::Rejected(c) => format!("rejected:{c}"),
            Outcome::Failed(why) => {
                failures.push(format!("{}: {why}", f.display()));
                "failed".to_string()
            }
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    eprintln!("sweep over {} files: {counts:?}", files.len());
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    counts
}

#[test]
fn every_model_is_analyzed_or_cleanly_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    if let Some(dir) = std::env::var_os("TAILWATCH_SWEEP_DIR") {
        onnx_files(Path::new(&dir), &mut files);
        assert!(!files.is_empty(), "no .onnx files under {dir:?}");
        sweep(&files, tmp.path());
        return;
    }
    onnx_files(&common::data::repo_file("fixtures"), &mut files);
    // The shipped MNIST VGG family: 8 architectures and 5 more trajectory checkpoints.
    assert_eq!(files.len(), 13, "fixtures: {files:?}");
    let seeds = tmp.path().join("seeds");
    std::fs::create_dir(&seeds).unwrap();
    std::fs::write(seeds.join("w.bin"), vec![0x3c; 4096]).unwrap();
    for (name, m) in seed_models() {
        files.push(write(&seeds, &format!("{name}.onnx"), &m).unwrap());
    }
    // A hostile file as well: a truncated model (a classified rejection).
    let good = std::fs::read(&files[files.len() - 1]).unwrap();
    let cut = seeds.join("cut.onnx");
    std::fs::write(&cut, &good[..good.len() / 2]).unwrap();
    files.push(cut);
    let counts = sweep(&files, &tmp.path().join("out"));
    let fixtures = files.len() - 1;
    assert_eq!(counts.get("analyzed"), Some(&fixtures), "{counts:?}");
    assert_eq!(counts.get("rejected:truncated"), Some(&1), "{counts:?}");
}
