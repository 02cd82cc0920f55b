//! Bounded reads of the small files tailwatch reads besides models: study, gate and analysis
//! configs, shard manifests, saved analyses. Model files have their own loader (`onnx`).

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Largest config file read: a config lists models and rules; megabytes would be a mistake or an
/// attack.
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// The bytes of `path`, refusing a file larger than `max` (checked before and while reading).
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
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

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
