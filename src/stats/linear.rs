//! Least squares and Pearson correlation (methods.md §15).

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Arithmetic mean; `None` for an empty slice.
pub fn mean(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    Some(v.iter().sum::<f64>() / v.len() as f64)
}

/// True when every value equals the first one (or the slice is empty).
///
/// Checked on the values themselves, not on a variance: the mean of equal values can differ from
/// them in the last bit, which would turn a constant column into a tiny nonzero spread.
pub fn is_constant(v: &[f64]) -> bool {
    v.windows(2).all(|w| w[0] == w[1])
}

/// Centred cross products Σ(x−x̄)(y−ȳ), Σ(x−x̄)², Σ(y−ȳ)²; `None` for mismatched or empty input.
fn centred_sums(x: &[f64], y: &[f64]) -> Option<(f64, f64, f64)> {
    if x.len() != y.len() {
        return None;
    }
    let (mx, my) = (mean(x)?, mean(y)?);
    let mut sxy = 0.0;
    let mut sxx = 0.0;
    let mut syy = 0.0;
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    Some((sxy, sxx, syy))
}

/// Ordinary least squares y ≈ a + b·x, returned as `(slope b, intercept a)`.
///
/// `None` when the inputs differ in length, have fewer than two points or x is constant (the
/// slope is then undefined, not zero).
pub fn ols(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    if x.len() < 2 || is_constant(x) {
        return None;
    }
    let (sxy, sxx, _) = centred_sums(x, y)?;
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = mean(y)? - slope * mean(x)?;
    Some((slope, intercept))
}

/// Residual sum of squares Σ(y − a − b·x)² of a fitted line.
pub fn residual_sum_of_squares(x: &[f64], y: &[f64], slope: f64, intercept: f64) -> f64 {
    x.iter()
        .zip(y)
        .map(|(a, b)| {
            let r = b - intercept - slope * a;
            r * r
        })
        .sum()
}

/// RMSE with denominator n, as scikit-learn's `mean_squared_error` (§15: n − 2 does not reproduce
/// the paper).
pub fn rmse(x: &[f64], y: &[f64], slope: f64, intercept: f64) -> Option<f64> {
    if x.is_empty() || x.len() != y.len() {
        return None;
    }
    Some((residual_sum_of_squares(x, y, slope, intercept) / x.len() as f64).sqrt())
}

/// Coefficient of determination 1 − SS_res/SS_tot; `None` when y is constant (0/0).
pub fn r_squared(x: &[f64], y: &[f64], slope: f64, intercept: f64) -> Option<f64> {
    if is_constant(y) {
        return None;
    }
    let (_, _, syy) = centred_sums(x, y)?;
    if syy <= 0.0 {
        return None;
    }
    Some(1.0 - residual_sum_of_squares(x, y, slope, intercept) / syy)
}

/// Pearson r and its two-sided t-test p-value (n − 2 degrees of freedom).
///
/// `None` when either input is constant or there are fewer than two points; the p-value is `None`
/// when n < 3 (no degrees of freedom left).
pub fn pearson(x: &[f64], y: &[f64]) -> Option<(f64, Option<f64>)> {
    if x.len() < 2 || is_constant(x) || is_constant(y) {
        return None;
    }
    let (sxy, sxx, syy) = centred_sums(x, y)?;
    let denom = (sxx * syy).sqrt();
    if !denom.is_finite() || denom <= 0.0 {
        return None;
    }
    // Rounding can push |r| a hair past 1; scipy clips the same way.
    let r = (sxy / denom).clamp(-1.0, 1.0);
    Some((r, correlation_t_test_p(r, x.len())))
}

/// Two-sided p-value of a correlation coefficient by t = r·sqrt((n−2)/(1−r²)), n − 2 dof.
///
/// Used for Pearson r and Spearman ρ (scipy's `spearmanr` and, equivalently, `pearsonr`).
/// |r| = 1 gives p = 0 exactly (§15: scipy prints rounding noise such as 1.4e-24 there).
pub fn correlation_t_test_p(r: f64, n: usize) -> Option<f64> {
    if n < 3 || !r.is_finite() {
        return None;
    }
    // (1 − r)(1 + r) keeps precision when |r| is close to 1.
    let one_minus_r2 = (1.0 - r) * (1.0 + r);
    if one_minus_r2 <= 0.0 {
        return Some(0.0);
    }
    let dof = (n - 2) as f64;
    let t = r.abs() * (dof / one_minus_r2).sqrt();
    let dist = StudentsT::new(0.0, 1.0, dof).ok()?;
    Some((2.0 * dist.sf(t)).min(1.0))
}
