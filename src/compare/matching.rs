//! Which row of the model is which row of the baseline.
//!
//! In three tiers, the first that pairs every row wins:
//! 1. by weight name (plus `slice_id` in sliced mode), when the two files name their layers alike;
//! 2. by the name without the suffixes onnxruntime's quantizers append (`_quantized`,
//!    `_Transposed`, `_DequantizeLinear_Output`…, [`QUANTIZER_SUFFIXES`]): `quantize_dynamic`
//!    renames every weight it quantizes and may also reorder same-shaped layers, so position
//!    alone would pair the wrong ones;
//! 3. by position, for a re-export that renamed everything, provided every position holds the
//!    same layer type and shape in both files.
//!
//! Tiers 2 and 3 carry a warning that says how many names differ. Whatever the tier, paired rows
//! must have the same layer type and shape. Anything else is a mismatch: another architecture, a
//! layer added or removed.

use std::collections::BTreeMap;

use crate::error::display_name;
use crate::metrics::row::Row;
use crate::schema::Column;

/// How the rows were paired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// Every row found the baseline row of the same weight name (and slice).
    Name,
    /// Every row found the baseline row whose name is the same once quantizer suffixes are
    /// removed.
    Stem,
    /// Names differ, so row i was paired with baseline row i, each pair checked to have the same
    /// layer type and shape.
    Position,
}

/// The pairing of the model's rows with the baseline's.
#[derive(Clone, Debug, PartialEq)]
pub struct Matching {
    /// `(model row index, baseline row index)` for every model row, in model order.
    pub pairs: Vec<(usize, usize)>,
    /// How they were paired.
    pub by: MatchedBy,
    /// Said when the match is by position: how many names differ, with an example.
    pub warning: Option<String>,
}

/// The name a row is matched and reported by: the weight name, plus the slice in sliced mode.
pub fn row_key(row: &Row) -> String {
    let name = row.text(Column::Name).unwrap_or("?");
    match row.num(Column::SliceId) {
        Some(s) => format!("{name}:{s}"),
        None => name.to_string(),
    }
}

/// Suffixes that onnxruntime's quantizers (dynamic, static QDQ and QOperator) append to the
/// weights they rewrite, removed from the end of a name as often as they occur.
pub const QUANTIZER_SUFFIXES: &[&str] = &[
    "_quantized",
    "_Transposed",
    "_DequantizeLinear_Output",
    "_QuantizeLinear_Output",
    "_scaled",
];

/// A weight name without quantizer suffixes (and a `:slice` kept at the end).
fn stem(key: &str) -> String {
    let (name, slice) = match key.rsplit_once(':') {
        Some((n, s)) if s.chars().all(|c| c.is_ascii_digit()) => (n, Some(s)),
        _ => (key, None),
    };
    let mut n = name;
    while let Some(rest) = QUANTIZER_SUFFIXES.iter().find_map(|s| n.strip_suffix(s)) {
        n = rest;
    }
    match slice {
        Some(s) => format!("{n}:{s}"),
        None => n.to_string(),
    }
}

/// What must agree for two rows to be the same layer: type and shape.
fn shape(row: &Row) -> (Option<&str>, [Option<f64>; 4]) {
    let n = |c| row.num(c);
    (
        row.text(Column::LayerType),
        [
            n(Column::N),
            n(Column::M),
            n(Column::Rf),
            n(Column::SliceId),
        ],
    )
}

fn describe_shape(row: &Row) -> String {
    let int = |c| row.num(c).map_or("?".to_string(), |v| format!("{v}"));
    format!(
        "{} {}×{} rf {}",
        row.text(Column::LayerType).unwrap_or("?"),
        int(Column::N),
        int(Column::M),
        int(Column::Rf)
    )
}

/// How many names a message lists before "and n more".
const SHOWN: usize = 5;

fn listed(v: &[String]) -> String {
    let mut s: Vec<String> = v.iter().take(SHOWN).map(|k| display_name(k)).collect();
    if v.len() > SHOWN {
        s.push(format!("and {} more", v.len() - SHOWN));
    }
    s.join(", ")
}

/// Pair the model's rows with the baseline's, or say why they cannot be paired (each message
/// names the layers concerned).
pub fn match_rows(model: &[Row], base: &[Row]) -> Result<Matching, Vec<String>> {
    let (mk, bk) = (unique_keys(model, &row_key), unique_keys(base, &row_key));
    let index = |keys: &[String]| -> BTreeMap<String, usize> {
        keys.iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect()
    };
    let (mi, bi) = (index(&mk), index(&bk));
    let same_count = model.len() == base.len();
    if same_count && mi.len() == bi.len() && mi.keys().all(|k| bi.contains_key(k)) {
        return by_name(model, base, &mk, &bi);
    }
    let stem_key = |r: &Row| stem(&row_key(r));
    let (ms, bs) = (unique_keys(model, &stem_key), unique_keys(base, &stem_key));
    let (msi, bsi) = (index(&ms), index(&bs));
    if same_count && msi.len() == bsi.len() && msi.keys().all(|k| bsi.contains_key(k)) {
        let mut m = by_name(model, base, &ms, &bsi)?;
        let renamed: Vec<(usize, usize)> = (m.pairs.iter().copied())
            .filter(|(i, j)| row_key(&model[*i]) != row_key(&base[*j]))
            .collect();
        let Some(&(i, j)) = renamed.first() else {
            return Ok(m); // the stems paired rows whose names are equal: a match by name
        };
        m.by = MatchedBy::Stem;
        m.warning = Some(format!(
            "{} of {} layer names differ from the baseline's only by quantizer suffixes (first: \
             model {} ↔ baseline {}); layers were matched by the name without them",
            renamed.len(),
            model.len(),
            display_name(&row_key(&model[i])),
            display_name(&row_key(&base[j]))
        ));
        return Ok(m);
    }
    if model.len() == base.len() && model.iter().zip(base).all(|(m, b)| shape(m) == shape(b)) {
        let renamed: Vec<(String, String)> = (model.iter().zip(base))
            .map(|(m, b)| (row_key(m), row_key(b)))
            .filter(|(m, b)| m != b)
            .collect();
        let Some((m0, b0)) = renamed.first() else {
            return Err(vec![
                "layer names repeat in a way that cannot be paired".into(),
            ]);
        };
        return Ok(Matching {
            pairs: (0..model.len()).map(|i| (i, i)).collect(),
            by: MatchedBy::Position,
            warning: Some(format!(
                "{} of {} layer names differ from the baseline's (first: model {} ↔ baseline {}); \
                 layers were matched by order, layer type and shape",
                renamed.len(),
                model.len(),
                display_name(m0),
                display_name(b0)
            )),
        });
    }
    Err(mismatch(model, base, &mi, &bi))
}

