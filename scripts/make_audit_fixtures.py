#!/usr/bin/env python3
"""Generate the ONNX fixtures of tailwatch's one-model audit report tests.

Purpose: the audit report (one model in, one report out) must be tested on the shape of model
people actually audit, an onnxruntime-genai style int4 LLM export, and on the two degenerate
cases it has to report honestly rather than crash on: a model with no weight layer at all, and a
model whose only weights are too small to analyze. This script writes, deterministically:

  tiny_llm_int4.onnx  a tiny decoder-only transformer (vocab 512, d_model 128, 2 pre-LayerNorm
                      blocks with 4-head attention and a GELU MLP, final LayerNorm, LM head),
                      built in float32 with onnx.helper and then quantized by onnxruntime's own
                      MatMulNBitsQuantizer (4 bits, block 32, asymmetric, accuracy_level 4): every
                      constant-weight MatMul becomes com.microsoft:MatMulNBits and the token
                      embedding becomes com.microsoft:GatherBlockQuantized, as in real int4
                      exports. The float weights are made to look trained, not iid-random, so
                      their spectra have heavy tails and outliers: W = bulk/sqrt(fan_in) + a
                      low-rank part sum_k s_k u_k v_k^T (3-8 spikes of decaying strength), where
                      the bulk mixes Gaussian and Student-t (df 3) entries.
  no_weights.onnx     x -> Relu -> Add (scalar constant) -> y: a valid model with no weight layer.
  all_tiny.onnx       x -> MatMul [4,3] -> Relu -> MatMul [3,2] -> y: its only weights have 3 and 2
                      eigenvalues, fewer than tailwatch's default min_evals (8), so every layer is
                      skipped by the size filter.

Every file is checked with onnx.checker.check_model and run by onnxruntime (CPUExecutionProvider);
the int4 model on input_ids of shape [1, 8]. OUT_DIR/README.md is rewritten with what each file
is, how it was made (command and package versions) and each file's sha256.

Usage:
    python3 scripts/make_audit_fixtures.py [OUT_DIR]        (default: tests/data/audit)

Needs, offline, CPU only:
    pip install onnx==1.23.2 onnxruntime==1.32.0 onnx_ir==1.1.0 numpy
(onnx_ir is imported by onnxruntime's quantizer, not by this script). The run is deterministic:
the same versions give byte-identical files (every tensor's RNG is numpy's default_rng seeded from
a fixed seed and the tensor's name; onnxruntime and BLAS run single-threaded). Other versions run
but may not reproduce the committed bytes. It writes only inside OUT_DIR.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import collections  # noqa: E402
import hashlib  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer  # noqa: E402

# matmul_nbits_quantizer calls logging.basicConfig(level=INFO) on import and logs every node.
logging.getLogger().setLevel(logging.CRITICAL)
for _name in list(logging.root.manager.loggerDict):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

SEED = 20250611
PINNED = {"onnx": "1.23.2", "onnxruntime": "1.32.0", "onnx_ir": "1.1.0"}
OPSET = 21  # int4 tensors (GatherBlockQuantized data) need opset 21 / IR 10; the quantizer would force it
IR_VERSION = 10
MS = "com.microsoft"
PRODUCER = "tailwatch scripts/make_audit_fixtures.py"
DEFAULT_OUT = Path("tests/data/audit")

# tiny LLM shape
VOCAB, D_MODEL, N_HEADS, D_FF, N_LAYERS = 512, 128, 4, 512, 2
D_HEAD = D_MODEL // N_HEADS
# quantizer options, as the onnxruntime-genai builder uses them for int4 CPU exports
BITS, BLOCK_SIZE, SYMMETRIC, ACCURACY_LEVEL = 4, 32, False, 4
DUMMY_IDS_SHAPE = (1, 8)

F32 = np.float32


# --------------------------------------------------------------------------------------------
# helpers


def rng_for(name: str) -> np.random.Generator:
    """numpy's default_rng seeded from SEED and the tensor's name (independent of build order)."""
    digest = hashlib.sha256(f"{SEED}:{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def trained_weight(name: str, fan_in: int, fan_out: int) -> np.ndarray:
    """A [fan_in, fan_out] float32 matrix that looks trained rather than iid-random.

    bulk: 0.6·Gaussian + 0.8·Student-t(df 3)/sqrt(3) (unit variance, heavy-tailed entries), / sqrt(fan_in);
    plus a low-rank part sum_k s_k u_k v_k^T with 3-8 orthonormal spike directions whose strengths
    decay as k^-0.8 from 3x the bulk's edge (1 + sqrt(fan_out/fan_in)), so the leading ones stand
    out of the Marchenko-Pastur bulk and the trailing ones merge into it.
    """
    rng = rng_for(name)
    g = rng.standard_normal((fan_in, fan_out))
    t = rng.standard_t(3.0, size=(fan_in, fan_out)) / np.sqrt(3.0)
    w = (0.6 * g + 0.8 * t) / np.sqrt(fan_in)
    rank = min(int(rng.integers(3, 9)), fan_in, fan_out)  # 3..8 spikes (fewer for a tiny matrix)
    u, _ = np.linalg.qr(rng.standard_normal((fan_in, rank)))
    v, _ = np.linalg.qr(rng.standard_normal((fan_out, rank)))
    edge = 1.0 + np.sqrt(fan_out / fan_in)
    s = 3.0 * edge * np.arange(1, rank + 1, dtype=np.float64) ** -0.8
    w = w + (u * s) @ v.T
    return w.astype(F32)


def norm_params(name: str) -> tuple[np.ndarray, np.ndarray]:
    """LayerNormalization scale ~ 1 + small noise, bias ~ small noise."""
    rng = rng_for(name)
    gamma = 1.0 + 0.05 * rng.standard_normal(D_MODEL)
    beta = 0.02 * rng.standard_normal(D_MODEL)
    return gamma.astype(F32), beta.astype(F32)


def vi(name, elem_type, shape):
    return helper.make_tensor_value_info(name, elem_type, shape)


def make_model(name, nodes, inputs, outputs, inits, doc):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION,
                              producer_name=PRODUCER)
    model.doc_string = doc
    return model


def session(model_bytes: bytes) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def op_counts(model) -> dict[str, int]:
    c = collections.Counter((f"{n.domain}:" if n.domain else "") + n.op_type for n in model.graph.node)
    return dict(sorted(c.items()))


def version_of(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


# --------------------------------------------------------------------------------------------
# the tiny LLM


class Graph:
    """Collects nodes and initializers; names follow the onnxruntime-genai builder's style."""

    def __init__(self):
        self.nodes, self.inits = [], []

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(self, op, inputs, name, **attrs):
        out = f"{name}/output_0"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def matmul(self, x, path, fan_in, fan_out):
        """A MatMul with a constant [fan_in, fan_out] weight: what the quantizer turns into MatMulNBits."""
        w = self.init(f"{path.strip('/').replace('/', '.')}.MatMul.weight", trained_weight(path, fan_in, fan_out))
        return self.node("MatMul", [x, w], f"{path}/MatMul")

    def layer_norm(self, x, path):
        gamma, beta = norm_params(path)
        prefix = path.strip("/").replace("/", ".")
        return self.node("LayerNormalization", [x, self.init(f"{prefix}.weight", gamma),
                                                self.init(f"{prefix}.bias", beta)],
                         f"{path}/LayerNorm", axis=-1, epsilon=1e-5)


