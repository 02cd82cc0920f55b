#!/usr/bin/env python3
"""Check the "Decoding notes" of tests/data/quant/README.md against onnxruntime.

Purpose: the fixtures' expected matrices come from onnxruntime (scripts/make_quant_fixtures.py).
This script holds an independent numpy reading of every stored format, written from the notes,
and checks that it reproduces onnxruntime's output bit for bit for every weight in the manifest.
It then runs the small onnxruntime experiments behind the notes that the fixtures alone cannot
show (nibble order and padding, rounding and division in DynamicQuantizeLinear, the precision of
float16 paths, what the CPU kernel does with g_idx or weight_prepacked). It prints one line per
check and exits non-zero if any fails. Nothing it computes is written to the fixtures.

Usage:
    python3 scripts/check_quant_decoding_notes.py [DATA_DIR]      (default: tests/data/quant)

Needs, offline: pip install onnx==1.23.2 onnxruntime==1.32.0 onnx_ir==1.1.0 numpy
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

MS = "com.microsoft"
FAILED = []


def report(ok: bool, what: str, detail: str = ""):
    print(f"{'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}")
    if not ok:
        FAILED.append(what)


def session(model):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 4
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def model_of(nodes, inputs, outputs, inits, opset=21, ms=False):
    ops = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(MS, 1)] if ms else [])
    g = helper.make_graph(nodes, "check", inputs, outputs, inits)
    return helper.make_model(g, opset_imports=ops, ir_version=helper.find_min_ir_version_for(ops[:1]))


def raw(t: TensorProto) -> bytes:
    if t.raw_data:
        return t.raw_data
    return numpy_helper.to_array(t).tobytes()  # typed fields (only small scalars here)


# --------------------------------------------------------------------------------------------
# reference readers (numpy), one per stored format

SUB_BYTE = {TensorProto.INT4: (4, True), TensorProto.UINT4: (4, False), TensorProto.INT2: (2, True),
            TensorProto.UINT2: (2, False), TensorProto.FLOAT4E2M1: (4, False)}
FLOAT8 = {TensorProto.FLOAT8E4M3FN: ml_dtypes.float8_e4m3fn, TensorProto.FLOAT8E4M3FNUZ: ml_dtypes.float8_e4m3fnuz,
          TensorProto.FLOAT8E5M2: ml_dtypes.float8_e5m2, TensorProto.FLOAT8E5M2FNUZ: ml_dtypes.float8_e5m2fnuz}
PLAIN = {TensorProto.INT8: np.int8, TensorProto.UINT8: np.uint8, TensorProto.INT16: np.int16,
         TensorProto.UINT16: np.uint16, TensorProto.INT32: np.int32, TensorProto.FLOAT: np.float32,
         TensorProto.FLOAT16: np.float16}
FP4_VALUES = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6], np.float32)


def unpack_low_first(buf: np.ndarray, bits: int, count: int) -> np.ndarray:
    """Codes packed low bits first: element i is bits [bits*(i%per), ...) of byte i//per."""
    per = 8 // bits
    mask = (1 << bits) - 1
    out = np.stack([(buf >> (bits * j)) & mask for j in range(per)], axis=-1)
    return out.reshape(buf.shape[:-1] + (-1,))[..., :count] if buf.ndim > 1 else out.reshape(-1)[:count]


def read_tensor(t: TensorProto) -> np.ndarray:
    """Stored values as float64 (integers exact), sub-byte types unpacked flat, low nibble first."""
    shape = list(t.dims)
    n = int(np.prod(shape)) if shape else 1
    if t.data_type in SUB_BYTE:
        bits, signed = SUB_BYTE[t.data_type]
        codes = unpack_low_first(np.frombuffer(raw(t), np.uint8), bits, n).astype(np.int64)
        if t.data_type == TensorProto.FLOAT4E2M1:
            return FP4_VALUES[codes].astype(np.float64).reshape(shape)
        if signed:
            codes = np.where(codes >= 1 << (bits - 1), codes - (1 << bits), codes)
        return codes.astype(np.float64).reshape(shape)
    if t.data_type in FLOAT8:
        return np.frombuffer(raw(t), np.uint8).view(FLOAT8[t.data_type]).astype(np.float64).reshape(shape)
    return numpy_helper.to_array(t).astype(np.float64).reshape(shape)


def np_dtype(t: TensorProto):
    return helper.tensor_dtype_to_np_dtype(t.data_type)


def expand_blocks(s: np.ndarray, shape, axis, block):
    """Scale / zero point of a blocked tensor repeated to the data shape (last block cropped)."""
    return np.repeat(s, block, axis=axis).take(range(shape[axis]), axis=axis)


