use super::*;

#[test]
fn too_few_unique_values_fail() {
    assert!(fit(&[], None, None).is_err());
    assert!(fit(&[1.0], None, None).is_err());
    assert!(fit(&[2.0, 2.0, 2.0], None, None).is_err());
}

#[test]
fn two_values_give_a_valid_fit() {
    let f = fit(&[1.0, 2.0], None, None).unwrap();
    assert_eq!(f.xmin, 1.0);
    assert!(f.alpha > 1.0);
}
