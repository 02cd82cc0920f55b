//! The power-law and Marchenko–Pastur fits on heavy-tailed spectra of typical layer sizes.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use tailwatch::fits;
use tailwatch::options::{AnalysisOptions, FixFingers, PlPackage, Preset};
use tailwatch::spectra::{self, MatrixRef};

mod common;

/// The eigenvalues of a heavy-tailed n×m matrix, ascending.
fn spectrum(n: usize, m: usize) -> Vec<f64> {
    let a = common::heavy_matrix(n, m, 7);
    let mat = MatrixRef::new(n, m, &a).expect("shape");
    spectra::row_spectrum(&[mat], 1.0, tailwatch::options::Eigensolver::Gram)
        .expect("spectrum")
        .evals
}

fn fit_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("fits");
    g.sample_size(10);
    let ww = Preset::Ww.options();
    let csn = AnalysisOptions {
        pl_package: PlPackage::Powerlaw,
        ..Preset::Ww.options()
    };
    let clip = AnalysisOptions {
        fix_fingers: Some(FixFingers::ClipXmax),
        ..Preset::Ww.options()
    };
    for (n, m) in [(1024, 256), (4096, 1024), (4096, 2048)] {
        let evals = spectrum(n, m);
        let id = format!("{n}x{m}");
        g.bench_with_input(BenchmarkId::new("pl_ww", &id), &evals, |b, e| {
            b.iter(|| fits::fit_power_law(e, &ww))
        });
        g.bench_with_input(BenchmarkId::new("pl_clip_xmax", &id), &evals, |b, e| {
            b.iter(|| fits::fit_power_law(e, &clip))
        });
        g.bench_with_input(BenchmarkId::new("pl_powerlaw", &id), &evals, |b, e| {
            b.iter(|| fits::fit_power_law(e, &csn))
        });
        g.bench_with_input(BenchmarkId::new("mp", &id), &evals, |b, e| {
            b.iter(|| fits::fit_mp(e, n, m))
        });
    }
    g.finish();
}

criterion_group!(benches, fit_benches);
criterion_main!(benches);
