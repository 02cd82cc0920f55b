//! Block-quantised weights that com.microsoft consumers dequantise themselves (onnx-weights.md
//! §5.5): `MatMulNBits` (B packed as [N, k_blocks, blob]) and `GatherBlockQuantized` (a quantised
//! embedding table), decoded as onnxruntime 1.32's CPU kernels compute them (each rule below was
//! checked against onnxruntime on the fixtures of `tests/data/quant`):
//!
//! - W = (q − zp)·s: the exact integer difference times the scale in float32, rounded once to
//!   float32 and then to the scales' type (float16 scales: float32 arithmetic, one rounding to
//!   float16); a zero is +0.0;
//! - unpacked float zero points (MatMulNBits): with float32 scales q·s − zp·s, each product
//!   rounded to float32; with float16 scales (q − zp)·s in float32, rounded once to float16;
//! - the default zero point is 2^(bits−1) for packed uint8 codes and 0 for int4/uint4 data;
//! - MatMulNBits `g_idx` (act-order): column k uses the scale and zero point of block g_idx[k],
//!   computed as q·s − zp·s, and packed zero points are ignored (the default is used).
//!
//! Sizes are checked against the attributes before anything is allocated; packed codes are read
//! from their stored bytes, never widened to f64 first, and a layer can be decoded a band of rows
//! at a time (`with_rows`), so that a big one never needs its f64 copy at once.

use std::sync::Arc;

use super::quant::{self, Params};
use super::{Eval, Expr, Leaf, LeafSrc, mal, norm_axes};
use crate::onnx::attr::Node;
use crate::onnx::dtype::{self, id};
use crate::onnx::tensor::{self, Dense, TensorError};

/// The weight of a block-quantised contrib consumer.
#[derive(Debug)]
pub struct Blocked<'m> {
    /// The layout and attributes.
    pub form: Form,
    /// The quantised codes (B, or the table).
    pub q: Arc<Expr<'m>>,
    /// Per-block scales.
    pub scales: Arc<Expr<'m>>,
    /// Per-block zero points (packed uint8 or in a float type); None = the op's default.
    pub zp: Option<Arc<Expr<'m>>>,
    /// MatMulNBits `g_idx`: the block of each k (act-order).
    pub g_idx: Option<Arc<Expr<'m>>>,
    /// The consumer (named in errors).
    pub node: Node<'m>,
}

/// The attributes, as read. Values outside the op's set are a layer status when the weight is
/// sized or decoded, not a run failure.
#[derive(Clone, Copy, Debug)]
pub enum Form {
    /// `MatMulNBits`: W is [N, K], a row per output feature, blocks along K.
    NBits {
        k: i64,
        n: i64,
        bits: i64,
        block: i64,
    },
    /// `GatherBlockQuantized`: the table as stored, blocks along `axis` (`quantize_axis`).
    Gather { bits: i64, block: i64, axis: i64 },
}

impl Blocked<'_> {
    /// The operands: codes, scales, zero points and g_idx.
    pub fn parts(&self) -> impl Iterator<Item = &Arc<Expr<'_>>> {
        [&self.q, &self.scales]
            .into_iter()
            .chain(self.zp.as_ref())
            .chain(self.g_idx.as_ref())
    }
}

impl Form {
    /// `describe`'s words for the stored form: `int4 (dequantized, block 32, asym)`.
    pub fn describe(&self, stored: i32, asym: bool) -> String {
        let (bits, block) = match *self {
            Form::NBits { bits, block, .. } | Form::Gather { bits, block, .. } => (bits, block),
        };
        let base = if stored == id::UINT8 {
            // Packed in uint8: unsigned codes, centred by the zero point (2^(bits−1) by default).
            format!("int{bits}")
        } else {
            dtype::name(stored)
        };
        let zp = if asym { "asym" } else { "sym" };
        match self {
            Form::NBits { .. } => format!("{base} (dequantized, block {block}, {zp})"),
            Form::Gather { axis, .. } => {
                format!("{base} (dequantized, block {block}, axis {axis}, {zp})")
            }
        }
    }
}

