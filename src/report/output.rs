//! Writing files into an output directory, and nowhere else.
//!
//! Every file is written to a temporary name in the same directory and renamed into place, so a
//! reader never sees a partial file presented as complete.

use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::metrics::row::{Row, union_columns};

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

    pub fn write_json(&self, name: &str, value: &impl serde::Serialize) -> Result<PathBuf> {
        let mut text = serde_json::to_string_pretty(value)
            .map_err(|e| Error::Evaluation(format!("cannot serialise {name}: {e}")))?;
        text.push('\n');
        self.write(name, text.as_bytes())
    }
}

/// Rows as CSV, columns in canonical order; `lead` columns (e.g. `model`) come first.
pub fn rows_to_csv<'a>(rows: impl IntoIterator<Item = &'a Row> + Clone) -> Result<String> {
    let columns = union_columns(rows.clone());
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| Error::Evaluation(format!("cannot write CSV: {e}"));
    w.write_record(columns.iter().map(|c| c.name()))
        .map_err(csv_err)?;
    for r in rows {
        let record: Vec<String> = columns
            .iter()
            .map(|c| r.get(*c).map(|v| v.to_csv()).unwrap_or_default())
            .collect();
        w.write_record(&record).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Evaluation(format!("cannot write CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Evaluation(format!("CSV is not UTF-8: {e}")))
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