def broadcast_param(p: np.ndarray, shape, axis, block):
    if p.size == 1:
        return np.full(shape, p.reshape(-1)[0])
    if block:
        return expand_blocks(p, shape, axis, block)
    view = [1] * len(shape)
    view[axis] = -1
    return np.broadcast_to(p.reshape(view), shape)


def dq_float(q, s, z, out_dtype):
    """(q - z) * s: integer difference exact, one float32 product, one rounding to the output type."""
    return ((q - z).astype(np.float32) * s.astype(np.float32)).astype(out_dtype)


def read_dequantize_linear(q_t, s_t, z_t, attrs):
    q = read_tensor(q_t)
    s = read_tensor(s_t)
    z = read_tensor(z_t) if z_t is not None else np.zeros(1)
    axis = attrs.get("axis", 1) % max(q.ndim, 1)
    block = attrs.get("block_size", 0)
    sb = broadcast_param(s, q.shape, axis, block)
    zb = broadcast_param(z, q.shape, axis, block)
    out = attrs.get("output_dtype", s_t.data_type)
    return dq_float(q, sb, zb, helper.tensor_dtype_to_np_dtype(out))


def read_matmulnbits(B_t, S_t, Z_t, a, G_t=None):
    K, N, bits, bs = a["K"], a["N"], a.get("bits", 4), a["block_size"]
    kb = -(-K // bs)
    blob = bs * bits // 8
    B = np.frombuffer(raw(B_t), np.uint8).reshape(N, kb, blob)
    codes = unpack_low_first(B, bits, bs).reshape(N, kb * bs)[:, :K].astype(np.int64)
    s = read_tensor(S_t).reshape(N, kb)
    blk = np.arange(K) // bs
    if G_t is not None:
        # g_idx: column k uses block g_idx[k]; ORT's float path q*s - zp*s, packed zero points
        # ignored (the default 2^(bits-1) instead).
        blk = read_tensor(G_t).astype(np.int64)
        if Z_t is not None and Z_t.data_type != TensorProto.UINT8:
            z = read_tensor(Z_t).reshape(N, kb)
        else:
            z = np.full((N, kb), 2.0 ** (bits - 1))
        s32, z32 = s[:, blk].astype(np.float32), z[:, blk].astype(np.float32)
        return (codes.astype(np.float32) * s32 - z32 * s32).astype(np_dtype(S_t)).T
    if Z_t is not None and Z_t.data_type != TensorProto.UINT8:
        # unpacked zero points in the scale type: q*s - zp*s, two float32 products, then the difference
        s32, z32 = s[:, blk].astype(np.float32), read_tensor(Z_t).reshape(N, kb)[:, blk].astype(np.float32)
        return (codes.astype(np.float32) * s32 - z32 * s32).astype(np_dtype(S_t)).T
    if Z_t is None:
        z = np.full((N, kb), 2 ** (bits - 1))
    else:
        zb = np.frombuffer(raw(Z_t), np.uint8).reshape(N, -1)
        z = unpack_low_first(zb, bits, kb)
    w = dq_float(codes, s[:, blk], z[:, blk], np_dtype(S_t))  # [N, K]
    return (w + w.dtype.type(0)).T  # ORT never returns -0.0 here (q == zp with a negative scale gives +0.0)


def read_gbq(D_t, S_t, Z_t, a):
    bits = a.get("bits", 4)
    qa = a.get("quantize_axis", 1)
    block = a.get("block_size", 128)
    if D_t.data_type == TensorProto.UINT8:
        d = np.frombuffer(raw(D_t), np.uint8).reshape(list(D_t.dims))
        q = unpack_low_first(d, bits, d.shape[-1] * 8 // bits).astype(np.float64) if bits < 8 else d.astype(np.float64)
        default_zp = 2 ** (bits - 1)
    else:
        q = read_tensor(D_t)
        default_zp = 0
    qa %= q.ndim
    s = read_tensor(S_t)
    if block == 0:
        block = q.shape[qa]
    for ax in range(q.ndim):  # float8/float4 scales may broadcast (dimension 1) off the quantize axis
        if ax != qa and s.shape[ax] == 1 and q.shape[ax] != 1:
            s = np.repeat(s, q.shape[ax], axis=ax)
    sb = expand_blocks(s, q.shape, qa, block)
    if Z_t is None:
        zb = np.full(q.shape, default_zp)
    else:
        if Z_t.data_type == TensorProto.UINT8:
            zd = np.frombuffer(raw(Z_t), np.uint8).reshape(list(Z_t.dims))
            z = unpack_low_first(zd, bits, s.shape[-1]) if bits < 8 else zd
        else:
            z = read_tensor(Z_t)
        zb = expand_blocks(z.astype(np.float64), q.shape, qa, block)
    return dq_float(q, sb, zb, np_dtype(S_t))


def read_dynamic(x):
    """DynamicQuantizeLinear then DequantizeLinear, as the notes describe (float32 throughout)."""
    x = x.astype(np.float32)
    lo, hi = np.float32(min(0.0, x.min())), np.float32(max(0.0, x.max()))
    s = np.float32(hi - lo) / np.float32(255)
    zp = np.clip(np.rint(np.float32(0) - lo / s), 0, 255)
    q = np.clip(np.rint(x / s) + zp, 0, 255)
    return dq_float(q, np.float32(s), zp, np.float32)


def channel_axis(layer_op, attrs):
    if layer_op in ("ConvInteger", "QLinearConv"):
        return 0
    if layer_op == "QGemm":
        return 0 if attrs.get("transB", 0) else 1
    return 1


# --------------------------------------------------------------------------------------------


def attrs_of(node):
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if not isinstance(v, TensorProto):
            out[a.name] = list(v) if isinstance(v, (list, tuple)) else v
    return out


def const_map(model):
    m = {t.name: t for t in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    m[n.output[0]] = a.t
    return m


def check_fixture_weights(root: Path, manifest):
    models = {}
    for w in manifest["weights"]:
        fx = w["fixture"]
        if fx not in models:
            m = onnx.load(root / fx)  # external data loaded from beside the file
            models[fx] = (m, const_map(m), {n.name: n for n in m.graph.node})
        m, consts, nodes = models[fx]
        expected = np.fromfile(root / w["expected"], "<f4").reshape(w["expected_shape"])
        node = nodes[w["quant_node"]["name"]]
        a = attrs_of(node)
        get = lambda name: consts.get(name) if name else None  # noqa: E731
        kind = w["quant_op"]
        if kind == "MatMulNBits":
            g_idx = get(node.input[4]) if len(node.input) > 4 and node.input[4] else None
            got = read_matmulnbits(get(node.input[1]), get(node.input[2]), get(w["zero_point_tensor"]), a, g_idx)
        elif kind == "GatherBlockQuantized":
            got = read_gbq(get(node.input[0]), get(node.input[2]), get(w["zero_point_tensor"]), a)
        elif kind == "DequantizeLinear":
            got = read_dequantize_linear(get(node.input[0]), get(node.input[1]), get(w["zero_point_tensor"]), a)
        elif kind == "DynamicQuantizeLinear":
            got = read_dynamic(numpy_helper.to_array(get(w["stored_tensor"])))
        else:
            s_t = get(w["scale_tensor"])
            attrs = {} if int(np.prod(s_t.dims)) == 1 else {
                "axis": channel_axis(w["layer_node"]["op_type"], attrs_of(nodes[w["layer_node"]["name"]]))}
            got = read_dequantize_linear(get(w["stored_tensor"]), s_t, get(w["zero_point_tensor"]), attrs)
        got = np.asarray(got).astype(np.float32).reshape(expected.shape)
        same = np.array_equal(got.view(np.uint32), expected.view(np.uint32))
        detail = "" if same else f"max |diff| {np.max(np.abs(got - expected)):.3g}"
        report(same, f"{fx} weight {w['index']} ({kind}, {w['stored_dtype']}) numpy reading == ORT bit for bit", detail)


# --------------------------------------------------------------------------------------------
# experiments


def run_dq(q_t, s_t, z_t=None, opset=21, **attrs):
    ins = ["q", "s"] + (["z"] if z_t is not None else [])
    ts = [q_t, s_t] + ([z_t] if z_t is not None else [])
    for t, n in zip(ts, ins):
        t.name = n
    node = helper.make_node("DequantizeLinear", ins, ["y"], **attrs)
    out_t = attrs.get("output_dtype", s_t.data_type)
    return session(model_of([node], [], [helper.make_tensor_value_info("y", out_t, None)], ts, opset)).run(None, {})[0]


def exp_int4_nibbles():
    # 3 uint4 codes 1, 2, 3 in 2 bytes: 0x21, then 0xF3 (padding nibble 0xF must be ignored)
    q = helper.make_tensor("q", TensorProto.UINT4, [3], b"\x21\xf3", raw=True)
    y = run_dq(q, helper.make_tensor("s", TensorProto.FLOAT, [], [1.0]))
    report(y.tolist() == [1, 2, 3], "uint4 DequantizeLinear: low nibble first, odd count padded in the high nibble "
           "of the last byte (ignored)", f"bytes 21 f3 -> {y.tolist()}")
    q = helper.make_tensor("q", TensorProto.INT4, [3], b"\x9f\x07", raw=True)
    y = run_dq(q, helper.make_tensor("s", TensorProto.FLOAT, [], [1.0]))
    report(y.tolist() == [-1, -7, 7], "int4: two's complement nibbles (0xF = -1, 0x9 = -7)", f"bytes 9f 07 -> {y.tolist()}")
    # int4 [3, 3]: packing runs over the flat row-major index, not per row
    q = helper.make_tensor("q", TensorProto.UINT4, [3, 3], bytes([0x10, 0x32, 0x54, 0x76, 0x08]), raw=True)
    y = run_dq(q, helper.make_tensor("s", TensorProto.FLOAT, [], [1.0]))
    report(y.reshape(-1).tolist() == list(range(9)), "uint4 [3,3]: nibbles follow the flat row-major index "
           "(rows are not byte-aligned)", f"-> {y.tolist()}")
    q = helper.make_tensor("q", TensorProto.INT2, [5], bytes([0b11100100, 0b00000001]), raw=True)
    y = run_dq(q, helper.make_tensor("s", TensorProto.FLOAT, [], [1.0]), opset=25)
    report(y.tolist() == [0, 1, -2, -1, 1], "int2: four codes per byte, low bits first", f"-> {y.tolist()}")


def exp_dynamic_quantize_linear():
    def dql(x):
        n = helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "s", "z"])
        m = model_of([n], [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                     [helper.make_tensor_value_info(k, t, None) for k, t in
                      (("y", TensorProto.UINT8), ("s", TensorProto.FLOAT), ("z", TensorProto.UINT8))], [], 17)
        return session(m).run(None, {"x": x})

    y, s, z = dql(np.array([0, 0.5, 1.5, 2.5, 3.5, 254.5, 255], np.float32))
    report(y.tolist() == [0, 0, 2, 2, 4, 254, 255] and s == 1.0,
           "DynamicQuantizeLinear rounds x/scale half to even", f"[0,.5,1.5,2.5,3.5,254.5,255] scale {s} -> {y.tolist()}")
    y, s, z = dql(np.array([-2.5, 252.5], np.float32))
    y2, s2, z2 = dql(np.array([-3.5, 251.5], np.float32))
    report(int(z) == 2 and int(z2) == 4, "zero point = round_half_even(0 - min/scale), clamped to [0, 255]",
           f"min -2.5 -> zp {int(z)}, min -3.5 -> zp {int(z2)}")
    # x / scale versus x * (1/scale): values next to k + 0.5 where the two round differently
    m = np.float32(1.7)
    sc = np.float32(m / np.float32(255))
    inv = np.float32(1) / sc
    xs = [np.float32(0), m]
    for k in range(255):
        v = np.float32((k + 0.5) * float(sc))
        for step in range(-40, 41):
            u = v
            for _ in range(abs(step)):
                u = np.nextafter(u, np.float32(np.inf if step > 0 else -np.inf))
            if 0 <= u <= m and np.rint(np.float32(u / sc)) != np.rint(np.float32(u * inv)):
                xs.append(u)
    xs = np.array(xs[:64], np.float32)
    y, s, z = dql(xs)
    div = np.clip(np.rint(xs / s), 0, 255)
    mul = np.clip(np.rint(xs * (np.float32(1) / s)), 0, 255)
    report(np.array_equal(y, div) and not np.array_equal(y, mul),
           "DynamicQuantizeLinear divides x / scale in float32 (not x * (1/scale))",
           f"{len(xs) - 2} discriminating values: {int(np.sum(y == div))} match x/s, {int(np.sum(y == mul))} match x*(1/s)")
    rng = np.random.default_rng(7)
    ok = True
    for _ in range(50):
        x = (rng.standard_normal(40) * rng.uniform(0.01, 10)).astype(np.float32)
        y, s, z = dql(x)
        lo, hi = np.float32(min(0, x.min())), np.float32(max(0, x.max()))
        ok &= bool(s == np.float32(hi - lo) / np.float32(255))
    report(ok, "y_scale = (max(0, max x) - min(0, min x)) / 255, in float32", "50 random tensors")


def exp_float16_precision():
    # DequantizeLinear int16 with a float16 scale: is (q - zp) * scale rounded once (float32 product)?
    rng = np.random.default_rng(3)
    q = rng.integers(-32768, 32767, size=4096).astype(np.int16)
    s = np.float16(3.0e-5)
    y = run_dq(numpy_helper.from_array(q, "q"), numpy_helper.from_array(np.array(s), "s"))
    once = (q.astype(np.float32) * np.float32(s)).astype(np.float16)
    twice = (q.astype(np.float16) * s).astype(np.float16)
    report(np.array_equal(y, once) and not np.array_equal(y, twice),
           "DequantizeLinear with float16 scale: (q - zp) * scale in float32, rounded once to float16",
           f"{int(np.sum(y == once))}/4096 match the float32 product, {int(np.sum(y == twice))} the float16 one")
    # MatMulNBits float16 with unpacked float16 zero points: (q - zp) in float32?
    K, N, bs = 64, 8, 32
    kb = 2
    B = rng.integers(0, 256, size=(N, kb, bs // 2)).astype(np.uint8)
    S = (0.01 * (1 + rng.random((N, kb)))).astype(np.float16)
    Z = (rng.random((N, kb)) * 15).astype(np.float16)
    node = helper.make_node("MatMulNBits", ["A", "B", "S", "Z"], ["Y"], domain=MS, K=K, N=N, bits=4, block_size=bs)
    m = model_of([node], [helper.make_tensor_value_info("A", TensorProto.FLOAT16, [K, K])],
                 [helper.make_tensor_value_info("Y", TensorProto.FLOAT16, [K, N])],
                 [numpy_helper.from_array(B, "B"), numpy_helper.from_array(S, "S"), numpy_helper.from_array(Z, "Z")],
                 ms=True)
    y = session(m).run(None, {"A": np.eye(K, dtype=np.float16)})[0]
    codes = unpack_low_first(B, 4, bs).reshape(N, K).astype(np.float32)
    blk = np.arange(K) // bs
    s32, z32 = S[:, blk].astype(np.float32), Z[:, blk].astype(np.float32)
    cands = {
        "(q - zp) * s in float32, rounded once": ((codes - z32) * s32).astype(np.float16).T,
        "q * s - zp * s in float32": (codes * s32 - z32 * s32).astype(np.float16).T,
        "(q - zp) * s in float16": ((codes.astype(np.float16) - Z[:, blk]) * S[:, blk]).astype(np.float16).T,
    }
    hits = {k: int(np.sum(v == y)) for k, v in cands.items()}
    report(hits["(q - zp) * s in float32, rounded once"] == y.size and hits["(q - zp) * s in float16"] < y.size,
           "MatMulNBits float16, unpacked float16 zero point: float32 arithmetic rounded once to float16 "
           "(not float16 arithmetic)",
           ", ".join(f"{k}: {v}/{y.size}" for k, v in hits.items()))
    # float32 scales + float32 unpacked zero points
    S32, Z32 = S.astype(np.float32) * np.float32(1.37), (Z.astype(np.float32) + np.float32(0.123))
    node = helper.make_node("MatMulNBits", ["A", "B", "S", "Z"], ["Y"], domain=MS, K=K, N=N, bits=4, block_size=bs)
    m = model_of([node], [helper.make_tensor_value_info("A", TensorProto.FLOAT, [K, K])],
                 [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [K, N])],
                 [numpy_helper.from_array(B, "B"), numpy_helper.from_array(S32, "S"), numpy_helper.from_array(Z32, "Z")],
                 ms=True)
    y = session(m).run(None, {"A": np.eye(K, dtype=np.float32)})[0]
    s32, z32 = S32[:, blk], Z32[:, blk]
    cands = {
        "(q - zp) * s": ((codes - z32) * s32).T,
        "q * s - zp * s": (codes * s32 - z32 * s32).T,
        "fma(q, s, -zp * s)": (np.float32(codes.astype(np.float64) * s32 - (z32 * s32).astype(np.float64))).T,
    }
    hits = {k: int(np.sum(v == y)) for k, v in cands.items()}
    report(hits["q * s - zp * s"] == y.size, "MatMulNBits float32, unpacked float32 zero point: q*s - zp*s "
           "(two rounded float32 products, then the difference), not (q - zp)*s",
           ", ".join(f"{k}: {v}/{y.size}" for k, v in hits.items()) + f"; max |ORT - (q-zp)*s| = "
           f"{np.max(np.abs(y - cands['(q - zp) * s'])):.3g}")


def exp_matmulnbits_layout():
    rng = np.random.default_rng(5)
    K, N, bs = 96, 4, 32  # 3 blocks: the packed zero point of each row has one padding nibble
    B = rng.integers(0, 256, size=(N, 3, 16)).astype(np.uint8)
    S = np.full((N, 3), 1.0, np.float32)

    def run(Z, **extra):
        ins = ["A", "B", "S"] + (["Z"] if Z is not None else [])
        inits = [numpy_helper.from_array(B, "B"), numpy_helper.from_array(S, "S")]
        if Z is not None:
            inits.append(numpy_helper.from_array(Z, "Z"))
        node = helper.make_node("MatMulNBits", ins, ["Y"], domain=MS, K=K, N=N, bits=4, block_size=bs, **extra)
        m = model_of([node], [helper.make_tensor_value_info("A", TensorProto.FLOAT, [K, K])],
                     [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [K, N])], inits, ms=True)
        return session(m).run(None, {"A": np.eye(K, dtype=np.float32)})[0]

    y0 = run(None)
    first = B[0, 0, 0]
    report(y0[0, 0] == (first & 0xF) - 8 and y0[1, 0] == (first >> 4) - 8,
           "MatMulNBits: k = 2j is the low nibble of byte j, k = 2j+1 the high nibble; default zero point 8",
           f"byte {first:#04x} -> W[0,0] {y0[0, 0]}, W[1,0] {y0[1, 0]}")
    za = np.array([[0x53, 0x07]] * N, np.uint8)
    zb = np.array([[0x53, 0xF7]] * N, np.uint8)
    ya, yb = run(za), run(zb)
    expect = (B[0, 2, 0] & 0xF) - 7
    report(np.array_equal(ya, yb) and ya[64, 0] == expect,
           "packed zero points: block b in nibble b of the row (low first); the padding nibble is ignored",
           f"zp bytes 53 07 vs 53 f7 give the same W; block 2 zero point 7")
    zflat = za.reshape(-1)
    report(np.array_equal(run(zflat), ya), "packed zero points may also be 1-D [N * ceil(k_blocks*bits/8)]")
    zf = np.array([[5.0, 3.0, 7.0]] * N, np.float32)
    report(np.array_equal(run(zf.reshape(-1)), run(zf)), "unpacked float zero points may also be 1-D [N * k_blocks]")
    report(np.array_equal(run(zf.astype(np.float16)), run(zf)),
           "the zero point type is independent of the scale type (float16 zero points with float32 scales load)")
    bits2 = rng.integers(0, 256, size=(N, 3, 8)).astype(np.uint8)
    node = helper.make_node("MatMulNBits", ["A", "B", "S"], ["Y"], domain=MS, K=K, N=N, bits=2, block_size=bs)
    m = model_of([node], [helper.make_tensor_value_info("A", TensorProto.FLOAT, [K, K])],
                 [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [K, N])],
                 [numpy_helper.from_array(bits2, "B"), numpy_helper.from_array(S, "S")], ms=True)
    y2 = session(m).run(None, {"A": np.eye(K, dtype=np.float32)})[0]
    b = int(bits2[0, 0, 0])
    report([y2[i, 0] for i in range(4)] == [((b >> (2 * i)) & 3) - 2 for i in range(4)],
           "MatMulNBits bits=2: four codes per byte, low bits first; default zero point 2")
    # g_idx: which block's scale / zero point does row k use, and are packed zero points honoured?
    S2 = (np.arange(N * 3).reshape(N, 3) + 1).astype(np.float32)
    g_idx = (np.arange(K) % 3).astype(np.int32)
    codes = np.stack([unpack_low_first(B[n], 4, bs).reshape(-1) for n in range(N)]).astype(np.float32)

    def run_g(Z):
        ins = ["A", "B", "S", "Z" if Z is not None else "", "G"]
        inits = [numpy_helper.from_array(B, "B"), numpy_helper.from_array(S2, "S"), numpy_helper.from_array(g_idx, "G")]
        if Z is not None:
            inits.append(numpy_helper.from_array(Z, "Z"))
        node = helper.make_node("MatMulNBits", ins, ["Y"], domain=MS, K=K, N=N, bits=4, block_size=bs)
        m = model_of([node], [helper.make_tensor_value_info("A", TensorProto.FLOAT, [K, K])],
                     [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [K, N])], inits, ms=True)
        return session(m).run(None, {"A": np.eye(K, dtype=np.float32)})[0].T

    zf = np.array([[3.0, 5.0, 7.0]] * N, np.float32)
    yf = run_g(zf)
    report(np.array_equal(yf, (codes - zf[:, g_idx]) * S2[:, g_idx]),
           "MatMulNBits with g_idx on CPU: row k uses the scale and (float) zero point of block g_idx[k]")
    yp8 = run_g(za)
    report(np.array_equal(yp8, (codes - 8) * S2[:, g_idx]),
           "MatMulNBits with g_idx on CPU: packed uint8 zero points are ignored (8 is used)")
    yp = run(za, weight_prepacked=1)
    report(np.array_equal(yp, ya), "MatMulNBits weight_prepacked=1 on CPU: B is read in the ordinary layout "
           "(the attribute is ignored)")


