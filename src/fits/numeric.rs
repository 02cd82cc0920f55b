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
#[path = "numeric_tests.rs"]
mod tests;