def float_llm() -> onnx.ModelProto:
    """input_ids[batch, seq] (int64) -> logits[batch, seq, VOCAB] (float32), float32 weights."""
    g = Graph()
    g.init("heads_shape", np.array([0, 0, N_HEADS, D_HEAD], np.int64))
    g.init("model_shape", np.array([0, 0, D_MODEL], np.int64))
    g.init("attn_scale", np.array(1.0 / np.sqrt(D_HEAD), F32))

    emb = g.init("model.embed_tokens.weight", trained_weight("/model/embed_tokens", VOCAB, D_MODEL))
    h = g.node("Gather", [emb, "input_ids"], "/model/embed_tokens/Gather", axis=0)

    for i in range(N_LAYERS):
        p = f"/model/layers.{i}"
        x = g.layer_norm(h, f"{p}/input_layernorm")
        heads = {}
        for proj, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
            y = g.matmul(x, f"{p}/attn/{proj}_proj", D_MODEL, D_MODEL)
            y = g.node("Reshape", [y, "heads_shape"], f"{p}/attn/{proj}_proj/Reshape")
            heads[proj] = g.node("Transpose", [y], f"{p}/attn/{proj}_proj/Transpose", perm=perm)
        # scores = Q·Kᵀ/sqrt(d_head): MatMuls between activations, no constant weight
        s = g.node("MatMul", [heads["q"], heads["k"]], f"{p}/attn/qk/MatMul")
        s = g.node("Mul", [s, "attn_scale"], f"{p}/attn/qk/Mul")
        s = g.node("Softmax", [s], f"{p}/attn/Softmax", axis=-1)
        a = g.node("MatMul", [s, heads["v"]], f"{p}/attn/sv/MatMul")
        a = g.node("Transpose", [a], f"{p}/attn/sv/Transpose", perm=[0, 2, 1, 3])
        a = g.node("Reshape", [a, "model_shape"], f"{p}/attn/sv/Reshape")
        a = g.matmul(a, f"{p}/attn/o_proj", D_MODEL, D_MODEL)
        h = g.node("Add", [h, a], f"{p}/attn/residual/Add")

        x = g.layer_norm(h, f"{p}/post_attention_layernorm")
        m = g.matmul(x, f"{p}/mlp/up_proj", D_MODEL, D_FF)
        m = g.node("Gelu", [m], f"{p}/mlp/act_fn/Gelu")
        m = g.matmul(m, f"{p}/mlp/down_proj", D_FF, D_MODEL)
        h = g.node("Add", [h, m], f"{p}/mlp/residual/Add")

    x = g.layer_norm(h, "/model/norm")
    logits = g.matmul(x, "/lm_head", D_MODEL, VOCAB)
    g.nodes.append(helper.make_node("Identity", [logits], ["logits"], name="/lm_head/Identity"))
    return make_model(
        "tiny_llm", g.nodes,
        [vi("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"])],
        [vi("logits", TensorProto.FLOAT, ["batch_size", "sequence_length", VOCAB])],
        g.inits,
        f"Tiny decoder-only transformer (vocab {VOCAB}, d_model {D_MODEL}, {N_LAYERS} blocks, "
        f"{N_HEADS} heads, MLP {D_FF}) with synthetic heavy-tailed weights, int4 "
        f"(MatMulNBits / GatherBlockQuantized, block {BLOCK_SIZE}, asymmetric). Generated by {PRODUCER}.")


