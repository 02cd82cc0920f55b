//! Randomized ESD (methods.md §10): the spectrum of element-shuffled copies of the row's matrices.
//!
//! A shuffled matrix keeps the element distribution but destroys correlations, so its ESD is the
//! "random" baseline a trained layer is compared with. WW uses numpy's unseeded global RNG (Q10);
//! tailwatch is deterministic across runs, platforms, thread counts and layer order: every
//! shuffle has its own ChaCha8 stream, keyed by (seed, layer_id, slice_id, replica).

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use serde::Serialize;

use crate::options::Eigensolver;
use crate::spectra::{self, MatrixRef, SpectrumError};

/// Version of the shuffle scheme, written into outputs so results stay interpretable.
pub const RNG_SCHEME: &str = "chacha8 (rand_chacha 0.10) / splitmix64 keys / lemire fisher-yates";

/// Which shuffle a stream belongs to.
#[derive(Clone, Copy, Debug)]
pub struct StreamKey {
    pub seed: u64,
    pub layer_id: usize,
    pub slice_id: usize,
    pub replica: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Randomized {
    /// Ascending eigenvalues of R shuffled copies of every matrix of the row.
    pub rand_evals: Vec<f64>,
    pub max_rand_eval: f64,
    pub rand_distance: f64,
    pub ww_softrank: f64,
    pub ww_maxdist: f64,
}

/// R = 5 replicas for small layers (n_comp < 100), else 1 (§10 step 2).
pub fn replicas(n_comp: usize) -> usize {
    if n_comp < 100 { 5 } else { 1 }
}

/// Shuffle every matrix of the row `replicas` times for the ESD, once more for the distance.
pub fn randomize(
    matrices: &[MatrixRef<'_>],
    scale_sq: f64,
    evals: &[f64],
    key: StreamKey,
    replicas: usize,
    solver: Eigensolver,
) -> Result<Randomized, SpectrumError> {
    let mut rand_evals = Vec::new();
    for r in 0..replicas {
        rand_evals.extend(shuffled_evals(
            matrices,
            scale_sq,
            StreamKey { replica: r, ..key },
            solver,
        )?);
    }
    rand_evals.sort_by(f64::total_cmp);
    let mut r = shuffled_evals(
        matrices,
        scale_sq,
        StreamKey {
            replica: replicas,
            ..key
        },
        solver,
    )?;
    r.sort_by(f64::total_cmp);
    let lmax = evals.last().copied().unwrap_or(0.0);
    let rmax = r.last().copied().unwrap_or(0.0);
    Ok(Randomized {
        max_rand_eval: rand_evals.last().copied().unwrap_or(0.0),
        rand_evals,
        rand_distance: jensen_shannon(evals, &r),
        ww_softrank: if lmax > 0.0 { rmax / lmax } else { f64::NAN },
        ww_maxdist: lmax - rmax,
    })
}

fn shuffled_evals(
    matrices: &[MatrixRef<'_>],
    scale_sq: f64,
    key: StreamKey,
    solver: Eigensolver,
) -> Result<Vec<f64>, SpectrumError> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for (i, a) in matrices.iter().enumerate() {
        // Each matrix of a pooled row gets its own stream; slice_id is offset by the matrix index.
        let mut rng = stream(StreamKey {
            slice_id: key.slice_id + i,
            ..key
        });
        buf.clear();
        buf.extend_from_slice(a.data);
        shuffle(&mut buf, &mut rng);
        let m = MatrixRef::new(a.rows, a.cols, &buf)?;
        let sv = spectra::singular_values(&m, solver)?;
        out.extend(sv.iter().map(|s| s * s * scale_sq));
    }
    Ok(out)
}

/// SplitMix64's finaliser: a bijective 64-bit mix (Steele, Lea & Flood 2014).
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The ChaCha8 stream of one shuffle: the key's fields are folded through SplitMix64, and four
/// further SplitMix64 outputs fill the 32-byte seed.
pub fn stream(key: StreamKey) -> ChaCha8Rng {
    let mut h = splitmix64(key.seed);
    for part in [key.layer_id as u64, key.slice_id as u64, key.replica as u64] {
        h = splitmix64(h ^ part);
    }
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_exact_mut(8) {
        h = splitmix64(h);
        chunk.copy_from_slice(&h.to_le_bytes());
    }
    ChaCha8Rng::from_seed(seed)
}

/// Unbiased uniform integer in [0, bound) by Lemire's multiply-and-reject (2019), implemented
/// here so results do not depend on a library's sampling algorithm.
fn bounded(rng: &mut impl Rng, bound: u64) -> u64 {
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let m = (rng.next_u64() as u128) * (bound as u128);
        if (m as u64) >= threshold {
            return (m >> 64) as u64;
        }
    }
}

/// Fisher–Yates from the last element down.
pub fn shuffle(v: &mut [f64], rng: &mut impl Rng) {
    for i in (1..v.len()).rev() {
        let j = bounded(rng, i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// sqrt of the Jensen–Shannon divergence between two sorted spectra compared element by element
/// as distributions (§10 step 4). Terms with a zero probability contribute 0.
pub(crate) fn jensen_shannon(lambda: &[f64], r: &[f64]) -> f64 {
    let sl: f64 = lambda.iter().sum();
    let sr: f64 = r.iter().sum();
    let sm = sl + sr;
    let kl = |a: f64, m: f64| if a > 0.0 { a * (a / m).ln() } else { 0.0 };
    let (mut kp, mut kq) = (0.0, 0.0);
    for (l, x) in lambda.iter().zip(r) {
        let (p, q, m) = (l / sl, x / sr, (l + x) / sm);
        kp += kl(p, m);
        kq += kl(q, m);
    }
    ((kp + kq) / 2.0).max(0.0).sqrt()
}

#[cfg(test)]
#[path = "randomize_tests.rs"]
mod tests;
