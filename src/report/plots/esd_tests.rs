use super::*;

#[test]
fn mp_density_from_edges() {
    // σ = 1, Q = 2: λ± = (1 ± 1/√2)².
    let s = 0.5f64.sqrt();
    let mp = MpDensity::from_edges((1.0 - s).powi(2), (1.0 + s).powi(2)).unwrap();
    assert!((mp.q - 2.0).abs() < 1e-12 && (mp.sigma - 1.0).abs() < 1e-12);
    // It is a density: the midpoint rule over the bulk integrates to 1.
    let n = 200_000;
    let h = (mp.hi - mp.lo) / n as f64;
    let total: f64 = (0..n)
        .map(|i| mp.density(mp.lo + h * (i as f64 + 0.5)) * h)
        .sum();
    assert!((total - 1.0).abs() < 1e-4, "{total}");
    assert!(MpDensity::from_edges(2.0, 1.0).is_none());
    assert!(MpDensity::from_edges(-1.0, 1.0).is_none());
    assert_eq!(
        MpDensity::from_edges(0.0, 4.0).map(|m| m.edges_log10().len()),
        Some(1)
    );
}

#[test]
fn histogram_density_integrates_to_one() {
    let logs: Vec<f64> = (1..=400).map(|i| (f64::from(i) / 40.0).log10()).collect();
    let hist = Histogram::log_binned(&logs, finite_range(logs.iter().copied()).unwrap(), 40);
    let mass: f64 = hist
        .bars()
        .map(|b| 10f64.powf(b.log_density) * (10f64.powf(b.hi) - 10f64.powf(b.lo)))
        .sum();
    assert!((mass - 1.0).abs() < 1e-12);
    assert_eq!(hist.counts.iter().sum::<usize>(), 400);
    assert_eq!(hist.counts.len(), 40);
    // Linear bins: the same mass, and values past the axis count in the total only.
    let vals: Vec<f64> = (1..=400).map(|i| f64::from(i) / 40.0).collect();
    let lin = Histogram::linear(&vals, 5.0, 20);
    let mass: f64 = lin.bars().map(|b| b.density * (b.hi - b.lo)).sum();
    assert!((mass - 0.5).abs() < 1e-12, "{mass}");
}

#[test]
fn rebinned_overlay_shares_the_bins() {
    let logs: Vec<f64> = (1..=100).map(|i| (f64::from(i)).log10()).collect();
    let hist = Histogram::log_binned(&logs, (0.0, 2.0), 10);
    let other: Vec<f64> = vec![1.0, 10.0, 1000.0, f64::NAN, -1.0];
    let r = hist.rebinned(&other);
    assert_eq!(r.edges, hist.edges);
    // Two of the three positive finite values fall in range; the total counts all three.
    assert_eq!(r.counts.iter().sum::<usize>(), 2);
    assert_eq!(r.total, 3);
}

#[test]
fn power_law_tail_is_normalised_to_its_share() {
    // Half the eigenvalues at or above xmin = 2, α = 3: p(2) = 0.5·2/2 = 0.5.
    let logs: Vec<f64> = [1.0f64, 1.5, 2.0, 4.0].iter().map(|v| v.log10()).collect();
    let hist = Histogram::log_binned(&logs, (0.0, 4f64.log10()), 10);
    let fit = TailFit {
        xmin: 2.0,
        alpha: 3.0,
        lambda: None,
    };
    let t = TailCurve::new(fit, &logs, &hist).unwrap();
    assert!((t.log_density(2f64.log10()) - 0.5f64.log10()).abs() < 1e-12);
    // Slope −α on log-log axes.
    assert!((t.log_density(1.0) - t.log_density(0.0) + 3.0).abs() < 1e-12);
}

