#!/usr/bin/env python3
"""Synthetic Llama-shaped int4 ONNX exports, laid out as onnxruntime-genai's model builder writes
them, for tailwatch's LLM-scale benchmark (benches/llm_int4.sh, docs/performance.md).

    llm_int4.py generate --shape {tiny,1b,8b} --out DIR [--seed S] [--scales fp32|fp16] [--asym] ...
    llm_int4.py check DIR/model.onnx [--nodes N]        # onnx.checker, one ORT forward, packing
    llm_int4.py bound --shape 1b [--gemm-gflops R]      # flop bound of the analysis, GEMM rate

`generate` writes DIR/model.onnx (graph only, a few hundred KB), DIR/model.onnx.data (every
tensor, one file, as the builder does) and DIR/manifest.json (shape, options, every tensor's
offset and size, the weight matrices, the generation time). What the builder's int4 recipe
writes, and what this file writes:

- every decoder block: q/k/v/o projections and the MLP's gate/up/down as com.microsoft
  `MatMulNBits` (K, N, bits=4, block_size=32, accuracy_level=4 for the CPU recipe, omitted for
  the fp16 one, as the builder does for CUDA); B uint8 [N, K/32, 16], two 4-bit values a byte,
  the low nibble first; scales [N, K/32] (float32, or float16 with --scales fp16; older
  onnxruntime quantizers wrote them flat, [N·K/32]: --scales-shape 1d); no zero points
  (symmetric), or with --asym packed uint8 zero points [N, ceil(K/32 / 2)], low nibble first;
- the builder's names: node `/model/layers.0/attn/q_proj/MatMul_Q4`, initializers
  `model.layers.0.attn.q_proj.MatMul.weight_Q4` and `…_scales` (`…_zero_points`), output
  `/model/layers.0/attn/q_proj/MatMul/output_0`; `--packed-qkv` writes one
  `attn/qkv_proj` MatMulNBits per block instead of three, as current builders do for GQA;
- embed_tokens as a float Gather (`model.embed_tokens.weight`), lm_head as MatMulNBits
  (`/lm_head/MatMul_Q4`, output `logits`); RMSNorm as SimplifiedLayerNormalization (first) and
  SkipSimplifiedLayerNormalization; attention as GroupQueryAttention with the rotary embedding
  inside (do_rotary=1, `cos_cache`/`sin_cache` initializers), seqlens_k and
  total_sequence_length from `attention_mask` as the builder computes them; SiLU as
  Sigmoid + Mul;
- float initializers first, then each MatMulNBits' tensors in node order (the builder's
  quantization pass appends them); offsets aligned to 4096 bytes (--align; 0 packs densely,
  as onnx_ir ≥ 1.1 does by default).

Weights: a seeded Gaussian float weight (std 0.02; numpy default_rng([seed, tensor index]), so
every tensor is reproducible on its own), quantized block by block by round-to-nearest:
`--rule max7` (default) scale = max|w|/7, q = clip(round(w/scale), -8, 7) + 8, scales positive;
`--rule mlas` the rule of onnxruntime's MLAS quantizer that the builder calls, scale =
(the block's value of largest magnitude, signed)/-8, q = clip(round(w/scale) + 8, 0, 15), so
about half the scales are negative; with --asym scale = (max(w, 0) - min(w, 0))/15,
zp = clip(round(-min/scale), 0, 15), q = clip(round(w/scale) + zp, 0, 15). The arithmetic is
MLAS's (w times the float32 reciprocal of the stored scale, halves rounded away from zero), so
with --rule mlas or --asym the bytes equal onnxruntime's quantize_matmul_4bits for the same
float weight, which `check --mlas` verifies. Generation streams
chunks of rows (≤ 16 Mi floats) straight to their offsets in the data file, so memory stays at
a few hundred MB whatever the shape. `--weights random` writes uniform random bytes and scales
|N(0,1)|·0.01 + 1e-3 instead (faster, spectra of uniform noise).

Needs numpy and onnx; `check` also needs onnxruntime.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

GENERATOR_VERSION = 1

# Llama 3.2 1B and Llama 3.1 8B shapes (hidden, MLP, heads of 64 / 128, 8 KV heads, 128256
# tokens, context 131072, rope theta 500000); `tiny` for checking the layout quickly.
SHAPES = {
    "tiny": dict(layers=2, hidden=64, mlp=128, heads=4, kv_heads=2, head=16, vocab=256, context=128,
                 theta=10000.0),
    "1b": dict(layers=16, hidden=2048, mlp=8192, heads=32, kv_heads=8, head=64, vocab=128256,
               context=131072, theta=500000.0),
    "8b": dict(layers=32, hidden=4096, mlp=14336, heads=32, kv_heads=8, head=128, vocab=128256,
               context=131072, theta=500000.0),
}

BLOCK = 32          # block_size, as the builder's int4 default
BITS = 4
BLOB = BLOCK * BITS // 8
CHUNK_ELEMS = 1 << 24
WEIGHT_STD = 0.02
RMS_EPS = 1e-5


# --------------------------------------------------------------------------------------------
# The model's weight matrices (shared by `generate` and `bound`)

@dataclass
class Matrix:
    """One weight matrix as its op sees it: MatMulNBits Y = A·W with W [K, N], or the Gather."""
    node: str           # node name
    weight: str         # initializer name stem
    op: str             # "MatMulNBits" or "Gather"
    K: int              # rows of W (MatMulNBits: input features; Gather: vocab)
    N: int              # columns of W


def matrices(shape: str, packed_qkv: bool = False) -> list[Matrix]:
    s = SHAPES[shape]
    h, kv, mlp = s["hidden"], s["kv_heads"] * s["head"], s["mlp"]
    q = s["heads"] * s["head"]
    out = [Matrix("/model/embed_tokens/Gather", "model.embed_tokens.weight", "Gather", s["vocab"], h)]
    for i in range(s["layers"]):
        projs = [("attn/qkv_proj", h, q + 2 * kv)] if packed_qkv else [
            ("attn/q_proj", h, q), ("attn/k_proj", h, kv), ("attn/v_proj", h, kv)]
        projs += [("attn/o_proj", q, h), ("mlp/gate_proj", h, mlp), ("mlp/up_proj", h, mlp),
                  ("mlp/down_proj", mlp, h)]
        for p, k, n in projs:
            base = f"/model/layers.{i}/{p}/MatMul"
            out.append(Matrix(base + "_Q4", base[1:].replace("/", ".") + ".weight", "MatMulNBits", k, n))
    out.append(Matrix("/lm_head/MatMul_Q4", "lm_head.MatMul.weight", "MatMulNBits", h, s["vocab"]))
    return out


def flops(k: int, n: int) -> dict:
    """Flops of one exact spectrum: Gram of the smaller side, then its eigenvalues."""
    m, big = min(k, n), max(k, n)
    return {"gram": 2.0 * big * m * m, "gram_lower": 1.0 * big * m * m, "eig": (4.0 / 3.0) * m ** 3 * 2}


# --------------------------------------------------------------------------------------------
# Quantization (chunks of rows of Wᵀ: row n = column n of W, the K values one B row packs)

def quantize(w: np.ndarray, scale_dtype, rule: str, asym: bool):
    """w float32 [r, K] → (B uint8 [r, K/32, 16], scales [r, K/32], zero points uint8 [r, ⌈kb/2⌉] or None).

    The arithmetic is MLAS's (onnxruntime's blockwise quantizer, which the builder calls):
    q = clamp(roundf(w · (1/scale) + zp), 0, 15) in float32, roundf rounding halves away from
    zero, the scale read back from its stored type (float16 too); the asymmetric zero point
    from the unrounded float32 scale. With --rule mlas or --asym the bytes equal
    onnxruntime's quantize_matmul_4bits for the same float weight (`check --mlas`)."""
    r, k = w.shape
    kb = k // BLOCK
    wb = w.reshape(r, kb, BLOCK)
    zp = None
    if asym:
        lo = np.minimum(wb.min(axis=2), 0.0)
        hi = np.maximum(wb.max(axis=2), 0.0)
        s32 = (hi - lo) / np.float32(15.0)
        nz = s32 != 0
        z = np.where(nz, -lo / np.where(nz, s32, 1), 0)
        z = _round_half_away(np.clip(z, 0, 15))
        scale = s32.astype(scale_dtype)
    else:
        if rule == "mlas":
            hi, lo = wb.max(axis=2), wb.min(axis=2)
            scale = (np.where(np.abs(hi) > np.abs(lo), hi, lo) / np.float32(-8.0)).astype(scale_dtype)
        else:
            scale = (np.abs(wb).max(axis=2) / np.float32(7.0)).astype(scale_dtype)
        z = np.float32(8.0)
    sf = scale.astype(np.float32)
    with np.errstate(divide="ignore"):
        rec = np.where(sf != 0, np.float32(1.0) / sf, np.float32(0.0)).astype(np.float32)
    q = wb * rec[..., None]
    q += z[..., None] if asym else z
    q = _round_half_away(q)
    np.clip(q, 0, 15, out=q)
    qu = q.astype(np.uint8)
    b = qu[..., 0::2] | (qu[..., 1::2] << 4)          # low nibble = even k, high nibble = odd k
    if asym:
        zq = z.astype(np.uint8)
        if kb % 2:
            zq = np.concatenate([zq, np.full((r, 1), 8, np.uint8)], axis=1)
        zp = np.ascontiguousarray(zq[:, 0::2] | (zq[:, 1::2] << 4))
    return np.ascontiguousarray(b), np.ascontiguousarray(scale), zp


