use super::*;

#[test]
fn simple_tail() {
    // x = λ·4/Σλ = [0.4, 0.8, 1.2, 1.6]: 1.6 > 1, 1.2·1.6 > 1, 0.8·1.2·1.6 = 1.536, then
    // 0.4·… = 0.6144 < 1 → never below before idx 0, so Q9: n = 4 with idx 1.
    let d = detx(&[1.0, 2.0, 3.0, 4.0], false);
    assert_eq!((d.detx_num, d.reached), (4, false));
    assert!((d.detx_val - 2.0).abs() < 1e-15);
    // x = λ·4/8 = [0.05, 0.1, 0.85, 3.0]: 3.0 ≥ 1, then 0.85·3.0 = 2.55, then
    // 0.1·0.85·3.0 = 0.255 < 1 → idx 1, a 3-value tail.
    for plain in [false, true] {
        let d = detx(&[0.1, 0.2, 1.7, 6.0], plain);
        assert_eq!((d.detx_num, d.reached), (3, true));
        assert!((d.detx_val - 0.2).abs() < 1e-15);
        assert!((d.detx_val_rescaled - 0.1).abs() < 1e-15);
    }
}

#[test]
fn degenerate_inputs() {
    assert_eq!(detx(&[], false).detx_num, 0);
    assert_eq!(detx(&[1.0], false).detx_num, 0);
    assert_eq!(detx(&[2.0; 5], true).detx_num, 0);
    // NaN fails the x_0 < x_{n−1} test of methods.md §11: no tail, and no panic.
    assert_eq!(detx(&[f64::NAN, 1.0], false).detx_num, 0);
}
