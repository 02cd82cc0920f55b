//! Files tailwatch reads and writes besides models: bounded reads of the small files (study,
//! gate and analysis configs, shard manifests, saved analyses), hashes of files, and writing into
//! an output directory and nowhere else. Model files have their own loader (`onnx`).
//!
//! Every output file is written to a temporary name in the same directory and renamed into
//! place, so a reader never sees a partial file presented as complete.

use std::fs;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Largest config file read: a config lists models and rules; megabytes would be a mistake or an
/// attack.
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// The bytes of `path`, refusing a file larger than `max` (checked before and while reading).
///
/// Only a regular file is read: a FIFO, socket, device or directory is refused without
/// blocking (the open is non-blocking and the opened descriptor's type is checked).
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>> {
    let file = crate::onnx::regular::open_nonblocking(path, 0).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if let Some(what) = crate::onnx::regular::not_regular(&meta.file_type()) {
        return Err(Error::config(
            path,
            format!("not a regular file: it is {what}"),
        ));
    }
    let len = meta.len();
    let too_large = || Error::config(path, format!("file is larger than {max} bytes"));
    if len > max {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// A config file as UTF-8 text, at most `MAX_CONFIG_BYTES`.
pub fn read_config_text(path: &Path) -> Result<String> {
    let bytes = read_bounded(path, MAX_CONFIG_BYTES)?;
    String::from_utf8(bytes).map_err(|_| Error::config(path, "file is not UTF-8 text"))
}

/// An output directory; file names are plain relative names inside it.
#[derive(Clone, Debug)]
pub struct OutDir {
    root: PathBuf,
}

impl OutDir {
    /// Create the directory (and parents) if needed.
    pub fn create(root: &Path) -> Result<OutDir> {
        fs::create_dir_all(root).map_err(|e| Error::output(root, e))?;
        Ok(OutDir {
            root: root.to_path_buf(),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The path of `name` inside the directory; names with `..`, roots or prefixes are refused.
    pub fn file(&self, name: &str) -> Result<PathBuf> {
        let rel = Path::new(name);
        let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain || name.is_empty() {
            return Err(Error::Options(format!(
                "output name {name:?} must be a plain relative path"
            )));
        }
        Ok(self.root.join(rel))
    }

    /// Write `bytes` to `name` atomically (temp file + rename).
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.file(name)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::output(parent, e))?;
        }
        let tmp = path.with_extension("partial");
        let mut f = fs::File::create(&tmp).map_err(|e| Error::output(&tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::output(&tmp, e))?;
        f.sync_all().map_err(|e| Error::output(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| Error::output(&path, e))?;
        Ok(path)
    }

    /// Write `value` as pretty JSON with a final newline, atomically.
    pub fn write_json(&self, name: &str, value: &impl serde::Serialize) -> Result<PathBuf> {
        let mut text = serde_json::to_string_pretty(value)
            .map_err(|e| Error::Evaluation(format!("cannot serialise {name}: {e}")))?;
        text.push('\n');
        self.write(name, text.as_bytes())
    }
}

/// Lower-case hexadecimal of `bytes` (how hashes are shown).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file, streamed.
pub fn file_sha256(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or(&[]));
    }
    Ok(hex(&h.finalize()))
}

#[cfg(test)]
#[path = "io_tests.rs"]
mod tests;
