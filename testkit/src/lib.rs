//! tailwatch's test kit, a dev-only crate: small ONNX models encoded with prost (fixture
//! builders and mutators), a seeded test RNG, and the list of a study's outputs, for the unit
//! and integration tests, benches, examples and fuzz seeds. It is not part of the library.

use std::path::{Path, PathBuf};

use prost::Message;
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, ValueInfoProto, attribute_proto::AttributeType,
};

/// ONNX `TensorProto.DataType` ids (onnx.proto), the ones the fixtures use.
pub mod id {
    use tract_onnx::pb::tensor_proto::DataType;
    pub const FLOAT: i32 = DataType::Float as i32;
    pub const UINT8: i32 = DataType::Uint8 as i32;
    pub const INT8: i32 = DataType::Int8 as i32;
    pub const INT64: i32 = DataType::Int64 as i32;
    pub const FLOAT16: i32 = DataType::Float16 as i32;
    pub const DOUBLE: i32 = DataType::Double as i32;
    pub const BFLOAT16: i32 = DataType::Bfloat16 as i32;
}

/// The files a study run must write, as the README promises them; `timings.json` is the one
/// that differs between runs.
pub const STUDY_OUTPUTS: [&str; 7] = [
    "report.json",
    "details.csv",
    "summary.csv",
    "correlations.csv",
    "report.md",
    "report.html",
    "timings.json",
];

/// A tensor with `raw_data`.
pub fn raw(name: &str, dtype: i32, dims: &[i64], bytes: Vec<u8>) -> TensorProto {
    TensorProto {
        name: name.into(),
        data_type: dtype,
        dims: dims.to_vec(),
        raw_data: bytes,
        ..Default::default()
    }
}

/// A tensor of `dtype` with `raw_data` from each value's little-endian bytes.
fn le_raw<T: Copy, const W: usize>(
    name: &str,
    dtype: i32,
    dims: &[i64],
    v: &[T],
    bytes: fn(T) -> [u8; W],
) -> TensorProto {
    raw(
        name,
        dtype,
        dims,
        v.iter().flat_map(|&x| bytes(x)).collect(),
    )
}
pub fn f32_raw(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    le_raw(name, id::FLOAT, dims, v, f32::to_le_bytes)
}
pub fn f32_typed(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    TensorProto {
        float_data: v.to_vec(),
        ..raw(name, id::FLOAT, dims, vec![])
    }
}
pub fn f64_raw(name: &str, dims: &[i64], v: &[f64]) -> TensorProto {
    le_raw(name, id::DOUBLE, dims, v, f64::to_le_bytes)
}
pub fn f64_typed(name: &str, dims: &[i64], v: &[f64]) -> TensorProto {
    TensorProto {
        double_data: v.to_vec(),
        ..raw(name, id::DOUBLE, dims, vec![])
    }
}
/// `x → Conv(DequantizeLinear(wq, s, zp; axis 0)) → y`: the QDQ pattern of a per-channel int8
/// conv (onnx-weights.md §5.1), with the tensors named `wq`, `s` and `zp`.
pub fn qdq_conv(wq: TensorProto, s: TensorProto, zp: TensorProto) -> Graph {
    Graph::new("g")
        .input("x")
        .init(wq)
        .init(s)
        .init(zp)
        .node_with(
            "DequantizeLinear",
            "dq",
            &["wq", "s", "zp"],
            &["w"],
            vec![a_int("axis", 0)],
        )
        .node("Conv", "conv", &["x", "w"], &["y"])
}

