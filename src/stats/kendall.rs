//! Kendall's τ-b with scipy's `auto` p-value rule (methods.md §15).

use statrs::distribution::{ContinuousCDF, Normal};

/// Largest n for which the exact null distribution is used with ties absent (scipy's rule).
const EXACT_MAX_N: usize = 33;

/// Pair counts over all i < j.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct PairCounts {
    concordant: u64,
    discordant: u64,
}

/// Tie statistics of one variable: tied pairs Σt(t−1)/2 and the two variance terms
/// Σt(t−1)(t−2) and Σt(t−1)(2t+5) over tie groups of size t.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Ties {
    pairs: u64,
    v0: f64,
    v1: f64,
}

fn count_pairs(x: &[f64], y: &[f64]) -> PairCounts {
    let mut counts = PairCounts::default();
    for (i, (xi, yi)) in x.iter().zip(y).enumerate() {
        for (xj, yj) in x.iter().zip(y).skip(i + 1) {
            // A pair tied in x or in y counts as neither. Compare rather than multiply
            // differences: a product of two tiny differences can underflow to zero.
            if xi == xj || yi == yj {
                continue;
            }
            if (xi < xj) == (yi < yj) {
                counts.concordant += 1;
            } else {
                counts.discordant += 1;
            }
        }
    }
    counts
}

fn ties(v: &[f64]) -> Ties {
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut out = Ties::default();
    for group in sorted.chunk_by(|a, b| a == b) {
        let t = group.len() as u64;
        if t > 1 {
            let tf = t as f64;
            out.pairs += t * (t - 1) / 2;
            out.v0 += tf * (tf - 1.0) * (tf - 2.0);
            out.v1 += tf * (tf - 1.0) * (2.0 * tf + 5.0);
        }
    }
    out
}

/// Kendall's τ-b = (n_c − n_d)/sqrt((n_0 − n_1)(n_0 − n_2)) and its two-sided p-value.
///
/// `None` when the lengths differ, n < 2, or either variable is constant. The p-value is `None`
/// for n < 3; otherwise it is exact (permutation distribution) when there are no ties and
/// (n ≤ 33 or min(n_d, n_0 − n_d) ≤ 1), else the tie-corrected normal approximation, as scipy's
/// `kendalltau(method="auto")`.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<(f64, Option<f64>)> {
    let n = x.len();
    if n < 2 || n != y.len() {
        return None;
    }
    let total = (n as u64) * (n as u64 - 1) / 2;
    let (tx, ty) = (ties(x), ties(y));
    if tx.pairs == total || ty.pairs == total {
        return None;
    }
    let pairs = count_pairs(x, y);
    let s = pairs.concordant as f64 - pairs.discordant as f64;
    // One square root of the product (exact in f64 for any realistic n) rather than a product of
    // two roots, so that perfect order gives exactly ±1.
    let denom = ((total - tx.pairs) as f64 * (total - ty.pairs) as f64).sqrt();
    let tau = (s / denom).clamp(-1.0, 1.0);
    if n < 3 {
        return Some((tau, None));
    }
    let no_ties = tx.pairs == 0 && ty.pairs == 0;
    let extreme = pairs.discordant.min(total - pairs.discordant) <= 1;
    let p = if no_ties && (n <= EXACT_MAX_N || extreme) {
        exact_p(n, pairs.concordant)
    } else {
        asymptotic_p(n, s, tx, ty)
    };
    Some((tau, p))
}

/// Two-sided p-value of the normal approximation with the tie-corrected variance of S = n_c − n_d
/// (Kendall 1970, as in scipy).
fn asymptotic_p(n: usize, s: f64, tx: Ties, ty: Ties) -> Option<f64> {
    let nf = n as f64;
    let m = nf * (nf - 1.0);
    let var = (m * (2.0 * nf + 5.0) - tx.v1 - ty.v1) / 18.0
        + 2.0 * tx.pairs as f64 * ty.pairs as f64 / m
        + tx.v0 * ty.v0 / (9.0 * m * (nf - 2.0));
    if var.is_nan() || var <= 0.0 {
        return None;
    }
    let z = s / var.sqrt();
    let normal = Normal::new(0.0, 1.0).ok()?;
    Some((2.0 * normal.sf(z.abs())).min(1.0))
}

/// Exact two-sided p-value for `concordant` concordant pairs among n untied points: twice the
/// probability of a count at least as extreme in the nearer tail, capped at 1
/// (scipy `_kendall_p_exact`). `None` for n < 3, and for n > 33 unless the count is within one
/// pair of an extreme (the only large-n case the `auto` rule sends here).
pub fn exact_p(n: usize, concordant: u64) -> Option<f64> {
    if n < 3 {
        return None;
    }
    let total = (n as u64) * (n as u64 - 1) / 2;
    if concordant > total {
        return None;
    }
    // The null distribution is symmetric: always measure the left tail.
    let c = concordant.min(total - concordant);
    let p = if c == 0 {
        2.0 / factorial(n)
    } else if c == 1 {
        2.0 / factorial(n - 1)
    } else if 4 * c == total * 2 {
        // c sits at the centre (4c = n(n−1)): the two tails cover everything.
        1.0
    } else if n <= EXACT_MAX_N {
        exact_tail_u128(n, c)?
    } else {
        // Not reached by the `auto` rule: beyond 33 points it only asks for c ≤ 1.
        return None;
    };
    Some(p.clamp(0.0, 1.0))
}

/// n! in f64; overflows to +inf for n ≥ 171, which makes 2/n! = 0 as in scipy.
fn factorial(n: usize) -> f64 {
    (2..=n).map(|k| k as f64).product()
}

/// 2·#{permutations with ≤ c inversions}/n!, counted exactly with the Mahonian recurrence
/// M(j, k) = Σ_{i=0}^{min(k, j−1)} M(j−1, k−i). For n ≤ 33 every count is ≤ 33! < 2^128.
fn exact_tail_u128(n: usize, c: u64) -> Option<f64> {
    let width = usize::try_from(c).ok()?.checked_add(1)?;
    let mut counts = vec![0u128; width];
    // Permutations of 1 element: one with zero inversions.
    *counts.first_mut()? = 1;
    for j in 2..=n {
        counts = mahonian_step(&counts, j);
    }
    let below: u128 = counts.iter().sum();
    let n_factorial: u128 = (2..=n as u128).product();
    Some(2.0 * below as f64 / n_factorial as f64)
}

/// One step of the recurrence: from counts for j−1 elements to j elements, truncated at c.
fn mahonian_step(prev: &[u128], j: usize) -> Vec<u128> {
    let mut cumulative = Vec::with_capacity(prev.len());
    let mut acc = 0u128;
    for &v in prev {
        acc += v;
        cumulative.push(acc);
    }
    cumulative
        .iter()
        .enumerate()
        .map(|(k, &cum)| match k.checked_sub(j) {
            Some(back) => cum - cumulative.get(back).copied().unwrap_or(0),
            None => cum,
        })
        .collect()
}
