use super::*;
use tailwatch_testkit::f32_raw;

#[test]
fn initializers_are_found_by_address_only() {
    let inits = vec![
        f32_raw("a", &[1], &[1.0]),
        f32_raw("b", &[1], &[2.0]),
        f32_raw("c", &[1], &[3.0]),
    ];
    for (i, t) in inits.iter().enumerate() {
        assert_eq!(index_of(&inits, t), Some(i));
    }
    // An equal tensor elsewhere is not one of them.
    let copy = inits[1].clone();
    assert_eq!(index_of(&inits, &copy), None);
    assert_eq!(index_of(&[], &copy), None);
}

#[test]
fn elided_payloads_are_served_from_the_backing() {
    let backing: Vec<u8> = (0..32).collect();
    let mut inits = vec![f32_raw("a", &[1], &[1.0]), f32_raw("b", &[2], &[0.0, 0.0])];
    // "a" keeps its own raw_data; "b" was elided to bytes 8..16.
    inits[1].raw_data.clear();
    let elided = Elided::new(Backing::Owned(backing), vec![Some(0..4), Some(8..16)]);
    let p = elided.payloads(&inits);
    assert_eq!(p.raw(&inits[0]).as_slice(), 1.0f32.to_le_bytes());
    assert_eq!(
        p.raw(&inits[1]).as_slice(),
        &(8..16).collect::<Vec<u8>>()[..]
    );
    // A tensor that is not a main-graph initializer and has no raw_data has none.
    let mut other = inits[1].clone();
    other.raw_data.clear();
    assert!(p.raw(&other).is_empty());
    // A range past the backing is not served.
    let bad = Elided::new(Backing::Owned(vec![0; 4]), vec![None, Some(2..9)]);
    assert!(bad.payloads(&inits).raw(&inits[1]).is_empty());
}

#[test]
fn released_pages_read_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.bin");
    let data: Vec<u8> = (0..3 * RELEASE_CHUNK + 123)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    std::fs::write(&path, &data).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    // SAFETY: a read-only map of a file this test owns.
    let map = unsafe { Mmap::map(&file) }.unwrap();
    let backing = Backing::Mapped(map);
    let all = backing.all();
    let mut seen = Vec::new();
    all.for_each_chunk(|c| {
        seen.extend_from_slice(c);
        true
    });
    assert_eq!(seen, data);
    // After release the bytes come back from the file.
    all.release(0..all.len());
    assert_eq!(all.as_slice(), &data[..]);
    // Stopping early visits one chunk only.
    let mut chunks = 0;
    all.for_each_chunk(|_| {
        chunks += 1;
        false
    });
    assert_eq!(chunks, 1);
    // Out-of-range and empty releases are ignored.
    all.release(0..all.len() + 1);
    all.release(5..5);
    assert_eq!(all.as_slice()[..16], data[..16]);
}