def _round_half_away(q: np.ndarray) -> np.ndarray:
    """C's roundf: to nearest, halves away from zero (numpy's rint rounds them to even)."""
    t = np.trunc(q)
    f = q - t
    t += f >= 0.5
    t -= f <= -0.5
    return t


# --------------------------------------------------------------------------------------------
# Layout of the data file

@dataclass
class Tensor:
    name: str
    dtype: str              # numpy dtype name
    dims: list[int]
    role: str
    offset: int = 0
    nbytes: int = 0
    fill: object = None     # callable(fd, offset) writing exactly nbytes at offset
    seed_key: list | None = None    # default_rng key of the float weight it comes from


@dataclass
class Plan:
    tensors: list[Tensor] = field(default_factory=list)

    def add(self, t: Tensor) -> Tensor:
        t.nbytes = int(np.prod(t.dims, dtype=np.int64)) * np.dtype(t.dtype).itemsize
        self.tensors.append(t)
        return t

    def place(self, align: int) -> int:
        off = 0
        for t in self.tensors:
            if align and off % align:
                off += align - off % align
            t.offset = off
            off += t.nbytes
        return off


def write_rows(fd: int, offset: int, arr: np.ndarray):
    mv = memoryview(np.ascontiguousarray(arr)).cast("B")
    done = 0
    while done < len(mv):
        done += os.pwrite(fd, mv[done:], offset + done)


