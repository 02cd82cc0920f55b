//! Scaling curve: time of the exact spectrum (f64 lower-triangle Gram + the production symmetric
//! eigensolver, `spectra::gram_eigenvalues`) for dense layers of growing size, against the flop
//! count. Prints one line per shape with the achieved GFLOP/s
//! of each stage (median of `TAILWATCH_BENCH_REPS` runs, default 3) and writes the curve as an
//! SVG to `$TAILWATCH_BENCH_SVG` when set.
//!
//! `cargo bench --bench scaling` (add `-- --quick` for shapes up to 1024 only).

use std::time::Instant;

use faer::Par;
use tailwatch::report::plots::{self, Series};
use tailwatch::spectra::{self, MatrixRef, cost};

mod common;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let reps: usize = std::env::var("TAILWATCH_BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let ms: &[usize] = if quick {
        &[128, 256, 512, 1024]
    } else {
        &[256, 512, 1024, 2048, 4096]
    };
    println!("threads: {}", rayon::current_num_threads());
    println!(
        "{:>6} {:>6} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "N", "M", "N·M²", "gram_s", "gram_GF", "eigh_s", "eigh_GF", "total_s"
    );
    let (mut gram_pts, mut eigh_pts, mut total_pts) = (vec![], vec![], vec![]);
    for &m in ms {
        let n = 2 * m;
        let a = common::heavy_matrix(n, m, m as u64);
        let mat = MatrixRef::new(n, m, &a).expect("shape");
        let (mut tg, mut te) = (vec![], vec![]);
        for _ in 0..reps {
            let t = Instant::now();
            let g = spectra::gram_par(&mat, Par::rayon(0));
            tg.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let e = spectra::gram_eigenvalues(g, Par::rayon(0));
            te.push(t.elapsed().as_secs_f64());
            assert!(e.is_ok(), "eigensolver failed at {n}x{m}");
        }
        let (gs, es) = (median(tg), median(te));
        let gram_gf = cost::gram_flops(n, m, 1) / gs / 1e9;
        let eigh_gf = cost::tridiagonal_flops(m) / es / 1e9;
        let work = (n * m * m) as f64;
        println!(
            "{n:>6} {m:>6} {work:>10.3e} {gs:>9.4} {gram_gf:>9.1} {es:>9.4} {eigh_gf:>9.1} {:>9.4}",
            gs + es
        );
        let x = work.log10();
        gram_pts.push((x, gs.log10()));
        eigh_pts.push((x, es.log10()));
        total_pts.push((x, (gs + es).log10()));
    }
    if let Ok(path) = std::env::var("TAILWATCH_BENCH_SVG") {
        let series = |label: &str, points| Series {
            label: label.into(),
            points,
            group: None,
        };
        let svg = plots::lines(
            "Exact spectrum of an N×M layer (N = 2M), f64, 2 threads",
            "log10 N·M²",
            "log10 seconds",
            &[
                series("total", total_pts),
                series("Gram (f64 GEMM)", gram_pts),
                series("eigensolver", eigh_pts),
            ],
        );
        std::fs::write(&path, svg).expect("write svg");
        println!("plot: {path}");
    }
}