/// A checked block size: a power of two, at least 16 (both ops); `whole` (float8/float4 data
/// of GatherBlockQuantized) also allows 0, one block over the whole axis.
fn block_size(block: i64, whole: bool) -> Result<usize, TensorError> {
    match usize::try_from(block) {
        Ok(b) if b >= 16 && b.is_power_of_two() => Ok(b),
        Ok(0) if whole => Ok(0),
        _ => mal(format!("block_size {block} is not a power of two ≥ 16")),
    }
}

fn packed_bits(bits: i64) -> Result<u32, TensorError> {
    match bits {
        2 | 4 | 8 => Ok(bits as u32),
        _ => mal(format!("bits {bits} is not one of 2, 4, 8")),
    }
}

/// Bits per code and value of each code for the codes' storage type (uint8 packs `bits`).
fn code_table(q_dtype: i32, bits: i64) -> Result<(u32, Vec<f64>), TensorError> {
    if q_dtype == id::UINT8 {
        let b = packed_bits(bits)?;
        return Ok((b, (0..1u32 << b).map(f64::from).collect()));
    }
    match dtype::small(q_dtype) {
        Some((b, t)) if b == 8 || b == 4 => Ok((b, t.to_vec())),
        _ => mal(format!(
            "quantised data is {}, not uint8, int4, uint4, float8 or float4",
            dtype::name(q_dtype)
        )),
    }
}

/// Whether the codes are floats (float8/float4 GatherBlockQuantized: no zero points).
fn float_codes(q_dtype: i32) -> bool {
    q_dtype != id::UINT8 && !matches!(q_dtype, id::INT4 | id::UINT4)
}

/// The stored codes: a bit stream, `bits` per code, lowest bits first; `table` maps a code to q.
struct Codes<'a> {
    bytes: &'a [u8],
    bits: u32,
    table: &'a [f64],
}

impl Codes<'_> {
    /// q of code number `i` of the stream.
    #[inline]
    fn get(&self, i: usize) -> f64 {
        let bit = i * self.bits as usize;
        let b = self.bytes.get(bit / 8).copied().unwrap_or(0);
        let c = (u32::from(b) >> (bit % 8)) & ((1u32 << self.bits) - 1);
        self.table.get(c as usize).copied().unwrap_or(f64::NAN)
    }
}

/// Zero points, one per (row, block).
enum Zp {
    /// The op's default, for every block.
    Default(f64),
    /// Integer codes (packed uint8 or int4/uint4 data's type): (q − zp)·s.
    Ints(Vec<f64>),
    /// Float zero points (MatMulNBits, unpacked): q·s − zp·s.
    Floats(Vec<f32>),
}

/// A layer decodable a band of rows at a time: `rows × cols` values, row r being codes
/// `r·stride ..` with one scale (and zero point) per `block` codes of the row.
pub struct RowDecoder<'a> {
    rows: usize,
    cols: usize,
    stride: usize,
    block: usize,
    codes: Codes<'a>,
    scales: &'a [f64],
    /// One row of scales shared by every row (float8 tables with a broadcast scale).
    scale_rows_shared: bool,
    zp: &'a Zp,
    g_idx: Option<&'a [usize]>,
    out: i32,
    /// The codes' values as f32, padded to 16 (2- and 4-bit codes).
    q16: [f32; 16],
}