def float_filler(rows: int, cols: int, dtype, seed_key, std: float):
    def fill(fd, offset):
        rng = np.random.default_rng(seed_key)
        step = max(1, CHUNK_ELEMS // cols)
        item = np.dtype(dtype).itemsize
        for r0 in range(0, rows, step):
            r = min(step, rows - r0)
            w = rng.standard_normal((r, cols), dtype=np.float32)
            w *= std
            write_rows(fd, offset + r0 * cols * item, w.astype(dtype, copy=False))
    return fill


def const_filler(arr: np.ndarray):
    def fill(fd, offset):
        write_rows(fd, offset, arr)
    return fill


class QuantWriter:
    """Writes one MatMulNBits weight's B, scales and zero points chunk by chunk."""

    def __init__(self, k, n, scale_dtype, seed_key, weights, rule, asym):
        self.k, self.n, self.scale_dtype = k, n, scale_dtype
        self.seed_key, self.weights, self.rule, self.asym = seed_key, weights, rule, asym
        self.b = self.s = self.z = None   # the three Tensors, set by the planner

    def fill(self, fd, _offset):
        k, n = self.k, self.n
        kb = k // BLOCK
        zb = (kb + 1) // 2
        sitem = np.dtype(self.scale_dtype).itemsize
        rng = np.random.default_rng(self.seed_key)
        step = max(1, CHUNK_ELEMS // k)
        for n0 in range(0, n, step):
            r = min(step, n - n0)
            if self.weights == "random":
                b = rng.integers(0, 256, size=(r, kb, BLOB), dtype=np.uint8)
                s = (np.abs(rng.standard_normal((r, kb), dtype=np.float32)) * 0.01 + 1e-3).astype(self.scale_dtype)
                z = rng.integers(0, 256, size=(r, zb), dtype=np.uint8) if self.asym else None
            else:
                w = rng.standard_normal((r, k), dtype=np.float32)
                w *= WEIGHT_STD
                if self.scale_dtype == np.float16:
                    w = w.astype(np.float16).astype(np.float32)   # an fp16 model's weight is fp16
                b, s, z = quantize(w, self.scale_dtype, self.rule, self.asym)
            write_rows(fd, self.b.offset + n0 * kb * BLOB, b)
            write_rows(fd, self.s.offset + n0 * kb * sitem, s)
            if self.asym:
                write_rows(fd, self.z.offset + n0 * zb, z)

    @staticmethod
    def noop(fd, offset):
        pass


# --------------------------------------------------------------------------------------------
# Graph

def build(args):
    import onnx
    from onnx import TensorProto, helper

    s = SHAPES[args.shape]
    L, H, heads, kvh, hd = s["layers"], s["hidden"], s["heads"], s["kv_heads"], s["head"]
    fp16 = args.scales == "fp16"
    fdt = np.float16 if fp16 else np.float32
    fproto = TensorProto.FLOAT16 if fp16 else TensorProto.FLOAT
    acc = args.accuracy_level if args.accuracy_level is not None else (0 if fp16 else 4)
    plan = Plan()
    nodes, quant_tensors = [], []
    idx = [0]

    def seed_key():
        idx[0] += 1
        return [args.seed, idx[0]]

    def const(name, value):
        t = helper.make_tensor(name, TensorProto.INT64, [len(value)] if isinstance(value, list) else [],
                               value if isinstance(value, list) else [value])
        nodes.append(helper.make_node("Constant", [], [name], name=name.replace("constants", "constant_nodes"), value=t))
        return name

    # Float initializers, in the order the builder creates them.
    emb = plan.add(Tensor("model.embed_tokens.weight", np.dtype(fdt).name, [s["vocab"], H], "embedding"))
    emb.seed_key = seed_key()
    emb.fill = float_filler(s["vocab"], H, fdt, emb.seed_key, WEIGHT_STD)
    inv = 1.0 / (s["theta"] ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    freqs = np.outer(np.arange(s["context"], dtype=np.float64), inv)
    for nm, fn in (("cos_cache", np.cos), ("sin_cache", np.sin)):
        arr = fn(freqs).astype(fdt)
        t = plan.add(Tensor(nm, np.dtype(fdt).name, list(arr.shape), "rotary_cache"))
        t.fill = const_filler(arr)
    ones = np.ones(H, dtype=fdt)

    def norm_weight(name):
        t = plan.add(Tensor(name, np.dtype(fdt).name, [H], "norm"))
        t.fill = const_filler(ones)
        return name

    scale_dtype = np.float16 if fp16 else np.float32
    kvshape = ["batch_size", kvh, "past_sequence_length", hd]

    def matmul_nbits(m: Matrix, a: str, out: str):
        w = QuantWriter(m.K, m.N, scale_dtype, seed_key(), args.weights, args.rule, args.asym)
        kb = m.K // BLOCK
        w.b = Tensor(m.weight + "_Q4", "uint8", [m.N, kb, BLOB], "int4_weight", seed_key=w.seed_key)
        w.s = Tensor(m.weight + "_scales", np.dtype(scale_dtype).name,
                     [m.N, kb] if args.scales_shape == "2d" else [m.N * kb], "int4_scales")
        w.b.fill = w.fill
        w.s.fill = QuantWriter.noop
        ins = [a, w.b.name, w.s.name]
        if args.asym:
            zb = (kb + 1) // 2
            w.z = Tensor(m.weight + "_zero_points", "uint8", [m.N, zb] if args.scales_shape == "2d" else [m.N * zb],
                         "int4_zero_points")
            w.z.fill = QuantWriter.noop
            ins.append(w.z.name)
        quant_tensors.extend([w.b, w.s] + ([w.z] if args.asym else []))
        attrs = dict(K=m.K, N=m.N, bits=BITS, block_size=BLOCK)
        if acc:
            attrs["accuracy_level"] = acc
        nodes.append(helper.make_node("MatMulNBits", ins, [out], name=m.node, domain="com.microsoft", **attrs))
        return out

    mats = {mm.node: mm for mm in matrices(args.shape, args.packed_qkv)}

    # attention_mask → seqlens_k (sum − 1, int32) and total_sequence_length (int32 scalar).
    one_vec, one = const("/model/constants/INT64/[1]", [1]), const("/model/constants/INT64/1", 1)
    mb = "/model/attn_mask_reformat/attn_mask_subgraph"
    nodes += [
        helper.make_node("ReduceSum", ["attention_mask", one_vec], [f"{mb}/ReduceSum/output_0"], name=f"{mb}/ReduceSum", keepdims=0),
        helper.make_node("Sub", [f"{mb}/ReduceSum/output_0", one_vec], [f"{mb}/Sub/output_0"], name=f"{mb}/Sub"),
        helper.make_node("Cast", [f"{mb}/Sub/output_0"], [f"{mb}/Sub/Cast/output_0"], name=f"{mb}/Sub/Cast", to=TensorProto.INT32),
        helper.make_node("Shape", ["attention_mask"], [f"{mb}/Shape/output_0"], name=f"{mb}/Shape"),
        helper.make_node("Gather", [f"{mb}/Shape/output_0", one], [f"{mb}/Gather/output_0"], name=f"{mb}/Gather", axis=0),
        helper.make_node("Cast", [f"{mb}/Gather/output_0"], [f"{mb}/Gather/Cast/output_0"], name=f"{mb}/Gather/Cast", to=TensorProto.INT32),
    ]
    seqlens_k, total_len = f"{mb}/Sub/Cast/output_0", f"{mb}/Gather/Cast/output_0"

    nodes.append(helper.make_node("Gather", [emb.name, "input_ids"], ["/model/embed_tokens/Gather/output_0"],
                                  name="/model/embed_tokens/Gather"))
    root = "/model/embed_tokens/Gather/output_0"
    skip = None
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", "total_sequence_length"])]
    outputs = [helper.make_tensor_value_info("logits", fproto, ["batch_size", "sequence_length", s["vocab"]])]

    def skip_norm(name, loc, root, skip, last=False):
        p = f"/model/layers.{name}/{loc}_layernorm"
        w = norm_weight(f"model.layers.{name}.{loc}_layernorm.weight")
        outs = [f"{p}/output_0"] if last else [f"{p}/output_0", "", "", f"{p}/output_3"]
        nodes.append(helper.make_node("SkipSimplifiedLayerNormalization", [root, skip, w], outs,
                                      name=f"{p}/SkipLayerNorm", domain="com.microsoft", epsilon=RMS_EPS))
        return outs[0], (None if last else outs[3])

    for i in range(L):
        lp = f"/model/layers.{i}"
        if i == 0:
            w = norm_weight(f"model.layers.0.input_layernorm.weight")
            x = f"{lp}/input_layernorm/output_0"
            nodes.append(helper.make_node("SimplifiedLayerNormalization", [root, w], [x],
                                          name=f"{lp}/input_layernorm/LayerNorm", axis=-1, epsilon=RMS_EPS, stash_type=1))
        else:
            x, root = skip_norm(i, "input", root, skip)
        if args.packed_qkv:
            qkv = matmul_nbits(mats[f"{lp}/attn/qkv_proj/MatMul_Q4"], x, f"{lp}/attn/qkv_proj/MatMul/output_0")
            q_in, k_in, v_in = qkv, "", ""
        else:
            q_in, k_in, v_in = (matmul_nbits(mats[f"{lp}/attn/{p}_proj/MatMul_Q4"], x, f"{lp}/attn/{p}_proj/MatMul/output_0")
                                for p in "qkv")
        an = f"{lp}/attn/GroupQueryAttention"
        past_k, past_v = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        pres_k, pres_v = f"present.{i}.key", f"present.{i}.value"
        inputs += [helper.make_tensor_value_info(past_k, fproto, kvshape), helper.make_tensor_value_info(past_v, fproto, kvshape)]
        outputs += [helper.make_tensor_value_info(n_, fproto, ["batch_size", kvh, "total_sequence_length", hd]) for n_ in (pres_k, pres_v)]
        nodes.append(helper.make_node(
            "GroupQueryAttention",
            [q_in, k_in, v_in, past_k, past_v, seqlens_k, total_len, "cos_cache", "sin_cache"],
            [f"{an}/output_0", pres_k, pres_v], name=an, domain="com.microsoft",
            num_heads=heads, kv_num_heads=kvh, scale=float(1 / math.sqrt(hd)), local_window_size=-1,
            softcap=0.0, do_rotary=1, rotary_interleaved=0))
        o = matmul_nbits(mats[f"{lp}/attn/o_proj/MatMul_Q4"], f"{an}/output_0", f"{lp}/attn/o_proj/MatMul/output_0")
        x, root = skip_norm(i, "post_attention", root, o)
        g = matmul_nbits(mats[f"{lp}/mlp/gate_proj/MatMul_Q4"], x, f"{lp}/mlp/gate_proj/MatMul/output_0")
        u = matmul_nbits(mats[f"{lp}/mlp/up_proj/MatMul_Q4"], x, f"{lp}/mlp/up_proj/MatMul/output_0")
        nodes += [
            helper.make_node("Sigmoid", [g], [f"{lp}/mlp/act_fn/Sigmoid/output_0"], name=f"{lp}/mlp/act_fn/Sigmoid"),
            helper.make_node("Mul", [g, f"{lp}/mlp/act_fn/Sigmoid/output_0"], [f"{lp}/mlp/act_fn/Mul/output_0"], name=f"{lp}/mlp/act_fn/Mul"),
            helper.make_node("Mul", [f"{lp}/mlp/act_fn/Mul/output_0", u], [f"{lp}/mlp/Mul/output_0"], name=f"{lp}/mlp/Mul"),
        ]
        skip = matmul_nbits(mats[f"{lp}/mlp/down_proj/MatMul_Q4"], f"{lp}/mlp/Mul/output_0", f"{lp}/mlp/down_proj/MatMul/output_0")
    x, _ = skip_norm(L, "final_norm", root, skip, last=True)
    matmul_nbits(mats["/lm_head/MatMul_Q4"], x, "logits")

    for t in quant_tensors:
        plan.add(t)
    total = plan.place(args.align)

    data_name = args.name + ".data"
    inits = []
    for t in plan.tensors:
        tp = TensorProto()
        tp.name = t.name
        tp.dims.extend(t.dims)
        tp.data_type = helper.np_dtype_to_tensor_dtype(np.dtype(t.dtype))
        tp.data_location = TensorProto.EXTERNAL
        for key, val in (("location", data_name), ("offset", str(t.offset)), ("length", str(t.nbytes))):
            e = tp.external_data.add()
            e.key, e.value = key, val
        inits.append(tp)
    graph = helper.make_graph(nodes, "main_graph", inputs, outputs, initializer=inits)
    model = helper.make_model(
        graph, ir_version=10, producer_name="tailwatch benches/llm_int4.py",
        producer_version=str(GENERATOR_VERSION),
        opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])
    meta = {"layout": "onnxruntime-genai model builder, int4 " + ("fp16" if fp16 else "cpu") + " recipe (synthetic)",
            "shape": args.shape, "seed": str(args.seed)}
    onnx.helper.set_model_props(model, meta)
    return model, plan, total, acc


def cache_key(args) -> str:
    """Directory name: shape, seed and every option that changes the bytes."""
    parts = [args.shape, f"seed{args.seed}"]
    if args.scales != "fp32":
        parts.append(f"scales-{args.scales}")
    if args.scales_shape != "2d":
        parts.append("scales1d")
    if args.asym:
        parts.append("asym")
    if args.rule != "max7":
        parts.append(args.rule)
    if args.weights != "rtn":
        parts.append(args.weights)
    if args.packed_qkv:
        parts.append("packedqkv")
    if args.align != 4096:
        parts.append(f"align{args.align}")
    if args.accuracy_level is not None:
        parts.append(f"acc{args.accuracy_level}")
    return "-".join(parts)


def cmd_generate(args):
    out = args.out
    os.makedirs(out, exist_ok=True)
    onnx_path = os.path.join(out, args.name)
    data_path = onnx_path + ".data"
    manifest_path = os.path.join(out, "manifest.json")
    for p in (manifest_path, onnx_path, data_path):
        if os.path.exists(p):
            os.remove(p)
    t0 = time.perf_counter()
    model, plan, total, acc = build(args)
    partial = data_path + ".partial"
    fd = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, total)
        t_w = last = time.perf_counter()
        done = 0
        for t in plan.tensors:
            t.fill(fd, t.offset)
            done += t.nbytes
            now = time.perf_counter()
            if args.progress and (now - last >= 5 or t is plan.tensors[-1]):
                last = now
                print(f"  [{now - t_w:7.1f} s] {done / 1e9:6.2f} of {total / 1e9:.2f} GB, last {t.name}",
                      file=sys.stderr, flush=True)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, data_path)
    import onnx
    onnx.save_model(model, onnx_path)
    gen_s = time.perf_counter() - t0

    by_role = {}
    for t in plan.tensors:
        by_role[t.role] = by_role.get(t.role, 0) + t.nbytes
    mats = matrices(args.shape, args.packed_qkv)
    manifest = {
        "generator": "benches/llm_int4.py", "generator_version": GENERATOR_VERSION,
        "key": cache_key(args), "shape": args.shape, "dims": SHAPES[args.shape], "seed": args.seed,
        "options": {"scales": args.scales, "scales_shape": args.scales_shape, "asym": args.asym,
                    "rule": args.rule, "weights": args.weights, "packed_qkv": args.packed_qkv,
                    "align": args.align, "accuracy_level": acc, "block_size": BLOCK, "bits": BITS},
        "files": {"onnx": args.name, "onnx_bytes": os.path.getsize(onnx_path),
                  "data": os.path.basename(data_path), "data_bytes": os.path.getsize(data_path)},
        "bytes_by_role": by_role,
        "packed_weight_bytes": by_role.get("int4_weight", 0),
        "generation_seconds": round(gen_s, 3),
        "matrices": [{"node": m.node, "weight": m.weight, "op": m.op, "K": m.K, "N": m.N} for m in mats],
        "tensors": [{"name": t.name, "role": t.role, "dtype": t.dtype, "dims": t.dims,
                     "offset": t.offset, "nbytes": t.nbytes,
                     **({"seed_key": t.seed_key} if t.seed_key else {})} for t in plan.tensors],
    }
    with open(manifest_path + ".partial", "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    os.replace(manifest_path + ".partial", manifest_path)
    print(f"generated {onnx_path}: {len(mats)} weight matrices, data {size(manifest['files']['data_bytes'])} "
          f"(int4 B {size(by_role.get('int4_weight', 0))}, scales {size(by_role.get('int4_scales', 0))}, "
          f"zero points {size(by_role.get('int4_zero_points', 0))}, embedding {size(by_role.get('embedding', 0))}), "
          f"graph {size(manifest['files']['onnx_bytes'])}, in {gen_s:.1f} s")


def size(b: int) -> str:
    return f"{b / 1e9:.3f} GB" if b >= 1e8 else f"{b / 1e6:.3f} MB" if b >= 1e5 else f"{b / 1e3:.1f} kB"


# --------------------------------------------------------------------------------------------
# check: onnx.checker, one forward step in onnxruntime, and each MatMulNBits alone on A = I_K

def read_initializer(model_dir, tp):
    import onnx
    from onnx import numpy_helper
    info = {e.key: e.value for e in tp.external_data}
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tp.data_type)
    with open(os.path.join(model_dir, info["location"]), "rb") as f:
        f.seek(int(info.get("offset", 0)))
        buf = f.read(int(info["length"]))
    arr = np.frombuffer(buf, dtype=dtype).reshape(list(tp.dims))
    return arr, numpy_helper.from_array(arr, tp.name)


