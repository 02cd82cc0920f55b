//! Summation orders of the reference implementation, reproduced so results match to the last bit.

/// numpy's `np.sum` of a contiguous f64 array: pairwise summation with 8 accumulators and
/// blocks of 128 (numpy `pairwise_sum_DOUBLE`), started from the additive identity.
pub fn np_sum(a: &[f64]) -> f64 {
    0.0 + pairwise(a)
}

fn pairwise(a: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &v in a {
            res += v;
        }
        res
    } else if n <= BLOCK {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let full = n - n % 8;
        for chunk in a[8..full].chunks_exact(8) {
            for (acc, &v) in r.iter_mut().zip(chunk) {
                *acc += v;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[full..] {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2]) + pairwise(&a[n2..])
    }
}

/// Python's builtin `sum` over an array: left to right from the integer 0.
pub fn seq_sum(a: impl IntoIterator<Item = f64>) -> f64 {
    a.into_iter().fold(0.0, |acc, v| acc + v)
}

/// Suffix sums Σ_{j≥i} v_j accumulated from the end with Neumaier compensation, so that short
/// tails (where the KS scan is most sensitive) carry almost no rounding error.
pub fn suffix_sums(v: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; v.len()];
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for (o, &x) in out.iter_mut().zip(v).rev() {
        let t = s + x;
        c += if s.abs() >= x.abs() {
            (s - t) + x
        } else {
            (x - t) + s
        };
        s = t;
        *o = s + c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_matches_exact_sums_and_block_structure() {
        let v: Vec<f64> = (1..=1000).map(|i| i as f64).collect();
        assert_eq!(np_sum(&v), 500500.0);
        assert_eq!(np_sum(&[]), 0.0);
        // numpy: np.sum(np.full(10, 0.1)) == 1.0 (pairwise), while sequential gives 0.9999999999999999.
        assert_eq!(np_sum(&[0.1; 10]), 1.0);
        assert_eq!(seq_sum([0.1; 10]), 0.9999999999999999);
    }

    #[test]
    fn pairwise_matches_numpy_bits() {
        // a = [((i*7919) % 1000)/997 + 1/(i+1) for i in range(1000)], values from numpy 2.4.
        let a: Vec<f64> = (0..1000)
            .map(|i| ((i * 7919) % 1000) as f64 / 997.0 + 1.0 / (i + 1) as f64)
            .collect();
        assert_eq!(np_sum(&a), 508.48847988763157);
        assert_eq!(np_sum(&a[..77]), 43.03582551320168);
        assert_eq!(np_sum(&a[..300]), 156.88446929654822);
        assert_eq!(seq_sum(a.iter().copied()), 508.4884798876314);
    }

    #[test]
    fn suffix_sums_are_accurate() {
        let v = [1e16, 1.0, -1e16, 3.0];
        let s = suffix_sums(&v);
        assert_eq!(s, vec![4.0, -1e16 + 4.0, -1e16 + 3.0, 3.0]);
    }
}