/// A 16-bit float tensor from the bit patterns `bits` gives for each value (f16 or bf16).
fn half_raw(name: &str, dtype: i32, dims: &[i64], v: &[f32], bits: fn(f32) -> u16) -> TensorProto {
    let b = v.iter().flat_map(|&x| bits(x).to_le_bytes()).collect();
    raw(name, dtype, dims, b)
}
/// The same in the typed field: one bit pattern per `int32_data` entry.
fn half_typed(
    name: &str,
    dtype: i32,
    dims: &[i64],
    v: &[f32],
    bits: fn(f32) -> u16,
) -> TensorProto {
    TensorProto {
        int32_data: v.iter().map(|x| i32::from(bits(*x))).collect(),
        ..raw(name, dtype, dims, vec![])
    }
}
fn f16_bits(x: f32) -> u16 {
    half::f16::from_f32(x).to_bits()
}
fn bf16_bits(x: f32) -> u16 {
    half::bf16::from_f32(x).to_bits()
}
pub fn f16_raw(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    half_raw(name, id::FLOAT16, dims, v, f16_bits)
}
pub fn f16_typed(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    half_typed(name, id::FLOAT16, dims, v, f16_bits)
}
pub fn bf16_raw(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    half_raw(name, id::BFLOAT16, dims, v, bf16_bits)
}
pub fn bf16_typed(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    half_typed(name, id::BFLOAT16, dims, v, bf16_bits)
}
pub fn i8_raw(name: &str, dims: &[i64], v: &[i8]) -> TensorProto {
    raw(name, id::INT8, dims, v.iter().map(|&x| x as u8).collect())
}
pub fn i8_typed(name: &str, dims: &[i64], v: &[i8]) -> TensorProto {
    TensorProto {
        int32_data: v.iter().map(|&x| x as i32).collect(),
        ..raw(name, id::INT8, dims, vec![])
    }
}
pub fn u8_raw(name: &str, dims: &[i64], v: &[u8]) -> TensorProto {
    raw(name, id::UINT8, dims, v.to_vec())
}
pub fn i64_typed(name: &str, dims: &[i64], v: &[i64]) -> TensorProto {
    TensorProto {
        int64_data: v.to_vec(),
        ..raw(name, id::INT64, dims, vec![])
    }
}
/// A tensor whose payload lives in an external file next to the model.
pub fn external(name: &str, dtype: i32, dims: &[i64], kv: &[(&str, &str)]) -> TensorProto {
    TensorProto {
        data_location: Some(1),
        external_data: kv
            .iter()
            .map(|(k, v)| StringStringEntryProto {
                key: k.to_string(),
                value: v.to_string(),
            })
            .collect(),
        ..raw(name, dtype, dims, vec![])
    }
}

/// `n` values 1, 2, 3, … as f32 (easy to check by hand).
pub fn iota(n: usize) -> Vec<f32> {
    (1..=n).map(|i| i as f32).collect()
}

fn attr(name: &str, ty: AttributeType) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: ty as i32,
        ..Default::default()
    }
}
pub fn a_int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        i: v,
        ..attr(name, AttributeType::Int)
    }
}
pub fn a_float(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        f: v,
        ..attr(name, AttributeType::Float)
    }
}
pub fn a_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        ints: v.to_vec(),
        ..attr(name, AttributeType::Ints)
    }
}
pub fn a_floats(name: &str, v: &[f32]) -> AttributeProto {
    AttributeProto {
        floats: v.to_vec(),
        ..attr(name, AttributeType::Floats)
    }
}
pub fn a_tensor(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto {
        t: Some(t),
        ..attr(name, AttributeType::Tensor)
    }
}
pub fn a_graph(name: &str, g: GraphProto) -> AttributeProto {
    AttributeProto {
        g: Some(g),
        ..attr(name, AttributeType::Graph)
    }
}

/// Builds one graph.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub g: GraphProto,
}

impl Graph {
    pub fn new(name: &str) -> Self {
        Graph {
            g: GraphProto {
                name: name.into(),
                ..Default::default()
            },
        }
    }
    pub fn input(mut self, name: &str) -> Self {
        self.g.input.push(ValueInfoProto {
            name: name.into(),
            ..Default::default()
        });
        self
    }
    pub fn output(mut self, name: &str) -> Self {
        self.g.output.push(ValueInfoProto {
            name: name.into(),
            ..Default::default()
        });
        self
    }
    pub fn init(mut self, t: TensorProto) -> Self {
        self.g.initializer.push(t);
        self
    }
    pub fn node(self, op: &str, name: &str, inputs: &[&str], outputs: &[&str]) -> Self {
        self.node_with(op, name, inputs, outputs, vec![])
    }
    pub fn node_with(
        mut self,
        op: &str,
        name: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: Vec<AttributeProto>,
    ) -> Self {
        self.g.node.push(NodeProto {
            op_type: op.into(),
            name: name.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute: attrs,
            ..Default::default()
        });
        self
    }
    /// A node in another domain (e.g. `com.microsoft`).
    pub fn node_in(
        mut self,
        domain: &str,
        op: &str,
        name: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: Vec<AttributeProto>,
    ) -> Self {
        self = self.node_with(op, name, inputs, outputs, attrs);
        if let Some(n) = self.g.node.last_mut() {
            n.domain = domain.into();
        }
        self
    }
    /// `Constant` node with a `value` tensor.
    pub fn constant(self, out: &str, t: TensorProto) -> Self {
        self.node_with("Constant", "", &[], &[out], vec![a_tensor("value", t)])
    }
    pub fn build(self) -> GraphProto {
        self.g
    }
    /// A model with opset 17 (and com.microsoft 1).
    pub fn model(self) -> ModelProto {
        self.model_opset(17)
    }
    pub fn model_opset(self, opset: i64) -> ModelProto {
        ModelProto {
            ir_version: 8,
            producer_name: "tailwatch-testkit".into(),
            producer_version: "1".into(),
            opset_import: vec![
                OperatorSetIdProto {
                    domain: String::new(),
                    version: opset,
                },
                OperatorSetIdProto {
                    domain: "com.microsoft".into(),
                    version: 1,
                },
            ],
            graph: Some(self.g),
            ..Default::default()
        }
    }
}