def dequantize_reference(b, scales, zp, k, n):
    """W [K, N] from the bytes, written independently of the generator: (q − zp)·scale, low nibble first."""
    kb = (k + BLOCK - 1) // BLOCK
    b = b.reshape(n, kb, BLOB)
    q = np.empty((n, kb, BLOCK), dtype=np.float32)
    q[..., 0::2] = b & 0x0F
    q[..., 1::2] = b >> 4
    if zp is None:
        z = np.full((n, kb), 8.0, dtype=np.float32)
    else:
        zp = zp.reshape(n, -1)
        z = np.empty((n, zp.shape[1] * 2), dtype=np.float32)
        z[:, 0::2] = zp & 0x0F
        z[:, 1::2] = zp >> 4
        z = z[:, :kb]
    s = scales.reshape(n, kb).astype(np.float32)
    w = (q - z[..., None]) * s[..., None]
    return w.reshape(n, kb * BLOCK)[:, :k].T


def run_checker(m, model_dir) -> bool:
    """onnx.checker on the graph. The builder puts SimplifiedLayerNormalization, an op onnxruntime
    registers in the ai.onnx domain, in that domain, which the checker refuses whatever the flags;
    then the check is repeated on a copy with those nodes relabelled com.microsoft (the checker
    validates no contrib op), so that everything else is still checked."""
    import onnx

    def attempt(model, label):
        tmp = os.path.join(model_dir, ".llm_int4_check.onnx")
        onnx.save_model(model, tmp)   # beside the data file, so external data resolves
        try:
            for full in (True, False):
                try:
                    onnx.checker.check_model(tmp, full_check=full)
                    print(f"onnx.checker{label} (full_check={full}): ok")
                    return True, None
                except Exception as e:  # noqa: BLE001
                    err = str(e).splitlines()[0][:300]
                    print(f"onnx.checker{label} (full_check={full}) refused: {err}")
            return False, err
        finally:
            os.remove(tmp)

    good, err = attempt(m, "")
    if good:
        return True
    if err and "SimplifiedLayerNormalization" in err:
        c = onnx.ModelProto()
        c.CopyFrom(m)
        n_re = 0
        for node in c.graph.node:
            if node.op_type == "SimplifiedLayerNormalization" and node.domain in ("", "ai.onnx"):
                node.domain = "com.microsoft"
                n_re += 1
        good, _ = attempt(c, f" with {n_re} SimplifiedLayerNormalization node(s) relabelled com.microsoft")
    return good


