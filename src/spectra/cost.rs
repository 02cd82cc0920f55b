//! Work estimates that decide how a layer is scheduled, and the flop counts the benches report.
//!
//! A layer is *big* when its Gram product alone is worth parallelising inside the matrix: big
//! layers form their Gram products one at a time with all threads (so two of them never hold
//! their weights at once), the rest run side by side over rayon with sequential faer inside
//! (`analysis`). The choice depends only on the layer's shape, never on the thread count, and
//! both paths give the same numbers.

/// Flops above which a layer is big: ≈ 0.25 s of f64 GEMM on one core at ~50 GFLOP/s. A
/// 4096×4096 dense layer (4096³ + 4/3·4096³ ≈ 1.6e11 flops) is big; VGG's 3×3 convs up to
/// 512×512×9 (≈ 2.8e9) and a 4096×1000 head (≈ 5.4e9) are not.
pub const BIG_LAYER_FLOPS: f64 = 1.2e10;

/// Flops of the lower-triangle Gram product of `slices` matrices of `rows`×`cols`: N·M², half
/// of the full product's 2·N·M².
pub fn gram_flops(rows: usize, cols: usize, slices: usize) -> f64 {
    let (n, m) = (rows.max(cols) as f64, rows.min(cols) as f64);
    n * m * m * slices as f64
}

/// Flops of the symmetric eigensolver's reduction of an m×m matrix: 4/3·m³, the dominant part
/// of the eigenvalue-only path (one-stage tridiagonal reduction, or the two-stage solver's
/// dense-to-band stage with lower-triangle updates).
pub fn tridiagonal_flops(m: usize) -> f64 {
    let m = m as f64;
    4.0 / 3.0 * m * m * m
}

/// Whether a layer of `slices` matrices of `rows`×`cols` runs alone with all threads.
pub fn is_big(rows: usize, cols: usize, slices: usize) -> bool {
    gram_flops(rows, cols, slices) + tridiagonal_flops(rows.min(cols)) * slices as f64
        >= BIG_LAYER_FLOPS
}

#[cfg(test)]
#[path = "cost_tests.rs"]
mod tests;