pub fn encode(m: &ModelProto) -> Vec<u8> {
    m.encode_to_vec()
}

/// Write `m` as `dir/file` and return the path.
pub fn write(dir: &Path, file: &str, m: &ModelProto) -> std::io::Result<PathBuf> {
    let p = dir.join(file);
    std::fs::write(&p, encode(m))?;
    Ok(p)
}

/// Read an ONNX file into its protobuf form (for tests that derive variants of real models).
pub fn read(path: &Path) -> std::io::Result<ModelProto> {
    let bytes = std::fs::read(path)?;
    ModelProto::decode(bytes.as_slice())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// The float32 weights (`raw_data` or `float_data`) with at least two dimensions (Conv/Gemm/MatMul weights;
/// biases are 1-D), in file order: initializers of the main graph, then `Constant` nodes'
/// `value` tensors (named by the node's output), as some exporters store every weight.
pub fn weight_names(m: &ModelProto) -> Vec<String> {
    weights(m).into_iter().map(|(n, _)| n).collect()
}

/// As `weight_names`, with each weight's stored dims.
pub fn weights(m: &ModelProto) -> Vec<(String, Vec<i64>)> {
    let Some(g) = m.graph.as_ref() else {
        return vec![];
    };
    let inits = (g.initializer.iter())
        .filter(|t| is_f32_weight(t))
        .map(|t| (t.name.clone(), t.dims.clone()));
    let consts = g.node.iter().filter_map(|n| {
        let t = constant_value(n)?;
        Some((n.output.first()?.clone(), t.dims.clone()))
    });
    inits.chain(consts).collect()
}

fn is_f32_weight(t: &TensorProto) -> bool {
    t.data_type == id::FLOAT
        && t.dims.len() >= 2
        && (!t.raw_data.is_empty() || !t.float_data.is_empty())
}

/// The `value` tensor of a `Constant` node, when it is a float32 weight.
fn constant_value(n: &NodeProto) -> Option<&TensorProto> {
    if n.op_type != "Constant" {
        return None;
    }
    let a = n.attribute.iter().find(|a| a.name == "value")?;
    a.t.as_ref().filter(|t| is_f32_weight(t))
}

/// Rewrite the values of the float32 weight `name` (all weights when `name` is None); `f` gets
/// the stored dims and the values, row-major.
pub fn map_weights(m: &mut ModelProto, name: Option<&str>, mut f: impl FnMut(&[i64], &mut [f32])) {
    let Some(g) = m.graph.as_mut() else { return };
    // Values stay where they were stored: `raw_data`, or the typed `float_data`.
    let mut apply = |t: &mut TensorProto| {
        if t.raw_data.is_empty() {
            f(&t.dims, &mut t.float_data);
            return;
        }
        let mut v: Vec<f32> = t
            .raw_data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        f(&t.dims, &mut v);
        t.raw_data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    };
    for t in g.initializer.iter_mut() {
        if is_f32_weight(t) && name.is_none_or(|n| n == t.name) {
            apply(t);
        }
    }
    for n in g.node.iter_mut() {
        let out = n.output.first().cloned().unwrap_or_default();
        if constant_value(n).is_none() || name.is_some_and(|x| x != out) {
            continue;
        }
        if let Some(t) = (n.attribute.iter_mut())
            .find(|a| a.name == "value")
            .and_then(|a| a.t.as_mut())
        {
            apply(t);
        }
    }
}

/// The one seeded random generator of tests, benches and examples: ChaCha8 from a `u64` seed,
/// so a seed names the same stream on every platform and `rand` version; normal draws by
/// Box–Muller, independent of any library's sampler. Not the product's generator
/// (`metrics::randomize`).
pub struct TestRng {
    rng: rand_chacha::ChaCha8Rng,
    spare: Option<f64>,
}

impl TestRng {
    pub fn new(seed: u64) -> Self {
        use rand_core::SeedableRng;
        TestRng {
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed),
            spare: None,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        use rand_core::Rng;
        self.rng.next_u64()
    }

    /// An index in 0..n (0 when n = 0); the modulo bias is negligible for test sizes.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform on (0, 1), never 0 or 1: 53 random bits, shifted off zero so that ln() is finite.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Uniform on (lo, hi).
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let (u, v) = (self.uniform(), self.uniform());
        let r = (-2.0 * u.ln()).sqrt();
        let t = std::f64::consts::TAU * v;
        self.spare = Some(r * t.sin());
        r * t.cos()
    }

    /// Symmetric Pareto with tail index `tail` (density ∝ |x|^−(tail+1) beyond the unit
    /// offset), times `scale`: heavy-tailed like trained weights.
    pub fn symmetric_pareto(&mut self, tail: f64, scale: f64) -> f64 {
        let u = self.uniform();
        let sign = if self.uniform() < 0.5 { -1.0 } else { 1.0 };
        sign * (u.powf(-1.0 / tail) - 1.0) * scale
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// `n` standard normal draws as f32.
    pub fn normals(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.normal() as f32).collect()
    }
}

