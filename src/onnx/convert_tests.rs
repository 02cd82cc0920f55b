use super::*;

/// The plain definition: out[b, j, i] = in[b, i, j].
fn transposed(v: &[f64], batch: usize, rows: usize, cols: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; v.len()];
    for b in 0..batch {
        for i in 0..rows {
            for j in 0..cols {
                out[(b * cols + j) * rows + i] = v[(b * rows + i) * cols + j];
            }
        }
    }
    out
}

fn values(n: usize) -> Vec<f32> {
    (0..n).map(|k| (k as f32 * 0.37).sin() * 3.0).collect()
}

#[test]
fn swapped_decoding_is_the_transpose_of_stored_decoding() {
    // Shapes around the block size, a batch, and degenerate sides.
    for (batch, rows, cols) in [
        (1, 3, 5),
        (1, 64, 7),
        (1, 130, 65),
        (3, 70, 2),
        (2, 1, 9),
        (1, 9, 1),
    ] {
        let n = batch * rows * cols;
        let raw: Vec<u8> = values(n).iter().flat_map(|x| x.to_le_bytes()).collect();
        let stored = decode(id::FLOAT, Bytes::plain(&raw), n, Order::Stored).unwrap();
        let swapped = decode(
            id::FLOAT,
            Bytes::plain(&raw),
            n,
            Order::SwapLast2 { rows, cols },
        )
        .unwrap();
        assert_eq!(
            swapped,
            transposed(&stored, batch, rows, cols),
            "{batch}×{rows}×{cols}"
        );
    }
}