impl RowDecoder<'_> {
    /// Rows of the decoded matrix.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Columns of the decoded matrix.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// The float type of the values (the scales' type).
    pub fn dtype(&self) -> i32 {
        self.out
    }

    fn round(&self, v: f32) -> f64 {
        // + 0.0 turns −0 into +0, as onnxruntime's MatMulNBits gives.
        quant::to_output(v, self.out) + 0.0
    }

    /// The zero point of block `k`, and whether the product is split (q·s − zp·s): float zero
    /// points beside float32 scales; float16 ones give (q − zp)·s (both as onnxruntime).
    #[inline]
    fn zp_at(&self, k: usize) -> (f32, bool) {
        match self.zp {
            Zp::Default(z) => (*z as f32, false),
            Zp::Ints(z) => (z.get(k).copied().unwrap_or(f64::NAN) as f32, false),
            Zp::Floats(z) => (z.get(k).copied().unwrap_or(f32::NAN), self.out == id::FLOAT),
        }
    }

    /// The value of code value `q` in block `k` (row-major over rows × blocks).
    #[inline]
    fn value(&self, q: f64, k: usize) -> f64 {
        let s = self.scales.get(k).copied().unwrap_or(f64::NAN) as f32;
        let (z, split) = self.zp_at(k);
        self.round(quant::product(q as f32, z, s, split))
    }

    /// The values of every code of block `k`, as `value` gives them, with the zero point looked
    /// up once: fixed-size loops over the code values as f32, which the compiler vectorises.
    fn fill_lut(&self, lut: &mut [f64; 16], k: usize) {
        let s = self.scales.get(k).copied().unwrap_or(f64::NAN) as f32;
        let (z, split) = self.zp_at(k);
        let q = &self.q16;
        for i in 0..16 {
            lut[i] = f64::from(quant::product(q[i], z, s, split)) + 0.0;
        }
        if self.out != id::FLOAT {
            for v in lut.iter_mut() {
                *v = quant::to_output(*v as f32, self.out) + 0.0;
            }
        }
    }

    /// Rows `r0 .. r0 + out.len() / cols` into `out`, row-major. Returns whether every value is
    /// known to be finite without looking at them (every lookup table was); false means "look".
    pub fn decode(&self, r0: usize, out: &mut [f64]) -> bool {
        let mut finite = true;
        let blocks = if self.block == 0 {
            1
        } else {
            self.cols.div_ceil(self.block)
        };
        let block = if self.block == 0 {
            self.cols
        } else {
            self.block
        };
        let per = (8 / self.codes.bits) as usize;
        let mut lut = [0.0f64; 16];
        for (dr, row) in out.chunks_exact_mut(self.cols.max(1)).enumerate() {
            let r = r0 + dr;
            let k_row = if self.scale_rows_shared {
                0
            } else {
                r * blocks
            };
            if let Some(g) = self.g_idx {
                for (i, o) in row.iter_mut().enumerate() {
                    let b = g.get(i).copied().unwrap_or(0);
                    *o = self.value(self.codes.get(r * self.stride + i), k_row + b);
                }
                finite = false;
                continue;
            }
            for (b, chunk) in row.chunks_mut(block.max(1)).enumerate() {
                let k = k_row + b;
                let first = r * self.stride + b * block;
                if self.codes.bits > 4 || !first.is_multiple_of(per) {
                    for (i, o) in chunk.iter_mut().enumerate() {
                        *o = self.value(self.codes.get(first + i), k);
                    }
                    finite = false;
                    continue;
                }
                // 2- and 4-bit codes: the block's 2^bits values once, then a lookup per code.
                self.fill_lut(&mut lut, k);
                finite &= lut.iter().all(|v| v.is_finite());
                let start = first / per;
                let bytes = self.codes.bytes;
                if self.codes.bits == 4 {
                    // Two codes a byte, low nibble first: the hot path of int4 LLM weights.
                    let whole = chunk.len() / 2;
                    let src = bytes.get(start..start + whole).unwrap_or(&[]);
                    // Eight bytes (sixteen codes) a step, then the rest.
                    let mut outs = chunk.chunks_exact_mut(16);
                    let mut ins = src.chunks_exact(8);
                    for (o, b) in (&mut outs).zip(&mut ins) {
                        for j in 0..8 {
                            o[2 * j] = lut[usize::from(b[j] & 15)];
                            o[2 * j + 1] = lut[usize::from(b[j] >> 4)];
                        }
                    }
                    let (o_rest, b_rest) = (outs.into_remainder(), ins.remainder());
                    for (o, &byte) in o_rest.chunks_exact_mut(2).zip(b_rest) {
                        o[0] = lut[usize::from(byte & 15)];
                        o[1] = lut[usize::from(byte >> 4)];
                    }
                    if chunk.len() % 2 == 1
                        && let (Some(o), Some(&byte)) = (chunk.last_mut(), bytes.get(start + whole))
                    {
                        *o = lut[usize::from(byte & 15)];
                    }
                    continue;
                }
                let bits = self.codes.bits as usize;
                let mask = (1u8 << bits) - 1;
                let src = bytes
                    .get(start..start + chunk.len().div_ceil(per))
                    .unwrap_or(&[]);
                let mut it = chunk.iter_mut();
                'bytes: for &byte in src {
                    for j in 0..per {
                        let Some(o) = it.next() else { break 'bytes };
                        *o = lut[usize::from((byte >> (bits * j)) & mask)];
                    }
                }
            }
        }
        finite
    }
}

