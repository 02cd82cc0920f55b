#!/usr/bin/env python3
"""Generate tailwatch's quantized-ONNX test fixtures and their onnxruntime oracle.

Purpose: tailwatch must read the weights of models quantized by ONNX Runtime (MatMulNBits,
GatherBlockQuantized, DequantizeLinear in all its forms, quantize_dynamic / quantize_static
output). This script builds small float models, quantizes them with onnxruntime's own quantizers
(plus hand-made onnx.helper models for the forms the quantizers never write), and records what
each quantized weight dequantizes to. That "expected" matrix is computed by onnxruntime itself:
every quantized op is run alone, in a one-node model, on an identity input (MatMulNBits with
A = I_K) or on the stored tensors (DequantizeLinear, GatherBlockQuantized with every index).
Nothing here dequantizes in numpy; numpy only computes the eigenvalues of the oracle matrices.

Usage:
    python3 scripts/make_quant_fixtures.py [OUT_DIR]      (default: tests/data/quant)

Needs, offline, CPU only:
    pip install onnx==1.23.2 onnxruntime==1.32.0 onnx_ir==1.1.0 numpy
(ml_dtypes comes with onnx). Other versions run but will not reproduce the committed bytes.

Output (see OUT_DIR/README.md): the fixtures *.onnx (one with a .onnx.data file), malformed/*.onnx,
expected/<fixture>__<n>.f32 (raw little-endian float32, row-major; n = the weight's index among
that fixture's weights in manifest.json), and manifest.json. The run is deterministic: the same
versions give byte-identical files (the RNG seed of each fixture is derived from its name, and ORT
and BLAS run single-threaded).
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import collections  # noqa: E402
import copy  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import google.protobuf  # noqa: E402
import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx_ir as ir  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnxruntime.quantization import (  # noqa: E402
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)
from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer  # noqa: E402

# matmul_nbits_quantizer calls logging.basicConfig(level=INFO) on import and logs every node.
logging.getLogger().setLevel(logging.CRITICAL)
for _name in list(logging.root.manager.loggerDict):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

PINNED = {"onnx": "1.23.2", "onnxruntime": "1.32.0", "onnx_ir": "1.1.0"}
MS = "com.microsoft"
TOP_EIGS = 10
PRODUCER = "tailwatch scripts/make_quant_fixtures.py"

F32, F16 = np.float32, np.float16
E4M3FN, E4M3FNUZ = ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e4m3fnuz
E5M2, E5M2FNUZ = ml_dtypes.float8_e5m2, ml_dtypes.float8_e5m2fnuz
FP4, INT4, UINT4 = ml_dtypes.float4_e2m1fn, ml_dtypes.int4, ml_dtypes.uint4
INT2, UINT2 = ml_dtypes.int2, ml_dtypes.uint2


# --------------------------------------------------------------------------------------------
# small helpers


def seed_of(name: str) -> int:
    """The RNG seed of a fixture: independent of the order in which fixtures are built."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(seed_of(name))


def draw(rng, shape, fan_in, df=4.0, dtype=F32):
    """Student-t(df) / sqrt(fan_in); df=None draws a Gaussian instead."""
    x = rng.standard_normal(shape) if df is None else rng.standard_t(df, size=shape)
    return (x / np.sqrt(fan_in)).astype(dtype)


def tensor(name, arr) -> TensorProto:
    """A TensorProto with raw data; onnx_ir packs the 4-bit and 2-bit ml_dtypes types."""
    arr = np.asarray(arr)
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)  # (np.ascontiguousarray alone would turn a scalar into shape [1])
    return ir.serde.serialize_tensor(ir.Tensor(arr, name=name))


def elem(dtype) -> int:
    return int(ir.DataType.from_numpy(np.dtype(dtype)))


def vi(name, dtype, shape):
    et = dtype if isinstance(dtype, int) else elem(dtype)
    return helper.make_tensor_value_info(name, et, shape)


def dtype_name(data_type: int) -> str:
    """float32 / float16 / bfloat16 / int4 / float8e4m3fn / ... (ONNX names, FLOAT -> float32)."""
    return {TensorProto.FLOAT: "float32", TensorProto.DOUBLE: "float64"}.get(
        data_type, TensorProto.DataType.Name(data_type).lower()
    )


def make_model(nodes, inputs, outputs, inits, opset, ir_version, ms=False, doc=""):
    graph = helper.make_graph(nodes, "tailwatch_fixture", inputs, outputs, inits)
    ops = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(MS, 1)] if ms else [])
    model = helper.make_model(graph, opset_imports=ops, ir_version=ir_version, producer_name=PRODUCER)
    if doc:
        model.doc_string = doc
    return model


def session(model_bytes: bytes) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 4
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def first_line(exc: Exception) -> str:
    return str(exc).strip().split("\n")[0][:400]


def attrs_of(node) -> dict:
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        if isinstance(v, TensorProto):
            continue
        out[a.name] = list(v) if isinstance(v, (list, tuple)) else v
    return out


def default_opset(model) -> int:
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def op_counts(model) -> dict:
    c = collections.Counter((f"{n.domain}:" if n.domain else "") + n.op_type for n in model.graph.node)
    return dict(sorted(c.items()))


def top_eigs(m2d: np.ndarray) -> list[float]:
    """Top eigenvalues of WᵀW, float64, from the Gram matrix of the smaller side, descending."""
    w = m2d.astype(np.float64)
    gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    ev = np.linalg.eigvalsh(gram)[::-1][:TOP_EIGS]
    return [float(x) for x in ev]


# --------------------------------------------------------------------------------------------
# float source models


def float_mlp(name, dims, dtype=F32, opset=21, ir_version=10, df=4.0):
    """x[batch, dims[0]] -> MatMul fc0 -> Relu -> MatMul fc1 -> ... -> y."""
    rng = rng_for(name)
    nodes, inits, cur = [], [], "x"
    last = len(dims) - 2
    for i, (k, n) in enumerate(zip(dims[:-1], dims[1:])):
        wname = f"fc{i}.weight"
        inits.append(tensor(wname, draw(rng, (k, n), k, df, dtype)))
        out = "y" if i == last else f"fc{i}.out"
        nodes.append(helper.make_node("MatMul", [cur, wname], [out], name=f"fc{i}"))
        cur = out
        if i != last:
            nodes.append(helper.make_node("Relu", [out], [f"relu{i}.out"], name=f"relu{i}"))
            cur = f"relu{i}.out"
    return make_model(nodes, [vi("x", dtype, ["batch", dims[0]])], [vi("y", dtype, ["batch", dims[-1]])],
                      inits, opset, ir_version)


def float_embed(name, vocab, dim, n_out, dtype=F32):
    """ids[batch] -> Gather emb (axis 0) -> MatMul fc0 -> y."""
    rng = rng_for(name)
    inits = [tensor("emb.weight", draw(rng, (vocab, dim), dim, 4.0, dtype)),
             tensor("fc0.weight", draw(rng, (dim, n_out), dim, 4.0, dtype))]
    nodes = [helper.make_node("Gather", ["emb.weight", "ids"], ["emb.out"], name="emb", axis=0),
             helper.make_node("MatMul", ["emb.out", "fc0.weight"], ["y"], name="fc0")]
    return make_model(nodes, [vi("ids", TensorProto.INT64, ["batch"])], [vi("y", dtype, ["batch", n_out])],
                      inits, 21, 10)


def float_convnet(name, const_nodes=False, bias=True, gemm=False, gather=False):
    """x[batch,3,6,6] -> Conv 8x3x3x3 -> Relu -> [Reshape|Flatten] -> MatMul [128,10] (or Gemm
    transB=1 with W [10,128]) -> y; optionally a Gather embedding [50,16] on a second input."""
    rng = rng_for(name)
    wc = draw(rng, (8, 3, 3, 3), 27, 4.0)
    wm = draw(rng, (10, 128), 128, 4.0) if gemm else draw(rng, (128, 10), 128, 4.0)
    nodes, inits = [], []
    if const_nodes:
        nodes += [helper.make_node("Constant", [], ["conv0.weight"], name="conv0.weight.const",
                                   value=tensor("conv0.weight", wc)),
                  helper.make_node("Constant", [], ["fc0.weight"], name="fc0.weight.const",
                                   value=tensor("fc0.weight", wm))]
    else:
        inits += [tensor("conv0.weight", wc), tensor("fc0.weight", wm)]
    conv_in = ["x", "conv0.weight"]
    if bias:
        inits.append(tensor("conv0.bias", np.zeros(8, F32)))
        conv_in.append("conv0.bias")
    nodes += [helper.make_node("Conv", conv_in, ["conv0.out"], name="conv0", kernel_shape=[3, 3]),
              helper.make_node("Relu", ["conv0.out"], ["relu0.out"], name="relu0")]
    if gemm:
        inits.append(tensor("fc0.bias", np.zeros(10, F32)))
        nodes += [helper.make_node("Flatten", ["relu0.out"], ["flat.out"], name="flat", axis=1),
                  helper.make_node("Gemm", ["flat.out", "fc0.weight", "fc0.bias"], ["y"], name="fc0", transB=1)]
    else:
        inits.append(tensor("flat.shape", np.array([0, -1], np.int64)))
        nodes += [helper.make_node("Reshape", ["relu0.out", "flat.shape"], ["flat.out"], name="flat"),
                  helper.make_node("MatMul", ["flat.out", "fc0.weight"], ["y"], name="fc0")]
    inputs = [vi("x", F32, ["batch", 3, 6, 6])]
    outputs = [vi("y", F32, ["batch", 10])]
    if gather:
        inits.append(tensor("emb.weight", draw(rng, (50, 16), 16, 4.0)))
        nodes.append(helper.make_node("Gather", ["emb.weight", "ids"], ["emb.out"], name="emb", axis=0))
        inputs.append(vi("ids", TensorProto.INT64, ["n_ids"]))
        outputs.append(vi("emb.out", F32, ["n_ids", 16]))
    return make_model(nodes, inputs, outputs, inits, 17, 8)


