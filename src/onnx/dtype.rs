//! ONNX tensor data types: names, storage widths and which typed field carries them
//! (onnx-weights.md §7.1).

/// Data type ids from `onnx.proto` `TensorProto.DataType`.
pub mod id {
    /// 32-bit IEEE float (`float`).
    pub const FLOAT: i32 = 1;
    /// Unsigned 8-bit integer.
    pub const UINT8: i32 = 2;
    /// Signed 8-bit integer.
    pub const INT8: i32 = 3;
    /// Unsigned 16-bit integer.
    pub const UINT16: i32 = 4;
    /// Signed 16-bit integer.
    pub const INT16: i32 = 5;
    /// Signed 32-bit integer.
    pub const INT32: i32 = 6;
    /// Signed 64-bit integer.
    pub const INT64: i32 = 7;
    /// Strings (no fixed width; never a weight).
    pub const STRING: i32 = 8;
    /// Booleans.
    pub const BOOL: i32 = 9;
    /// IEEE half precision.
    pub const FLOAT16: i32 = 10;
    /// 64-bit IEEE float.
    pub const DOUBLE: i32 = 11;
    /// Unsigned 32-bit integer.
    pub const UINT32: i32 = 12;
    /// Unsigned 64-bit integer.
    pub const UINT64: i32 = 13;
    /// Complex of two 32-bit floats.
    pub const COMPLEX64: i32 = 14;
    /// Complex of two 64-bit floats.
    pub const COMPLEX128: i32 = 15;
    /// bfloat16 (8-bit exponent, 7-bit mantissa).
    pub const BFLOAT16: i32 = 16;
    /// float8 E4M3, finite only (NaN = S.1111.111), bias 7.
    pub const FLOAT8E4M3FN: i32 = 17;
    /// float8 E4M3, finite only, unsigned zero (NaN = 0x80), bias 8.
    pub const FLOAT8E4M3FNUZ: i32 = 18;
    /// float8 E5M2 (IEEE-like, with ±∞), bias 15.
    pub const FLOAT8E5M2: i32 = 19;
    /// float8 E5M2, finite only, unsigned zero (NaN = 0x80), bias 16.
    pub const FLOAT8E5M2FNUZ: i32 = 20;
    /// Unsigned 4-bit integer, two per byte (low nibble first).
    pub const UINT4: i32 = 21;
    /// Signed 4-bit integer, two per byte (low nibble first).
    pub const INT4: i32 = 22;
    /// float4 E2M1 (values ±{0, ½, 1, 1½, 2, 3, 4, 6}), two per byte.
    pub const FLOAT4E2M1: i32 = 23;
    /// float8 E8M0: a power of two 2^(e − 127) (MX scales; 0xFF = NaN).
    pub const FLOAT8E8M0: i32 = 24;
    /// Unsigned 2-bit integer, four per byte (lowest bits first).
    pub const UINT2: i32 = 25;
    /// Signed 2-bit integer, four per byte (lowest bits first).
    pub const INT2: i32 = 26;
}

/// The repeated field that holds a tensor's values when `raw_data` is not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TypedField {
    Float,
    Int32,
    String,
    Int64,
    Double,
    Uint64,
}

impl TypedField {
    pub(crate) fn name(self) -> &'static str {
        match self {
            TypedField::Float => "float_data",
            TypedField::Int32 => "int32_data",
            TypedField::String => "string_data",
            TypedField::Int64 => "int64_data",
            TypedField::Double => "double_data",
            TypedField::Uint64 => "uint64_data",
        }
    }
}

/// Storage facts of one data type: bits per element in `raw_data`, the typed field and how many
/// elements one typed entry packs (sub-byte types pack several, complex types take two entries).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub(crate) bits: u64,
    pub(crate) field: TypedField,
    /// Elements per typed entry (2 for int4, 4 for int2); 0 means two entries per element.
    pub(crate) per_entry: u64,
}

