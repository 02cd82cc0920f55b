//! detX / ERG tail size (`detX: true`, methods.md §11): the smallest tail of the rescaled ESD
//! whose product drops below 1 (the SETOL det X̃ = 1 condition).

use serde::Serialize;

use super::numeric::np_sum;

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
mod tests {
    use super::*;

    #[test]
    fn simple_tail() {
        // x = λ·4/Σλ = [0.4, 0.8, 1.2, 1.6]: 1.6 > 1, 1.2·1.6 > 1, 0.8·1.2·1.6 = 1.536, then
        // 0.4·… = 0.6144 < 1 → never below before idx 0, so Q9: n = 4 with idx 1.
        let d = detx(&[1.0, 2.0, 3.0, 4.0], false);
        assert_eq!((d.detx_num, d.reached), (4, false));
        assert!((d.detx_val - 2.0).abs() < 1e-15);
        // x = λ·4/8 = [0.05, 0.1, 0.85, 3.0]: 3.0 ≥ 1, then 0.85·3.0 = 2.55, then
        // 0.1·0.85·3.0 = 0.255 < 1 → idx 1, a 3-value tail.
        for plain in [false, true] {
            let d = detx(&[0.1, 0.2, 1.7, 6.0], plain);
            assert_eq!((d.detx_num, d.reached), (3, true));
            assert!((d.detx_val - 0.2).abs() < 1e-15);
            assert!((d.detx_val_rescaled - 0.1).abs() < 1e-15);
        }
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(detx(&[], false).detx_num, 0);
        assert_eq!(detx(&[1.0], false).detx_num, 0);
        assert_eq!(detx(&[2.0; 5], true).detx_num, 0);
        let _ = detx(&[f64::NAN, 1.0], false);
    }
}
