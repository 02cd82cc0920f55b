//! Eigensolver stages on one matrix: the Gram product (f64, f32), the symmetric eigensolver, and
//! the reference SVD. Throughput is reported in flops, so criterion's "elem/s" reads as FLOP/s
//! (Gram: 2·N·M² for the full product, of which the lower triangle is half; eigensolver: the
//! 4/3·M³ of the tridiagonal reduction).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use faer::Par;
use tailwatch::options::Eigensolver;
use tailwatch::spectra::{self, MatrixRef, cost};

mod common;

const SHAPES: [(usize, usize); 3] = [(1024, 256), (2048, 512), (4096, 1024)];

fn stages(c: &mut Criterion) {
    let mut g = c.benchmark_group("spectra");
    g.sample_size(10);
    for (n, m) in SHAPES {
        let a = common::heavy_matrix(n, m, 1);
        let mat = MatrixRef::new(n, m, &a).expect("shape");
        let id = format!("{n}x{m}");
        g.throughput(Throughput::Elements(cost::gram_flops(n, m, 1) as u64));
        g.bench_with_input(BenchmarkId::new("gram_f64", &id), &mat, |b, x| {
            b.iter(|| spectra::gram_par(x, Par::Seq))
        });
        g.bench_with_input(BenchmarkId::new("gram_f32", &id), &mat, |b, x| {
            b.iter(|| spectra::gram32_lower(x, Par::Seq))
        });
        g.bench_with_input(BenchmarkId::new("gram_f64_par", &id), &mat, |b, x| {
            b.iter(|| spectra::gram_par(x, Par::rayon(0)))
        });
        let gram = spectra::gram_par(&mat, Par::Seq);
        g.throughput(Throughput::Elements(cost::tridiagonal_flops(m) as u64));
        g.bench_with_input(BenchmarkId::new("eigh_f64", &id), &gram, |b, x| {
            b.iter(|| spectra::symmetric_eigen_par(x.as_ref(), None, Par::Seq))
        });
        g.bench_with_input(BenchmarkId::new("eigh_f64_par", &id), &gram, |b, x| {
            b.iter(|| spectra::symmetric_eigen_par(x.as_ref(), None, Par::rayon(0)))
        });
        if m <= 512 {
            g.throughput(Throughput::Elements(cost::gram_flops(n, m, 1) as u64));
            g.bench_with_input(BenchmarkId::new("svd_f64", &id), &mat, |b, x| {
                b.iter(|| spectra::singular_values(x, Eigensolver::Svd))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
