use super::*;

#[test]
fn pairwise_matches_exact_sums_and_block_structure() {
    let v: Vec<f64> = (1..=1000).map(|i| i as f64).collect();
    assert_eq!(np_sum(&v), 500500.0);
    assert_eq!(np_sum(&[]), 0.0);
    // numpy: np.sum(np.full(10, 0.1)) == 1.0 (pairwise), while sequential gives 0.9999999999999999.
    assert_eq!(np_sum(&[0.1; 10]), 1.0);
    assert_eq!(seq_sum([0.1; 10]), 0.9999999999999999);
}

#[test]
fn pairwise_matches_numpy_bits() {
    // a = [((i*7919) % 1000)/997 + 1/(i+1) for i in range(1000)], values from numpy 2.4.
    let a: Vec<f64> = (0..1000)
        .map(|i| ((i * 7919) % 1000) as f64 / 997.0 + 1.0 / (i + 1) as f64)
        .collect();
    assert_eq!(np_sum(&a), 508.48847988763157);
    assert_eq!(np_sum(&a[..77]), 43.03582551320168);
    assert_eq!(np_sum(&a[..300]), 156.88446929654822);
    assert_eq!(seq_sum(a.iter().copied()), 508.4884798876314);
}

#[test]
fn suffix_sums_are_accurate() {
    let v = [1e16, 1.0, -1e16, 3.0];
    let s = suffix_sums(&v);
    assert_eq!(s, vec![4.0, -1e16 + 4.0, -1e16 + 3.0, 3.0]);
}
