use super::*;

#[test]
fn shuffle_is_a_deterministic_permutation() {
    let key = StreamKey {
        seed: 0,
        layer_id: 3,
        slice_id: 0,
        replica: 0,
    };
    let orig: Vec<f64> = (0..50).map(f64::from).collect();
    let mut a = orig.clone();
    let mut b = orig.clone();
    shuffle(&mut a, &mut stream(key));
    shuffle(&mut b, &mut stream(key));
    assert_eq!(a, b);
    assert_ne!(a, orig);
    let mut sorted = a.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(sorted, orig);
    let mut c = orig.clone();
    shuffle(&mut c, &mut stream(StreamKey { replica: 1, ..key }));
    assert_ne!(a, c);
}

#[test]
fn bounded_draws_are_uniform() {
    let mut rng = stream(StreamKey {
        seed: 9,
        layer_id: 0,
        slice_id: 0,
        replica: 0,
    });
    let mut counts = [0usize; 6];
    for _ in 0..60000 {
        counts[bounded(&mut rng, 6) as usize] += 1;
    }
    // 10000 expected per face; 5 sigma is about 456.
    assert!(
        counts.iter().all(|&c| (9500..10500).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn a_single_column_is_unchanged_by_shuffling() {
    // A depthwise slice is one column: one singular value, the norm, whatever the order.
    let data: Vec<f64> = (1..=64).map(|i| (i as f64).sin()).collect();
    let m = MatrixRef::new(64, 1, &data).unwrap();
    let evals = spectra::row_spectrum(&[m], 1.0, Eigensolver::Svd)
        .unwrap()
        .evals;
    let key = StreamKey {
        seed: 0,
        layer_id: 0,
        slice_id: 0,
        replica: 0,
    };
    let r = randomize(&[m], 1.0, &evals, key, replicas(1), Eigensolver::Svd).unwrap();
    assert_eq!(r.rand_evals.len(), 5);
    assert!(r.rand_distance < 1e-6);
    assert!((r.ww_softrank - 1.0).abs() < 1e-12);
    assert!(r.ww_maxdist.abs() < 1e-12);
}