fn leaf_of<'e, 'm>(e: &'e Expr<'m>) -> Option<&'e Leaf<'m>> {
    match e {
        Expr::Leaf(l) => Some(l),
        _ => None,
    }
}

/// Shape of the decoded weight, from the attributes and the stored shape (no values read).
pub fn shape(b: &Blocked<'_>, q_shape: &[usize], q_dtype: i32) -> Result<Vec<usize>, TensorError> {
    match b.form {
        Form::NBits { k, n, .. } => match (usize::try_from(k), usize::try_from(n)) {
            (Ok(k), Ok(n)) if k > 0 && n > 0 => Ok(vec![n, k]),
            _ => mal(format!("K = {k} and N = {n} must be positive")),
        },
        Form::Gather { bits, .. } => {
            let mut s = q_shape.to_vec();
            if q_dtype == id::UINT8 {
                let bits = packed_bits(bits)?;
                if let Some(last) = s.last_mut() {
                    *last = last.saturating_mul((8 / bits) as usize);
                }
            }
            Ok(s)
        }
    }
}

/// Evaluate a block-quantised weight whole.
pub fn eval(ev: &mut Eval<'_>, b: &Blocked<'_>) -> Result<Dense, TensorError> {
    let (qs, qd) = q_meta(ev, b)?;
    let shape = shape(b, &qs, qd)?;
    ev.numel(&shape)?;
    if let Form::Gather { axis, .. } = b.form
        && last_axis(axis, shape.len())? != shape.len().saturating_sub(1)
    {
        return gather_any_axis(ev, b, shape, qd);
    }
    let (dtype, data) = with_rows(ev, b, |d| {
        let mut data = vec![0.0; d.rows() * d.cols()];
        d.decode(0, &mut data);
        (d.dtype(), data)
    })?;
    Ok(Dense { shape, data, dtype })
}

fn last_axis(axis: i64, rank: usize) -> Result<usize, TensorError> {
    if rank == 0 {
        return mal("GatherBlockQuantized data is a scalar");
    }
    Ok(*norm_axes(&[axis], rank)
        .map_err(TensorError::Malformed)?
        .first()
        .unwrap_or(&0))
}

/// The stored shape and dtype of the codes.
fn q_meta(ev: &mut Eval<'_>, b: &Blocked<'_>) -> Result<(Vec<usize>, i32), TensorError> {
    match leaf_of(&b.q) {
        Some(l) => Ok((super::leaf_shape(l, ev.model)?, super::leaf_dtype(l))),
        None => {
            let d = ev.eval(&b.q)?;
            Ok((d.shape, d.dtype))
        }
    }
}

/// Scales, checked: a float type, every value finite.
fn scales(ev: &mut Eval<'_>, b: &Blocked<'_>) -> Result<Dense, TensorError> {
    let s = ev.eval(&b.scales)?;
    if !matches!(s.dtype, id::FLOAT | id::FLOAT16 | id::BFLOAT16) {
        return mal(format!(
            "scales are {}, not float, float16 or bfloat16",
            dtype::name(s.dtype)
        ));
    }
    if let Some(i) = s.data.iter().position(|v| !v.is_finite()) {
        return mal(format!(
            "scale {i} is {} (scales must be finite)",
            s.data.get(i).copied().unwrap_or(f64::NAN)
        ));
    }
    Ok(s)
}

/// Call `f` with the stored bytes of the codes: in place for a leaf (mapped external data is
/// not copied), else from the folded values.
fn with_code_bytes<R>(
    ev: &mut Eval<'_>,
    q: &Expr<'_>,
    f: impl FnOnce(&[u8]) -> Result<R, TensorError>,
) -> Result<R, TensorError> {
    match leaf_of(q).map(|l| &l.src) {
        Some(LeafSrc::Init(t) | LeafSrc::ConstTensor(t)) => tensor::with_bytes(ev.model, t, f)?,
        _ => {
            let d = ev.eval(q)?;
            if d.dtype != id::UINT8 {
                return Err(TensorError::Unsupported(format!(
                    "{} codes computed by folding",
                    dtype::name(d.dtype)
                )));
            }
            let bytes: Vec<u8> = d.data.iter().map(|&v| v as u8).collect();
            f(&bytes)
        }
    }
}