#[test]
fn every_fixed_width_dtype_decodes_in_both_orders() {
    let (rows, cols) = (3, 2);
    let cases: Vec<(i32, Vec<u8>, Vec<f64>)> = vec![
        (
            id::INT8,
            vec![0xff, 1, 2, 0x80, 4, 5],
            vec![-1.0, 1.0, 2.0, -128.0, 4.0, 5.0],
        ),
        (
            id::UINT8,
            vec![0xff, 1, 2, 3, 4, 5],
            vec![255.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        ),
        (
            id::INT64,
            [-7i64, 1, 2, 3, 4, 1 << 40]
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect(),
            vec![-7.0, 1.0, 2.0, 3.0, 4.0, (1u64 << 40) as f64],
        ),
        (
            id::DOUBLE,
            [0.5f64, -0.0, 1e300, 2.0, 3.0, 4.0]
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect(),
            vec![0.5, -0.0, 1e300, 2.0, 3.0, 4.0],
        ),
    ];
    for (dt, raw, want) in cases {
        let stored = decode(dt, Bytes::plain(&raw), 6, Order::Stored).unwrap();
        assert_eq!(stored, want, "dtype {dt}");
        let swapped = decode(dt, Bytes::plain(&raw), 6, Order::SwapLast2 { rows, cols }).unwrap();
        assert_eq!(swapped, transposed(&want, 1, rows, cols), "dtype {dt}");
    }
    // Wrong length, unsupported dtype, a view that does not fit.
    assert!(matches!(
        decode(id::FLOAT, Bytes::plain(&[0; 7]), 2, Order::Stored),
        Err(TensorError::Malformed(_))
    ));
    assert!(matches!(
        decode(id::STRING, Bytes::plain(&[0]), 1, Order::Stored),
        Err(TensorError::Unsupported(_))
    ));
    assert!(
        decode(
            id::UINT8,
            Bytes::plain(&[0; 6]),
            6,
            Order::SwapLast2 { rows: 4, cols: 1 }
        )
        .is_err()
    );
}

#[test]
fn sources_are_released_once_in_order_and_completely() {
    for order in [
        Order::Stored,
        Order::SwapLast2 {
            rows: 300,
            cols: 5000,
        },
    ] {
        let n = 300 * 5000;
        let src: Vec<[u8; 8]> = (0..n as u64).map(u64::to_le_bytes).collect();
        let mut out = vec![0.0; n];
        let mut ranges = Vec::new();
        reorder(
            &src,
            &mut out,
            order,
            |b| u64::from_le_bytes(*b) as f64,
            |r| ranges.push(r),
        );
        // Contiguous, increasing, covering everything; several releases for a 12 MB source.
        assert!(ranges.len() >= 2, "{order:?}: {ranges:?}");
        let mut at = 0;
        for r in &ranges {
            assert_eq!(r.start, at, "{order:?}");
            at = r.end;
        }
        assert_eq!(at, n);
    }
}

#[test]
fn all_equal_agrees_with_decoding_then_comparing() {
    let f32s = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let naive = |dt: i32, raw: &[u8], n: usize| {
        let d = decode(dt, Bytes::plain(raw), n, Order::Stored).unwrap();
        d.len() > 1 && d.windows(2).all(|w| w[0] == w[1])
    };
    let cases: Vec<(i32, Vec<u8>, usize)> = vec![
        (id::FLOAT, f32s(&[0.5; 5]), 5),
        (id::FLOAT, f32s(&[0.5, 0.5, 0.25]), 3),
        (id::FLOAT, f32s(&[0.0, -0.0, 0.0]), 3),
        (id::FLOAT, f32s(&[f32::NAN, f32::NAN]), 2),
        (id::FLOAT, f32s(&[1.0, f32::NAN]), 2),
        (id::FLOAT, f32s(&[1.0]), 1),
        (id::FLOAT, vec![], 0),
        (id::INT8, vec![7; 100], 100),
        (id::INT8, [vec![7; 99], vec![8]].concat(), 100),
        (id::FLOAT16, vec![0x00, 0x3c, 0x00, 0x3c], 2),
    ];
    for (dt, raw, n) in cases {
        assert_eq!(
            all_equal(dt, Bytes::plain(&raw), n).unwrap(),
            naive(dt, &raw, n),
            "{dt} {raw:?}"
        );
    }
    // Longer than one release chunk: the comparison goes on across chunks.
    let big = vec![0u8; RELEASE_CHUNK * 2 + 16];
    assert!(all_equal(id::FLOAT, Bytes::plain(&big), big.len() / 4).unwrap());
    let mut big = big;
    let last = big.len() - 1;
    big[last] = 1;
    assert!(!all_equal(id::FLOAT, Bytes::plain(&big), big.len() / 4).unwrap());
    assert!(all_equal(id::FLOAT, Bytes::plain(&[0; 7]), 2).is_err());
}

#[test]
fn narrow_types_decode_their_special_codes_and_pack_low_bits_first() {
    let one = |dtype: i32, b: u8| decode(dtype, Bytes::plain(&[b]), 1, Order::Stored).unwrap()[0];
    // float8 E4M3FN: 0x7F is NaN, 0x7E the largest finite (448), 0x01 the smallest subnormal.
    assert!(one(id::FLOAT8E4M3FN, 0x7F).is_nan());
    assert_eq!(one(id::FLOAT8E4M3FN, 0x7E), 448.0);
    assert_eq!(one(id::FLOAT8E4M3FN, 0x01), 2f64.powi(-9));
    assert_eq!(one(id::FLOAT8E4M3FN, 0xB8), -1.0);
    // FNUZ: 0x80 (the negative zero) is NaN, bias 8.
    assert!(one(id::FLOAT8E4M3FNUZ, 0x80).is_nan());
    assert_eq!(one(id::FLOAT8E4M3FNUZ, 0x40), 1.0);
    // E5M2: IEEE-like infinities; FNUZ bias 16.
    assert_eq!(one(id::FLOAT8E5M2, 0x7C), f64::INFINITY);
    assert!(one(id::FLOAT8E5M2, 0x7D).is_nan());
    assert_eq!(one(id::FLOAT8E5M2, 0x3C), 1.0);
    assert_eq!(one(id::FLOAT8E5M2FNUZ, 0x40), 1.0);
    assert!(one(id::FLOAT8E5M2FNUZ, 0x80).is_nan());
    // E8M0: 2^(e − 127), 0xFF NaN.
    assert_eq!(one(id::FLOAT8E8M0, 127), 1.0);
    assert_eq!(one(id::FLOAT8E8M0, 130), 8.0);
    assert!(one(id::FLOAT8E8M0, 0xFF).is_nan());
    // Two codes a byte, low nibble first; an odd count ignores the last high nibble.
    let int4 = decode(id::INT4, Bytes::plain(&[0x9F, 0x07]), 3, Order::Stored).unwrap();
    assert_eq!(int4, vec![-1.0, -7.0, 7.0]);
    let fp4 = decode(id::FLOAT4E2M1, Bytes::plain(&[0x7A]), 2, Order::Stored).unwrap();
    assert_eq!(fp4, vec![-1.0, 6.0]);
    let int2 = decode(id::INT2, Bytes::plain(&[0b11_10_01_00]), 4, Order::Stored).unwrap();
    assert_eq!(int2, vec![0.0, 1.0, -2.0, -1.0]);
    // The payload must hold exactly ⌈count·bits/8⌉ bytes.
    assert!(decode(id::INT4, Bytes::plain(&[0, 0]), 5, Order::Stored).is_err());
}
