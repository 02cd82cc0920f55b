//! detX / ERG tail size (`detX: true`, methods.md §11): the smallest tail of the rescaled ESD
//! whose product drops below 1 (the SETOL det X̃ = 1 condition).

use serde::Serialize;

use super::numeric::np_sum;

/// The detX / ERG result of one row (§11).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DetX {
    /// Tail size (also `num_ERG_spikes`).
    pub detx_num: usize,
    /// λ[idx] in original units, recovered as x[idx]/W_scale² as WW does (`detX_val`).
    pub detx_val: f64,
    /// x[idx], mean-1 units (WW names this `detX_val_unrescaled`, Q8).
    pub detx_val_rescaled: f64,
    /// False when the product never dropped below 1 (Q9: WW then reports n and idx 1).
    pub reached: bool,
}

/// `plain_product` (compat `detX_plain_product`) multiplies the tail left to right as WW does,
/// overflow included; natively the comparison is Σ ln x < 0, which cannot overflow.
pub fn detx(evals: &[f64], plain_product: bool) -> DetX {
    let n = evals.len();
    let empty = DetX {
        detx_num: 0,
        detx_val: f64::NAN,
        detx_val_rescaled: f64::NAN,
        reached: false,
    };
    let (Some(&first), Some(&last)) = (evals.first(), evals.last()) else {
        return empty;
    };
    let w_scale = (n as f64).sqrt() / np_sum(evals).sqrt();
    let x: Vec<f64> = evals.iter().map(|&v| (w_scale * w_scale) * v).collect();
    let at = |idx: usize, num: usize, reached: bool| DetX {
        detx_num: num,
        detx_val: x.get(idx).map_or(f64::NAN, |v| v / (w_scale * w_scale)),
        detx_val_rescaled: x.get(idx).copied().unwrap_or(f64::NAN),
        reached,
    };
    if n < 2 || first.partial_cmp(&last) != Some(std::cmp::Ordering::Less) {
        return at(0, 0, false);
    }
    let mut log_sum = 0.0;
    for idx in (1..n).rev() {
        let below = if plain_product {
            // np.prod(x[idx:]): sequential left to right.
            x[idx..].iter().fold(1.0, |p, &v| p * v) < 1.0
        } else {
            log_sum += x[idx].ln();
            log_sum < 0.0
        };
        if below {
            return at(idx, n - idx, true);
        }
    }
    at(1, n, false)
}

#[cfg(test)]
#[path = "detx_tests.rs"]
mod tests;