/// Storage layout, or None for an unknown id or STRING (which has no fixed width).
pub(crate) fn layout(dtype: i32) -> Option<Layout> {
    let l = |bits, field, per_entry| {
        Some(Layout {
            bits,
            field,
            per_entry,
        })
    };
    match dtype {
        id::FLOAT => l(32, TypedField::Float, 1),
        id::DOUBLE => l(64, TypedField::Double, 1),
        id::COMPLEX64 => l(64, TypedField::Float, 0),
        id::COMPLEX128 => l(128, TypedField::Double, 0),
        id::INT64 => l(64, TypedField::Int64, 1),
        id::UINT32 => l(32, TypedField::Uint64, 1),
        id::UINT64 => l(64, TypedField::Uint64, 1),
        id::INT32 => l(32, TypedField::Int32, 1),
        id::UINT8 | id::INT8 | id::BOOL => l(8, TypedField::Int32, 1),
        id::UINT16 | id::INT16 | id::FLOAT16 | id::BFLOAT16 => l(16, TypedField::Int32, 1),
        // float8 variants and e8m0 (§7.1): one byte each.
        17..=20 | 24 => l(8, TypedField::Int32, 1),
        // uint4, int4, float4e2m1: two per byte / per entry.
        21..=23 => l(4, TypedField::Int32, 2),
        // uint2, int2: four per byte / per entry.
        25 | 26 => l(2, TypedField::Int32, 4),
        // float6 variants: one per entry, 6 bits in the raw bitstream.
        27 | 28 => l(6, TypedField::Int32, 1),
        _ => None,
    }
}

/// Types tailwatch converts to f64 (weights, scales, zero points, shapes, indices).
pub(crate) fn decodable(dtype: i32) -> bool {
    matches!(
        dtype,
        id::FLOAT
            | id::DOUBLE
            | id::FLOAT16
            | id::BFLOAT16
            | id::INT8
            | id::UINT8
            | id::INT16
            | id::UINT16
            | id::INT32
            | id::INT64
            | id::UINT32
            | id::UINT64
    ) || small(dtype).is_some()
}

/// The narrow types (§7.1): bits per element and the value of each code, for the 8-, 4- and
/// 2-bit integer and float formats. None for every other type.
pub(crate) fn small(dtype: i32) -> Option<(u32, &'static [f64])> {
    use std::sync::OnceLock;
    static TABLES: OnceLock<[Vec<f64>; 10]> = OnceLock::new();
    let t = TABLES.get_or_init(|| {
        let codes = |n: u32, f: fn(u32) -> f64| (0..n).map(f).collect::<Vec<f64>>();
        [
            codes(256, |c| minifloat(c, 4, 3, 7, Special::FiniteNan)),
            codes(256, |c| minifloat(c, 4, 3, 8, Special::Uz)),
            codes(256, |c| minifloat(c, 5, 2, 15, Special::Ieee)),
            codes(256, |c| minifloat(c, 5, 2, 16, Special::Uz)),
            codes(16, |c| c as f64),
            codes(16, |c| c as f64 - if c >= 8 { 16.0 } else { 0.0 }),
            codes(16, |c| minifloat(c, 2, 1, 1, Special::None)),
            codes(256, |c| {
                if c == 0xFF {
                    f64::NAN
                } else {
                    2f64.powi(c as i32 - 127)
                }
            }),
            codes(4, |c| c as f64),
            codes(4, |c| c as f64 - if c >= 2 { 4.0 } else { 0.0 }),
        ]
    });
    let (bits, i) = match dtype {
        id::FLOAT8E4M3FN => (8, 0),
        id::FLOAT8E4M3FNUZ => (8, 1),
        id::FLOAT8E5M2 => (8, 2),
        id::FLOAT8E5M2FNUZ => (8, 3),
        id::UINT4 => (4, 4),
        id::INT4 => (4, 5),
        id::FLOAT4E2M1 => (4, 6),
        id::FLOAT8E8M0 => (8, 7),
        id::UINT2 => (2, 8),
        id::INT2 => (2, 9),
        _ => return None,
    };
    t.get(i).map(|v| (bits, v.as_slice()))
}

/// How a minifloat format spends its top codes.
#[derive(Clone, Copy)]
enum Special {
    /// No infinities or NaN (float4 E2M1).
    None,
    /// Only S.1111.111 is NaN (E4M3FN).
    FiniteNan,
    /// Only 0x80, the negative zero, is NaN (the FNUZ formats).
    Uz,
    /// The top exponent is ±∞ (mantissa 0) or NaN (E5M2).
    Ieee,
}