# --------------------------------------------------------------------------------------------
# fixtures written by onnxruntime's quantizers


def nbits(name, dims, bits, block_size, sym, dtype=F32, fmt=QuantFormat.QOperator, channel_wise=False):
    model = float_mlp(name, dims, dtype)
    q = MatMulNBitsQuantizer(model, bits=bits, block_size=block_size, is_symmetric=sym, quant_format=fmt,
                             channel_wised_quantize=channel_wise)
    q.process()
    return q.model.model


def nbits_gather(name, vocab, dim, n_out, block_size, sym, dtype=F32, quant_axes=None):
    model = float_embed(name, vocab, dim, n_out, dtype)
    q = MatMulNBitsQuantizer(model, bits=4, block_size=block_size, is_symmetric=sym,
                             op_types_to_quantize=("MatMul", "Gather"), quant_axes=quant_axes)
    q.process()
    return q.model.model


def dynamic(name, const_nodes, gemm=False, **kw):
    model = float_convnet(name, const_nodes=const_nodes, bias=not const_nodes, gemm=gemm,
                          gather=not (const_nodes or gemm))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "q.onnx"
        quantize_dynamic(model, out, **kw)
        return onnx.load(out)


class _Reader(CalibrationDataReader):
    """Eight seeded random batches for MinMax calibration."""

    def __init__(self, name):
        self.rng = rng_for(name + "/calibration")
        self.left = 8

    def get_next(self):
        if self.left == 0:
            return None
        self.left -= 1
        return {"x": self.rng.standard_normal((1, 3, 6, 6)).astype(F32)}


def static(name, fmt, activation_type):
    model = float_convnet(name, gemm=True)
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "f.onnx", Path(tmp) / "q.onnx"
        onnx.save(model, src)
        quantize_static(src, out, _Reader(name), quant_format=fmt, per_channel=True,
                        activation_type=activation_type, weight_type=QuantType.QInt8)
        return onnx.load(out)


# --------------------------------------------------------------------------------------------
# hand-made fixtures (onnx.helper) for forms the quantizers do not write


def dq_branches(name, branches, opset, ir_version, doc):
    """One DequantizeLinear -> MatMul (weight side) per branch, each on its own input.

    branch = (tag, q, scale, zero_point or None, attrs, output dtype)
    """
    nodes, inits, inputs, outputs = [], [], [], []
    for tag, q, scale, zp, attrs, out_dt in branches:
        ins = [f"{tag}.q", f"{tag}.scale"]
        inits += [tensor(f"{tag}.q", q), tensor(f"{tag}.scale", scale)]
        if zp is not None:
            ins.append(f"{tag}.zero_point")
            inits.append(tensor(f"{tag}.zero_point", zp))
        nodes.append(helper.make_node("DequantizeLinear", ins, [f"{tag}.w"], name=f"dq_{tag}", **attrs))
        nodes.append(helper.make_node("MatMul", [f"x_{tag}", f"{tag}.w"], [f"y_{tag}"], name=f"fc_{tag}"))
        inputs.append(vi(f"x_{tag}", out_dt, ["batch", q.shape[0]]))
        outputs.append(vi(f"y_{tag}", out_dt, ["batch", q.shape[1]]))
    return make_model(nodes, inputs, outputs, inits, opset, ir_version, doc=doc)


def q_int(rng, shape, dtype, lo, hi, zp, df=4.0):
    """Integers drawn as round(t(df) * spread) + zp, clipped to [lo, hi]."""
    spread = (hi - lo) / 10.0
    return np.clip(np.rint(rng.standard_t(df, size=shape) * spread) + zp, lo, hi).astype(dtype)


