use super::*;

#[test]
fn clipping() {
    let unit = (0.0, 1.0);
    // A diagonal through the box is cut at its edges.
    let (a, b) = clip_segment((-1.0, -1.0), (2.0, 2.0), unit, unit).unwrap();
    assert_eq!((a, b), ((0.0, 0.0), (1.0, 1.0)));
    // A steep line leaves through the top: y = 4x − 1 meets y = 1 at x = 0.5.
    let (a, b) = clip_segment((0.0, -1.0), (1.0, 3.0), unit, unit).unwrap();
    assert_eq!((a, b), ((0.25, 0.0), (0.5, 1.0)));
    assert!(clip_segment((0.0, 2.0), (1.0, 3.0), unit, unit).is_none());
    assert!(clip_segment((0.0, 2.0), (1.0, 2.0), unit, unit).is_none());
}

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
    let hist = Histogram::log_binned(&logs, finite_range(logs.iter().copied()).unwrap());
    let mass: f64 = hist
        .bars()
        .map(|b| 10f64.powf(b.log_density) * (10f64.powf(b.hi) - 10f64.powf(b.lo)))
        .sum();
    assert!((mass - 1.0).abs() < 1e-12);
    assert_eq!(hist.counts.iter().sum::<usize>(), 400);
    assert_eq!(hist.counts.len(), 40);
}

#[test]
fn power_law_tail_is_normalised_to_its_share() {
    // Half the eigenvalues at or above xmin = 2, α = 3: p(2) = 0.5·2/2 = 0.5.
    let logs: Vec<f64> = [1.0f64, 1.5, 2.0, 4.0].iter().map(|v| v.log10()).collect();
    let hist = Histogram::log_binned(&logs, (0.0, 4f64.log10()));
    let t = PowerLawTail::new(Some(2.0), Some(3.0), &logs, &hist).unwrap();
    assert!((t.log_density(2f64.log10()) - 0.5f64.log10()).abs() < 1e-12);
    // Slope −α on log-log axes.
    assert!((t.log_density(1.0) - t.log_density(0.0) + 3.0).abs() < 1e-12);
}