def check_mlas(model_dir, mm, inits) -> bool:
    """Regenerate each node's float weight from the manifest's seed key, quantize it with
    onnxruntime's own quantize_matmul_4bits (MLAS, what the builder's int4 pass calls) and
    compare bytes, scales and zero points with the file's."""
    from onnxruntime.capi._pybind_state import quantize_matmul_4bits
    with open(os.path.join(model_dir, "manifest.json")) as f:
        man = json.load(f)
    opts = man["options"]
    if opts["weights"] != "rtn":
        print("MLAS comparison: skipped (--weights random has no float weight)")
        return True
    keys = {t["name"]: t.get("seed_key") for t in man["tensors"]}
    fp16 = opts["scales"] == "fp16"
    expect = opts["asym"] or opts["rule"] == "mlas"
    fb, all_equal = [], True
    for node in mm:
        at = {a.name: a.i for a in node.attribute}
        k, n = at["K"], at["N"]
        kb = k // BLOCK
        wt = np.random.default_rng(keys[node.input[1]]).standard_normal((n, k), dtype=np.float32)
        wt *= WEIGHT_STD
        w = np.ascontiguousarray((wt.astype(np.float16) if fp16 else wt).T)
        del wt
        packed = np.zeros((n, kb, BLOB), np.uint8)
        scales = np.zeros((n, kb), w.dtype)
        zp = np.zeros((n, (kb + 1) // 2), np.uint8)
        quantize_matmul_4bits(packed, w, scales, zp, BLOCK, n, k, not opts["asym"])
        b, _ = read_initializer(model_dir, inits[node.input[1]])
        s, _ = read_initializer(model_dir, inits[node.input[2]])
        eq = (b.reshape(packed.shape) == packed)
        same = bool(eq.all()) and np.array_equal(s.reshape(scales.shape), scales)
        if opts["asym"]:
            z, _ = read_initializer(model_dir, inits[node.input[3]])
            same &= np.array_equal(z.reshape(zp.shape), zp)
        fb.append(1.0 - float(eq.mean()))
        all_equal &= same
    rule = "asym" if opts["asym"] else opts["rule"]
    print(f"MLAS comparison ({rule}), {len(mm)} nodes: bytes, scales and zero points "
          f"{'equal onnxruntime quantize_matmul_4bits' if all_equal else 'differ from onnxruntime quantize_matmul_4bits'}"
          f" (largest fraction of differing B bytes {max(fb) if fb else 0:.3g})"
          + ("" if expect else "; expected: --rule max7 is not MLAS's rule"))
    return all_equal or not expect


def cmd_check(args):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    path = args.model
    model_dir = os.path.dirname(os.path.abspath(path))
    ok = True
    m = onnx.load(path, load_external_data=False)
    ok &= run_checker(m, model_dir)
    meta = {p.key: p.value for p in m.metadata_props}
    shape = meta.get("shape")
    if args.forward:
        s = SHAPES[shape]
        so = ort.SessionOptions()
        so.log_severity_level = 3
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        elem = {TensorProto.FLOAT: np.float32, TensorProto.FLOAT16: np.float16}
        feeds = {}
        for vi in m.graph.input:
            t = vi.type.tensor_type
            if vi.name == "input_ids":
                feeds[vi.name] = np.random.default_rng(1).integers(0, s["vocab"], size=(1, 4), dtype=np.int64)
            elif vi.name == "attention_mask":
                feeds[vi.name] = np.ones((1, 4), dtype=np.int64)
            else:
                feeds[vi.name] = np.zeros((1, s["kv_heads"], 0, s["head"]), dtype=elem[t.elem_type])
        t0 = time.perf_counter()
        res = dict(zip([o.name for o in m.graph.output], sess.run(None, feeds)))
        logits = res["logits"]
        good = logits.shape == (1, 4, s["vocab"]) and bool(np.isfinite(logits).all()) and \
            res["present.0.key"].shape == (1, s["kv_heads"], 4, s["head"])
        print(f"onnxruntime {ort.__version__} CPU forward, batch 1, seq 4: logits {logits.shape} {logits.dtype}, "
              f"present.0.key {res['present.0.key'].shape}, finite {bool(np.isfinite(logits).all())}, "
              f"{time.perf_counter() - t0:.3f} s: {'ok' if good else 'FAILED'}")
        ok &= good

    inits = {t.name: t for t in m.graph.initializer}
    mm = [n for n in m.graph.node if n.op_type == "MatMulNBits"]
    if args.nodes is not None:
        mm = mm[: args.nodes]
    worst, worst0, packing_ok = 0.0, None, True
    for node in mm:
        at = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        k, n = at["K"], at["N"]
        arrs, tps = [], []
        for name in node.input[1:]:
            if name:
                a, tp = read_initializer(model_dir, inits[name])
                arrs.append(a)
                tps.append(tp)
        b, sc = arrs[0], arrs[1]
        zp = arrs[2] if len(arrs) > 2 else None
        ref = dequantize_reference(b, sc, zp, k, n)
        ety = helper.np_dtype_to_tensor_dtype(sc.dtype)
        scale = float(np.abs(ref).max()) or 1.0
        # As the file says (accuracy_level 4: A is quantized to int8 per block, so the result is
        # (q − zp)·scale within rounding), and with accuracy_level 0, where A = I_K gives the
        # dequantized weight itself: exact in float32.
        variants = [("file", at)]
        if at.get("accuracy_level", 0):
            variants.append(("acc0", {key: v for key, v in at.items() if key != "accuracy_level"}))
        for label, attrs in variants:
            one = helper.make_node("MatMulNBits", ["A"] + [t.name for t in tps], ["Y"], domain="com.microsoft", **attrs)
            g = helper.make_graph([one], "one", [helper.make_tensor_value_info("A", ety, [k, k])],
                                  [helper.make_tensor_value_info("Y", ety, [k, n])], initializer=tps)
            single = helper.make_model(g, ir_version=10, opset_imports=[helper.make_opsetid("", 21),
                                                                        helper.make_opsetid("com.microsoft", 1)])
            sess = ort.InferenceSession(single.SerializeToString(), providers=["CPUExecutionProvider"])
            y = sess.run(None, {"A": np.eye(k, dtype=sc.dtype)})[0].astype(np.float32)
            err = float(np.abs(y - ref).max()) / scale
            if label == "file":
                worst = max(worst, err)
                tol = 2e-3 if sc.dtype == np.float16 else 1e-5
            else:
                worst0 = max(worst0 or 0.0, err)
                tol = 0.0
            if err > tol:
                packing_ok = False
                print(f"  {node.name} ({label}): K={k} N={n}: ORT differs from (q − zp)·scale by {err:.3g} of max|W|: FAILED")
            del y
    if mm:
        acc0 = f"; with accuracy_level 0 within {worst0:.2g}" if worst0 is not None else ""
        print(f"MatMulNBits alone on A = I_K, {len(mm)} nodes: ORT output = (q − zp)·scale from the bytes "
              f"(low nibble first) within {worst:.2g} of max|W|{acc0}: {'ok' if packing_ok else 'FAILED'}")
    ok &= packing_ok
    if args.mlas:
        ok &= check_mlas(model_dir, mm, inits)
    print("check: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


# --------------------------------------------------------------------------------------------
# bound: flop count of the exact analysis and the machine's f64 GEMM rate

def gemm_rate(n=2048, reps=3) -> float:
    a = np.random.default_rng(0).standard_normal((n, n))
    b = np.random.default_rng(1).standard_normal((n, n))
    a @ b  # warm-up (threads, pages)
    best = math.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best


def cmd_bound(args):
    mats = matrices(args.shape, args.packed_qkv)
    if args.only:
        mats = [m for m in mats if m.op in args.only.split(",")]
    if args.max_n:
        mats = [m for m in mats if max(m.K, m.N) <= args.max_n]
    tot = {"gram": 0.0, "gram_lower": 0.0, "eig": 0.0}
    for m in mats:
        for key, v in flops(m.K, m.N).items():
            tot[key] += v
    rate = args.gemm_gflops * 1e9 if args.gemm_gflops else gemm_rate()
    full = tot["gram"] + tot["eig"]
    lower = tot["gram_lower"] + tot["eig"]
    res = {"shape": args.shape, "matrices": len(mats), "gram_flops": tot["gram"], "gram_lower_flops": tot["gram_lower"],
           "eig_flops": tot["eig"], "gemm_gflops": rate / 1e9, "bound_s": full / rate, "bound_lower_s": lower / rate}
    if args.json:
        print(json.dumps(res))
    else:
        print(f"{args.shape}: {len(mats)} matrices; Gram 2·n·m² {tot['gram']:.3e} flops (lower triangle {tot['gram_lower']:.3e}), "
              f"eigensolver (4/3)·m³·2 {tot['eig']:.3e}; f64 GEMM {rate / 1e9:.1f} GFLOP/s → bound {full / rate:.1f} s "
              f"(lower-triangle Gram: {lower / rate:.1f} s)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    g = sub.add_parser("generate", help="write DIR/model.onnx, DIR/model.onnx.data, DIR/manifest.json")
    g.add_argument("--shape", choices=sorted(SHAPES), required=True)
    g.add_argument("--out", help="output directory (required unless --print-key)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--scales", choices=["fp32", "fp16"], default="fp32",
                   help="fp32: the CPU int4 recipe (float32 graph, accuracy_level 4); fp16: the fp16 recipe "
                        "(float16 graph, scales and embedding, accuracy_level omitted)")
    g.add_argument("--scales-shape", choices=["2d", "1d"], default="2d",
                   help="scales/zero points 2-D [N, K/32] (current onnxruntime quantizer) or flat (older ones)")
    g.add_argument("--asym", action="store_true", help="asymmetric: packed uint8 zero points")
    g.add_argument("--rule", choices=["max7", "mlas"], default="max7", help="symmetric rule. max7: scale = max|w|/7, positive; mlas: onnxruntime's, scale = "
                        "(the block's signed value of largest magnitude)/-8, the builder's bytes")
    g.add_argument("--weights", choices=["rtn", "random"], default="rtn",
                   help="rtn: quantized Gaussian weights; random: uniform bytes and random scales")
    g.add_argument("--packed-qkv", action="store_true", help="one qkv_proj per block, as current builders for GQA")
    g.add_argument("--align", type=int, default=4096, help="offset alignment in the data file (0: none)")
    g.add_argument("--accuracy-level", type=int, default=None, help="override the recipe's accuracy_level")
    g.add_argument("--name", default="model.onnx", help="graph file name; the data file is NAME.data")
    g.add_argument("--progress", action="store_true", help="log progress to stderr every 5 s")
    g.add_argument("--print-key", action="store_true", help="print the cache directory name and exit")

    c = sub.add_parser("check", help="onnx.checker, one ORT forward step, MatMulNBits packing against ORT")
    c.add_argument("model")
    c.add_argument("--nodes", type=int, default=None, help="check only the first N MatMulNBits nodes")
    c.add_argument("--no-forward", dest="forward", action="store_false", help="skip the forward step")
    c.add_argument("--mlas", action="store_true",
                   help="also compare with onnxruntime's quantize_matmul_4bits on the regenerated float weights")

    b = sub.add_parser("bound", help="flops of the exact analysis and the time they take at the f64 GEMM rate")
    b.add_argument("--shape", choices=sorted(SHAPES), required=True)
    b.add_argument("--packed-qkv", action="store_true")
    b.add_argument("--only", default=None, help="count only these ops (MatMulNBits,Gather)")
    b.add_argument("--max-n", type=int, default=None,
                   help="leave out matrices with a side above this (ww's max_N = 50000 skips embedding and lm_head)")
    b.add_argument("--gemm-gflops", type=float, default=None, help="use this rate instead of measuring it")
    b.add_argument("--json", action="store_true")

    args = ap.parse_args(argv)
    if args.cmd == "generate":
        if args.print_key:
            print(cache_key(args))
            return 0
        if not args.out:
            ap.error("generate: --out is required")
        cmd_generate(args)
        return 0
    if args.cmd == "check":
        return cmd_check(args)
    cmd_bound(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