#[test]
fn truncated_power_law_is_normalised_and_bends_down() {
    // The TPL integral against the closed form for α = 0 (∫ e^−Λλ = e^−Λ·xmin / Λ) and α = 2,
    // Λ → 0 (→ 1/xmin).
    let z = tpl_integral(1.0, 0.0, 0.5).unwrap();
    assert!((z - (-0.5f64).exp() / 0.5).abs() < 1e-9, "{z}");
    let z = tpl_integral(2.0, 2.0, 1e-9).unwrap();
    assert!((z - 0.5).abs() < 1e-6, "{z}");
    // Drawn: the density at xmin is share·xmin^−α·e^−Λxmin / Z, and the curve falls below the
    // pure power law of the same α further out.
    let logs: Vec<f64> = [1.0f64, 2.0, 3.0, 4.0].iter().map(|v| v.log10()).collect();
    let hist = Histogram::log_binned(&logs, (0.0, 4f64.log10()), 10);
    let fit = TailFit {
        xmin: 1.0,
        alpha: 2.0,
        lambda: Some(0.5),
    };
    let t = TailCurve::new(fit, &logs, &hist).unwrap();
    let z = tpl_integral(1.0, 2.0, 0.5).unwrap();
    assert!((t.log_density(0.0) - ((-0.5f64).exp() / z).log10()).abs() < 1e-12);
    let pl = TailCurve::new(
        TailFit {
            lambda: None,
            ..fit
        },
        &logs,
        &hist,
    )
    .unwrap();
    let drop = |c: &TailCurve| c.log_density(0.0) - c.log_density(1.0);
    assert!(drop(&t) > drop(&pl) + 1.0);
}

#[test]
fn charts_draw_every_overlay_and_stay_small() {
    // 2000 eigenvalues: the size depends on the bins, not on the eigenvalues.
    let evals: Vec<f64> = (1..=2000).map(|i| (f64::from(i) / 200.0).powi(2)).collect();
    let random: Vec<f64> = evals.iter().map(|v| v * 0.5).collect();
    let base: Vec<f64> = evals.iter().map(|v| v * 1.1).collect();
    let c = EsdChart {
        tail: Some(TailFit {
            xmin: 10.0,
            alpha: 2.5,
            lambda: None,
        }),
        mp_bulk: Some((0.5, 20.0)),
        randomized: Some(&random),
        baseline: Some(&base),
        max_bins: 40,
        ..EsdChart::new("layer", &evals)
    };
    for svg in [esd_loglog(&c), esd_linear(&c)] {
        for label in ["ESD", "randomized ESD", "baseline ESD", "MP density"] {
            assert!(svg.contains(&format!(">{label}</text>")), "{label} missing");
        }
        assert!(svg.len() < 14_000, "{} bytes", svg.len());
    }
    let log = esd_loglog(&c);
    // The histogram and both overlays are drawn over the same (log) bins: three paths, each
    // with many steps.
    for svg in [&log, &esd_linear(&c)] {
        let paths: Vec<&str> = svg
            .split("<path d=\"")
            .skip(3) // what precedes the first path, the grid and the tick marks
            .map(|p| p.split('"').next().unwrap())
            .collect();
        assert_eq!(paths.len(), 3);
        assert!(
            paths.iter().all(|d| d.matches('H').count() >= 10),
            "{paths:?}"
        );
    }
    assert!(log.contains("power law, α = 2.50"));
    assert!(log.contains("xmin = 10.0"));
    // The linear panel ends at 2λ+ = 40 and counts what lies beyond.
    let lin = esd_linear(&c);
    let beyond = evals.iter().filter(|v| **v > 40.0).count();
    assert!(lin.contains(&format!("{beyond} beyond the axis")), "{lin}");
    // Identical input, identical bytes.
    assert_eq!(esd_loglog(&c), log);
}

#[test]
fn nothing_to_draw_says_so() {
    let c = EsdChart::new("empty", &[]);
    assert!(esd_loglog(&c).contains("no data"));
    assert!(esd_linear(&c).contains("no data"));
    let zeros = [0.0, 0.0];
    assert!(esd_loglog(&EsdChart::new("zeros", &zeros)).contains("no data"));
}
