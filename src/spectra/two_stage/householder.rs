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

/// vᵀ·x over the reflector's span.
#[inline]
pub fn dot(v: &[f64], x: &[f64]) -> f64 {
    v.iter().zip(x).map(|(a, b)| a * b).sum()
}

/// x ← x − s·v.
#[inline]
pub fn axpy(x: &mut [f64], s: f64, v: &[f64]) {
    x.iter_mut().zip(v).for_each(|(a, b)| *a -= s * b);
}