/// The value of minifloat code `c` with `e` exponent and `m` mantissa bits and exponent `bias`
/// (the ONNX definitions of float8 and float4, §7.1): subnormal when the exponent field is 0.
fn minifloat(c: u32, e: u32, m: u32, bias: i32, special: Special) -> f64 {
    let sign = if (c >> (e + m)) & 1 == 1 { -1.0 } else { 1.0 };
    let exp = ((c >> m) & ((1 << e) - 1)) as i32;
    let man = (c & ((1 << m) - 1)) as f64;
    let top = (1 << e) - 1;
    match special {
        Special::FiniteNan if exp == top && man as u32 == (1 << m) - 1 => return f64::NAN,
        Special::Uz if c == 1 << (e + m) => return f64::NAN,
        Special::Ieee if exp == top => {
            return if man == 0.0 {
                sign * f64::INFINITY
            } else {
                f64::NAN
            };
        }
        _ => {}
    }
    let frac = man / f64::from(1u32 << m);
    let v = if exp == 0 {
        frac * 2f64.powi(1 - bias)
    } else {
        (1.0 + frac) * 2f64.powi(exp - bias)
    };
    sign * v
}

pub(crate) fn is_float(dtype: i32) -> bool {
    matches!(dtype, id::FLOAT | id::DOUBLE | id::FLOAT16 | id::BFLOAT16)
}

pub(crate) fn name(dtype: i32) -> String {
    let s = match dtype {
        id::FLOAT => "float",
        id::UINT8 => "uint8",
        id::INT8 => "int8",
        id::UINT16 => "uint16",
        id::INT16 => "int16",
        id::INT32 => "int32",
        id::INT64 => "int64",
        id::STRING => "string",
        id::BOOL => "bool",
        id::FLOAT16 => "float16",
        id::DOUBLE => "double",
        id::UINT32 => "uint32",
        id::UINT64 => "uint64",
        id::COMPLEX64 => "complex64",
        id::COMPLEX128 => "complex128",
        id::BFLOAT16 => "bfloat16",
        id::FLOAT8E4M3FN => "float8e4m3fn",
        id::FLOAT8E4M3FNUZ => "float8e4m3fnuz",
        id::FLOAT8E5M2 => "float8e5m2",
        id::FLOAT8E5M2FNUZ => "float8e5m2fnuz",
        id::UINT4 => "uint4",
        id::INT4 => "int4",
        id::FLOAT4E2M1 => "float4e2m1",
        id::FLOAT8E8M0 => "float8e8m0",
        id::UINT2 => "uint2",
        id::INT2 => "int2",
        27 => "float6e2m3",
        28 => "float6e3m2",
        other => return format!("dtype {other}"),
    };
    s.to_string()
}

/// Round an f64 to what a tensor of `dtype` can hold (the `Cast` fold, onnx-weights.md §3.3).
/// Integer casts truncate toward zero and saturate; ONNX leaves out-of-range casts undefined.
pub(crate) fn round_to(dtype: i32, v: f64) -> f64 {
    let sat = |lo: f64, hi: f64| {
        if v.is_nan() {
            0.0
        } else {
            v.trunc().clamp(lo, hi)
        }
    };
    match dtype {
        id::FLOAT => v as f32 as f64,
        id::FLOAT16 => half::f16::from_f64(v).to_f64(),
        id::BFLOAT16 => half::bf16::from_f64(v).to_f64(),
        id::INT8 => sat(-128.0, 127.0),
        id::UINT8 => sat(0.0, 255.0),
        id::INT16 => sat(-32768.0, 32767.0),
        id::UINT16 => sat(0.0, 65535.0),
        id::INT32 => sat(i32::MIN as f64, i32::MAX as f64),
        id::UINT32 => sat(0.0, u32::MAX as f64),
        id::INT64 => sat(i64::MIN as f64, i64::MAX as f64),
        id::UINT64 => sat(0.0, u64::MAX as f64),
        id::BOOL => {
            if v != 0.0 {
                1.0
            } else {
                0.0
            }
        }
        _ => v,
    }
}
