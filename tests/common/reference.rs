//! Reads the WeightWatcher 0.7.7 reference files: per-config detail CSVs and their eigenvalues.

use std::collections::HashMap;
use std::path::Path;

use super::data;

pub const MODELS: [&str; 4] = ["mlp_gemm", "mlp_matmul", "cnn_conv2d", "quirks"];

/// The runs every model has (reference README §3).
const COMMON_CONFIGS: [&str; 6] = [
    "clip_xmax",
    "default",
    "full",
    "mp_fit",
    "nature2021",
    "seed_nb",
];

/// The runs that exist for mlp_gemm only.
const MLP_GEMM_ONLY: [&str; 3] = ["pl_powerlaw", "tpl", "xmin_peak"];

/// The configs the reference folder holds for `model`, sorted. The list is fixed here rather than
/// read from the folder, so that a missing file fails the test that reads it instead of shrinking
/// what is compared; `configs_match_the_folder` (in `tests/parity.rs`) checks the other way.
pub fn configs(model: &str) -> Vec<&'static str> {
    assert!(MODELS.contains(&model), "unknown reference model {model}");
    let mut v: Vec<&str> = COMMON_CONFIGS.to_vec();
    if model == "mlp_gemm" {
        v.extend(MLP_GEMM_ONLY);
    }
    v.sort();
    v
}

/// Whether the reference folder has a `<model>__<config>.csv` run (by the fixed list).
pub fn has(model: &str, config: &str) -> bool {
    configs(model).contains(&config)
}

/// One CSV row: column name → raw cell text (empty for NaN/None).
pub struct Row {
    pub cells: HashMap<String, String>,
    pub evals: Vec<f64>,
}

impl Row {
    pub fn text(&self, col: &str) -> &str {
        self.cells.get(col).map(String::as_str).unwrap_or("")
    }
    /// The cell as a number, None when empty.
    pub fn num(&self, col: &str) -> Option<f64> {
        let t = self.text(col);
        if t.is_empty() {
            None
        } else {
            Some(
                t.parse()
                    .unwrap_or_else(|_| panic!("{col}: {t:?} is not a number")),
            )
        }
    }
    pub fn int(&self, col: &str) -> i64 {
        self.num(col).unwrap_or_else(|| panic!("{col} empty")) as i64
    }
    pub fn key(&self) -> String {
        match self.cells.get("slice_id") {
            Some(s) => format!("{}:{}", self.text("layer_id"), s),
            None => self.text("layer_id").to_string(),
        }
    }
}

/// Every row of `<model>__<config>.csv` with its eigenvalues; a missing file fails the test.
pub fn load(model: &str, config: &str) -> Vec<Row> {
    assert!(
        has(model, config),
        "the reference has no run {model}__{config}"
    );
    let csv_path = data::reference(&format!("{model}__{config}.csv"));
    let evals = load_evals(&data::reference(&format!("{model}__{config}__evals.csv")));
    let mut rdr = csv::Reader::from_path(&csv_path).unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let cells: HashMap<String, String> = headers
            .iter()
            .cloned()
            .zip(rec.iter().map(String::from))
            .collect();
        let mut row = Row {
            cells,
            evals: Vec::new(),
        };
        row.evals = evals
            .get(&row.key())
            .unwrap_or_else(|| panic!("{model} {config}: no eigenvalues for {}", row.key()))
            .clone();
        rows.push(row);
    }
    assert!(!rows.is_empty(), "{}: no rows", csv_path.display());
    rows
}

fn load_evals(path: &Path) -> HashMap<String, Vec<f64>> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let mut out: HashMap<String, Vec<(usize, f64)>> = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let idx: usize = rec[1].parse().unwrap();
        let v: f64 = rec[2].parse().unwrap();
        out.entry(rec[0].to_string()).or_default().push((idx, v));
    }
    out.into_iter()
        .map(|(k, mut v)| {
            v.sort_by_key(|p| p.0);
            (k, v.into_iter().map(|p| p.1).collect())
        })
        .collect()
}

/// The parity bound of README.md: WeightWatcher's value within 1e-12 relative, asserted as
/// `|got − want| ≤ REL·max(|want|, ABS_FLOOR)` (see `rel_err`).
pub const REL: f64 = 1e-12;

/// Below this magnitude the bound is absolute (REL·ABS_FLOOR = 1e-15). On the reference files it
/// only matters for values that are exactly 0 (`bulk_min` of a Q = 1 row, where (1 − 1/√Q)² = 0):
/// the smallest non-zero value of a compared float column is 2.9e-3 (cnn conv4 `sv_min`), so no
/// non-zero comparison is loosened by the floor.
pub const ABS_FLOOR: f64 = 1e-3;

/// Relative error with the absolute floor `ABS_FLOOR`.
pub fn rel_err(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(ABS_FLOOR)
}

/// Largest relative error seen per column, for the report.
#[derive(Default)]
pub struct Errors {
    pub max: std::collections::BTreeMap<String, f64>,
    pub compared: usize,
}

impl Errors {
    /// Compare `got` with `want` to `REL` (with the `ABS_FLOOR` of `rel_err`); record the error.
    pub fn close(&mut self, ctx: &str, col: &str, got: Option<f64>, want: Option<f64>) {
        self.compared += 1;
        match (got, want) {
            (None, None) => {}
            (Some(g), Some(w)) => {
                let err = rel_err(g, w);
                assert!(
                    err <= REL,
                    "{ctx} {col}: got {g:e}, want {w:e} (rel err {err:e} > {REL:e})"
                );
                let e = self.max.entry(col.to_string()).or_insert(0.0);
                *e = e.max(err);
            }
            _ => panic!("{ctx} {col}: got {got:?}, want {want:?}"),
        }
    }

    pub fn exact<T: PartialEq + std::fmt::Debug>(&mut self, ctx: &str, col: &str, got: T, want: T) {
        self.compared += 1;
        assert_eq!(got, want, "{ctx} {col}");
    }

    pub fn report(&self, title: &str) {
        println!("{title}: {} comparisons", self.compared);
        for (col, e) in &self.max {
            println!("  {col:<22} max rel err {e:.3e}");
        }
    }
}