def tiny_llm_int4() -> tuple[onnx.ModelProto, onnx.ModelProto]:
    fl = float_llm()
    q = MatMulNBitsQuantizer(onnx.ModelProto.FromString(fl.SerializeToString()), bits=BITS,
                             block_size=BLOCK_SIZE, is_symmetric=SYMMETRIC, accuracy_level=ACCURACY_LEVEL,
                             op_types_to_quantize=("MatMul", "Gather"))
    q.process()
    model = q.model.model
    model.producer_name, model.producer_version = PRODUCER, ""
    return fl, model


# --------------------------------------------------------------------------------------------
# the degenerate models


def no_weights() -> onnx.ModelProto:
    nodes = [helper.make_node("Relu", ["x"], ["relu.out"], name="relu"),
             helper.make_node("Add", ["relu.out", "offset"], ["y"], name="add")]
    inits = [numpy_helper.from_array(np.array(0.5, F32), "offset")]
    return make_model("no_weights", nodes, [vi("x", TensorProto.FLOAT, ["batch", 16])],
                      [vi("y", TensorProto.FLOAT, ["batch", 16])], inits,
                      f"x -> Relu -> Add(0.5) -> y: no weight layer. Generated by {PRODUCER}.")


def all_tiny() -> onnx.ModelProto:
    inits = [numpy_helper.from_array(trained_weight("fc0", 4, 3), "fc0.weight"),
             numpy_helper.from_array(trained_weight("fc1", 3, 2), "fc1.weight")]
    nodes = [helper.make_node("MatMul", ["x", "fc0.weight"], ["fc0.out"], name="fc0"),
             helper.make_node("Relu", ["fc0.out"], ["relu0.out"], name="relu0"),
             helper.make_node("MatMul", ["relu0.out", "fc1.weight"], ["y"], name="fc1")]
    return make_model("all_tiny", nodes, [vi("x", TensorProto.FLOAT, ["batch", 4])],
                      [vi("y", TensorProto.FLOAT, ["batch", 2])], inits,
                      f"x -> MatMul [4,3] -> Relu -> MatMul [3,2] -> y: only weights too small to "
                      f"analyze (3 and 2 eigenvalues). Generated by {PRODUCER}.")


# --------------------------------------------------------------------------------------------
# checks


def check_and_run(name: str, data: bytes, feed: dict, out_shape: tuple) -> np.ndarray:
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model)
    out = session(data).run(None, feed)[0]
    if out.shape != out_shape or not np.all(np.isfinite(out)):
        raise SystemExit(f"{name}: onnxruntime output has shape {out.shape} (want {out_shape}) "
                         f"or non-finite values")
    return out