/// One key per row: `key(row)`, and for a name that several rows share (one tensor read as two
/// layers, e.g. an embedding tied to the output projection) `#2`, `#3`… on its later rows, in
/// file order, so that the n-th use in one file pairs with the n-th in the other.
///
/// A suffixed key that is some other row's real name (`#` is legal in ONNX names) takes the
/// next free number, so the keys are always distinct.
fn unique_keys(rows: &[Row], key: &dyn Fn(&Row) -> String) -> Vec<String> {
    let plain: std::collections::BTreeSet<String> = rows.iter().map(key).collect();
    let mut used = std::collections::BTreeSet::new();
    let mut next: BTreeMap<String, usize> = BTreeMap::new();
    rows.iter()
        .map(|r| {
            let k = key(r);
            if used.insert(k.clone()) {
                return k;
            }
            let n = next.entry(k.clone()).or_insert(1);
            loop {
                *n += 1;
                let c = format!("{k}#{n}");
                if !plain.contains(&c) && used.insert(c.clone()) {
                    return c;
                }
            }
        })
        .collect()
}

/// Every key of the model's rows (`mk`) is a key of the baseline's (`bi`): the shapes must agree
/// too.
fn by_name(
    model: &[Row],
    base: &[Row],
    mk: &[String],
    bi: &BTreeMap<String, usize>,
) -> Result<Matching, Vec<String>> {
    let pairs: Vec<(usize, usize)> = (mk.iter().enumerate())
        .filter_map(|(i, k)| bi.get(k).map(|j| (i, *j)))
        .collect();
    let differ: Vec<String> = (pairs.iter())
        .filter(|(i, j)| shape(&model[*i]) != shape(&base[*j]))
        .map(|(i, j)| {
            format!(
                "{} is {} in the model but {} in the baseline",
                display_name(&row_key(&model[*i])),
                describe_shape(&model[*i]),
                describe_shape(&base[*j])
            )
        })
        .collect();
    if !differ.is_empty() {
        let mut e = vec![format!(
            "{} layer(s) have another type or shape than the baseline's (another architecture?)",
            differ.len()
        )];
        e.extend(differ.into_iter().take(SHOWN));
        return Err(e);
    }
    Ok(Matching {
        pairs,
        by: MatchedBy::Name,
        warning: None,
    })
}

/// Neither names nor positions pair up: say what is missing and where the order first differs.
fn mismatch(
    model: &[Row],
    base: &[Row],
    mi: &BTreeMap<String, usize>,
    bi: &BTreeMap<String, usize>,
) -> Vec<String> {
    let absent = |from: &[Row], other: &BTreeMap<String, usize>, key: &dyn Fn(&Row) -> String| {
        (from.iter())
            .filter(|r| !other.contains_key(&key(r)))
            .map(row_key)
            .collect::<Vec<String>>()
    };
    let (mut missing, mut extra) = (absent(model, bi, &row_key), absent(base, mi, &row_key));
    // Names that differ only by quantizer suffixes are not what is missing: list the rest.
    let stem_key = |r: &Row| stem(&row_key(r));
    let stems = |rows: &[Row]| -> BTreeMap<String, usize> {
        (rows.iter().enumerate())
            .map(|(i, r)| (stem_key(r), i))
            .collect()
    };
    let (ms, bs) = (stems(model), stems(base));
    let (sm, se) = (absent(model, &bs, &stem_key), absent(base, &ms, &stem_key));
    if sm.len() + se.len() < missing.len() + extra.len() {
        (missing, extra) = (sm, se);
    }
    let mut e = Vec::new();
    if !missing.is_empty() {
        e.push(format!(
            "{} layer(s) of the model are missing from the baseline: {}",
            missing.len(),
            listed(&missing)
        ));
    }
    if !extra.is_empty() {
        e.push(format!(
            "{} baseline layer(s) are missing from the model: {}",
            extra.len(),
            listed(&extra)
        ));
    }
    let first = (model.iter().zip(base).enumerate()).find(|(_, (m, b))| shape(m) != shape(b));
    e.push(match first {
        Some((i, (m, b))) => format!(
            "nor do they match by order: layer {i} is {} {} in the model but {} {} in the baseline",
            display_name(&row_key(m)),
            describe_shape(m),
            display_name(&row_key(b)),
            describe_shape(b)
        ),
        None => format!(
            "nor do they match by order: the model has {} rows, the baseline {}",
            model.len(),
            base.len()
        ),
    });
    e
}

#[cfg(test)]
#[path = "matching_tests.rs"]
mod tests;