/// Replace every float32 weight by He/Kaiming-normal values, N(0, 2/fan_in) with fan_in the
/// product of all but the first stored dimension: what the model held before training.
pub fn randomize_he(m: &mut ModelProto, seed: u64) {
    let mut g = TestRng::new(seed);
    map_weights(m, None, |dims, v| {
        let fan_in: i64 = dims.iter().skip(1).product();
        let sd = (2.0 / fan_in.max(1) as f64).sqrt();
        v.iter_mut().for_each(|x| *x = (g.normal() * sd) as f32);
    });
}

/// Make weight `name` rank ≤ `rank` along its first dimension: output row i becomes row
/// i mod `rank` (so every kernel-position slice of a conv collapses too).
pub fn collapse_rank(m: &mut ModelProto, name: &str, rank: usize) {
    let rank = rank.max(1);
    map_weights(m, Some(name), |dims, v| {
        let rows = dims.first().copied().unwrap_or(1).max(1) as usize;
        let width = v.len() / rows;
        for i in rank..rows {
            let src = (i % rank) * width;
            v.copy_within(src..src + width, i * width);
        }
    });
}

/// Put a NaN into weight `name`.
pub fn poison_nan(m: &mut ModelProto, name: &str) {
    map_weights(m, Some(name), |_, v| {
        if let Some(x) = v.first_mut() {
            *x = f32::NAN;
        }
    });
}

/// Symmetric uniform quantization of every weight to `bits` bits with one scale per tensor
/// (max |w| / (2^(bits−1) − 1)), then back to float: a crude export that moves the norms.
pub fn fake_quantize(m: &mut ModelProto, bits: u32) {
    map_weights(m, None, |_, v| {
        let levels = ((1u32 << (bits.clamp(2, 16) - 1)) - 1) as f32;
        let max = v.iter().fold(0f32, |a, x| a.max(x.abs()));
        if max > 0.0 {
            let s = max / levels;
            v.iter_mut().for_each(|x| *x = (*x / s).round() * s);
        }
    });
}

/// `n` seeded values uniform on (−1, 1), for weights with a real spectrum.
pub fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = TestRng::new(seed);
    (0..n).map(|_| rng.uniform_in(-1.0, 1.0) as f32).collect()
}