def weight_summary(model) -> list[str]:
    """The quantized nodes and their attributes, for the README."""
    rows = []
    for n in model.graph.node:
        if n.domain == MS:
            attrs = ", ".join(f"{a.name}={helper.get_attribute_value(a)}" for a in n.attribute)
            rows.append(f"| `{n.name}` | `{n.op_type}` | {attrs} |")
    return rows


# --------------------------------------------------------------------------------------------
# README


def readme(files: dict[str, bytes], counts: dict[str, dict], qrows: list[str], rel_err: float) -> str:
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": ort.__version__,
        "onnx_ir": version_of("onnx_ir"),
        "protobuf": version_of("protobuf"),
        "ml_dtypes": version_of("ml_dtypes"),
    }
    size_sha = "\n".join(
        f"| `{f}` | {len(b):,} | `{hashlib.sha256(b).hexdigest()}` |" for f, b in files.items())
    ops = "\n".join(
        f"| `{f}` | " + ", ".join(f"{k} {v}" for k, v in c.items()) + " |" for f, c in counts.items())
    vers = "\n".join(f"| {k} | {v} |" for k, v in versions.items())
    qtable = "\n".join(qrows)
    return f"""# Audit report fixtures

Small, deterministic ONNX models for the tests of tailwatch's one-model audit report. They are
committed so that `cargo test` needs no Python. This README is written by the generator.

## Files

| file | what it is |
|---|---|
| `tiny_llm_int4.onnx` | A tiny decoder-only transformer in the form of an onnxruntime-genai int4 export: `input_ids` [batch, seq] int64 → `logits` [batch, seq, {VOCAB}] float32. Token embedding {VOCAB}×{D_MODEL} (`GatherBlockQuantized`), {N_LAYERS} pre-LayerNorm blocks, each with Q/K/V/O projections {D_MODEL}×{D_MODEL}, {N_HEADS}-head attention without a causal mask (Q·Kᵀ and the product with V are MatMuls between activations, without a constant weight), an MLP {D_MODEL}×{D_FF} → Gelu → {D_FF}×{D_MODEL}, residual Adds; final LayerNorm and an LM head {D_MODEL}×{VOCAB}. Every constant-weight MatMul is `com.microsoft:MatMulNBits` (4 bits, block {BLOCK_SIZE}, asymmetric with packed uint4 zero points, accuracy_level {ACCURACY_LEVEL}). {6 * N_LAYERS + 2} weight layers: {6 * N_LAYERS + 1} MatMulNBits (6 per block and the LM head) + the embedding. |
| `no_weights.onnx` | `x` [batch, 16] → Relu → Add (a scalar constant 0.5) → `y`: a valid model with no weight layer at all. |
| `all_tiny.onnx` | `x` [batch, 4] → MatMul 4×3 → Relu → MatMul 3×2 → `y`: its only weights have 3 and 2 eigenvalues, fewer than the default `min_evals` (8), so both are skipped by the size filter. |

Besides the quantized weights, `tiny_llm_int4.onnx` holds only tensors that are not weight layers:
the LayerNormalization scales and biases (1-D, {D_MODEL}), the int64 shapes of the head Reshapes and the
scalar 1/√{D_HEAD} of the attention Mul. Its 4 plain `MatMul` nodes are the Q·Kᵀ and scores·V
products, with no constant input.

The weights are synthetic but made to look trained rather than iid-random, so that the spectra have
heavy tails and outliers: for a weight of fan-in K and fan-out N,
W = (0.6·G + 0.8·T/√3)/√K + Σₖ sₖ uₖ vₖᵀ, with G Gaussian, T Student-t (df 3) entries, 3–8
orthonormal spike pairs (uₖ, vₖ) and sₖ = 3·(1 + √(N/K))·k^-0.8 (the leading spikes stand out of
the Marchenko–Pastur bulk, the trailing ones merge into it). Each tensor's numbers come from
numpy's `default_rng` seeded from a fixed seed ({SEED}) and the tensor's name. LayerNorm scales are
1 + 0.05·Gaussian, biases 0.02·Gaussian.

Node and tensor names follow the onnxruntime-genai builder's style (`/model/layers.0/attn/q_proj/MatMul_Q4`,
`model.layers.0.attn.q_proj.MatMul.weight_Q4`, `…_scales`, `…_zero_points`); the quantizer appends
`_Q4` to node and weight names.

Sizes and hashes:

| file | bytes | sha256 |
|---|---|---|
{size_sha}

Node op types:

| file | op type: count |
|---|---|
{ops}

Quantized nodes of `tiny_llm_int4.onnx`:

| node | op | attributes |
|---|---|---|
{qtable}

## How they were made

```sh
pip install onnx=={PINNED['onnx']} onnxruntime=={PINNED['onnxruntime']} onnx_ir=={PINNED['onnx_ir']} numpy
python3 scripts/make_audit_fixtures.py [OUT_DIR]     # default tests/data/audit
```

The float model is built with `onnx.helper` (opset {OPSET}, IR version {IR_VERSION}); the int4 model is
that model passed through `onnxruntime.quantization.matmul_nbits_quantizer.MatMulNBitsQuantizer(bits={BITS},
block_size={BLOCK_SIZE}, is_symmetric={SYMMETRIC}, accuracy_level={ACCURACY_LEVEL},
op_types_to_quantize=("MatMul", "Gather"))`. The script checks every file with
`onnx.checker.check_model` and runs it with onnxruntime (CPUExecutionProvider); the int4 model on
input_ids of shape {list(DUMMY_IDS_SHAPE)}, whose logits differ from the float model's by
{rel_err:.3f} (relative Frobenius norm; each int4 weight alone is about 9 % off its float source, and
the peaked attention of these synthetic weights amplifies that). It runs offline on the CPU in
a few seconds and is deterministic: two runs give byte-identical files (checked with `sha256sum`).
It rewrites the three `.onnx` files and this README in OUT_DIR and writes nothing else.

Versions used for the committed files (other versions run but may not reproduce these bytes;
`onnx_ir` and `ml_dtypes` are used by onnxruntime's quantizer and by onnx):

| package | version |
|---|---|
{vers}

## Licence

All files here were generated by `scripts/make_audit_fixtures.py` in this repository from seeded
random numbers; they contain no third-party model, weights or data and are under the repository's
licence. onnxruntime (MIT licence, © Microsoft Corporation) and onnx (Apache-2.0) were used as
tools to write and to run them; none of their code is included.
"""


