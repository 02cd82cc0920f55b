//! Where the tests' data live. Every path into the repository's test data goes through here, and
//! a missing file is a test failure that names it, never a skip: a fresh clone has everything.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `rel` under the repository root; fails the test when the file is not there.
pub fn repo_file(rel: &str) -> PathBuf {
    let p = repo().join(rel);
    assert!(
        p.exists(),
        "test data missing: {rel} (looked for {}); it is part of the repository",
        p.display()
    );
    p
}

/// The WeightWatcher 0.7.7 reference folder (`tests/data/ww-0.7.7/README.md`).
pub const REFERENCE: &str = "tests/data/ww-0.7.7";

pub fn reference_dir() -> PathBuf {
    repo_file(REFERENCE)
}

/// One file of the reference folder; fails the test when it is missing.
pub fn reference(file: &str) -> PathBuf {
    repo_file(&format!("{REFERENCE}/{file}"))
}

/// The MNIST VGG family shipped for the demo study.
pub const MNIST_VGG: &str = "fixtures/mnist-vgg-mini";

/// A file of the MNIST VGG family. `errors.csv` lists one checkpoint that is not shipped because
/// it is byte-identical to another (`vgg11_bn_mini_ep15` = `vgg11_bn_mini`, the same run): such a
/// name resolves to the shipped file with the SHA-256 that `errors.csv` records for it, and fails
/// the test if there is none.
pub fn mnist_vgg(file: &str) -> PathBuf {
    let p = repo().join(MNIST_VGG).join(file);
    if p.exists() {
        return p;
    }
    let sha = recorded_sha256(file)
        .unwrap_or_else(|| panic!("{MNIST_VGG}/{file}: neither shipped nor listed in errors.csv"));
    let mut shipped: Vec<PathBuf> = std::fs::read_dir(repo_file(MNIST_VGG))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    shipped.sort();
    shipped
        .into_iter()
        .find(|p| sha256_hex(p) == sha)
        .unwrap_or_else(|| {
            panic!("{MNIST_VGG}/{file}: not shipped, and no shipped file has its SHA-256 {sha}")
        })
}

/// The `sha256` column of `errors.csv` for `file`.
fn recorded_sha256(file: &str) -> Option<String> {
    let mut r = csv::Reader::from_path(repo_file(&format!("{MNIST_VGG}/errors.csv"))).unwrap();
    let head = r.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (f, s) = (col("file"), col("sha256"));
    r.records()
        .map(|rec| rec.unwrap())
        .find(|rec| &rec[f] == file)
        .map(|rec| rec[s].to_string())
}

pub fn sha256_hex(p: &Path) -> String {
    let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
