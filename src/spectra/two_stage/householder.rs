//! Elementary reflectors H = I − τ·v·vᵀ with v₀ = 1, the building block of both stages.

/// Turns `x` (length ≥ 1) into a reflector that maps it to (β, 0, …, 0): on return `x[0]` = β,
/// `x[1..]` holds v[1..] (v₀ = 1 is implicit), and τ is returned. τ = 0 (H = I) when `x[1..]` is
/// already zero, as LAPACK's dlarfg does.
pub fn generate(x: &mut [f64]) -> f64 {
    let Some((alpha, tail)) = x.split_first_mut() else {
        return 0.0;
    };
    let tail_sq: f64 = tail.iter().map(|t| t * t).sum();
    if tail_sq == 0.0 {
        return 0.0;
    }
    let a = *alpha;
    // Sign chosen against α so that α − β never cancels.
    let beta = -a.signum() * a.hypot(tail_sq.sqrt());
    let tau = (beta - a) / beta;
    let scale = 1.0 / (a - beta);
    tail.iter_mut().for_each(|t| *t *= scale);
    *alpha = beta;
    tau
}

/// vᵀ·x over the common length, in eight interleaved partial sums: a single running sum waits
/// on every addition (≈ 4 cycles an element). The summation order is fixed, so results stay
/// deterministic.
#[inline]
pub fn dot(v: &[f64], x: &[f64]) -> f64 {
    let n = v.len().min(x.len());
    let (vc, vr) = v[..n].as_chunks::<8>();
    let (xc, xr) = x[..n].as_chunks::<8>();
    let mut acc = [0.0f64; 8];
    for (a, b) in vc.iter().zip(xc) {
        for k in 0..8 {
            acc[k] += a[k] * b[k];
        }
    }
    let tail: f64 = vr.iter().zip(xr).map(|(a, b)| a * b).sum();
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// x ← x − s·v.
#[inline]
pub fn axpy(x: &mut [f64], s: f64, v: &[f64]) {
    x.iter_mut().zip(v).for_each(|(a, b)| *a -= s * b);
}
