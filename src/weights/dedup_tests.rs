use super::*;

#[test]
fn equal_payloads_tie_and_the_probe_never_decides_alone() {
    let n = 3 * PROBE_BYTES;
    let a: Vec<u8> = (0..n).map(|i| (i % 253) as u8).collect();
    // Same ends as `a` (same probe), different middle.
    let mut b = a.clone();
    b[n / 2] ^= 1;
    let a2 = a.clone();
    let mut r = Registry::default();
    let ca = Content::new(1, &[n / 4], Bytes::plain(&a)).unwrap();
    assert_eq!(r.find(&ca), None);
    r.insert(ca, 0);
    let cb = Content::new(1, &[n / 4], Bytes::plain(&b)).unwrap();
    assert_eq!(
        cb.probe,
        Content::new(1, &[n / 4], Bytes::plain(&a)).unwrap().probe
    );
    assert_eq!(r.find(&cb), None, "same probe, different content");
    r.insert(cb, 1);
    let ca2 = Content::new(1, &[n / 4], Bytes::plain(&a2)).unwrap();
    assert_eq!(r.find(&ca2), Some(0));
    let b2 = b.clone();
    assert_eq!(
        r.find(&Content::new(1, &[n / 4], Bytes::plain(&b2)).unwrap()),
        Some(1)
    );
    // Same bytes under another dtype or shape are different weights.
    assert_eq!(
        r.find(&Content::new(2, &[n / 4], Bytes::plain(&a2)).unwrap()),
        None
    );
    assert_eq!(
        r.find(&Content::new(1, &[n / 8, 2], Bytes::plain(&a2)).unwrap()),
        None
    );
    assert!(Content::new(1, &[0], Bytes::plain(&[])).is_none());
}

#[test]
fn the_full_hash_is_the_hash_of_dtype_shape_and_payload() {
    let payload = [1u8, 2, 3, 4, 5, 6, 7, 8];
    let c = Content::new(1, &[2], Bytes::plain(&payload)).unwrap();
    let mut h = Sha256::new();
    h.update(1i32.to_le_bytes());
    h.update(2u64.to_le_bytes());
    h.update(payload);
    let want: [u8; 32] = h.finalize().into();
    assert_eq!(c.full(), want);
}
