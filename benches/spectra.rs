//! Eigensolver stages on one matrix, under criterion. Throughput is reported in flops, so
//! criterion's "elem/s" reads as FLOP/s:
//! - `gram_*`: the lower-triangle Gram product, N·M² flops (f64 exact path, f32 opt-in path);
//! - `to_band`, `chase`, `eig_two_stage`: the two stages of the default solver for wide Gram
//!   matrices and the whole solver, counted as 4/3·M³ (stage one's flops; stage two is O(M²·b));
//! - `eig_one_stage`: faer's one-stage solver (narrow matrices), same flop count for comparison;
//! - `svd_f64`: the reference SVD path, counted as the Gram's flops.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use faer::{Mat, Par};
use tailwatch::options::Eigensolver;
use tailwatch::spectra::two_stage::{self, BAND, chase, to_band};
use tailwatch::spectra::{self, MatrixRef, cost};

mod common;

const GRAM_SHAPES: [(usize, usize); 3] = [(2048, 512), (4096, 1024), (8192, 2048)];
const EIG_SIZES: [usize; 3] = [1024, 2048, 4096];

fn gram(c: &mut Criterion) {
    let mut g = c.benchmark_group("gram");
    g.sample_size(10);
    for (n, m) in GRAM_SHAPES {
        let a = common::heavy_matrix(n, m, 1);
        let mat = MatrixRef::new(n, m, &a).expect("shape");
        let id = format!("{n}x{m}");
        g.throughput(Throughput::Elements(cost::gram_flops(n, m, 1) as u64));
        g.bench_with_input(BenchmarkId::new("f64_1thread", &id), &mat, |b, x| {
            b.iter(|| spectra::gram_par(x, Par::Seq))
        });
        g.bench_with_input(BenchmarkId::new("f64_all_threads", &id), &mat, |b, x| {
            b.iter(|| spectra::gram_par(x, Par::rayon(0)))
        });
        g.bench_with_input(BenchmarkId::new("f32_all_threads", &id), &mat, |b, x| {
            b.iter(|| spectra::gram32_lower(x, Par::rayon(0)))
        });
        if m <= 512 {
            g.bench_with_input(BenchmarkId::new("svd_f64", &id), &mat, |b, x| {
                b.iter(|| spectra::singular_values(x, Eigensolver::Svd))
            });
        }
    }
    g.finish();
}

/// The Gram matrix of a heavy-tailed 2m × m layer: the input the eigensolvers see.
fn gram_of(m: usize) -> Mat<f64> {
    let a = common::heavy_matrix(2 * m, m, m as u64);
    spectra::gram_par(&MatrixRef::new(2 * m, m, &a).expect("shape"), Par::rayon(0))
}

fn eigensolvers(c: &mut Criterion) {
    let mut g = c.benchmark_group("eig");
    g.sample_size(10);
    for m in EIG_SIZES {
        let gram = gram_of(m);
        let id = m.to_string();
        g.throughput(Throughput::Elements(cost::tridiagonal_flops(m) as u64));
        g.bench_with_input(BenchmarkId::new("to_band_1thread", &id), &gram, |b, x| {
            b.iter_batched_ref(
                || x.clone(),
                |w| to_band::reduce(w.as_mut(), BAND, Par::Seq),
                criterion::BatchSize::LargeInput,
            )
        });
        g.bench_with_input(
            BenchmarkId::new("to_band_all_threads", &id),
            &gram,
            |b, x| {
                b.iter_batched_ref(
                    || x.clone(),
                    |w| to_band::reduce(w.as_mut(), BAND, Par::rayon(0)),
                    criterion::BatchSize::LargeInput,
                )
            },
        );
        let mut banded = gram.clone();
        to_band::reduce(banded.as_mut(), BAND, Par::rayon(0));
        g.bench_with_input(BenchmarkId::new("chase", &id), &banded, |b, x| {
            b.iter(|| chase::Band::from_lower(x.as_ref(), BAND).tridiagonalize())
        });
        g.bench_with_input(
            BenchmarkId::new("two_stage_all_threads", &id),
            &gram,
            |b, x| b.iter(|| two_stage::eigenvalues(x.clone(), Par::rayon(0))),
        );
        if m <= 2048 {
            g.bench_with_input(BenchmarkId::new("one_stage_1thread", &id), &gram, |b, x| {
                b.iter(|| spectra::symmetric_eigen_par(x.as_ref(), None, Par::Seq))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, gram, eigensolvers);
criterion_main!(benches);
