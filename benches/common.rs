//! Shared bench inputs: deterministic heavy-tailed matrices from the test kit's seeded generator.

/// A rows×cols row-major matrix of i.i.d. symmetric Pareto(3) entries, from `seed`.
pub fn heavy_matrix(rows: usize, cols: usize, seed: u64) -> Vec<f64> {
    let mut rng = tailwatch_testkit::TestRng::new(seed);
    let scale = 1.0 / (rows.max(cols) as f64).sqrt();
    (0..rows * cols)
        .map(|_| rng.symmetric_pareto(3.0, scale))
        .collect()
}
