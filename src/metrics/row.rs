//! One row of `details`: a layer (pooled) or a conv slice, as named columns.
//!
//! Columns keep WeightWatcher's names and meanings (methods.md §8) so that users can carry
//! their notebooks over; tailwatch's extra columns are listed after them. A row holds only the
//! columns that apply to it; writers take the union in `COLUMN_ORDER`.

use serde::ser::{Serialize, SerializeMap, Serializer};

/// A cell. `Null` is an empty CSV cell and a JSON null.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl Value {
    /// The numeric value of the cell, if any (bools are not numbers here).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// CSV text: floats at shortest round-trip precision, so parsing gives the exact double.
    pub fn to_csv(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) if f.is_finite() => format_float(*f),
            Value::Float(f) if f.is_nan() => String::new(),
            Value::Float(f) => if *f > 0.0 { "inf" } else { "-inf" }.to_string(),
            Value::Text(s) => s.clone(),
        }
    }
}

/// Shortest round-trip representation, always with a decimal point or exponent.
pub fn format_float(f: f64) -> String {
    // Rust's Debug formatting of f64 is the shortest string that parses back to the same value.
    format!("{f:?}")
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<usize> for Value {
    fn from(i: usize) -> Self {
        Value::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            // JSON has no NaN/Inf: a non-finite number is written as null.
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) => s.serialize_none(),
            Value::Text(t) => s.serialize_str(t),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::Text(s),
            other => Value::Text(other.to_string()),
        })
    }
}

/// A row: ordered (column, value) pairs, each column at most once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    cells: Vec<(&'static str, Value)>,
}

impl Row {
    pub fn set(&mut self, column: &'static str, value: impl Into<Value>) {
        let value = value.into();
        match self.cells.iter_mut().find(|(c, _)| *c == column) {
            Some(cell) => cell.1 = value,
            None => self.cells.push((column, value)),
        }
    }

    pub fn get(&self, column: &str) -> Option<&Value> {
        self.cells
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, v)| v)
    }

    /// The numeric value of a column, None when absent, null or not a number.
    pub fn num(&self, column: &str) -> Option<f64> {
        self.get(column).and_then(Value::as_f64)
    }

    pub fn text(&self, column: &str) -> Option<&str> {
        self.get(column).and_then(Value::as_str)
    }

    pub fn columns(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.cells.iter().map(|(c, _)| *c)
    }

    pub fn cells(&self) -> &[(&'static str, Value)] {
        &self.cells
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.cells.len()))?;
        for (c, v) in &self.cells {
            map.serialize_entry(c, v)?;
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for Row {
    /// Reads rows written by tailwatch; columns are matched against `COLUMN_ORDER` and unknown
    /// ones are dropped (they cannot come from this version).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let mut row = Row::default();
        for (k, v) in map {
            if let Some(c) = COLUMN_ORDER.iter().find(|c| **c == k) {
                let v: Value =
                    serde::Deserialize::deserialize(v).map_err(serde::de::Error::custom)?;
                row.set(c, v);
            }
        }
        Ok(row)
    }
}

/// The canonical column order of `details` outputs. Identity first, then WW's columns grouped by
/// stage, then tailwatch's own.
#[rustfmt::skip]
pub const COLUMN_ORDER: &[&str] = &[
    "model", "layer_id", "name", "longname", "slice_id", "layer_type", "status", "warning",
    "N", "M", "Q", "rf", "num_evals", "has_esd",
    // power-law fit (§5, §6)
    "alpha", "xmin", "xmax", "D", "sigma", "num_pl_spikes", "num_fingers", "raw_alpha", "Lambda",
    // norms (§8)
    "lambda_max", "norm", "log_norm", "spectral_norm", "log_spectral_norm", "alpha_weighted",
    "log_alpha_norm", "stable_rank", "entropy", "matrix_rank", "rank_loss", "weak_rank_loss",
    "sv_max", "sv_min",
    // Marchenko–Pastur (§7)
    "sigma_mp", "num_spikes", "mp_softrank", "bulk_max", "bulk_min", "W_scale", "mp_status",
    // randomized ESD (§10)
    "max_rand_eval", "rand_distance", "ww_softrank", "ww_maxdist", "rand_num_spikes", "num_traps",
    "rand_sigma_mp", "rand_mp_softrank", "rand_W_scale", "rand_bulk_max", "rand_bulk_min",
    // detX / ERG (§11)
    "detX_num", "detX_val", "detX_val_rescaled", "detX_val_unrescaled", "detX_reached",
    "num_ERG_spikes", "ERG_gap",
    // eigenvector localisation (§12)
    "bulk_mean_vec_entropy", "bulk_var_vec_entropy", "bulk_mean_loc_ratio", "bulk_var_loc_ratio",
    "bulk_mean_part_ratio", "bulk_var_part_ratio", "tail_mean_vec_entropy",
    "tail_var_vec_entropy", "tail_mean_loc_ratio", "tail_var_loc_ratio", "tail_mean_part_ratio",
    "tail_var_part_ratio",
    // tailwatch's own
    "fit_failure", "problem", "near_threshold_evals", "flags",
];

/// The union of the rows' columns, in canonical order (unknown columns last, in first-seen order).
pub fn union_columns<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Vec<&'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    for r in rows {
        for c in r.columns() {
            if !seen.contains(&c) {
                seen.push(c);
            }
        }
    }
    let rank = |c: &str| {
        COLUMN_ORDER
            .iter()
            .position(|k| *k == c)
            .unwrap_or(usize::MAX)
    };
    seen.sort_by_key(|c| rank(c));
    seen
}

#[cfg(test)]
#[path = "row_tests.rs"]
mod tests;