/// Check the sizes, read scales, zero points and g_idx, and call `f` with a decoder over the
/// stored codes. Only for blocks along the last axis (MatMulNBits, and GatherBlockQuantized
/// with the default `quantize_axis`).
pub fn with_rows<R>(
    ev: &mut Eval<'_>,
    b: &Blocked<'_>,
    f: impl FnOnce(&RowDecoder<'_>) -> R,
) -> Result<R, TensorError> {
    let scales = scales(ev, b)?;
    let (q_shape, q_dtype) = q_meta(ev, b)?;
    let geo = geometry(b, &q_shape, q_dtype)?;
    // The element limit only: a band-by-band caller never holds the f64 copy, so the memory
    // budget is the caller's (`eval` checks it for the whole matrix).
    let elements = (geo.rows as u64).saturating_mul(geo.cols as u64);
    if elements > ev.model.limits().max_elements {
        return mal(format!(
            "{} × {} values exceed the element limit {}",
            geo.rows,
            geo.cols,
            ev.model.limits().max_elements
        ));
    }
    let blocks = if geo.block == 0 {
        1
    } else {
        geo.cols.div_ceil(geo.block)
    };
    let n_params = geo.rows * blocks;
    let shared = float_codes(q_dtype) && scales.data.len() == blocks && geo.rows > 1;
    if scales.data.len() != n_params && !shared {
        return mal(format!(
            "scales have {} values; {} rows of {blocks} blocks need {n_params}",
            scales.data.len(),
            geo.rows
        ));
    }
    let g_idx = match &b.g_idx {
        None => None,
        Some(g) => Some(group_index(&ev.eval(g)?, geo.cols, blocks)?),
    };
    let zp = match &b.zp {
        _ if float_codes(q_dtype) && b.zp.is_some() => {
            return mal("float8/float4 data takes no zero points");
        }
        Some(z) => zero_points(&ev.eval(z)?, &geo, blocks, q_dtype)?,
        None => Zp::Default(geo.zp_default),
    };
    // With g_idx onnxruntime takes its float path, q·s − zp·s, and ignores packed zero points
    // (using the default).
    let zp = match (&g_idx, zp) {
        (Some(_), Zp::Floats(z)) => Zp::Floats(z),
        (Some(_), _) => Zp::Floats(vec![geo.zp_default as f32; n_params]),
        (None, z) => z,
    };
    let (bits, table) = code_table(q_dtype, geo.bits)?;
    let need_bytes = (geo.rows as u64)
        .checked_mul(geo.stride as u64)
        .and_then(|c| c.checked_mul(u64::from(bits)))
        .map(|b| b.div_ceil(8))
        .ok_or_else(|| TensorError::Malformed("quantised data size overflows".into()))?;
    with_code_bytes(ev, &b.q, |bytes| {
        if bytes.len() as u64 != need_bytes {
            return mal(format!(
                "quantised data has {} bytes; {} rows × {} codes of {bits} bits need {need_bytes}",
                bytes.len(),
                geo.rows,
                geo.stride
            ));
        }
        Ok(f(&RowDecoder {
            rows: geo.rows,
            cols: geo.cols,
            stride: geo.stride,
            block: geo.block,
            codes: Codes {
                bytes,
                bits,
                table: &table,
            },
            scales: &scales.data,
            scale_rows_shared: shared,
            zp: &zp,
            g_idx: g_idx.as_deref(),
            out: scales.dtype,
            q16: std::array::from_fn(|i| table.get(i).copied().unwrap_or(0.0) as f32),
        }))
    })
}

/// g_idx: one block number in 0..blocks for each of the K columns.
fn group_index(g: &Dense, cols: usize, blocks: usize) -> Result<Vec<usize>, TensorError> {
    if g.data.len() != cols {
        return mal(format!("g_idx has {} values, K = {cols}", g.data.len()));
    }
    g.data
        .iter()
        .map(|&v| {
            if v >= 0.0 && v.fract() == 0.0 && (v as usize) < blocks {
                Ok(v as usize)
            } else {
                mal(format!("g_idx value {v} is not a block of 0..{blocks}"))
            }
        })
        .collect()
}

/// Rows, columns, codes per stored row, block (0 = the whole row) and bits of the matrix.
struct Geometry {
    rows: usize,
    cols: usize,
    stride: usize,
    block: usize,
    bits: i64,
    zp_default: f64,
}

fn geometry(b: &Blocked<'_>, q_shape: &[usize], q_dtype: i32) -> Result<Geometry, TensorError> {
    let s = shape(b, q_shape, q_dtype)?;
    match b.form {
        Form::NBits { bits, block, .. } => {
            let pb = packed_bits(bits)?;
            let block = block_size(block, false)?;
            let (n, k) = (
                s.first().copied().unwrap_or(0),
                s.get(1).copied().unwrap_or(0),
            );
            if q_dtype != id::UINT8 {
                return mal(format!("B is {}, not uint8", dtype::name(q_dtype)));
            }
            let k_blocks = k.div_ceil(block);
            let blob = block.checked_mul(pb as usize).map(|b| b / 8);
            let stride = k_blocks.checked_mul(block);
            let (Some(blob), Some(stride)) = (blob, stride) else {
                return mal(format!("block_size {block} is too large for K = {k}"));
            };
            let want = [n, k_blocks, blob];
            if q_shape != want {
                return mal(format!(
                    "B has shape {q_shape:?}; K = {k}, N = {n}, bits {bits} and block_size \
                     {block} need {want:?}"
                ));
            }
            Ok(Geometry {
                rows: n,
                cols: k,
                stride,
                block,
                bits,
                zp_default: f64::from(1u32 << (pb - 1)),
            })
        }
        Form::Gather { bits, block, .. } => {
            let zp_default = if q_dtype == id::UINT8 {
                f64::from(1u32 << (packed_bits(bits)? - 1))
            } else {
                0.0
            };
            let bits = match q_dtype {
                id::UINT8 => bits,
                id::INT4 | id::UINT4 if bits != 4 => {
                    return mal(format!(
                        "bits {bits} with {} data (it must be 4)",
                        dtype::name(q_dtype)
                    ));
                }
                t => i64::from(code_table(t, bits)?.0),
            };
            let block = block_size(block, float_codes(q_dtype))?;
            let cols = s.last().copied().unwrap_or(0);
            let rows: usize = s.iter().take(s.len().saturating_sub(1)).product();
            Ok(Geometry {
                rows,
                cols,
                stride: cols,
                block,
                bits,
                zp_default,
            })
        }
    }
}

/// Zero points, one per (row, block): unpacked from uint8 when the codes are (MatMulNBits and
/// uint8 GatherBlockQuantized pack them like the data), integer-typed as given, or float.
fn zero_points(z: &Dense, g: &Geometry, blocks: usize, q_dtype: i32) -> Result<Zp, TensorError> {
    let n = g.rows * blocks;
    let bits = u32::try_from(g.bits).unwrap_or(8);
    if dtype::is_float(z.dtype) {
        // Float zero points exist only beside packed uint8 codes (MatMulNBits), and
        // onnxruntime refuses them with 8-bit codes.
        if q_dtype != id::UINT8 || bits >= 8 {
            return mal("float zero points need packed 2- or 4-bit uint8 codes");
        }
        if z.data.len() != n {
            return mal(format!(
                "zero points have {} values; {} rows of {blocks} blocks need {n}",
                z.data.len(),
                g.rows
            ));
        }
        if let Some(i) = z.data.iter().position(|v| !v.is_finite()) {
            return mal(format!("zero point {i} is not finite"));
        }
        return Ok(Zp::Floats(z.data.iter().map(|&v| v as f32).collect()));
    }
    let v: Vec<f64> = if z.dtype == id::UINT8 && q_dtype == id::UINT8 && bits < 8 {
        let per = (8 / bits) as usize;
        let row_bytes = blocks.div_ceil(per);
        if z.data.len() != g.rows * row_bytes {
            return mal(format!(
                "packed zero points have {} bytes; {} rows of {blocks} blocks need {}",
                z.data.len(),
                g.rows,
                g.rows * row_bytes
            ));
        }
        let mask = (1u32 << bits) - 1;
        (0..n)
            .map(|k| {
                let (r, b) = (k / blocks, k % blocks);
                let byte = z.data.get(r * row_bytes + b / per).copied().unwrap_or(0.0) as u32;
                f64::from((byte >> (bits as usize * (b % per))) & mask)
            })
            .collect()
    } else {
        if z.dtype != q_dtype {
            return mal(format!(
                "zero points are {}, the data {}",
                dtype::name(z.dtype),
                dtype::name(q_dtype)
            ));
        }
        if z.data.len() != n {
            return mal(format!(
                "zero points have {} values; {} rows of {blocks} blocks need {n}",
                z.data.len(),
                g.rows
            ));
        }
        z.data.clone()
    };
    Ok(Zp::Ints(v))
}

/// GatherBlockQuantized blocked along an axis other than the last: the codes are unpacked into
/// a tensor of q values and dequantised as a blocked `DequantizeLinear` would be.
fn gather_any_axis(
    ev: &mut Eval<'_>,
    b: &Blocked<'_>,
    shape: Vec<usize>,
    q_dtype: i32,
) -> Result<Dense, TensorError> {
    let Form::Gather { bits, block, axis } = b.form else {
        return mal("not a GatherBlockQuantized weight");
    };
    let scales = scales(ev, b)?;
    let (code_bits, table) = code_table(q_dtype, bits)?;
    let block = block_size(block, float_codes(q_dtype))?;
    let count: usize = shape.iter().product();
    ev.numel(&[count])?;
    let need = (count as u64 * u64::from(code_bits)).div_ceil(8);
    let data = with_code_bytes(ev, &b.q, |bytes| {
        if bytes.len() as u64 != need {
            return mal(format!(
                "quantised data has {} bytes, {count} codes of {code_bits} bits need {need}",
                bytes.len()
            ));
        }
        let codes = Codes {
            bytes,
            bits: code_bits,
            table: &table,
        };
        Ok((0..count).map(|i| codes.get(i)).collect::<Vec<f64>>())
    })?;
    let zp_default = if q_dtype == id::UINT8 {
        f64::from(1u32 << (code_bits - 1))
    } else {
        0.0
    };
    let zp = match &b.zp {
        Some(_) if float_codes(q_dtype) => {
            return mal("float8/float4 data takes no zero points");
        }
        Some(z) => {
            let z = ev.eval(z)?;
            if z.dtype != q_dtype {
                return mal(format!(
                    "zero points are {}, the data {}",
                    dtype::name(z.dtype),
                    dtype::name(q_dtype)
                ));
            }
            if z.dtype == id::UINT8 && code_bits < 8 {
                // Packed along the last axis like the data.
                let per = (8 / code_bits) as usize;
                let mut zs = z.shape.clone();
                if let Some(l) = zs.last_mut() {
                    *l *= per;
                }
                let v: Vec<f64> = (0..z.data.len() * per)
                    .map(|i| {
                        let byte = z.data.get(i / per).copied().unwrap_or(0.0) as u32;
                        f64::from(
                            (byte >> (code_bits as usize * (i % per))) & ((1 << code_bits) - 1),
                        )
                    })
                    .collect();
                let want: usize = scales.shape.iter().product();
                if zs.last() != scales.shape.last() || v.len() != want {
                    return mal(format!(
                        "packed zero points of shape {:?} do not cover the scales {:?}",
                        z.shape, scales.shape
                    ));
                }
                Some(Dense {
                    shape: scales.shape.clone(),
                    data: v,
                    dtype: id::UINT8,
                })
            } else {
                Some(z)
            }
        }
        None if zp_default != 0.0 => Some(Dense {
            shape: scales.shape.clone(),
            data: vec![zp_default; scales.data.len()],
            dtype: id::UINT8,
        }),
        None => None,
    };
    let dim = shape
        .get(last_axis(axis, shape.len())?)
        .copied()
        .unwrap_or(1);
    let x = Dense {
        shape,
        data,
        dtype: q_dtype,
    };
    let params = Params {
        axis,
        block: if block == 0 { dim as i64 } else { block as i64 },
        output: Some(scales.dtype),
    };
    quant::dequant(x, Some(&scales), zp.as_ref(), &params)
}
