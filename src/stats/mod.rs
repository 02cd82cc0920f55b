//! Study statistics: how well a model-summary metric predicts reported accuracy across a family of
//! models (methods.md §15, the Nature 2021 protocol).
//!
//! For metric values x_i and reported errors e_i (percent), the target is accuracy
//! y_i = 100 − e_i. `correlate` gives the OLS line, its RMSE (denominator n) and R², Kendall's τ-b,
//! Spearman's ρ and Pearson's r with two-sided p-values. Degenerate inputs give `None` values and a
//! `note` saying why, never a silent drop.

mod kendall;
mod linear;
mod ranks;

use serde::Serialize;

pub use kendall::{exact_p as kendall_exact_p, kendall_tau_b};
pub use linear::{correlation_t_test_p, is_constant, mean, ols, pearson, r_squared, rmse};
pub use ranks::{average_ranks, spearman};

/// How one metric relates to accuracy across the models of a study.
#[derive(Clone, Debug, Serialize)]
pub struct Correlation {
    /// Models used (finite metric and finite error).
    pub n: usize,
    /// Models left out because the metric or the error was missing or not finite.
    pub n_excluded: usize,
    /// Slope of the least-squares line accuracy = slope · metric + intercept, where accuracy is
    /// 100 − the reported error, in percent.
    pub slope: Option<f64>,
    /// Intercept of that line, in percent.
    pub intercept: Option<f64>,
    /// Root mean squared residual of that line, in percent.
    pub rmse: Option<f64>,
    /// R² of that line.
    pub r2: Option<f64>,
    /// Kendall's τ-b of metric against accuracy.
    pub kendall_tau: Option<f64>,
    /// Two-sided p-value of τ-b, as scipy's `kendalltau(method="auto")`; None for n < 3.
    pub kendall_p: Option<f64>,
    /// Spearman's ρ of metric against accuracy.
    pub spearman_rho: Option<f64>,
    /// Two-sided t-based p-value of ρ; None for n < 3.
    pub spearman_p: Option<f64>,
    /// Pearson's r of metric against accuracy.
    pub pearson_r: Option<f64>,
    /// Two-sided t-based p-value of r; None for n < 3.
    pub pearson_p: Option<f64>,
    /// Why some values are missing (degenerate case), if any.
    pub note: Option<String>,
}

impl Correlation {
    fn empty(n: usize, n_excluded: usize) -> Self {
        Correlation {
            n,
            n_excluded,
            slope: None,
            intercept: None,
            rmse: None,
            r2: None,
            kendall_tau: None,
            kendall_p: None,
            spearman_rho: None,
            spearman_p: None,
            pearson_r: None,
            pearson_p: None,
            note: None,
        }
    }
}

/// Correlate a metric with accuracy. `x`: metric per model; `errors`: reported error in percent per
/// model, in the same order. Pairs with a non-finite value are excluded and counted; if the slices
/// differ in length, the unmatched tail is excluded too.
pub fn correlate(x: &[f64], errors: &[f64]) -> Correlation {
    let (xs, ys, n_excluded) = finite_pairs(x, errors);
    let n = xs.len();
    let mut out = Correlation::empty(n, n_excluded);
    let mut notes = Vec::new();
    if n_excluded > 0 {
        notes.push(format!(
            "{n_excluded} model(s) excluded: metric or error missing or not finite"
        ));
    }
    if n == 0 {
        notes.push("no model has both a finite metric and a finite error".to_string());
    } else if is_constant(&xs) {
        notes.push(format!(
            "metric is constant over the {n} model(s): no fit or correlation is defined"
        ));
    } else if is_constant(&ys) {
        notes.push(format!(
            "accuracy is constant over the {n} models: no fit or correlation is defined"
        ));
    } else {
        if n < 3 {
            notes.push(format!("only {n} models: statistics without p-values"));
        }
        fill_statistics(&mut out, &xs, &ys);
    }
    if !notes.is_empty() {
        out.note = Some(notes.join("; "));
    }
    out
}

/// Pairs (x, 100 − e) with both values finite, and how many models were dropped.
fn finite_pairs(x: &[f64], errors: &[f64]) -> (Vec<f64>, Vec<f64>, usize) {
    let mut xs = Vec::with_capacity(x.len());
    let mut ys = Vec::with_capacity(x.len());
    for (&xi, &ei) in x.iter().zip(errors) {
        if xi.is_finite() && ei.is_finite() {
            xs.push(xi);
            ys.push(100.0 - ei);
        }
    }
    let unmatched = x.len().abs_diff(errors.len());
    let excluded = x.len().min(errors.len()) - xs.len() + unmatched;
    (xs, ys, excluded)
}

/// Everything for a non-degenerate sample (x and y both vary, n ≥ 2).
fn fill_statistics(out: &mut Correlation, xs: &[f64], ys: &[f64]) {
    if let Some((slope, intercept)) = ols(xs, ys) {
        out.slope = Some(slope);
        out.intercept = Some(intercept);
        out.rmse = rmse(xs, ys, slope, intercept);
        out.r2 = r_squared(xs, ys, slope, intercept);
    }
    if let Some((tau, p)) = kendall_tau_b(xs, ys) {
        out.kendall_tau = Some(tau);
        out.kendall_p = p;
    }
    if let Some((rho, p)) = spearman(xs, ys) {
        out.spearman_rho = Some(rho);
        out.spearman_p = p;
    }
    if let Some((r, p)) = pearson(xs, ys) {
        out.pearson_r = Some(r);
        out.pearson_p = p;
    }
}

/// Rank metric names by |τ| (descending; ties broken by name for determinism). Returns the signed
/// τ of each metric; metrics without a τ (degenerate cases) are left out.
pub fn rank_by_abs_tau(rows: &[(String, Correlation)]) -> Vec<(String, f64)> {
    let mut ranked: Vec<(String, f64)> = rows
        .iter()
        .filter_map(|(name, c)| c.kendall_tau.map(|tau| (name.clone(), tau)))
        .collect();
    ranked.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
    ranked
}
