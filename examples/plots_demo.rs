//! Writes the three report charts to SVG files for a visual check:
//! `cargo run --example plots_demo -- OUT_DIR` (default `plots-demo`).
//!
//! The scatter uses the VGG golden summaries and errors of methods.md §16.2; the other charts use
//! synthetic data generated here with a fixed seed.

use std::path::PathBuf;

use tailwatch::report::plots::{
    EsdChart, Series, TailFit, esd_loglog, fit_title, lines, scatter_with_fit,
};
use tailwatch::stats::correlate;

/// methods.md §16.2: model, α̂ (alpha_weighted), top-1 error.
const VGG: [(&str, f64, f64); 8] = [
    ("vgg11", 3.4186, 30.98),
    ("vgg11_bn", 3.2906, 29.62),
    ("vgg13", 3.3200, 30.07),
    ("vgg13_bn", 3.2044, 28.45),
    ("vgg16", 3.2379, 28.41),
    ("vgg16_bn", 3.0458, 26.63),
    ("vgg19", 3.0503, 27.62),
    ("vgg19_bn", 2.7739, 25.76),
];

fn main() -> std::io::Result<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "plots-demo".into()),
    );
    std::fs::create_dir_all(&out)?;

    let x: Vec<f64> = VGG.iter().map(|m| m.1).collect();
    let errors: Vec<f64> = VGG.iter().map(|m| m.2).collect();
    let c = correlate(&x, &errors);
    let points: Vec<(String, f64, f64)> = VGG
        .iter()
        .map(|(name, a, e)| (name.to_string(), *a, 100.0 - e))
        .collect();
    let line = c.slope.zip(c.intercept);
    let scatter = scatter_with_fit(
        &fit_title("alpha_weighted", &c),
        "alpha_weighted (α̂)",
        "top-1 accuracy (%)",
        &points,
        line,
    );
    std::fs::write(out.join("scatter.svg"), scatter)?;

    let mut rng = tailwatch_testkit::TestRng::new(0x9e37_79b9_7f4a_7c15);
    let series: Vec<Series> = VGG
        .iter()
        .enumerate()
        .map(|(m, (name, ..))| Series {
            label: name.to_string(),
            points: (0..8 + 2 * (m / 2))
                .map(|l| {
                    let depth = l as f64;
                    (
                        depth,
                        2.0 + 0.25 * depth + 0.1 * m as f64 + 0.6 * rng.uniform(),
                    )
                })
                .collect(),
            group: None,
        })
        .collect();
    let flow = lines("alpha per layer", "layer id", "alpha", &series);
    std::fs::write(out.join("lines.svg"), flow)?;

    // Marchenko–Pastur bulk (Q = 2, σ = 1) by rejection sampling, plus a Pareto tail
    // (α = 2.5 from xmin = 3).
    let (q, lo, hi) = (
        2.0f64,
        (1.0 - 0.5f64.sqrt()).powi(2),
        (1.0 + 0.5f64.sqrt()).powi(2),
    );
    let density = |l: f64| q / (2.0 * std::f64::consts::PI * l) * ((hi - l) * (l - lo)).sqrt();
    let mut evals = Vec::new();
    while evals.len() < 470 {
        let l = lo + (hi - lo) * rng.uniform();
        if rng.uniform() * 2.0 < density(l) {
            evals.push(l);
        }
    }
    for _ in 0..30 {
        evals.push(3.0 * rng.uniform().powf(-1.0 / 1.5));
    }
    let chart = EsdChart {
        tail: Some(TailFit {
            xmin: 3.0,
            alpha: 2.5,
            lambda: None,
        }),
        mp_bulk: Some((lo, hi)),
        ..EsdChart::new("layer 7 ESD", &evals)
    };
    let esd = esd_loglog(&chart);
    std::fs::write(out.join("esd.svg"), esd)?;
    println!("wrote scatter.svg, lines.svg, esd.svg to {}", out.display());
    Ok(())
}
