use super::*;

#[test]
fn shapes_are_checked() {
    let l = Limits::default();
    assert_eq!(shape_of(&[2, 3], &l).unwrap(), (vec![2, 3], 6));
    assert_eq!(shape_of(&[], &l).unwrap(), (vec![], 1));
    assert!(shape_of(&[-1], &l).is_err());
    assert!(shape_of(&[1 << 31, 2], &l).is_err());
    assert!(shape_of(&[i64::MAX, i64::MAX], &l).is_err());
}

#[test]
fn raw_decoding_is_little_endian_and_exact() {
    let b = [0x00, 0x3c, 0x00, 0xc0]; // f16 1.0, -2.0
    assert_eq!(decode_raw(id::FLOAT16, &b, 2).unwrap(), vec![1.0, -2.0]);
    let b = [0x80, 0x3f]; // bf16 1.0
    assert_eq!(decode_raw(id::BFLOAT16, &b, 1).unwrap(), vec![1.0]);
    assert_eq!(
        decode_raw(id::INT8, &[0xff, 0x01], 2).unwrap(),
        vec![-1.0, 1.0]
    );
    assert!(decode_raw(id::FLOAT, &[0; 7], 2).is_err());
    assert!(matches!(
        decode_raw(8, &[0], 1),
        Err(TensorError::Unsupported(_))
    ));
}