def block_scales(rng, shape, axis, block, dtype):
    s = list(shape)
    s[axis] = -(-shape[axis] // block)
    return (0.01 * (1.0 + rng.random(s))).astype(dtype)


def dq_int_per_tensor(name):
    r = rng_for(name)
    br = [
        ("int8_tensor", q_int(r, (48, 32), np.int8, -128, 127, 3), np.array(0.011, F32), np.array(3, np.int8), {}, F32),
        ("uint8_tensor", q_int(r, (48, 32), np.uint8, 0, 255, 133), np.array(0.009, F32), np.array(133, np.uint8), {}, F32),
        ("int16_tensor", q_int(r, (40, 24), np.int16, -32768, 32767, -7), np.array(3e-5, F32), np.array(-7, np.int16), {}, F32),
        ("uint16_tensor_f16scale", q_int(r, (40, 24), np.uint16, 0, 65535, 32768), np.array(4e-5, F16),
         np.array(32768, np.uint16), {}, F16),
        ("int32_tensor", q_int(r, (32, 16), np.int32, -(2**31), 2**31 - 1, 0) // 4096, np.array(1e-6, F32), None, {}, F32),
        ("int8_tensor_f16scale_nozp", q_int(r, (24, 16), np.int8, -128, 127, 0), np.array(0.0123, F16), None, {}, F16),
        ("int8_tensor_shape1", q_int(r, (24, 16), np.int8, -128, 127, -2), np.array([0.013], F32), np.array([-2], np.int8),
         {}, F32),
    ]
    return dq_branches(name, br, 21, 10, "per-tensor DequantizeLinear over 8/16/32-bit integers")


def dq_int_per_axis(name):
    r = rng_for(name)
    br = [
        ("int8_axis1", q_int(r, (48, 32), np.int8, -128, 127, 0), (0.01 * (1 + r.random(32))).astype(F32),
         q_int(r, (32,), np.int8, -4, 4, 0), {"axis": 1}, F32),
        ("uint8_axis0", q_int(r, (48, 32), np.uint8, 0, 255, 128), (0.01 * (1 + r.random(48))).astype(F32),
         q_int(r, (48,), np.uint8, 120, 136, 128), {"axis": 0}, F32),
        ("int16_axis_neg1_f16scale", q_int(r, (40, 24), np.int16, -32768, 32767, 0),
         (3e-5 * (1 + r.random(24))).astype(F16), None, {"axis": -1}, F16),
        ("uint16_axis1", q_int(r, (40, 24), np.uint16, 0, 65535, 32768), (4e-5 * (1 + r.random(24))).astype(F32),
         np.full(24, 32768, np.uint16), {"axis": 1}, F32),
        ("int32_axis0", q_int(r, (32, 16), np.int32, -(2**31), 2**31 - 1, 0) // 4096,
         (1e-6 * (1 + r.random(32))).astype(F32), None, {"axis": 0}, F32),
    ]
    return dq_branches(name, br, 21, 10, "per-axis DequantizeLinear (1-D scale) over 8/16/32-bit integers")


def dq_int_blocked(name):
    r = rng_for(name)
    br = [
        ("int8_block_axis0_bs16", q_int(r, (40, 24), np.int8, -128, 127, 0), block_scales(r, (40, 24), 0, 16, F32),
         q_int(r, (3, 24), np.int8, -3, 3, 0), {"axis": 0, "block_size": 16}, F32),
        ("uint8_block_axis1_bs8", q_int(r, (32, 20), np.uint8, 0, 255, 128), block_scales(r, (32, 20), 1, 8, F32),
         q_int(r, (32, 3), np.uint8, 124, 132, 128), {"axis": 1, "block_size": 8}, F32),
        ("int16_block_axis0_bs32_f16scale", q_int(r, (72, 16), np.int16, -32768, 32767, 0),
         (3e-5 * (1 + r.random((3, 16)))).astype(F16), q_int(r, (3, 16), np.int16, -50, 50, 0),
         {"axis": 0, "block_size": 32}, F16),
        ("uint16_block_axis1_bs16", q_int(r, (24, 40), np.uint16, 0, 65535, 32768),
         (4e-5 * (1 + r.random((24, 3)))).astype(F32), np.full((24, 3), 32768, np.uint16),
         {"axis": 1, "block_size": 16}, F32),
        ("int32_block_axis0_bs16", q_int(r, (48, 8), np.int32, -(2**31), 2**31 - 1, 0) // 4096,
         (1e-6 * (1 + r.random((3, 8)))).astype(F32), None, {"axis": 0, "block_size": 16}, F32),
    ]
    return dq_branches(name, br, 21, 10, "blocked DequantizeLinear (axis + block_size, opset 21), last block partial")


def dq_int4_odd(name):
    r = rng_for(name)
    br = [
        ("int4_tensor_7x5", q_int(r, (7, 5), INT4, -8, 7, -1), np.array(0.05, F32), np.array(-1, INT4), {}, F32),
        ("uint4_axis1_9x3", q_int(r, (9, 3), UINT4, 0, 15, 8), np.array([0.04, 0.05, 0.06], F32),
         np.array([7, 8, 9], UINT4), {"axis": 1}, F32),
        ("int4_block_axis0_bs4_11x5", q_int(r, (11, 5), INT4, -8, 7, 0), block_scales(r, (11, 5), 0, 4, F32),
         q_int(r, (3, 5), INT4, -2, 2, 0), {"axis": 0, "block_size": 4}, F32),
        ("uint4_block_axis1_bs2_5x7_f16scale", q_int(r, (5, 7), UINT4, 0, 15, 8), block_scales(r, (5, 7), 1, 2, F16),
         q_int(r, (5, 4), UINT4, 6, 10, 8), {"axis": 1, "block_size": 2}, F16),
        ("int4_block_axis0_bs16_33x17", q_int(r, (33, 17), INT4, -8, 7, 0), block_scales(r, (33, 17), 0, 16, F32),
         q_int(r, (3, 17), INT4, -1, 1, 0), {"axis": 0, "block_size": 16}, F32),
    ]
    return dq_branches(name, br, 21, 10, "int4/uint4 DequantizeLinear with odd element counts (weights and zero points)")


def f8(rng, shape, dtype, maxval):
    """Float8 data: t(4) draws scaled to half the format's range, cast (round to nearest even)."""
    x = rng.standard_t(4, size=shape)
    x = np.clip(x / np.max(np.abs(x)) * maxval * 0.5, -maxval * 0.5, maxval * 0.5)
    return x.astype(dtype)


def dq_float8(name):
    r = rng_for(name)
    br = [
        ("e4m3fn_tensor", f8(r, (48, 32), E4M3FN, 448), np.array(0.002, F32), None, {}, F32),
        ("e4m3fnuz_axis1_f16scale", f8(r, (48, 32), E4M3FNUZ, 240), (0.004 * (1 + r.random(32))).astype(F16), None,
         {"axis": 1}, F16),
        ("e5m2_block_axis0_bs16", f8(r, (40, 24), E5M2, 57344), block_scales(r, (40, 24), 0, 16, F32) * 1e-3, None,
         {"axis": 0, "block_size": 16}, F32),
        ("e5m2fnuz_tensor_zp0", f8(r, (32, 16), E5M2FNUZ, 57344), np.array(1e-5, F32), np.array(0, E5M2FNUZ), {}, F32),
    ]
    return dq_branches(name, br, 21, 10, "float8 DequantizeLinear (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ)")


def dq_output_dtype(name):
    r = rng_for(name)
    br = [
        ("int8_axis0_f16scale_out_f32", q_int(r, (48, 32), np.int8, -128, 127, 0), (0.01 * (1 + r.random(48))).astype(F16),
         None, {"axis": 0, "output_dtype": TensorProto.FLOAT}, F32),
        ("uint4_block_axis0_bs16_out_f32", q_int(r, (40, 24), UINT4, 0, 15, 8), block_scales(r, (40, 24), 0, 16, F32),
         q_int(r, (3, 24), UINT4, 7, 9, 8), {"axis": 0, "block_size": 16, "output_dtype": TensorProto.FLOAT}, F32),
        ("e4m3fn_tensor_f16scale_out_f32", f8(r, (32, 16), E4M3FN, 448), np.array(0.003, F16), None,
         {"output_dtype": TensorProto.FLOAT}, F32),
    ]
    return dq_branches(name, br, 23, 11, "DequantizeLinear-23 with output_dtype (float16 scales, float32 output)")


def dq_int2(name):
    r = rng_for(name)
    br = [
        ("int2_tensor_9x7", q_int(r, (9, 7), INT2, -2, 1, 0), np.array(0.1, F32), None, {}, F32),
        ("uint2_block_axis0_bs4_10x6", q_int(r, (10, 6), UINT2, 0, 3, 2), block_scales(r, (10, 6), 0, 4, F32) * 10,
         r.integers(1, 4, size=(3, 6)).astype(UINT2), {"axis": 0, "block_size": 4}, F32),
    ]
    return dq_branches(name, br, 25, 13, "int2/uint2 DequantizeLinear (opset 25), odd element counts")


def pack_bits(values: np.ndarray, bits: int) -> np.ndarray:
    """Pack unsigned codes along the last axis, low bits first (the MatMulNBits layout)."""
    per = 8 // bits
    v = values.astype(np.uint8)
    pad = (-v.shape[-1]) % per
    if pad:
        v = np.concatenate([v, np.zeros(v.shape[:-1] + (pad,), np.uint8)], axis=-1)
    v = v.reshape(v.shape[:-1] + (-1, per))
    out = np.zeros(v.shape[:-1], np.uint8)
    for j in range(per):
        out |= (v[..., j] << (bits * j)).astype(np.uint8)
    return out


def nbits_inputs(rng, K, N, bits, bs, dtype=F32):
    """Hand-made MatMulNBits B [N, k_blocks, bs*bits/8] and scales [N, k_blocks] from random codes."""
    kb = -(-K // bs)
    codes = rng.integers(0, 2**bits, size=(N, kb * bs))
    codes[:, K:] = 0
    B = pack_bits(codes.reshape(N, kb, bs), bits)
    scales = (0.02 * (1 + rng.random((N, kb))) / 2 ** (bits - 4)).astype(dtype)
    return B, scales, kb


def mnb_node(tag, K, N, bits, bs, inputs, **extra):
    return helper.make_node("MatMulNBits", inputs, [f"y_{tag}"], name=f"mnb_{tag}", domain=MS,
                            K=K, N=N, bits=bits, block_size=bs, **extra)


def nbits_hand_zp_unpacked(name):
    """MatMulNBits with unpacked zero points in the scale type (non-integer, inside the range)."""
    r = rng_for(name)
    nodes, inits, inputs, outputs = [], [], [], []
    for tag, K, N, bits, bs, dt in (("b4_f32_zp", 80, 24, 4, 32, F32), ("b4_f16_zp", 96, 16, 4, 16, F16)):
        B, S, kb = nbits_inputs(r, K, N, bits, bs, dt)
        Z = (r.random((N, kb)) * (2**bits - 1)).astype(dt)
        inits += [tensor(f"{tag}.B", B), tensor(f"{tag}.scales", S), tensor(f"{tag}.zero_points", Z)]
        nodes.append(mnb_node(tag, K, N, bits, bs, [f"x_{tag}", f"{tag}.B", f"{tag}.scales", f"{tag}.zero_points"]))
        inputs.append(vi(f"x_{tag}", dt, ["batch", K]))
        outputs.append(vi(f"y_{tag}", dt, ["batch", N]))
    return make_model(nodes, inputs, outputs, inits, 21, 10, ms=True,
                      doc="MatMulNBits with unpacked (float) zero points [N, k_blocks]")


def nbits_hand_flat_scales(name):
    """MatMulNBits with 1-D scales [N*k_blocks] and 1-D packed zero points [N*ceil(k_blocks*bits/8)]."""
    r = rng_for(name)
    nodes, inits = [], []
    K, N, bits, bs = 96, 20, 4, 32
    B, S, kb = nbits_inputs(r, K, N, bits, bs)
    Z = pack_bits(r.integers(5, 11, size=(N, kb)), bits)  # [N, 2]: 3 nibbles + 1 padding nibble per row
    inits += [tensor("flat.B", B), tensor("flat.scales", S.reshape(-1)), tensor("flat.zero_points", Z.reshape(-1))]
    nodes.append(mnb_node("flat", K, N, bits, bs, ["x_flat", "flat.B", "flat.scales", "flat.zero_points"]))
    return make_model(nodes, [vi("x_flat", F32, ["batch", K])], [vi("y_flat", F32, ["batch", N])], inits, 21, 10,
                      ms=True, doc="MatMulNBits with flat 1-D scales and zero points")


def nbits_hand_g_idx(name):
    """MatMulNBits with g_idx (act-order: the block of each k, shuffled), with float32 and float16
    unpacked zero points and with packed ones (which onnxruntime ignores beside g_idx)."""
    r = rng_for(name)
    nodes, inits, inputs, outputs = [], [], [], []
    for tag, K, N, bs, dt, packed in (("gidx_f32_zp", 64, 12, 16, F32, False),
                                      ("gidx_f16_zp", 64, 10, 32, F16, False),
                                      ("gidx_packed_zp", 96, 8, 32, F32, True)):
        B, S, kb = nbits_inputs(r, K, N, 4, bs, dt)
        if packed:
            Z = pack_bits(r.integers(3, 13, size=(N, kb)), 4)
        else:
            Z = (r.random((N, kb)) * 15).astype(dt)
        g = r.permutation(np.arange(K) // bs).astype(np.int32)
        inits += [tensor(f"{tag}.B", B), tensor(f"{tag}.scales", S), tensor(f"{tag}.zero_points", Z),
                  tensor(f"{tag}.g_idx", g)]
        nodes.append(mnb_node(tag, K, N, 4, bs, [f"x_{tag}", f"{tag}.B", f"{tag}.scales",
                                                 f"{tag}.zero_points", f"{tag}.g_idx"]))
        inputs.append(vi(f"x_{tag}", dt, ["batch", K]))
        outputs.append(vi(f"y_{tag}", dt, ["batch", N]))
    return make_model(nodes, inputs, outputs, inits, 21, 10, ms=True,
                      doc="MatMulNBits with g_idx (act-order) and float or packed zero points")


def gbq_branches(name, branches, doc):
    """branch = (tag, data, scales, zero_points or None, attrs, output dtype, logical dim)."""
    nodes, inits, outputs = [], [], []
    for tag, data, scales, zp, attrs, out_dt, dim in branches:
        ins = [f"{tag}.data", "ids", f"{tag}.scales"]
        inits += [tensor(f"{tag}.data", data), tensor(f"{tag}.scales", scales)]
        if zp is not None:
            ins.append(f"{tag}.zero_points")
            inits.append(tensor(f"{tag}.zero_points", zp))
        nodes.append(helper.make_node("GatherBlockQuantized", ins, [f"y_{tag}"], name=f"gbq_{tag}", domain=MS, **attrs))
        outputs.append(vi(f"y_{tag}", out_dt, ["batch", dim]))
    return make_model(nodes, [vi("ids", TensorProto.INT64, ["batch"])], outputs, inits, 21, 10, ms=True, doc=doc)


def gbq_hand_uint8(name):
    r = rng_for(name)
    V = 60
    br = [
        ("u8_b8_nozp", r.integers(96, 160, size=(V, 32)).astype(np.uint8), (0.01 * (1 + r.random((V, 2)))).astype(F32),
         None, {"bits": 8, "block_size": 16, "quantize_axis": 1, "gather_axis": 0}, F32, 32),
        ("u8_b4_zp", pack_bits(r.integers(0, 16, size=(V, 48)), 4), (0.02 * (1 + r.random((V, 3)))).astype(F32),
         pack_bits(r.integers(6, 11, size=(V, 3)), 4), {"bits": 4, "block_size": 16, "quantize_axis": 1}, F32, 48),
        ("u8_b2_nozp_f16scale", pack_bits(r.integers(0, 4, size=(V, 32)), 2), (0.05 * (1 + r.random((V, 2)))).astype(F16),
         None, {"bits": 2, "block_size": 16, "quantize_axis": -1}, F16, 32),
    ]
    return gbq_branches(name, br, "GatherBlockQuantized over uint8 data (bits 8, 4 and 2, packed low bits first)")


def gbq_hand_float8_float4(name):
    r = rng_for(name)
    V = 49
    br = [
        ("e4m3fn_bs32", f8(r, (V, 64), E4M3FN, 448), (0.002 * (1 + r.random((V, 2)))).astype(F32), None,
         {"block_size": 32, "quantize_axis": 1}, F32, 64),
        ("e5m2_bs0_f16scale", f8(r, (V, 40), E5M2, 57344), (2e-5 * (1 + r.random((V, 1)))).astype(F16), None,
         {"block_size": 0, "quantize_axis": 1}, F16, 40),
        ("f4e2m1_bs16_bcast", f8(r, (V, 48), FP4, 6), (0.1 * (1 + r.random((1, 3)))).astype(F32), None,
         {"block_size": 16, "quantize_axis": 1}, F32, 48),
        ("f4e2m1_bs16_odd", f8(r, (V, 33), FP4, 6), (0.1 * (1 + r.random((V, 3)))).astype(F32), None,
         {"block_size": 16, "quantize_axis": 1}, F32, 33),
    ]
    return gbq_branches(name, br, "GatherBlockQuantized over float8 / float4 E2M1 data (no zero points)")


# --------------------------------------------------------------------------------------------
# the fixture table: (file stem, API that wrote it, builder, description)

FIXTURES = [
    ("nbits_b4_sym_bs16", "MatMulNBitsQuantizer (QOperator)", lambda n: nbits(n, [64, 48, 24], 4, 16, True),
     "4-bit symmetric, block 16; K=64 and K=48"),
    ("nbits_b4_asym_bs32", "MatMulNBitsQuantizer (QOperator)", lambda n: nbits(n, [100, 80, 24], 4, 32, False),
     "4-bit asymmetric, block 32; K=100 (4 blocks, last one 4/32 full) and K=80 (3 blocks: odd, zero points padded)"),
    ("nbits_b4_asym_bs64", "MatMulNBitsQuantizer (QOperator)", lambda n: nbits(n, [256, 96, 32], 4, 64, False),
     "4-bit asymmetric, block 64; K=256 and K=96 (2 blocks, last one half full)"),
    ("nbits_b4_sym_bs128", "MatMulNBitsQuantizer (QOperator)", lambda n: nbits(n, [256, 64, 16], 4, 128, True),
     "4-bit symmetric, block 128; K=256 and K=64 < block_size (one padded block)"),
    ("nbits_b8_sym_bs32", "MatMulNBitsQuantizer (QOperator)", lambda n: nbits(n, [96, 64, 10], 8, 32, True),
     "8-bit symmetric, block 32"),
    ("nbits_b8_asym_bs16", "MatMulNBitsQuantizer (QOperator)", lambda n: nbits(n, [72, 40, 12], 8, 16, False),
     "8-bit asymmetric, block 16; K=72 (5 blocks, last half full)"),
    ("nbits_b2_asym_bs32", "MatMulNBitsQuantizer (QOperator)", lambda n: nbits(n, [64, 32], 2, 32, False),
     "2-bit asymmetric, block 32"),
    ("nbits_b2_sym_bs64", "MatMulNBitsQuantizer (QOperator)", lambda n: nbits(n, [160, 16], 2, 64, True),
     "2-bit symmetric, block 64; K=160 (3 blocks, last half full)"),
    ("nbits_b4_asym_bs32_fp16", "MatMulNBitsQuantizer (QOperator)", lambda n: nbits(n, [128, 64, 20], 4, 32, False, F16),
     "4-bit asymmetric, block 32, float16 source model: float16 scales"),
    ("nbits_b8_sym_bs64_fp16", "MatMulNBitsQuantizer (QOperator)", lambda n: nbits(n, [160, 48], 8, 64, True, F16),
     "8-bit symmetric, block 64, float16 scales; K=160"),
    ("nbits_b4_asym_bs32_extdata", "MatMulNBitsQuantizer (QOperator), saved with external data",
     lambda n: nbits(n, [128, 64, 32], 4, 32, False),
     "4-bit asymmetric, block 32; every tensor in one nbits_b4_asym_bs32_extdata.onnx.data file"),
    ("nbits_qdq_b4_sym_bs32", "MatMulNBitsQuantizer (QDQ)", lambda n: nbits(n, [100, 48, 16], 4, 32, True, fmt=QuantFormat.QDQ),
     "QDQ: blocked DequantizeLinear over int4, block 32, K=100; then MatMul"),
    ("nbits_qdq_b4_asym_bs64", "MatMulNBitsQuantizer (QDQ)", lambda n: nbits(n, [128, 40, 24], 4, 64, False, fmt=QuantFormat.QDQ),
     "QDQ: blocked DequantizeLinear over uint4 with uint4 zero points, block 64, K=40 < block"),
    ("nbits_qdq_b4_asym_bs32_fp16", "MatMulNBitsQuantizer (QDQ)",
     lambda n: nbits(n, [96, 32], 4, 32, False, F16, fmt=QuantFormat.QDQ),
     "QDQ over uint4, float16 source: float16 scales, float16 MatMul"),
    ("nbits_qdq_b4_sym_channelwise", "MatMulNBitsQuantizer (QDQ, channel_wised_quantize)",
     lambda n: nbits(n, [64, 24], 4, 32, True, fmt=QuantFormat.QDQ, channel_wise=True),
     "QDQ channel-wise symmetric: int4 stored TRANSPOSED [N, K], DequantizeLinear axis 1, Transpose, MatMul"),
    ("nbits_qdq_b4_asym_channelwise", "MatMulNBitsQuantizer (QDQ, channel_wised_quantize)",
     lambda n: nbits(n, [64, 24], 4, 32, False, fmt=QuantFormat.QDQ, channel_wise=True),
     "QDQ channel-wise asymmetric: uint4 [K, N], DequantizeLinear axis 0 with block_size = K"),
    ("gbq_uint4_asym_bs32", "MatMulNBitsQuantizer (op_types_to_quantize MatMul, Gather)",
     lambda n: nbits_gather(n, 200, 72, 32, 32, False),
     "GatherBlockQuantized uint4 asymmetric (table 200x72, 3 blocks per row) and a 4-bit MatMulNBits"),
    ("gbq_int4_sym_bs16", "MatMulNBitsQuantizer (op_types_to_quantize MatMul, Gather)",
     lambda n: nbits_gather(n, 100, 40, 16, 16, True),
     "GatherBlockQuantized int4 symmetric (table 100x40, block 16) and a 4-bit MatMulNBits"),
    ("gbq_uint4_asym_bs32_fp16", "MatMulNBitsQuantizer (op_types_to_quantize MatMul, Gather)",
     lambda n: nbits_gather(n, 64, 64, 16, 32, False, F16),
     "GatherBlockQuantized uint4 with float16 scales (float16 source) and a 4-bit MatMulNBits"),
    ("gbq_uint4_asym_bs16_qaxis0", "MatMulNBitsQuantizer (quant_axes Gather:0)",
     lambda n: nbits_gather(n, 50, 32, 16, 16, False, quant_axes=(("MatMul", 0), ("Gather", 0))),
     "GatherBlockQuantized blocked along the vocabulary (quantize_axis 0), 50 rows in blocks of 16"),
    ("dyn_const_nodes_default", "quantize_dynamic (defaults)", lambda n: dynamic(n, True),
     "Conv and MatMul weights are Constant nodes: the Conv gets DynamicQuantizeLinear + ConvInteger, the MatMul stays float"),
    ("dyn_const_nodes_matmul_nonconst_b", "quantize_dynamic (extra_options MatMulConstBOnly=False)",
     lambda n: dynamic(n, True, extra_options={"MatMulConstBOnly": False}),
     "Constant-node weights, both quantized at run time: DynamicQuantizeLinear + ConvInteger / MatMulInteger"),
    ("dyn_init_s8", "quantize_dynamic (weight_type QInt8)", lambda n: dynamic(n, False, weight_type=QuantType.QInt8),
     "initializer weights: int8 per-tensor ConvInteger / MatMulInteger, uint8 Gather + DequantizeLinear"),
    ("dyn_init_u8_per_channel", "quantize_dynamic (weight_type QUInt8, per_channel)",
     lambda n: dynamic(n, False, weight_type=QuantType.QUInt8, per_channel=True),
     "initializer weights: uint8; MatMulInteger per output column, ConvInteger still per tensor"),
    ("dyn_init_gemm_s8", "quantize_dynamic (weight_type QInt8)",
     lambda n: dynamic(n, False, gemm=True, weight_type=QuantType.QInt8),
     "Gemm(transB=1) W [10,128]: rewritten to MatMul + Add, the weight stored transposed [128,10] as MatMulInteger B"),
    ("static_qdq_s8_per_channel", "quantize_static (QDQ, QInt8/QInt8, per_channel)",
     lambda n: static(n, QuantFormat.QDQ, QuantType.QInt8),
     "Conv + Gemm(transB=1): int8 per-channel weight DequantizeLinear, int32 bias DequantizeLinear"),
    ("static_qop_u8s8_per_channel", "quantize_static (QOperator, QUInt8 activations, QInt8 weights, per_channel)",
     lambda n: static(n, QuantFormat.QOperator, QuantType.QUInt8),
     "Conv + Gemm(transB=1) as QLinearConv / QGemm with int8 per-channel weights"),
    ("dq_int_per_tensor", "hand-made (onnx.helper)", dq_int_per_tensor,
     "per-tensor DequantizeLinear over int8/uint8/int16/uint16/int32, float32 and float16 scales"),
    ("dq_int_per_axis", "hand-made (onnx.helper)", dq_int_per_axis,
     "per-axis DequantizeLinear over int8/uint8/int16/uint16/int32, axis 0, 1 and -1"),
    ("dq_int_blocked", "hand-made (onnx.helper)", dq_int_blocked,
     "blocked DequantizeLinear over int8/uint8/int16/uint16/int32 (opset 21)"),
    ("dq_int4_odd", "hand-made (onnx.helper)", dq_int4_odd,
     "int4/uint4 DequantizeLinear, per-tensor, per-axis and blocked, odd element counts"),
    ("dq_float8", "hand-made (onnx.helper)", dq_float8,
     "float8 E4M3FN / E4M3FNUZ / E5M2 / E5M2FNUZ DequantizeLinear"),
    ("dq_output_dtype", "hand-made (onnx.helper)", dq_output_dtype,
     "DequantizeLinear-23 output_dtype = float with float16 (or float32) scales"),
    ("dq_int2", "hand-made (onnx.helper)", dq_int2, "int2/uint2 DequantizeLinear (opset 25)"),
    ("nbits_hand_zp_unpacked", "hand-made (onnx.helper)", nbits_hand_zp_unpacked,
     "MatMulNBits with unpacked zero points in the scale type (float32 / float16), non-integer values"),
    ("nbits_hand_flat_scales", "hand-made (onnx.helper)", nbits_hand_flat_scales,
     "MatMulNBits with 1-D scales [N*k_blocks] and 1-D packed zero points"),
    ("nbits_hand_g_idx", "hand-made (onnx.helper)", nbits_hand_g_idx,
     "MatMulNBits with g_idx (act-order), float32/float16 float zero points and packed ones"),
    ("gbq_hand_uint8", "hand-made (onnx.helper)", gbq_hand_uint8,
     "GatherBlockQuantized over uint8 data with bits 8 / 4 / 2 (default zero point 2^(bits-1))"),
    ("gbq_hand_float8_float4", "hand-made (onnx.helper)", gbq_hand_float8_float4,
     "GatherBlockQuantized over float8 E4M3FN / E5M2 and float4 E2M1 (the only CPU path for float4)"),
]

EXTERNAL = {"nbits_b4_asym_bs32_extdata"}


# --------------------------------------------------------------------------------------------
# weight discovery in a quantized model


class Graph:
    def __init__(self, model):
        self.model = model
        self.nodes = list(model.graph.node)
        self.inits = {t.name: t for t in model.graph.initializer}
        self.consts = {n.output[0]: n for n in self.nodes if n.op_type == "Constant"}
        self.producer = {o: n for n in self.nodes for o in n.output}
        self.consumers = collections.defaultdict(list)
        for n in self.nodes:
            for i, name in enumerate(n.input):
                if name:
                    self.consumers[name].append((n, i))

    def const(self, name) -> TensorProto | None:
        if name in self.inits:
            return self.inits[name]
        if name in self.consts:
            for a in self.consts[name].attribute:
                if a.name == "value":
                    t = copy.deepcopy(a.t)
                    t.name = name
                    return t
        return None

    def stored_in(self, name):
        t = self.inits.get(name)
        if t is None:
            return "Constant node" if name in self.consts else None
        return "initializer (external data)" if t.data_location == TensorProto.EXTERNAL else "initializer"


def opt_input(node, i):
    return node.input[i] if len(node.input) > i and node.input[i] else None


def discover(model, model_path):
    """Every quantized weight of a fixture, in graph order, as dicts of raw facts."""
    g = Graph(model)
    loaded = Graph(onnx.load(model_path)) if model_path else g  # external data read in
    found = []
    for node in g.nodes:
        op = node.op_type
        if op == "MatMulNBits":
            found.append(dict(kind=op, node=node, layer=node, stored=node.input[1], scale=node.input[2],
                              zp=opt_input(node, 3), extra={"g_idx": opt_input(node, 4), "bias": opt_input(node, 5)}))
        elif op == "GatherBlockQuantized":
            found.append(dict(kind=op, node=node, layer=node, stored=node.input[0], scale=node.input[2],
                              zp=opt_input(node, 3)))
        elif op == "DequantizeLinear" and g.const(node.input[0]) is not None:
            users = g.consumers[node.output[0]]
            if len(users) != 1:
                continue
            user, idx = users[0]
            transpose = None
            if user.op_type == "Transpose":
                transpose = user
                user, idx = g.consumers[user.output[0]][0]
            if user.op_type in ("MatMul", "Gemm", "Conv") and idx == 1:
                found.append(dict(kind=op, node=node, layer=user, transpose=transpose, stored=node.input[0],
                                  scale=node.input[1], zp=opt_input(node, 2)))
        elif op in ("ConvInteger", "MatMulInteger"):
            w = node.input[1]
            prod = g.producer.get(w)
            if prod is not None and prod.op_type == "DynamicQuantizeLinear":
                found.append(dict(kind="DynamicQuantizeLinear", node=prod, layer=node, stored=prod.input[0],
                                  scale=prod.output[1], zp=prod.output[2]))
            elif w in g.inits:
                base = w[: -len("_quantized")] if w.endswith("_quantized") else w
                found.append(dict(kind=op, node=node, layer=node, stored=w, scale=base + "_scale", zp=opt_input(node, 3)))
        elif op in ("QLinearConv", "QLinearMatMul") or (op == "QGemm" and node.domain == MS):
            found.append(dict(kind=op, node=node, layer=node, stored=node.input[3], scale=node.input[4],
                              zp=opt_input(node, 5)))
        elif op == "Gather" and g.const(node.input[0]) is not None and \
                g.const(node.input[0]).data_type in (TensorProto.INT8, TensorProto.UINT8):
            users = g.consumers[node.output[0]]
            if len(users) == 1 and users[0][0].op_type == "DequantizeLinear":
                dq = users[0][0]
                found.append(dict(kind="Gather+DequantizeLinear", node=dq, layer=node, stored=node.input[0],
                                  scale=dq.input[1], zp=opt_input(dq, 2)))
    return g, loaded, found


def float_layers(g: Graph) -> list[dict]:
    """Layers the quantizer left in float (a float constant read directly as the weight)."""
    out = []
    for node in g.nodes:
        idx = {"MatMul": 1, "Gemm": 1, "Conv": 1, "Gather": 0}.get(node.op_type)
        if idx is None or node.domain:
            continue
        t = g.const(node.input[idx])
        if t is None or t.data_type not in (TensorProto.FLOAT, TensorProto.FLOAT16) or len(t.dims) < 2:
            continue
        w = numpy_helper.to_array(t)
        out.append({"node": node.name, "op_type": node.op_type, "weight": node.input[idx],
                    "stored_in": g.stored_in(node.input[idx]), "shape": list(w.shape),
                    "eigenvalues_top": top_eigs(w.reshape(w.shape[0], -1))})
    return out


# --------------------------------------------------------------------------------------------
# the oracle: each quantized op alone, run by onnxruntime


def run_one(nodes, inputs, outputs, inits, feeds, opset, ms=False):
    m = make_model(nodes, inputs, outputs, inits, opset, helper.find_min_ir_version_for(
        [helper.make_opsetid("", opset)]), ms=ms)
    return session(m.SerializeToString()).run(None, feeds)


def dq_alone(q, s, zp, attrs, opset):
    """DequantizeLinear of the given TensorProtos, alone, in onnxruntime."""
    ins = ["q", "s"] + (["z"] if zp is not None else [])
    inits = [q, s] + ([zp] if zp is not None else [])
    for t, n in zip(inits, ins):
        t.name = n
    out_t = attrs.get("output_dtype", s.data_type)
    node = helper.make_node("DequantizeLinear", ins, ["y"], name="oracle", **attrs)
    return run_one([node], [], [vi("y", out_t, list(q.dims))], inits, {}, opset)[0]


def oracle(w, g: Graph, loaded: Graph, fixture_opset):
    """(ORT output array, how it was obtained, source float array or None)."""
    kind, node = w["kind"], w["node"]
    cp = lambda name: copy.deepcopy(loaded.const(name))  # noqa: E731
    if kind == "MatMulNBits":
        a = attrs_of(node)
        K, N = a["K"], a["N"]
        scale = cp(w["scale"])
        a_dt = helper.tensor_dtype_to_np_dtype(scale.data_type)
        ins, inits = ["A"], []
        for i in range(1, min(len(node.input), 5)):  # B, scales, zero_points, g_idx; not bias
            name = node.input[i]
            ins.append(name)
            if name:
                inits.append(cp(name))
        while ins and not ins[-1]:
            ins.pop()
        n1 = helper.make_node("MatMulNBits", ins, ["Y"], name="oracle", domain=MS, **a)
        eye = np.eye(K, dtype=a_dt)
        y = run_one([n1], [vi("A", a_dt, [K, K])], [vi("Y", a_dt, [K, N])], inits, {"A": eye}, 21, ms=True)[0]
        return y, f"MatMulNBits alone with A = I_{K} ({np.dtype(a_dt).name}): Y = dequantized B, K×N", None
    if kind == "GatherBlockQuantized":
        a = attrs_of(node)
        data = cp(node.input[0])
        shape = logical_shape(data, a)
        gax = a.get("gather_axis", 0) % len(shape)
        idx = np.arange(shape[gax], dtype=np.int64)
        ins, inits = [node.input[0], "ids", node.input[2]], [data, cp(node.input[2])]
        if w["zp"]:
            ins.append(w["zp"])
            inits.append(cp(w["zp"]))
        out_t = inits[1].data_type
        n1 = helper.make_node("GatherBlockQuantized", ins, ["Y"], name="oracle", domain=MS, **a)
        y = run_one([n1], [vi("ids", TensorProto.INT64, [len(idx)])], [vi("Y", out_t, None)], inits,
                    {"ids": idx}, 21, ms=True)[0]
        return y, f"GatherBlockQuantized alone with indices = 0..{len(idx) - 1} (every row): Y = the whole table", None
    if kind == "DequantizeLinear":
        y = dq_alone(cp(w["stored"]), cp(w["scale"]), cp(w["zp"]) if w["zp"] else None, attrs_of(node), fixture_opset)
        return y, "DequantizeLinear alone on the stored tensors: Y = its output", None
    if kind == "DynamicQuantizeLinear":
        src = numpy_helper.to_array(cp(w["stored"]))
        n1 = helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "s", "z"], name="oracle")
        q, s, z = run_one([n1], [vi("x", F32, list(src.shape))],
                          [vi("y", TensorProto.UINT8, None), vi("s", F32, None), vi("z", TensorProto.UINT8, None)],
                          [], {"x": src}, fixture_opset)
        y = dq_alone(tensor("q", q), tensor("s", s), tensor("z", z), {}, fixture_opset)
        return y, ("DynamicQuantizeLinear alone on the float Constant, then DequantizeLinear alone on its "
                   "(y, y_scale, y_zero_point)"), src
    # integer initializers consumed by ConvInteger / MatMulInteger / QLinear* / QGemm / Gather
    q, s = cp(w["stored"]), cp(w["scale"])
    zp = cp(w["zp"]) if w["zp"] else None
    if kind == "Gather+DequantizeLinear":
        attrs = attrs_of(node)
    elif is_scalar(s):
        attrs = {}
    else:
        attrs = {"axis": channel_axis(w)}
    y = dq_alone(q, s, zp, attrs, max(fixture_opset, 13))
    axis = f", axis={attrs['axis']}" if "axis" in attrs else ""
    return y, f"DequantizeLinear alone on ({w['stored']}, {w['scale']}, {w['zp']}{axis})", None


def is_scalar(t: TensorProto) -> bool:
    return int(np.prod(t.dims)) == 1


def channel_axis(w):
    """Axis of a per-channel weight scale as ORT's quantizer writes it."""
    op = w["layer"].op_type
    if op in ("ConvInteger", "QLinearConv"):
        return 0
    if op == "QGemm":
        return 0 if attrs_of(w["layer"]).get("transB", 0) else 1
    return 1  # MatMulInteger / QLinearMatMul: B [K, N], one scale per column


def logical_shape(data: TensorProto, gbq_attrs) -> list[int]:
    shape = list(data.dims)
    if data.data_type == TensorProto.UINT8:
        shape[-1] = shape[-1] * 8 // gbq_attrs.get("bits", 4)
    return shape


# --------------------------------------------------------------------------------------------
# manifest entries


def describe_weight(fx, n, w, g: Graph, loaded: Graph, y, how, src, out_dir):
    node, layer, kind = w["node"], w["layer"], w["kind"]
    stored = loaded.const(w["stored"])
    scale = loaded.const(w["scale"]) if kind != "DynamicQuantizeLinear" else None
    zp = loaded.const(w["zp"]) if (w["zp"] and kind != "DynamicQuantizeLinear") else None
    a = attrs_of(node)
    la = attrs_of(layer)
    ort_dtype = str(y.dtype)
    y = y.astype(F32)
    tensor_shape = list(y.shape)
    transposed = bool(w.get("transpose"))
    # orientation and 2-D view
    if kind == "MatMulNBits":
        orient = "K×N as MatMul B (the MatMulNBits output for A = I_K)"
    elif kind == "GatherBlockQuantized" or layer.op_type == "Gather":
        orient = "vocab×dim (the embedding table, rows gathered on axis 0)"
    elif layer.op_type in ("Conv", "ConvInteger", "QLinearConv"):
        orient = "C_out×C_in·kh·kw (Conv W [C_out, C_in, kh, kw], row-major)"
    elif layer.op_type in ("Gemm", "QGemm"):
        orient = "N×K as Gemm B with transB=1 (PyTorch Linear layout)" if la.get("transB", 0) else "K×N as Gemm B"
    elif transposed:
        orient = ("N×K: the DequantizeLinear output; Transpose(perm=[1,0]) makes it the K×N MatMul B")
    else:
        orient = "K×N as MatMul B"
    m2d = y.reshape(tensor_shape[0], -1)
    name = f"{fx}__{n}"
    (out_dir / "expected" / f"{name}.f32").write_bytes(m2d.astype("<f4").tobytes())
    entry = {
        "fixture": f"{fx}.onnx",
        "index": n,
        "quant_op": kind,
        "quant_node": {"name": node.name, "op_type": node.op_type, "domain": node.domain or "ai.onnx"},
        "layer_node": {"name": layer.name, "op_type": layer.op_type, "domain": layer.domain or "ai.onnx"},
        "stored_tensor": w["stored"],
        "stored_in": g.stored_in(w["stored"]),
        "stored_dtype": dtype_name(stored.data_type),
        "stored_onnx_dtype": stored.data_type,
        "stored_shape": list(stored.dims),
        "attributes": a,
        "expected": f"expected/{name}.f32",
        "expected_shape": list(m2d.shape),
        "tensor_shape": tensor_shape,
        "orientation": orient,
        "ort_output_dtype": ort_dtype,
        "oracle": how,
        "eigenvalues_top": top_eigs(m2d),
    }
    if src is not None:
        (out_dir / "expected" / f"{name}.source.f32").write_bytes(src.reshape(src.shape[0], -1).astype("<f4").tobytes())
        entry["source_expected"] = f"expected/{name}.source.f32"
        entry["source_eigenvalues_top"] = top_eigs(src.reshape(src.shape[0], -1))
    # quantization parameters
    if kind == "MatMulNBits":
        bits, bs = a.get("bits", 4), a["block_size"]
        entry.update(bits=bits, block_size=bs, granularity="blocked along K",
                     symmetric=zp is None, K=a["K"], N=a["N"], k_blocks=-(-a["K"] // bs))
        if w["extra"]["g_idx"]:
            entry["g_idx_tensor"] = w["extra"]["g_idx"]
    elif kind == "GatherBlockQuantized":
        if stored.data_type == TensorProto.UINT8:
            bits = a.get("bits", 4)
        else:  # int4/uint4 (bits must be 4), float8 or float4 (bits ignored)
            bits = {TensorProto.INT4: 4, TensorProto.UINT4: 4, TensorProto.FLOAT4E2M1: 4}.get(stored.data_type, 8)
        entry.update(bits=bits, block_size=a.get("block_size", 128), granularity=f"blocked along axis {a.get('quantize_axis', 1)}",
                     symmetric=zp is None, gather_axis=a.get("gather_axis", 0), quantize_axis=a.get("quantize_axis", 1))
    elif kind == "DynamicQuantizeLinear":
        entry.update(bits=8, block_size=None, granularity="per-tensor, computed at run time", symmetric=False,
                     scale_dtype="float32", scale_tensor=w["scale"], zero_point_tensor=w["zp"],
                     zero_point_dtype="uint8", stored_dtype="float32")
    else:
        bits = {TensorProto.INT4: 4, TensorProto.UINT4: 4, TensorProto.INT16: 16, TensorProto.UINT16: 16,
                TensorProto.INT32: 32, TensorProto.INT2: 2, TensorProto.UINT2: 2,
                TensorProto.FLOAT4E2M1: 4}.get(stored.data_type, 8)
        dq_like = kind in ("DequantizeLinear", "Gather+DequantizeLinear")
        if a.get("block_size"):
            gran = f"blocked along axis {a.get('axis', 1)}"
        elif is_scalar(scale):
            gran = "per-tensor"
        else:
            gran = f"per-axis (axis {a.get('axis', 1) if dq_like else channel_axis(w)})"
        entry.update(bits=bits, block_size=a.get("block_size") or None, granularity=gran,
                     symmetric=is_symmetric(zp, stored.data_type))
        if not dq_like and not is_scalar(scale):
            entry["attributes"] = dict(entry["attributes"], implied_dequantize_axis=channel_axis(w))
    if scale is not None:
        entry.update(scale_tensor=w["scale"], scale_dtype=dtype_name(scale.data_type), scale_shape=list(scale.dims))
        if zp is not None:
            entry.update(zero_point_tensor=w["zp"], zero_point_dtype=dtype_name(zp.data_type),
                         zero_point_shape=list(zp.dims))
        else:
            entry.update(zero_point_tensor=None)
    entry["symmetric"] = "symmetric" if entry["symmetric"] else "asymmetric"
    return entry


def is_symmetric(zp: TensorProto | None, data_type) -> bool:
    """No zero point, or every zero point at the type's centre (0 signed/float, 2^(bits-1) unsigned)."""
    if zp is None:
        return True
    v = numpy_helper.to_array(zp).astype(np.float64)
    centre = {TensorProto.UINT8: 128, TensorProto.UINT16: 32768, TensorProto.UINT4: 8, TensorProto.UINT2: 2}.get(data_type, 0)
    return bool(np.all(v == centre))


# --------------------------------------------------------------------------------------------
# malformed fixtures: each also holds one normal float MatMul ("fc_float", weight "fc_float.weight")


def with_float_layer(name, nodes, inits, inputs, outputs, opset=21, ir_version=10, ms=True):
    r = rng_for(name + "/float")
    wf = draw(r, (64, 24), 64, 4.0)
    nodes = nodes + [helper.make_node("MatMul", ["x", "fc_float.weight"], ["y_float"], name="fc_float")]
    inits = inits + [tensor("fc_float.weight", wf)]
    inputs = [vi("x", F32, ["batch", 64])] + inputs
    outputs = outputs + [vi("y_float", F32, ["batch", 24])]
    return make_model(nodes, inputs, outputs, inits, opset, ir_version, ms=ms), wf


def bad_nbits(name, K=64, N=16, bits=4, bs=32, B=None, S=None, Z=None, g_idx=None, extra=None):
    r = rng_for(name)
    kb = -(-K // bs)
    blob = bs * bits // 8
    if B is None:
        B = r.integers(0, 256, size=(N, kb, blob)).astype(np.uint8)
    if S is None:
        S = (0.02 * (1 + r.random((N, kb)))).astype(F32)
    ins, inits = ["x", "q.B", "q.scales"], [tensor("q.B", B), tensor("q.scales", S)]
    if Z is not None:
        ins.append("q.zero_points")
        inits.append(tensor("q.zero_points", Z))
    if g_idx is not None:
        if Z is None:
            ins.append("")
        ins.append("q.g_idx")
        inits.append(tensor("q.g_idx", g_idx))
    node = helper.make_node("MatMulNBits", ins, ["y_q"], name="mnb_bad", domain=MS, K=K, N=N, bits=bits,
                            block_size=bs, **(extra or {}))
    return with_float_layer(name, [node], inits, [], [vi("y_q", F32, ["batch", N])])


def malformed_table():
    K, N = 64, 16
    tbl = []

    def add(name, what, build):
        tbl.append((name, what, build))

    add("nbits_b_shape_mismatch", "MatMulNBits B is [16, 2, 14] but K=64, N=16, bits=4, block_size=32 need [16, 2, 16]",
        lambda n: bad_nbits(n, B=np.zeros((N, 2, 14), np.uint8)))
    add("nbits_b_2d", "MatMulNBits B is 2-D [16, 32]: the right byte count but not the [N, k_blocks, blob_size] shape",
        lambda n: bad_nbits(n, B=np.zeros((N, 32), np.uint8)))
    add("nbits_scales_wrong_len", "MatMulNBits scales has 16x1 values, k_blocks = 2 needs 16x2",
        lambda n: bad_nbits(n, S=np.full((N, 1), 0.02, F32)))
    add("nbits_zp_wrong_len", "MatMulNBits packed zero_points is [16, 2]; 2 blocks of 4 bits need [16, 1]",
        lambda n: bad_nbits(n, Z=np.full((N, 2), 0x88, np.uint8)))
    add("nbits_bits3", "MatMulNBits bits = 3 (the schema allows 2, 4, 8); B sized for 3 bits [16, 2, 12]",
        lambda n: bad_nbits(n, bits=3))
    add("nbits_bits5", "MatMulNBits bits = 5 (the schema allows 2, 4, 8); B sized for 5 bits [16, 2, 20]",
        lambda n: bad_nbits(n, bits=5))
    add("nbits_block_size_24", "MatMulNBits block_size = 24, not a power of two; B [16, 3, 12]",
        lambda n: bad_nbits(n, bs=24))
    add("nbits_block_size_8", "MatMulNBits block_size = 8, below the minimum 16; B [16, 8, 4]",
        lambda n: bad_nbits(n, bs=8))
    add("nbits_nan_scale", "MatMulNBits scales hold NaN (and +inf) in two blocks; shapes are valid",
        lambda n: bad_nbits(n, S=np.where(np.arange(N * 2).reshape(N, 2) == 5, np.nan,
                                           np.where(np.arange(N * 2).reshape(N, 2) == 9, np.inf, 0.02)).astype(F32)))
    add("nbits_zp_packed_valid_vs_float_out_of_range",
        "two MatMulNBits on the same B: 'mnb_bad' has unpacked float zero points 20.0 and -4.0, outside the 4-bit "
        "code range [0, 15]; 'mnb_ok' has the same zero points packed (uint8, clamped to 15 and 0), a valid form",
        lambda n: nbits_zp_pair(n))
    add("nbits_g_idx", "MatMulNBits with the deprecated g_idx input (act-order: int32 [K] block index of each k, "
        "shuffled, not k // block_size)",
        lambda n: bad_nbits(n, Z=np.full((N, 1), 0x88, np.uint8), g_idx=(np.arange(K) * 7 % K // 32).astype(np.int32)))
    add("nbits_weight_prepacked", "MatMulNBits weight_prepacked = 1 (B claims the CUDA SM80 prepacked layout)",
        lambda n: bad_nbits(n, extra={"weight_prepacked": 1}))
    add("nbits_empty_b", "MatMulNBits B is [16, 0, 16] (zero-sized 'omitted projection'; the schema says Y = 0)",
        lambda n: bad_nbits(n, B=np.zeros((N, 0, 16), np.uint8), S=np.zeros((N, 0), F32)))
    add("gbq_bits3", "GatherBlockQuantized over uint8 data with bits = 3 (allowed: 2, 4, 8)",
        lambda n: bad_gbq(n))
    add("dq_blocked_scale_mismatch",
        "blocked DequantizeLinear (axis 0, block_size 16) on int8 [64, 16] with scale [3, 16]; ceil(64/16) = 4 needed",
        lambda n: bad_dq(n))
    return tbl


def nbits_zp_pair(name):
    r = rng_for(name)
    K, N, bs = 64, 16, 32
    B, S, kb = nbits_inputs(r, K, N, 4, bs)
    zf = np.where(np.arange(N * kb).reshape(N, kb) % 2 == 0, 20.0, -4.0).astype(F32)
    zpk = pack_bits(np.clip(zf, 0, 15).astype(np.uint8), 4)
    inits = [tensor("q.B", B), tensor("q.scales", S), tensor("q.zero_points_float", zf), tensor("q.zero_points_packed", zpk)]
    nodes = [helper.make_node("MatMulNBits", ["x", "q.B", "q.scales", "q.zero_points_float"], ["y_q"], name="mnb_bad",
                              domain=MS, K=K, N=N, bits=4, block_size=bs),
             helper.make_node("MatMulNBits", ["x", "q.B", "q.scales", "q.zero_points_packed"], ["y_ok"], name="mnb_ok",
                              domain=MS, K=K, N=N, bits=4, block_size=bs)]
    return with_float_layer(name, nodes, inits, [], [vi("y_q", F32, ["batch", N]), vi("y_ok", F32, ["batch", N])])


def bad_gbq(name):
    r = rng_for(name)
    data = r.integers(0, 256, size=(20, 12)).astype(np.uint8)  # 32 codes of 3 bits = 12 bytes per row
    inits = [tensor("emb.data", data), tensor("emb.scales", np.full((20, 1), 0.01, F32))]
    node = helper.make_node("GatherBlockQuantized", ["emb.data", "ids", "emb.scales"], ["y_q"], name="gbq_bad",
                            domain=MS, bits=3, block_size=32, quantize_axis=1)
    return with_float_layer(name, [node], inits, [vi("ids", TensorProto.INT64, ["n"])], [vi("y_q", F32, ["n", 32])])


def bad_dq(name):
    r = rng_for(name)
    q = q_int(r, (64, 16), np.int8, -128, 127, 0)
    inits = [tensor("w.q", q), tensor("w.scale", np.full((3, 16), 0.01, F32))]
    nodes = [helper.make_node("DequantizeLinear", ["w.q", "w.scale"], ["w.dq"], name="dq_bad", axis=0, block_size=16),
             helper.make_node("MatMul", ["x", "w.dq"], ["y_q"], name="fc_bad")]
    return with_float_layer(name, nodes, inits, [], [vi("y_q", F32, ["batch", 16])], ms=False)


# --------------------------------------------------------------------------------------------
# checks shared by fixtures and malformed models


def checker(path: Path) -> str:
    try:
        onnx.checker.check_model(str(path), full_check=True)
        return "ok (full_check)"
    except Exception as e:  # noqa: BLE001
        try:
            onnx.checker.check_model(str(path))
            return f"ok without full_check; full_check: {first_line(e)}"
        except Exception as e2:  # noqa: BLE001
            return f"error: {first_line(e2)}"


def smoke_feeds(model, name):
    r = rng_for(name + "/smoke")
    feeds = {}
    for inp in model.graph.input:
        tt = inp.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 2 for d in tt.shape.dim]
        dt = helper.tensor_dtype_to_np_dtype(tt.elem_type)
        feeds[inp.name] = (r.integers(0, 8, size=shape) if np.issubdtype(dt, np.integer)
                           else r.standard_normal(shape)).astype(dt)
    return feeds


def ort_status(path: Path, model, name) -> tuple[str, bool]:
    """Load the file (default graph optimisations) and run it once on seeded random inputs."""
    try:
        s = session_path(path)
    except Exception as e:  # noqa: BLE001
        return f"refused at session creation: {first_line(e)}", False
    try:
        outs = s.run(None, smoke_feeds(model, name))
    except Exception as e:  # noqa: BLE001
        return f"session created, run failed: {first_line(e)}", False
    finite = all(np.all(np.isfinite(o.astype(np.float64))) for o in outs if o.dtype.kind == "f")
    return "loads and runs" + ("" if finite else " (output not finite)"), True


def session_path(path: Path):
    """Default optimisations; from bytes (so no path appears in ORT's messages) unless the model
    has external data, which ORT resolves next to the file."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 4
    model = onnx.load(path, load_external_data=False)
    external = any(t.data_location == TensorProto.EXTERNAL for t in model.graph.initializer)
    return ort.InferenceSession(str(path) if external else path.read_bytes(), so, providers=["CPUExecutionProvider"])


# --------------------------------------------------------------------------------------------


def check_versions():
    got = {"onnx": onnx.__version__, "onnxruntime": ort.__version__, "onnx_ir": ir.__version__}
    for k, v in PINNED.items():
        if got[k] != v:
            print(f"warning: {k} {got[k]} is not the pinned {v}; the output will differ from the committed files",
                  file=sys.stderr)
    return dict(got, numpy=np.__version__, ml_dtypes=ml_dtypes.__version__, python=platform.python_version(),
                protobuf=google.protobuf.__version__)


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/quant")
    versions = check_versions()
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("expected", "malformed"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir()
    for old in list(out.glob("*.onnx")) + list(out.glob("*.onnx.data")):
        old.unlink()

    fixtures, weights = [], []
    for stem, api, build, desc in FIXTURES:
        model = build(stem)
        path = out / f"{stem}.onnx"
        if stem in EXTERNAL:
            onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                      location=f"{stem}.onnx.data", size_threshold=0)
        else:
            onnx.save(model, path)
        stored = onnx.load(path, load_external_data=False)
        status, ok = ort_status(path, stored, stem)
        if not ok:
            raise SystemExit(f"{stem}: {status}")
        g, loaded, found = discover(stored, path if stem in EXTERNAL else None)
        if not found:
            raise SystemExit(f"{stem}: no quantized weight found")
        opset = default_opset(stored)
        for n, w in enumerate(found):
            y, how, src = oracle(w, g, loaded, opset)
            weights.append(describe_weight(stem, n, w, g, loaded, y, how, src, out))
        files = [f"{stem}.onnx"] + ([f"{stem}.onnx.data"] if stem in EXTERNAL else [])
        fixtures.append({
            "file": f"{stem}.onnx",
            "files": files,
            "bytes": sum((out / f).stat().st_size for f in files),
            "written_by": api,
            "description": desc,
            "op_types": op_counts(stored),
            "opset_imports": {(o.domain or "ai.onnx"): o.version for o in stored.opset_import},
            "ir_version": stored.ir_version,
            "producer": f"{stored.producer_name} {stored.producer_version}".strip(),
            "external_data": stem in EXTERNAL,
            "onnx_checker": checker(path),
            "onnxruntime": status,
            "n_weights": len(found),
            "float_layers": float_layers(g),
        })
        print(f"{stem}: {len(found)} weight(s), {status}")

    malformed = []
    for stem, what, build in malformed_table():
        model, wf = build(stem)
        path = out / "malformed" / f"{stem}.onnx"
        onnx.save(model, path)
        status, _ = ort_status(path, model, stem)
        malformed.append({
            "file": f"malformed/{stem}.onnx",
            "what_is_wrong": what,
            "op_types": op_counts(model),
            "onnx_checker": checker(path),
            "onnxruntime": status,
            "float_layer": {"node": "fc_float", "op_type": "MatMul", "weight": "fc_float.weight",
                            "shape": list(wf.shape), "orientation": "K×N as MatMul B",
                            "eigenvalues_top": top_eigs(wf)},
        })
        print(f"malformed/{stem}: {status}")

    manifest = {
        "about": "tailwatch quantized-ONNX fixtures; the expected matrices were computed by onnxruntime "
                 "(each quantized op run alone). See README.md.",
        "generator": "scripts/make_quant_fixtures.py",
        "versions": versions,
        "expected_format": "raw little-endian float32, row-major, expected_shape [rows, cols]",
        "eigenvalues": f"top {TOP_EIGS} eigenvalues of WᵀW, float64 numpy.linalg.eigvalsh of the Gram matrix "
                       "of the smaller side of the expected matrix, descending",
        "fixtures": sorted(fixtures, key=lambda f: f["file"]),
        "weights": sorted(weights, key=lambda w: (w["fixture"], w["index"])),
        "malformed": sorted(malformed, key=lambda m: m["file"]),
        "not_included": probes(),
    }
    text = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    (out / "manifest.json").write_text(text, encoding="utf-8")
    print(f"{len(fixtures)} fixtures, {len(weights)} weights, {len(malformed)} malformed -> {out}")


def probes() -> list[dict]:
    """Forms left out because onnxruntime refuses them (or its quantizers do not write them).
    Each is tried again on every run; the manifest records what happened."""
    out = []

    def probe(form, fn):
        try:
            result = fn()
        except Exception as e:  # noqa: BLE001
            result = f"{type(e).__name__}: {first_line(e)}"
        out.append({"form": form, "result": result})

    def try_session(model):
        try:
            session(model.SerializeToString())
            return "loads"
        except Exception as e:  # noqa: BLE001
            return f"refused at session creation: {first_line(e)}"

    def dq_probe(q, s, attrs, opset):
        node = helper.make_node("DequantizeLinear", ["q", "s"], ["y"], name="probe", **attrs)
        out_t = attrs.get("output_dtype", elem(s.dtype))
        return try_session(make_model([node], [], [vi("y", out_t, list(q.shape))], [tensor("q", q), tensor("s", s)],
                                      opset, helper.find_min_ir_version_for([helper.make_opsetid("", opset)])))

    fp4 = np.linspace(-6, 6, 32).reshape(8, 4).astype(FP4)
    for opset in (23, 25):
        for sdt in (F32, F16):
            probe(f"DequantizeLinear-{opset} over float4e2m1 [8, 4], {np.dtype(sdt).name} scale",
                  lambda o=opset, d=sdt: dq_probe(fp4, np.array(0.5, d), {}, o))
    i8 = np.arange(32, dtype=np.int8).reshape(8, 4)
    bf = np.array(0.5, ml_dtypes.bfloat16)
    probe("DequantizeLinear-21 over int8, bfloat16 scale", lambda: dq_probe(i8, bf, {}, 21))
    probe("DequantizeLinear-23 over int8, bfloat16 scale, output_dtype=float",
          lambda: dq_probe(i8, bf, {"output_dtype": TensorProto.FLOAT}, 23))
    probe("DequantizeLinear-21 over float8e4m3fn, bfloat16 scale",
          lambda: dq_probe(i8.astype(E4M3FN), bf, {}, 21))

    def fused_output_dtype():
        q = np.arange(48 * 32).reshape(48, 32).astype(np.int8)
        sc = np.full(32, 0.01, F16)
        nodes = [helper.make_node("DequantizeLinear", ["q", "s"], ["w"], name="dq", axis=1,
                                  output_dtype=TensorProto.FLOAT),
                 helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")]
        m = make_model(nodes, [vi("x", F32, ["batch", 48])], [vi("y", F32, ["batch", 32])],
                       [tensor("q", q), tensor("s", sc)], 23, 11)
        res = []
        for level in ("ORT_DISABLE_ALL", "ORT_ENABLE_BASIC", "ORT_ENABLE_EXTENDED"):
            so = ort.SessionOptions()
            so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
            so.log_severity_level = 4
            try:
                ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
                res.append(f"{level}: loads")
            except Exception as e:  # noqa: BLE001
                res.append(f"{level}: {first_line(e)}")
        return "; ".join(res)
    probe("DequantizeLinear-23 int8 per-axis (axis 1) with float16 scale and output_dtype=float, feeding MatMul "
          "(ORT's extended optimizer fuses DQ+MatMul into MatMulNBits)", fused_output_dtype)

    def nbits8_float_zp():
        r = rng_for("probe_zp8")
        B, S, kb = nbits_inputs(r, 64, 16, 8, 32)
        node = mnb_node("p", 64, 16, 8, 32, ["x", "B", "S", "Z"])
        m = make_model([node], [vi("x", F32, ["batch", 64])], [vi("y_p", F32, ["batch", 16])],
                       [tensor("B", B), tensor("S", S), tensor("Z", np.full((16, kb), 128.5, F32))], 21, 10, ms=True)
        return try_session(m)
    probe("MatMulNBits bits=8 with unpacked float32 zero points", nbits8_float_zp)

    def nbits_bf16():
        m = nbits("probe_bf16", [64, 32], 4, 32, False, ml_dtypes.bfloat16)
        sc = next(t for t in m.graph.initializer if t.name.endswith("_scales"))
        return f"quantizer writes MatMulNBits with {dtype_name(sc.data_type)} scales; ORT: {try_session(m)}"
    probe("MatMulNBitsQuantizer on a bfloat16 model (MatMulNBits with bfloat16 scales)", nbits_bf16)

    def gbq_bf16():
        node = helper.make_node("GatherBlockQuantized", ["d", "i", "s"], ["y"], name="probe", domain=MS,
                                block_size=32, quantize_axis=1)
        m = make_model([node], [], [vi("y", TensorProto.BFLOAT16, None)],
                       [tensor("d", np.zeros((4, 32), UINT4)), tensor("i", np.arange(4, dtype=np.int64)),
                        tensor("s", np.ones((4, 1), ml_dtypes.bfloat16))], 21, 10, ms=True)
        return try_session(m)
    probe("GatherBlockQuantized over uint4 with bfloat16 scales", gbq_bf16)

    def quantizer_ops(**kw):
        def fn():
            model = float_embed("probe_q", 32, 32, 16) if kw.get("op_types_to_quantize") else float_mlp("probe_q", [64, 16])
            q = MatMulNBitsQuantizer(model, block_size=32, **kw)
            q.process()
            return f"quantizer output op types: {op_counts(q.model.model)}"
        return fn
    probe("MatMulNBitsQuantizer QDQ with bits=8", quantizer_ops(bits=8, quant_format=QuantFormat.QDQ))
    probe("MatMulNBitsQuantizer Gather with bits=8", quantizer_ops(bits=8, op_types_to_quantize=("MatMul", "Gather")))

    def dyn(model):
        with tempfile.TemporaryDirectory() as tmp:
            quantize_dynamic(model, Path(tmp) / "q.onnx")
            return f"quantize_dynamic output op types: {op_counts(onnx.load(Path(tmp) / 'q.onnx'))}"
    probe("quantize_dynamic on a Conv whose weight is a Constant node and which has a bias",
          lambda: dyn(float_convnet("probe_dyn", const_nodes=True, bias=True)))
    return out


if __name__ == "__main__":
    main()
