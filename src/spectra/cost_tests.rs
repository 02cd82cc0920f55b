use super::*;

#[test]
fn vgg_shapes_split_as_documented() {
    // fc6 25088×4096 and fc7 4096×4096 are big; the 1000-class head and 3×3 convs are not.
    assert!(is_big(25088, 4096, 1));
    assert!(is_big(4096, 4096, 1));
    assert!(!is_big(4096, 1000, 1));
    assert!(!is_big(512, 512, 9));
    assert!(!is_big(64, 3, 9));
    assert_eq!(gram_flops(3, 2, 1), 12.0);
    assert_eq!(gram_flops(2, 3, 2), 24.0);
}
