use super::*;

#[test]
fn test_rng_is_seeded_and_draws_what_it_says() {
    let draws = |seed| {
        let mut r = TestRng::new(seed);
        (0..4).map(|_| r.next_u64()).collect::<Vec<_>>()
    };
    assert_eq!(draws(7), draws(7));
    assert_ne!(draws(7), draws(8));
    let mut r = TestRng::new(1);
    let n = 100_000;
    let u: Vec<f64> = (0..n).map(|_| r.uniform()).collect();
    assert!(u.iter().all(|v| *v > 0.0 && *v < 1.0));
    let mean = u.iter().sum::<f64>() / n as f64;
    assert!((mean - 0.5).abs() < 0.01, "{mean}");
    let z = r.normals(n);
    let m = z.iter().map(|v| f64::from(*v)).sum::<f64>() / n as f64;
    let var = z.iter().map(|v| (f64::from(*v) - m).powi(2)).sum::<f64>() / n as f64;
    assert!(m.abs() < 0.02 && (var - 1.0).abs() < 0.02, "{m} {var}");
    assert!((0..1000).all(|_| r.below(3) < 3) && r.below(0) == 0);
    // Symmetric Pareto(3): P(|x| > t) = (1 + t)^−3, so P(|x| > 1) = 1/8.
    let big = (0..n)
        .filter(|_| r.symmetric_pareto(3.0, 1.0).abs() > 1.0)
        .count();
    assert!((big as f64 / n as f64 - 0.125).abs() < 0.01, "{big}");
    assert!(noise(1000, 3).iter().all(|v| (-1.0..1.0).contains(v)));
}