def exp_gbq_defaults():
    V, D = 4, 32
    ids = np.arange(V, dtype=np.int64)

    def gbq(data, attrs, scale_shape=(V, 1)):
        node = helper.make_node("GatherBlockQuantized", ["d", "i", "s"], ["y"], domain=MS, **attrs)
        m = model_of([node], [helper.make_tensor_value_info("i", TensorProto.INT64, [V])],
                     [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                     [data, numpy_helper.from_array(np.ones(scale_shape, np.float32), "s")], ms=True)
        return session(m).run(None, {"i": ids})[0]

    u4 = helper.make_tensor("d", TensorProto.UINT4, [V, D], bytes([0x21] * (V * D // 2)), raw=True)
    y = gbq(u4, {"block_size": 32, "quantize_axis": 1})
    report(y[0, :2].tolist() == [1, 2], "GatherBlockQuantized uint4 without zero points: default zero point 0",
           f"codes 1, 2 -> {y[0, :2].tolist()}")
    u8 = numpy_helper.from_array(np.full((V, D // 2), 0x21, np.uint8), "d")
    y = gbq(u8, {"block_size": 32, "quantize_axis": 1, "bits": 4})
    report(y[0, :2].tolist() == [-7, -6], "GatherBlockQuantized uint8 bits=4 without zero points: default 8, "
           "low nibble first", f"byte 0x21 -> {y[0, :2].tolist()}")
    u8 = numpy_helper.from_array(np.full((V, D), 200, np.uint8), "d")
    y = gbq(u8, {"block_size": 32, "quantize_axis": 1, "bits": 8})
    report(y[0, 0] == 72, "GatherBlockQuantized uint8 bits=8 without zero points: default 128", f"200 -> {y[0, 0]}")
    node = helper.make_node("GatherBlockQuantized", ["d", "i", "s"], ["y"], domain=MS, block_size=32, quantize_axis=1)
    m = model_of([node], [helper.make_tensor_value_info("i", TensorProto.INT64, [3])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                 [helper.make_tensor("d", TensorProto.UINT4, [V, D], bytes([0x21] * (V * D // 2)), raw=True),
                  numpy_helper.from_array(np.ones((V, 1), np.float32), "s")], ms=True)
    y = session(m).run(None, {"i": np.array([0, V + 5, -1], np.int64)})[0]
    report(np.all(y[1] == 0) and np.array_equal(y[2], y[0]),
           "GatherBlockQuantized: an out-of-range index gives a zero row, -1 the last row")


def exp_dq_misc():
    q = numpy_helper.from_array(np.array([[1, 2], [3, 4]], np.int8), "q")
    y = run_dq(q, numpy_helper.from_array(np.array([0.5], np.float32), "s"))
    report(y.tolist() == [[0.5, 1.0], [1.5, 2.0]], "DequantizeLinear: a 1-element 1-D scale acts per tensor")
    q = numpy_helper.from_array(np.array([7, 9], np.int32), "q")
    y = run_dq(q, numpy_helper.from_array(np.array(1.0, np.float32), "s"), numpy_helper.from_array(np.array(5, np.int32), "z"))
    report(y.tolist() == [2.0, 4.0], "DequantizeLinear int32 with a zero point: subtracted like any other type",
           f"[7, 9] - 5 -> {y.tolist()}")
    q = numpy_helper.from_array(np.array([[1, 2], [3, 4]], np.uint8), "q")
    y = run_dq(q, numpy_helper.from_array(np.array(2.0, np.float16), "s"), output_dtype=TensorProto.FLOAT, opset=23)
    report(y.dtype == np.float32, "DequantizeLinear-23 output_dtype=float with a float16 scale gives float32",
           str(y.dtype))


def exp_edges(root: Path):
    """Float8 zero points, out-of-range float zero points, empty B, int4 packing of onnx itself."""
    q = numpy_helper.from_array(np.array([1.0, 2.0, 4.0], ml_dtypes.float8_e4m3fn), "q")
    try:
        run_dq(q, numpy_helper.from_array(np.array(1.0, np.float32), "s"),
               numpy_helper.from_array(np.array(0.5, ml_dtypes.float8_e4m3fn), "z"))
        report(False, "float8 DequantizeLinear with a non-zero zero point is refused at run time")
    except Exception as e:  # noqa: BLE001
        report("should have no zero point or all zero points should be 0" in str(e),
               "float8 DequantizeLinear with a non-zero zero point is refused at run time")
    m = onnx.load(root / "malformed" / "nbits_zp_packed_valid_vs_float_out_of_range.onnx")
    ini = {t.name: t for t in m.graph.initializer}
    a = {"K": 64, "N": 16, "bits": 4, "block_size": 32}
    nodes = [helper.make_node("MatMulNBits", ["A", "q.B", "q.scales", z], [y], domain=MS, **a)
             for z, y in (("q.zero_points_float", "Y"), ("q.zero_points_packed", "Y2"))]
    mm = model_of(nodes, [helper.make_tensor_value_info("A", TensorProto.FLOAT, [64, 64])],
                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None),
                   helper.make_tensor_value_info("Y2", TensorProto.FLOAT, None)],
                  [ini[k] for k in ("q.B", "q.scales", "q.zero_points_float", "q.zero_points_packed")], ms=True)
    y, y2 = session(mm).run(None, {"A": np.eye(64, dtype=np.float32)})
    ref = read_matmulnbits(ini["q.B"], ini["q.scales"], ini["q.zero_points_float"], a).astype(np.float32)
    report(np.array_equal(y, ref), "MatMulNBits unpacked float zero points 20.0 / -4.0 (outside [0, 15]) are used "
           "as they are, not clamped")
    refp = read_matmulnbits(ini["q.B"], ini["q.scales"], ini["q.zero_points_packed"], a).astype(np.float32)
    report(np.array_equal(y2, refp), "the same zero points clamped and packed read as expected")
    m = onnx.load(root / "malformed" / "nbits_empty_b.onnx")
    so = ort.SessionOptions()
    so.log_severity_level = 4
    out = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"]).run(
        ["y_q"], {"x": np.ones((2, 64), np.float32)})[0]
    report(out.shape == (2, 16) and not out.any(), "MatMulNBits with a zero-sized B yields Y = 0")
    a4 = np.array([1, -2, 3, -4, 5], ml_dtypes.int4)
    t = numpy_helper.from_array(a4, "a")
    report(t.raw_data == bytes([0xE1, 0xC3, 0x05]), "onnx.numpy_helper packs int4 the same way (low nibble first)",
           t.raw_data.hex())


def exp_symmetric_scales():
    """The symmetric quantizers' scale: the block's value of largest magnitude divided by -2^(bits-1)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import make_quant_fixtures as gen  # noqa: PLC0415  (rebuilds the seeded float sources)
    for stem, dims, bits, bs, qdq in (("nbits_b4_sym_bs16", [64, 48, 24], 4, 16, False),
                                      ("nbits_b8_sym_bs32", [96, 64, 10], 8, 32, False),
                                      ("nbits_b2_sym_bs64", [160, 16], 2, 64, False),
                                      ("nbits_qdq_b4_sym_bs32", [100, 48, 16], 4, 32, True)):
        W = numpy_helper.to_array(gen.float_mlp(stem, dims).graph.initializer[0])
        q = onnx.load(ROOT / f"{stem}.onnx")
        S = next(numpy_helper.to_array(t) for t in q.graph.initializer if t.name.startswith("fc0") and "scales" in t.name)
        S = S.T if qdq else S  # QDQ scales are [k_blocks, N]
        K, N = W.shape
        ratios = []
        for n in range(N):
            for b in range(-(-K // bs)):
                blk = W[b * bs:(b + 1) * bs, n]
                ratios.append(blk[np.argmax(np.abs(blk))] / S[n, b])
        ratios = np.array(ratios)
        report(bool(np.allclose(ratios, -(2 ** (bits - 1)), rtol=1e-5)),
               f"{stem}: scale = (value of largest magnitude in the block) / -{2 ** (bits - 1)}",
               f"{int(np.sum(S < 0))} of {S.size} scales negative")
    E = numpy_helper.to_array(gen.float_embed("gbq_int4_sym_bs16", 100, 40, 16).graph.initializer[0])
    q = onnx.load(ROOT / "gbq_int4_sym_bs16.onnx")
    S = next(numpy_helper.to_array(t) for t in q.graph.initializer if t.name == "emb.weight_scales")
    ratios = np.array([E[v, b * 16:(b + 1) * 16][np.argmax(np.abs(E[v, b * 16:(b + 1) * 16]))] / S[v, b]
                       for v in range(100) for b in range(3)])
    report(bool(np.allclose(ratios, -8, rtol=1e-5)), "gbq_int4_sym_bs16: scale = (value of largest magnitude) / -8",
           f"{int(np.sum(S < 0))} of {S.size} scales negative")


def exp_opset_bump():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import make_quant_fixtures as gen  # noqa: PLC0415
    res = []
    for fmt, name in ((gen.QuantFormat.QDQ, "QDQ"), (gen.QuantFormat.QOperator, "QOperator")):
        m = gen.float_mlp("opset_probe", [64, 16], opset=17, ir_version=8)
        q = gen.MatMulNBitsQuantizer(m, block_size=32, quant_format=fmt)
        q.process()
        res.append((name, gen.default_opset(q.model.model), q.model.model.ir_version))
    report(res == [("QDQ", 21, 10), ("QOperator", 17, 8)],
           "MatMulNBitsQuantizer raises opset 17 / IR 8 to 21 / 10 for QDQ, keeps them for QOperator", str(res))


ROOT = Path("tests/data/quant")


def main():
    global ROOT
    root = ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/quant")
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    print(f"onnxruntime {ort.__version__}, onnx {onnx.__version__}, numpy {np.__version__}")
    check_fixture_weights(root, manifest)
    exp_int4_nibbles()
    exp_dynamic_quantize_linear()
    exp_float16_precision()
    exp_matmulnbits_layout()
    exp_gbq_defaults()
    exp_dq_misc()
    exp_edges(root)
    exp_symmetric_scales()
    exp_opset_bump()
    print(f"{len(FAILED)} failed" if FAILED else "all checks passed")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
