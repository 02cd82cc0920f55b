//! One row of `details`: a layer (pooled) or a conv slice, as cells of declared columns.
//!
//! The columns, their types and their order are declared in `schema::columns`. A row holds
//! only the columns that apply to it; writers take the union in canonical order. Reading a
//! saved row checks every cell against the schema: an unknown column, a cell of the wrong type
//! or an unknown status is an error that names it.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::fits::{FitStatus, Warning};
use crate::schema::{CellType, Column, RowStatus};

/// A cell. `Null` is an empty CSV cell and a JSON null.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// No value.
    Null,
    /// A boolean cell (`has_esd`, `detX_reached`).
    Bool(bool),
    /// An integer cell (counts, ids, sizes).
    Int(i64),
    /// A floating-point cell.
    Float(f64),
    /// A text cell (names, statuses, messages).
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

    /// The text of the cell, if it is text.
    pub(crate) fn as_str(&self) -> Option<&str> {
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

/// A row: (column, value) pairs in the order they were set, each column at most once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    cells: Vec<(Column, Value)>,
}

impl Value {
    /// Whether the value may stand in a cell of this type (empty cells always may).
    pub fn fits(&self, ty: CellType) -> bool {
        match (self, ty) {
            (Value::Null, _) => true,
            (Value::Int(_), CellType::Int) => true,
            (Value::Float(_), CellType::Float) => true,
            (Value::Bool(_), CellType::Bool) => true,
            (Value::Text(_), CellType::Text) => true,
            (Value::Text(t), CellType::Choice(names)) => names.contains(&t.as_str()),
            _ => false,
        }
    }
}

impl Row {
    /// Set a cell. The value's type is the column's (`schema::columns`); debug builds check it.
    pub fn set(&mut self, column: Column, value: impl Into<Value>) {
        let value = value.into();
        debug_assert!(
            value.fits(column.cell_type()),
            "{value:?} in column {column} of type {:?}",
            column.cell_type()
        );
        match self.cells.iter_mut().find(|(c, _)| *c == column) {
            Some(cell) => cell.1 = value,
            None => self.cells.push((column, value)),
        }
    }

    /// The cell of a column, None when the row has none.
    pub fn get(&self, column: Column) -> Option<&Value> {
        self.cells
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, v)| v)
    }

    /// The numeric value of a column, None when absent, null or not a number.
    pub fn num(&self, column: Column) -> Option<f64> {
        self.get(column).and_then(Value::as_f64)
    }

    /// The text of a column, None when absent, null or not text.
    pub fn text(&self, column: Column) -> Option<&str> {
        self.get(column).and_then(Value::as_str)
    }

    /// The row's `status` (None only for a row that was never given one).
    pub fn status(&self) -> Option<RowStatus> {
        self.text(Column::Status).and_then(RowStatus::parse)
    }

    /// The power-law `warning` ("" when there is none).
    pub fn warning(&self) -> Warning {
        self.text(Column::Warning)
            .and_then(Warning::parse)
            .unwrap_or_default()
    }

    /// The Marchenko–Pastur fit's outcome, with `mp_fit: true`.
    pub fn mp_status(&self) -> Option<FitStatus> {
        self.text(Column::MpStatus).and_then(FitStatus::parse)
    }

    /// Whether the row's weights could be analyzed (it has an ESD and metrics).
    pub fn is_analyzed(&self) -> bool {
        self.get(Column::Problem).is_none_or(|p| *p == Value::Null)
    }

    /// The row's columns, in the order they were set.
    pub(crate) fn columns(&self) -> impl Iterator<Item = Column> + '_ {
        self.cells.iter().map(|(c, _)| *c)
    }

    /// Every cell, in the order the columns were set.
    pub fn cells(&self) -> &[(Column, Value)] {
        &self.cells
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.cells.len()))?;
        for (c, v) in &self.cells {
            map.serialize_entry(c.name(), v)?;
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for Row {
    /// Reads rows written by this version of tailwatch: every column must be declared and every
    /// cell of its column's type, or reading fails naming the column.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let mut row = Row::default();
        for (k, v) in map {
            let column = Column::from_name(&k).ok_or_else(|| {
                D::Error::custom(format!(
                    "unknown column {k:?} (not written by this version)"
                ))
            })?;
            let v = match serde::Deserialize::deserialize(v).map_err(D::Error::custom)? {
                // A float that happens to be whole may come back as an integer.
                Value::Int(i) if column.cell_type() == CellType::Float => Value::Float(i as f64),
                v => v,
            };
            if !v.fits(column.cell_type()) {
                return Err(D::Error::custom(format!(
                    "column {k:?}: {v:?} is not a {:?} cell",
                    column.cell_type()
                )));
            }
            row.set(column, v);
        }
        Ok(row)
    }
}

/// The union of the rows' columns, in canonical order.
pub fn union_columns<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Vec<Column> {
    let mut seen: Vec<Column> = rows.into_iter().flat_map(Row::columns).collect();
    seen.sort();
    seen.dedup();
    seen
}

#[cfg(test)]
#[path = "row_tests.rs"]
mod tests;
