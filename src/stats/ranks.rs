//! Average ranks and Spearman's ρ (methods.md §15).

use super::linear::{correlation_t_test_p, pearson};

/// Ranks 1..=n with ties given the average of the ranks they span (scipy `rankdata` "average").
///
/// Sorting uses `total_cmp`, so the result is deterministic for any input; callers exclude
/// non-finite values before ranking.
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut start = 0;
    while start < order.len() {
        let value = x[order[start]];
        // Search after `start` so that a NaN (unequal to itself) still forms a group of one.
        let end = order[start + 1..]
            .iter()
            .position(|&i| x[i] != value)
            .map_or(order.len(), |p| start + 1 + p);
        // Positions start..end (0-based) hold ranks start+1..=end; their mean is (start+1+end)/2.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Spearman's ρ (Pearson r of average ranks) and its two-sided t-based p-value.
///
/// `None` when either input is constant or there are fewer than two points; p is `None` for
/// n < 3 and exactly 0 for |ρ| = 1.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<(f64, Option<f64>)> {
    if x.len() != y.len() {
        return None;
    }
    let (rho, _) = pearson(&average_ranks(x), &average_ranks(y))?;
    Some((rho, correlation_t_test_p(rho, x.len())))
}
