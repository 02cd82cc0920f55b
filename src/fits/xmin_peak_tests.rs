use super::*;

#[test]
fn peak_is_the_left_edge_of_the_fullest_log_bin() {
    // 10 values at 1.0, a few spread to 100: the fullest bin starts at log10 = 0.
    let mut x = vec![1.0; 10];
    x.extend([2.0, 5.0, 100.0]);
    assert_eq!(peak_value(&x), Some(1.0));
    assert_eq!(peak_value(&[]), None);
}