/// Small valid models covering the op-aware walk: fuzzing seeds and sweep inputs. External data
/// references name `w.bin` (at least 4096 bytes) next to the model.
pub fn seed_models() -> Vec<(&'static str, ModelProto)> {
    let mm = |t: TensorProto| {
        Graph::new("g")
            .input("x")
            .init(t)
            .node("MatMul", "mm", &["x", "w"], &["y"])
            .output("y")
            .model()
    };
    let sub = Graph::new("then")
        .node("Conv", "inner", &["x", "w"], &["y"])
        .build();
    vec![
        ("matmul_f32", mm(f32_raw("w", &[16, 12], &noise(192, 1)))),
        (
            "matmul_typed",
            mm(f32_typed("w", &[12, 16], &noise(192, 2))),
        ),
        ("matmul_f16", mm(f16_raw("w", &[16, 12], &noise(192, 3)))),
        (
            "matmul_bf16",
            mm(bf16_typed("w", &[16, 12], &noise(192, 4))),
        ),
        ("matmul_f64", mm(f64_typed("w", &[12, 12], &[0.5; 144]))),
        (
            "matmul_external",
            mm(external(
                "w",
                id::FLOAT,
                &[16, 16],
                &[("location", "w.bin"), ("offset", "0"), ("length", "1024")],
            )),
        ),
        (
            "gemm_conv_bn",
            Graph::new("g")
                .input("x")
                .init(f32_raw("cw", &[8, 4, 3, 3], &noise(288, 5)))
                .init(f32_raw("g", &[8], &[1.0; 8]))
                .init(f32_raw("b", &[8], &[0.0; 8]))
                .init(f32_raw("m", &[8], &[0.0; 8]))
                .init(f32_raw("v", &[8], &[1.0; 8]))
                .init(f32_raw("fw", &[10, 72], &noise(720, 6)))
                .node("Conv", "conv", &["x", "cw"], &["c"])
                .node(
                    "BatchNormalization",
                    "bn",
                    &["c", "g", "b", "m", "v"],
                    &["d"],
                )
                .node("Flatten", "", &["d"], &["f"])
                .node_with("Gemm", "fc", &["f", "fw"], &["y"], vec![a_int("transB", 1)])
                .output("y")
                .model(),
        ),
        (
            "folded_transpose_cast",
            Graph::new("g")
                .input("x")
                .init(f32_raw("w", &[6, 10], &noise(60, 7)))
                .init(i64_typed("shape", &[2], &[10, 6]))
                .node("Transpose", "t", &["w"], &["wt"])
                .node_with("Cast", "c", &["wt"], &["wh"], vec![a_int("to", 10)])
                .node("Reshape", "r", &["wh", "shape"], &["wr"])
                .node("MatMul", "mm", &["x", "wr"], &["y"])
                .model(),
        ),
        (
            "qdq_conv",
            qdq_conv(
                i8_raw("wq", &[4, 2, 3, 3], &[3; 72]),
                f32_raw("s", &[4], &[0.1, 0.2, 0.3, 0.4]),
                i8_raw("zp", &[4], &[0, 1, 0, -1]),
            )
            .model(),
        ),
        (
            "if_subgraph_constant",
            Graph::new("g")
                .input("x")
                .input("c")
                .init(f32_raw("w", &[4, 4, 1, 1], &noise(16, 8)))
                .constant("k", f32_raw("kv", &[8, 8], &noise(64, 9)))
                .node("MatMul", "", &["x", "k"], &["z"])
                .node_with(
                    "If",
                    "if",
                    &["c"],
                    &["y"],
                    vec![a_graph("then_branch", sub)],
                )
                .model(),
        ),
        (
            "concat_slice_unsqueeze",
            Graph::new("g")
                .input("x")
                .init(f32_raw("w", &[8, 4], &noise(32, 10)))
                .init(i64_typed("s0", &[1], &[0]))
                .init(i64_typed("e1", &[1], &[4]))
                .init(i64_typed("end", &[1], &[8]))
                .init(i64_typed("ax0", &[1], &[0]))
                .node("Slice", "", &["w", "s0", "e1"], &["a"])
                .node("Slice", "", &["w", "e1", "end"], &["b"])
                .node_with("Concat", "", &["b", "a"], &["cat"], vec![a_int("axis", 0)])
                .node("Unsqueeze", "", &["cat", "ax0"], &["u"])
                .node("MatMul", "mm", &["x", "u"], &["y"])
                .model(),
        ),
        (
            "constant_of_shape",
            Graph::new("g")
                .input("x")
                .init(i64_typed("shape", &[2], &[6, 6]))
                .node_with(
                    "ConstantOfShape",
                    "",
                    &["shape"],
                    &["w"],
                    vec![a_tensor("value", f32_raw("v", &[1], &[0.5]))],
                )
                .node("MatMul", "mm", &["x", "w"], &["y"])
                .model(),
        ),
    ]
}

#[cfg(test)]
#[path = "lib_tests.rs"]
mod tests;

/// Make a FIFO (named pipe) at `p`, for the tests that check special files never block.
pub fn mkfifo(p: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).expect("a path without NUL");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a directory entry.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {p:?}"
    );
}
