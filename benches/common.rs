//! Shared bench inputs: deterministic heavy-tailed matrices (no RNG crate needed).

/// A rows×cols row-major matrix of i.i.d. symmetric Pareto(3) entries, from `seed`.
pub fn heavy_matrix(rows: usize, cols: usize, seed: u64) -> Vec<f64> {
    let mut x = seed;
    let mut uniform = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let scale = 1.0 / (rows.max(cols) as f64).sqrt();
    (0..rows * cols)
        .map(|_| {
            let sign = if uniform() < 0.5 { -1.0 } else { 1.0 };
            sign * (uniform().powf(-1.0 / 3.0) - 1.0) * scale
        })
        .collect()
}
