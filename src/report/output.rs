//! Rows as CSV. Output files are written through `crate::io::OutDir`.

use crate::error::{Error, Result};
use crate::metrics::row::{Row, union_columns};

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

/// `s` cut at the last line end that leaves room for `note` within `max_bytes`, with `note`
/// appended; `s` itself when it fits.
pub fn cut_at_line(s: String, max_bytes: usize, note: &str) -> String {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes.saturating_sub(note.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let end = s[..end].rfind('\n').unwrap_or(end);
    format!("{}{note}", &s[..end])
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