# --------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    if len(argv) > 2:
        print("usage: python3 scripts/make_audit_fixtures.py [OUT_DIR]   (default: tests/data/audit)",
              file=sys.stderr)
        return 2
    out_dir = Path(argv[1]) if len(argv) == 2 else DEFAULT_OUT
    for pkg, want in PINNED.items():
        have = version_of(pkg)
        if have != want:
            print(f"warning: {pkg} {have} (the committed files were made with {want})", file=sys.stderr)

    fl, q = tiny_llm_int4()
    models = {"tiny_llm_int4.onnx": q, "no_weights.onnx": no_weights(), "all_tiny.onnx": all_tiny()}
    files = {f: m.SerializeToString() for f, m in models.items()}

    ids = (np.arange(np.prod(DUMMY_IDS_SHAPE), dtype=np.int64) * 37 % VOCAB).reshape(DUMMY_IDS_SHAPE)
    logits_q = check_and_run("tiny_llm_int4.onnx", files["tiny_llm_int4.onnx"], {"input_ids": ids},
                             (*DUMMY_IDS_SHAPE, VOCAB))
    logits_f = check_and_run("float model", fl.SerializeToString(), {"input_ids": ids}, (*DUMMY_IDS_SHAPE, VOCAB))
    rel_err = float(np.linalg.norm(logits_q - logits_f) / np.linalg.norm(logits_f))
    x16 = np.linspace(-1, 1, 32, dtype=F32).reshape(2, 16)
    y16 = check_and_run("no_weights.onnx", files["no_weights.onnx"], {"x": x16}, (2, 16))
    if not np.allclose(y16, np.maximum(x16, 0) + 0.5):
        raise SystemExit("no_weights.onnx: unexpected output")
    check_and_run("all_tiny.onnx", files["all_tiny.onnx"], {"x": np.ones((2, 4), F32)}, (2, 2))

    counts = {f: op_counts(m) for f, m in models.items()}
    need = {f"{MS}:MatMulNBits": 4 * N_LAYERS + 2 * N_LAYERS + 1, f"{MS}:GatherBlockQuantized": 1}
    if any(counts["tiny_llm_int4.onnx"].get(k) != v for k, v in need.items()):
        raise SystemExit(f"tiny_llm_int4.onnx: unexpected op counts {counts['tiny_llm_int4.onnx']}")

    out_dir.mkdir(parents=True, exist_ok=True)
    for f, data in files.items():
        (out_dir / f).write_bytes(data)
    text = readme(files, counts, weight_summary(q), rel_err)
    (out_dir / "README.md").write_text(text, encoding="utf-8")
    for f, data in files.items():
        print(f"{f}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}, {counts[f]}")
    print(f"int4 vs float logits: relative error {rel_err:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
