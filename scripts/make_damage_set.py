#!/usr/bin/env python3
"""Write deliberately damaged and benignly changed copies of one ONNX model (a "damage set").

Why: tailwatch's release gate must fail a model whose weights were broken (re-initialised,
zeroed, NaN, collapsed, over-quantised...) and pass one that was only re-encoded (int8, fp16,
renamed). This script makes both kinds of variant of a real model, so the gate's rules can be
calibrated on known answers. It changes only what tailwatch analyses, the *weight layers*:

- the constant weight operand of Conv, ConvTranspose, Gemm (input B), MatMul (its constant
  input), com.microsoft FusedConv / FusedGemm / FusedMatMul / TransposeMatMul;
- the same reached through Identity, Transpose, Cast or DequantizeLinear (QDQ), weight-only
  int8 (`Mul(Cast(int8), scale)`), or the integer weight of a quantized op (MatMulInteger,
  ConvInteger, QLinearConv, QLinearMatMul, com.microsoft DynamicQuantizeMatMul,
  MatMulIntegerToFloat, QGemm);
- stored as an initializer or a Constant node, in the main graph or in a subgraph (If/Loop/Scan);
- of rank >= 2 (a rank-1 or scalar tensor is not a layer).

Tensors with equal content (an exporter's copies of one weight in every subgraph) are one layer,
as tailwatch ties them, and are damaged together. Weight candidates that tailwatch analyses but
this script leaves alone (embedding tables, RNN gates, MatMulNBits, weights computed by a
Reshape...) are listed in variants.json under `not_damaged` with the reason, so nothing is left
out silently.

Quantized weights are damaged in their integer domain, within the dtype's range, keeping the zero
point and scale (re-init draws integers with the original spread around the zero point; zero sets
the zero point); the scale-based damages (NaN, Inf, x10) change the float scale tensor and are
skipped, with the reason recorded, when no float scale is reachable. rank-collapse writes an
exactly rank-1 matrix (its factors are rounded so that every stored element is exact), since a
rank-1 matrix plus rounding noise reads as full rank.

Every written variant is checked with onnx.checker and loaded in an onnxruntime
InferenceSession, in a child process (onnxruntime segfaults on some fp16 conversions): failures
and crashes are recorded in variants.json and printed, never hidden.

Usage:
    python3 scripts/make_damage_set.py MODEL.onnx --out DIR [--seed N] [--kinds k1,k2,...]

Output: DIR/<kind>.onnx for each variant and DIR/variants.json (the source's sha256, every
weight layer, and per variant: file, kind, family, layers touched, parameters, status, the
onnx.checker and onnxruntime load results). The run is deterministic: the same seed and package
versions give the same bytes. Each variant's random draws come from its own stream, seeded by
(seed, sha256(kind)). Models over 2 GB are refused (out of scope).

Needs Python 3.11, numpy, onnx, onnxruntime (tested with onnx 1.23.2, onnxruntime 1.32.0).
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import hashlib  # noqa: E402
import heapq  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import GraphProto, ModelProto, NodeProto, TensorProto, helper, numpy_helper  # noqa: E402

FORMAT_VERSION = 2
GENERATOR = "scripts/make_damage_set.py"
TWO_GB = 2**31 - 1
MS = "com.microsoft"

FLOAT_TYPES = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16}
INT_TYPES = {
    getattr(TensorProto, n)
    for n in ("INT8", "UINT8", "INT16", "UINT16", "INT32", "INT4", "UINT4", "INT2", "UINT2")
    if hasattr(TensorProto, n)
}
# Ops whose presence means the model is already quantized (int8-dynamic is then skipped).
QUANT_OP_TYPES = {
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger",
    "ConvInteger", "QLinearConv", "QLinearMatMul", "QGemm", "DynamicQuantizeMatMul",
    "MatMulIntegerToFloat", "MatMulNBits", "GatherBlockQuantized", "QAttention",
    "DynamicQuantizeLSTM", "MatMulBnb4", "MatMulFpQ4",
}
# Weights tailwatch analyses that this script does not damage, and why.
NOT_DAMAGED_OPS = {
    "MatMulNBits": "packed n-bit weight (MatMulNBits): not damaged",
    "GatherBlockQuantized": "packed quantized embedding (GatherBlockQuantized): not damaged",
}


# --------------------------------------------------------------------------------------------
# Op table: which input of which op is a weight


@dataclass(frozen=True)
class Slot:
    """A weight operand of an op: its input index, the operand side, and for quantized ops
    the inputs holding the weight's scale and zero point."""

    index: int
    side: str  # "W" (conv), "B" (right operand), "A" (left operand)
    scale: int | None = None
    zero_point: int | None = None
    axis: int = -1  # the per-channel axis of scale / zero point in the stored weight


@dataclass(frozen=True)
class OpSpec:
    family: str  # "conv" | "gemm" | "matmul" | "embedding" | "rnn"
    slots: tuple[Slot, ...]
    quantized: bool = False
    scale_after: bool = False  # ConvInteger / MatMulInteger: scale applied by a later Mul


OPS: dict[tuple[str, str], OpSpec] = {
    ("", "Conv"): OpSpec("conv", (Slot(1, "W"),)),
    ("", "ConvTranspose"): OpSpec("conv", (Slot(1, "W"),)),
    ("", "Gemm"): OpSpec("gemm", (Slot(1, "B"),)),
    ("", "MatMul"): OpSpec("matmul", (Slot(1, "B"), Slot(0, "A"))),
    (MS, "FusedConv"): OpSpec("conv", (Slot(1, "W"),)),
    (MS, "FusedGemm"): OpSpec("gemm", (Slot(1, "B"),)),
    (MS, "FusedMatMul"): OpSpec("matmul", (Slot(1, "B"), Slot(0, "A"))),
    (MS, "TransposeMatMul"): OpSpec("matmul", (Slot(1, "B"), Slot(0, "A"))),
    ("", "ConvInteger"): OpSpec("conv", (Slot(1, "W", None, 3, 0),), True, True),
    ("", "MatMulInteger"): OpSpec(
        "matmul", (Slot(1, "B", None, 3, -1), Slot(0, "A", None, 2, -2)), True, True
    ),
    ("", "QLinearConv"): OpSpec("conv", (Slot(3, "W", 4, 5, 0),), True),
    ("", "QLinearMatMul"): OpSpec("matmul", (Slot(3, "B", 4, 5, -1), Slot(0, "A", 1, 2, -2)), True),
    (MS, "DynamicQuantizeMatMul"): OpSpec("matmul", (Slot(1, "B", 2, 3, -1),), True),
    (MS, "MatMulIntegerToFloat"): OpSpec(
        "matmul", (Slot(1, "B", 3, 5, -1), Slot(0, "A", 2, 4, -2)), True
    ),
    (MS, "QGemm"): OpSpec("gemm", (Slot(3, "B", 4, 5, -1),), True),
    # tailwatch analyses embedding tables and recurrent weights too (onnx-weights.md §2), so a
    # whole-model re-initialisation must reach them, or their learned spectra survive it.
    ("", "Gather"): OpSpec("embedding", (Slot(0, "T"),)),
    ("", "LSTM"): OpSpec("rnn", (Slot(1, "W"), Slot(2, "R"))),
    ("", "GRU"): OpSpec("rnn", (Slot(1, "W"), Slot(2, "R"))),
    ("", "RNN"): OpSpec("rnn", (Slot(1, "W"), Slot(2, "R"))),
}


def op_key(node: NodeProto) -> tuple[str, str]:
    domain = "" if node.domain in ("", "ai.onnx") else node.domain
    return domain, node.op_type


def attr(node: NodeProto, name: str, default: Any = None) -> Any:
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


# --------------------------------------------------------------------------------------------
# Graph scopes and tensor addresses


@dataclass(frozen=True)
class TensorRef:
    """Where a stored tensor lives, valid in any copy of the model: the path of subgraph
    attributes from the main graph, then an initializer index or a Constant node index."""

    path: tuple[tuple[int, str, int], ...]
    kind: str  # "init" | "const"
    index: int


def graph_at(model: ModelProto, path: tuple[tuple[int, str, int], ...]) -> GraphProto:
    g = model.graph
    for node_i, attr_name, sub_i in path:
        a = next(a for a in g.node[node_i].attribute if a.name == attr_name)
        g = a.g if sub_i < 0 else a.graphs[sub_i]
    return g


def tensor_at(model: ModelProto, ref: TensorRef) -> TensorProto:
    g = graph_at(model, ref.path)
    if ref.kind == "init":
        return g.initializer[ref.index]
    return next(a for a in g.node[ref.index].attribute if a.name == "value").t


@dataclass
class Scope:
    """One graph with the names it defines; lookups fall back to the enclosing graph."""

    graph: GraphProto
    path: tuple[tuple[int, str, int], ...]
    label: str
    parent: Scope | None
    consts: dict[str, TensorRef] = field(default_factory=dict)
    producers: dict[str, int] = field(default_factory=dict)
    runtime: set[str] = field(default_factory=set)
    consumers: dict[str, list[int]] = field(default_factory=dict)
    constant: set[str] = field(default_factory=set)  # every name whose value is fixed

    def is_constant(self, name: str) -> bool:
        s: Scope | None = self
        while s is not None:
            if name in s.constant:
                return True
            if name in s.producers or name in s.runtime:
                return False
            s = s.parent
        return False

    def lookup(self, name: str) -> tuple[str, Scope, Any]:
        """Where a name is defined: ('const', scope, TensorRef), ('node', scope, node index),
        ('runtime', scope, None), or ('unknown', self, None)."""
        s: Scope | None = self
        while s is not None:
            if name in s.consts:
                return "const", s, s.consts[name]
            if name in s.producers:
                return "node", s, s.producers[name]
            if name in s.runtime:
                return "runtime", s, None
            s = s.parent
        return "unknown", self, None


def make_scope(g: GraphProto, path: tuple, label: str, parent: Scope | None) -> Scope:
    s = Scope(g, path, label, parent)
    s.runtime.update(i.name for i in g.input)
    for i, t in enumerate(g.initializer):
        s.consts[t.name] = TensorRef(path, "init", i)
        s.runtime.discard(t.name)
    for i, n in enumerate(g.node):
        for x in n.input:
            s.consumers.setdefault(x, []).append(i)
        if n.op_type == "Constant" and op_key(n)[0] == "" and attr_tensor(n) is not None:
            s.consts[n.output[0]] = TensorRef(path, "const", i)
            continue
        for o in n.output:
            if o:
                s.producers[o] = i
    s.constant.update(s.consts)
    for n in g.node:
        has_graph = any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                        for a in n.attribute)
        if n.input and not has_graph and all(not x or s.is_constant(x) for x in n.input):
            s.constant.update(o for o in n.output if o)
    return s


def attr_tensor(node: NodeProto) -> TensorProto | None:
    for a in node.attribute:
        if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
            return a.t
    return None


def node_label(node: NodeProto, index: int) -> str:
    return node.name or f"{node.op_type}_{index}"


def walk_scopes(model: ModelProto) -> list[Scope]:
    """Every graph of the model, main graph first, subgraphs depth-first in node order."""
    return [s for s, _, _ in walk_nodes(model, with_graphs=True)]


def walk_nodes(model: ModelProto, with_graphs: bool = False
               ) -> Iterator[tuple[Scope, int, NodeProto | None]]:
    """(scope, index, node) in tailwatch's traversal order (onnx-weights.md §4): the main
    graph's nodes in stored order, a node's subgraphs depth-first right after the node. With
    `with_graphs`, each graph is announced once as (scope, -1, None) instead of its nodes."""

    def visit(g: GraphProto, path: tuple, label: str, parent: Scope | None
              ) -> Iterator[tuple[Scope, int, NodeProto | None]]:
        s = make_scope(g, path, label, parent)
        if with_graphs:
            yield s, -1, None
        for i, n in enumerate(g.node):
            if not with_graphs:
                yield s, i, n
            for a in n.attribute:
                subs = [(-1, a.g)] if a.type == onnx.AttributeProto.GRAPH else []
                if a.type == onnx.AttributeProto.GRAPHS:
                    subs = list(enumerate(a.graphs))
                for j, sub in subs:
                    sub_label = f"{label}/{node_label(n, i)}/{a.name}".lstrip("/")
                    if j >= 0:
                        sub_label += f"[{j}]"
                    yield from visit(sub, path + ((i, a.name, j),), sub_label, s)

    yield from visit(model.graph, (), "", None)


# --------------------------------------------------------------------------------------------
# Weight layers


@dataclass
class Quant:
    """How a stored integer weight becomes real: (q - zero_point) * scale."""

    form: str  # the op that dequantises (DequantizeLinear, QLinearConv, ...)
    scale: TensorRef | None
    scale_name: str | None
    zero_point: TensorRef | None
    axis: int
    block_size: int = 0


@dataclass
class Layer:
    name: str
    where: str
    ref: TensorRef
    op: str
    node: str
    shape: tuple[int, ...]
    dtype: str
    fan_in: int
    quant: Quant | None
    via: list[str]
    consumers: list[str] = field(default_factory=list)
    copies: list[Layer] = field(default_factory=list)  # other tensors with the same content

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    def names(self) -> list[str]:
        return [self.name, *(c.name for c in self.copies)]

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name, "op": self.op, "node": self.node, "shape": list(self.shape),
            "dtype": self.dtype, "fan_in": self.fan_in,
        }
        if self.where:
            d["graph"] = self.where
        if self.via:
            d["via"] = self.via
        if self.quant is not None:
            d["quant"] = {"form": self.quant.form, "scale": self.quant.scale_name}
        if len(self.consumers) > 1:
            d["consumers"] = self.consumers
        if self.copies:
            d["copies"] = [c.name for c in self.copies]
        return d


@dataclass
class Resolved:
    ref: TensorRef
    name: str
    scope: Scope
    perms: list[list[int]] = field(default_factory=list)  # Transposes, consumer first
    via: list[str] = field(default_factory=list)
    dequant: Quant | None = None
    dynamic: bool = False  # reached through DynamicQuantizeLinear (a float source)


class Unresolved(Exception):
    """A weight slot whose value is not a stored tensor this script can change."""


def resolve(scope: Scope, name: str, depth: int = 0) -> Resolved:
    """Follow a weight operand back to the stored tensor through pass-through ops."""
    kind, owner, what = scope.lookup(name)
    if kind == "const":
        return Resolved(what, name, owner)
    if kind != "node" or depth > 16:
        raise Unresolved("runtime value" if kind == "runtime" else f"{kind} value")
    node = owner.graph.node[what]
    op = node.op_type
    if op in ("Identity", "Cast", "Transpose"):
        r = resolve(owner, node.input[0], depth + 1)
        r.via.insert(0, op)
        if op == "Transpose":
            r.perms.insert(0, list(attr(node, "perm", [])))  # [] = reverse the axes
        return r
    if op == "DequantizeLinear" and len(node.input) >= 2:
        r = resolve(owner, node.input[0], depth + 1)
        if r.dequant is not None or r.dynamic or set(r.via) - {"Identity"}:
            raise Unresolved("DequantizeLinear of a computed value")
        r.dequant = Quant(
            "DequantizeLinear", const_ref(owner, node.input[1]), node.input[1],
            const_ref(owner, node.input[2]) if len(node.input) > 2 else None,
            int(attr(node, "axis", 1)), int(attr(node, "block_size", 0)),
        )
        r.via.insert(0, op)
        return r
    if op == "Mul" and len(node.input) == 2:
        return resolve_scaled(owner, node, depth)
    if op == "DynamicQuantizeLinear" and node.output[0] == name:
        r = resolve(owner, node.input[0], depth + 1)
        r.dynamic = True
        r.via.insert(0, op)
        return r
    raise Unresolved(f"produced by {op}")


def resolve_scaled(scope: Scope, node: NodeProto, depth: int) -> Resolved:
    """Mul(weight, constant): weight-only int8 (`init(int8) -> Cast -> Mul(scale)`,
    onnx-weights.md §5.4) or a float weight times a constant. The larger operand is the weight."""
    try:
        a, b = (resolve(scope, x, depth + 1) for x in node.input)
    except Unresolved as e:
        raise Unresolved("produced by Mul") from e
    size = {id(r): int(np.prod(tensor_at_scope(r.scope, r.ref).dims)) for r in (a, b)}
    w, factor = (a, b) if size[id(a)] >= size[id(b)] else (b, a)
    if w.dequant is not None or w.dynamic or set(factor.via) - {"Identity"}:
        raise Unresolved("produced by Mul of computed values")
    t = tensor_at_scope(w.scope, w.ref)
    if t.data_type in INT_TYPES and "Cast" in w.via:
        if set(w.via) - {"Identity", "Cast"}:
            raise Unresolved("produced by Mul of a computed integer value")
        w.dequant = Quant("Cast+Mul", factor.ref, factor.name, None, -1)
    w.via.insert(0, "Mul")
    return w


def const_ref(scope: Scope, name: str) -> TensorRef | None:
    if not name:
        return None
    try:
        r = resolve(scope, name)
    except Unresolved:
        return None
    return r.ref if not r.via or set(r.via) <= {"Identity"} else None


def view_shape(shape: tuple[int, ...], perms: list[list[int]]) -> tuple[int, ...]:
    """The shape the op sees: the stored shape through the Transposes (source -> consumer;
    an empty perm reverses the axes, as Transpose's default)."""
    out = list(shape)
    for p in reversed(perms):
        order = p or list(reversed(range(len(out))))
        out = [out[i] for i in order]
    return tuple(out)


def fan_in(spec: OpSpec, slot: Slot, node: NodeProto, shape: tuple[int, ...]) -> int:
    """He-init fan-in: conv all dims but the first; Gemm honours transB; MatMul K; an embedding
    table's row length; a recurrent weight's input size (its last dim)."""
    if spec.family in ("embedding", "rnn"):
        return int(shape[-1])
    if spec.family == "conv":
        return int(np.prod(shape[1:]))
    if spec.family == "gemm":
        return int(shape[1] if attr(node, "transB", 0) else shape[0])
    if slot.side == "B":
        return int(shape[-1] if attr(node, "transB", 0) else shape[-2])
    return int(shape[-2] if attr(node, "transA", 0) else shape[-1])


def find_scale_after(scope: Scope, node: NodeProto) -> tuple[TensorRef | None, str | None]:
    """ConvInteger / MatMulInteger -> Cast -> Mul(., Mul(x_scale, w_scale)): the constant
    w_scale (or a constant direct Mul operand). None when there is no such pattern."""
    out = node.output[0]
    for ci in scope.consumers.get(out, []):
        cast = scope.graph.node[ci]
        if cast.op_type != "Cast":
            continue
        for mi in scope.consumers.get(cast.output[0], []):
            mul = scope.graph.node[mi]
            if mul.op_type != "Mul":
                continue
            other = [x for x in mul.input if x != cast.output[0]]
            if not other:
                continue
            ref = const_ref(scope, other[0])
            if ref is not None:
                return ref, other[0]
            kind, owner, idx = scope.lookup(other[0])
            if kind == "node" and owner.graph.node[idx].op_type == "Mul":
                for x in owner.graph.node[idx].input:
                    ref = const_ref(owner, x)
                    if ref is not None:
                        return ref, x
    return None, None


@dataclass
class Inventory:
    layers: list[Layer]
    not_damaged: list[dict[str, Any]]
    op_types: dict[str, int]


def find_layers(model: ModelProto) -> Inventory:
    layers: dict[TensorRef, Layer] = {}
    skipped: list[dict[str, Any]] = []
    ops: dict[str, int] = {}
    for scope, i, node in walk_nodes(model):
        key = op_key(node)
        op_name = f"{key[0]}:{key[1]}" if key[0] else key[1]
        ops[op_name] = ops.get(op_name, 0) + 1
        spec = OPS.get(key)
        if spec is None:
            skipped.extend(other_weights(scope, node, i))
            continue
        layer_of_node(model, scope, node, i, spec, layers, skipped)
    return Inventory(merge_copies(model, list(layers.values())), skipped,
                     dict(sorted(ops.items())))


def merge_copies(model: ModelProto, layers: list[Layer]) -> list[Layer]:
    """One layer per distinct content. tailwatch ties tensors with equal values (exporters copy
    an initializer into every subgraph, onnx-weights.md §9) and analyses them as one layer, so
    such copies are damaged together: damaging one copy alone would split the tie and change
    the layer list rather than one layer's spectrum."""
    first: dict[str, Layer] = {}
    out = []
    for la in layers:
        key = content_key(model, la)
        if key in first:
            first[key].copies.append(la)
        else:
            first[key] = la
            out.append(la)
    return out


def content_key(model: ModelProto, layer: Layer) -> str:
    h = hashlib.sha256()
    refs: list[TensorRef | None] = [layer.ref]
    if layer.quant is not None:
        refs += [layer.quant.scale, layer.quant.zero_point]
    for ref in refs:
        if ref is None:
            h.update(b"-")
            continue
        arr = read(model, ref)
        h.update(f"{arr.dtype}{arr.shape}".encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def layer_of_node(model: ModelProto, scope: Scope, node: NodeProto, i: int, spec: OpSpec,
                  layers: dict[TensorRef, Layer], skipped: list[dict[str, Any]]) -> None:
    found: list[tuple[Slot, Resolved]] = []
    reasons: list[str] = []
    if spec.family == "embedding" and (
            attr(node, "axis", 0) != 0 or len(node.input) < 2
            or scope.is_constant(node.input[1])):
        return  # constant indices or another axis: not an embedding lookup (as tailwatch)
    for slot in spec.slots:
        if slot.index >= len(node.input) or not node.input[slot.index]:
            continue
        try:
            found.append((slot, resolve(scope, node.input[slot.index])))
        except Unresolved as e:
            if scope.is_constant(node.input[slot.index]):
                reasons.append(f"input {slot.index}: constant {e}, not followed")
    label = node_label(node, i)
    if spec.family == "rnn":
        # W and R are two layers. PyTorch exports reorder the gates of each with
        # Slice → Concat → Unsqueeze, which tailwatch folds: damage the sources of the chain.
        for slot in spec.slots:
            if slot.index < len(node.input) and node.input[slot.index] and not any(
                    f[0] is slot for f in found):
                found.extend((slot, r) for r in rnn_sources(scope, node.input[slot.index]))
        for one in found:
            add_layer(model, scope, node, label, spec, one, layers, skipped)
        return
    if len(found) > 1:
        return  # both operands constant: a constant expression, not a layer
    if not found:
        skipped.extend({"node": label, "op": node.op_type, "graph": scope.label, "reason": r}
                       for r in reasons)
        return
    add_layer(model, scope, node, label, spec, found[0], layers, skipped)


# Ops that only cut, join or reshape a recurrent weight on its way to the LSTM/GRU/RNN.
RNN_FOLD_OPS = {"Slice", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Identity", "Transpose"}


def rnn_sources(scope: Scope, name: str, depth: int = 0) -> list[Resolved]:
    """The stored tensors a folded recurrent weight is cut and joined from (Concat's inputs,
    the data input of the others), each once."""
    try:
        return [resolve(scope, name)]
    except Unresolved:
        pass
    kind, owner, what = scope.lookup(name)
    if kind != "node" or depth > 16:
        return []
    node = owner.graph.node[what]
    if node.op_type not in RNN_FOLD_OPS:
        return []
    inputs = node.input if node.op_type == "Concat" else node.input[:1]
    out: list[Resolved] = []
    for x in inputs:
        for r in rnn_sources(owner, x, depth + 1):
            if all(r.ref != o.ref for o in out):
                out.append(r)
    return out


def add_layer(model: ModelProto, scope: Scope, node: NodeProto, label: str, spec: OpSpec,
              found: tuple[Slot, Resolved], layers: dict[TensorRef, Layer],
              skipped: list[dict[str, Any]]) -> None:
    slot, r = found
    t = tensor_at(model, r.ref)
    shape = tuple(int(d) for d in t.dims)
    if len(shape) < 2 or (spec.family == "embedding" and len(shape) != 2):
        return
    quant, problem = layer_quant(scope, node, spec, slot, r, t)
    if problem:
        skipped.append({"node": label, "op": node.op_type, "graph": scope.label,
                        "tensor": r.name, "reason": problem})
        return
    if r.ref in layers:
        layers[r.ref].consumers.append(label)
        return
    layers[r.ref] = Layer(
        r.name, r.scope.label, r.ref, node.op_type, label, shape,
        helper.tensor_dtype_to_string(t.data_type).removeprefix("TensorProto."),
        fan_in(spec, slot, node, view_shape(shape, r.perms)), quant, r.via, [label],
    )


def layer_quant(scope: Scope, node: NodeProto, spec: OpSpec, slot: Slot, r: Resolved,
                t: TensorProto) -> tuple[Quant | None, str | None]:
    """The layer's quantization (None for a float weight) or a reason it cannot be damaged."""
    if r.dequant is not None:
        quant = r.dequant
    elif spec.quantized and not r.dynamic:
        if spec.scale_after:
            sref, sname = find_scale_after(scope, node)
        else:
            sname = node.input[slot.scale] if slot.scale is not None else None
            sref = const_ref(scope, sname) if sname else None
        zname = node.input[slot.zero_point] if (
            slot.zero_point is not None and slot.zero_point < len(node.input)) else ""
        axis = 0 if spec.family == "gemm" and attr(node, "transB", 0) else slot.axis
        quant = Quant(node.op_type, sref, sname if sref else None,
                      const_ref(scope, zname), axis)
    else:
        quant = None
    if quant is None and spec.family == "embedding" and t.data_type in INT_TYPES:
        # An integer table dequantised after the lookup (quantize_dynamic): its codes are
        # damaged around their mean, the scale is left alone.
        quant = Quant("Gather", None, None, None, -1)
    if quant is None:
        if t.data_type not in FLOAT_TYPES:
            return None, f"unsupported weight dtype {helper.tensor_dtype_to_string(t.data_type)}"
        return None, None
    if t.data_type not in INT_TYPES:
        return None, ("quantized codes of dtype "
                      f"{helper.tensor_dtype_to_string(t.data_type)} are not damaged")
    return quant, None


def other_weights(scope: Scope, node: NodeProto, i: int) -> list[dict[str, Any]]:
    """Constant rank>=2 inputs of ops tailwatch analyses but the damage set leaves alone."""
    reason = NOT_DAMAGED_OPS.get(node.op_type)
    if reason is None:
        return []
    out = []
    for x in node.input[:3]:
        if not x:
            continue
        try:
            r = resolve(scope, x)
        except Unresolved:
            continue
        if len(tensor_at_scope(r.scope, r.ref).dims) >= 2:
            out.append({"node": node_label(node, i), "op": node.op_type, "graph": scope.label,
                        "tensor": r.name, "reason": reason})
    return out


def tensor_at_scope(scope: Scope, ref: TensorRef) -> TensorProto:
    if ref.kind == "init":
        return scope.graph.initializer[ref.index]
    return attr_tensor(scope.graph.node[ref.index])


# --------------------------------------------------------------------------------------------
# Reading and writing tensors


def read(model: ModelProto, ref: TensorRef) -> np.ndarray:
    return numpy_helper.to_array(tensor_at(model, ref))


def put(model: ModelProto, layer: Layer, values: np.ndarray) -> None:
    """Store a layer's new weight values, in every copy of the layer."""
    for la in (layer, *layer.copies):
        write(model, la.ref, values)


def put_scale(model: ModelProto, layer: Layer, values: np.ndarray) -> None:
    """Store a quantized layer's new scale, in every copy of the layer."""
    for la in (layer, *layer.copies):
        assert la.quant is not None and la.quant.scale is not None
        write(model, la.quant.scale, values)


def write(model: ModelProto, ref: TensorRef, values: np.ndarray) -> None:
    """Replace a stored tensor's values, keeping its name, dtype and shape."""
    t = tensor_at(model, ref)
    dtype = helper.tensor_dtype_to_np_dtype(t.data_type)
    new = numpy_helper.from_array(np.asarray(values).astype(dtype).reshape(tuple(t.dims)), t.name)
    new.doc_string = t.doc_string
    t.CopyFrom(new)


def int_range(data_type: int) -> tuple[int, int]:
    dtype = helper.tensor_dtype_to_np_dtype(data_type)
    try:
        info = np.iinfo(dtype)
    except (TypeError, ValueError):
        import ml_dtypes  # comes with onnx

        info = ml_dtypes.iinfo(dtype)
    return int(info.min), int(info.max)


def broadcast_param(p: np.ndarray | None, shape: tuple[int, ...], axis: int,
                    block_size: int = 0) -> np.ndarray | None:
    """A scale or zero point expanded to the weight's full shape (per tensor, per axis, or
    blocked along `axis`)."""
    if p is None:
        return None
    p = np.asarray(p)
    ax = axis % len(shape)
    if p.size == 1:
        return np.broadcast_to(p.reshape(()), shape)
    if block_size > 0 and p.ndim == len(shape):
        p = np.repeat(p, block_size, axis=ax)
        p = np.take(p, np.arange(shape[ax]), axis=ax)
        return np.broadcast_to(p, shape)
    if p.ndim == len(shape):
        return np.broadcast_to(p, shape)
    if p.size == shape[ax]:
        view = [1] * len(shape)
        view[ax] = p.size
        return np.broadcast_to(p.reshape(view), shape)
    raise ValueError(f"scale/zero point of shape {list(p.shape)} does not fit {list(shape)}")


@dataclass
class Codes:
    """A quantized layer's integers, centred on the zero point, with what is needed to store
    them back."""

    centred: np.ndarray  # int64, q - zero_point
    zero: np.ndarray  # int64, zero point broadcast to the weight's shape
    scale: np.ndarray | None  # float64, broadcast, None if unknown
    lo: int
    hi: int


def read_codes(model: ModelProto, layer: Layer) -> Codes:
    q = read(model, layer.ref).astype(np.int64)
    quant = layer.quant
    assert quant is not None
    zp = read(model, quant.zero_point).astype(np.int64) if quant.zero_point else None
    sc = read(model, quant.scale).astype(np.float64) if quant.scale else None
    zero = broadcast_param(zp, q.shape, quant.axis, quant.block_size)
    if zero is None:  # no zero point: centre the codes on their mean
        zero = np.full(q.shape, int(np.rint(q.mean())) if q.size else 0, np.int64)
    scale = broadcast_param(sc, q.shape, quant.axis, quant.block_size)
    lo, hi = int_range(tensor_at(model, layer.ref).data_type)
    return Codes(q - zero, zero, scale, lo, hi)


def write_codes(model: ModelProto, layer: Layer, codes: Codes, centred: np.ndarray) -> float:
    """Store zero_point + centred, clipped to the dtype; returns the clipped fraction."""
    q = codes.zero + np.rint(centred).astype(np.int64)
    clipped = float(np.mean((q < codes.lo) | (q > codes.hi))) if q.size else 0.0
    put(model, layer, np.clip(q, codes.lo, codes.hi))
    return clipped


# --------------------------------------------------------------------------------------------
# Damages: each changes a model copy in place and returns the parameters it used


class Skip(Exception):
    """The variant cannot be made for this model; the message is recorded."""


def he_std(layer: Layer) -> float:
    return math.sqrt(2.0 / max(layer.fan_in, 1))


def reinit(model: ModelProto, layer: Layer, rng: np.random.Generator) -> dict[str, Any]:
    if layer.quant is None:
        std = he_std(layer)
        put(model, layer, rng.standard_normal(layer.shape) * std)
        return {"std": sig(std)}
    codes = read_codes(model, layer)
    std = float(np.std(codes.centred)) or 1.0
    clipped = write_codes(model, layer, codes, rng.standard_normal(layer.shape) * std)
    out = {"int_std": sig(std), "clipped_fraction": sig(clipped)}
    # A per-channel (or blocked) scale is learned: kept, it would give the random codes the
    # trained model's row norms, and with them MP spikes. One scale for all makes the
    # effective weight iid.
    quant = layer.quant
    if quant is not None and quant.scale is not None:
        sc = read(model, quant.scale).astype(np.float64)
        if sc.size > 1:
            put_scale(model, layer, np.full(sc.shape, float(np.mean(np.abs(sc)))))
            out["scale_flattened"] = True
    return out


def set_special(model: ModelProto, layer: Layer, rng: np.random.Generator,
                value: float) -> dict[str, Any]:
    """NaN or +Inf in 1% (at least one) of the elements, of the float scale if quantized."""
    quant = layer.quant
    if quant is None:
        ref, what = layer.ref, "weight"
    elif quant.scale is not None:
        ref, what = quant.scale, "scale"
    else:
        raise Skip("quantized weight without a reachable float scale")
    arr = read(model, ref).astype(np.float64)
    k = max(1, arr.size // 100)
    idx = np.sort(rng.choice(arr.size, size=k, replace=False))
    flat = arr.reshape(-1).copy()
    flat[idx] = value
    (put if what == "weight" else put_scale)(model, layer, flat.reshape(arr.shape))
    params: dict[str, Any] = {"tensor": what, "n_set": int(k), "of": int(arr.size)}
    if quant is not None:
        params["scale_tensor"] = quant.scale_name
    return params


def zero(model: ModelProto, layer: Layer, rng: np.random.Generator) -> dict[str, Any]:
    if layer.quant is None:
        put(model, layer, np.zeros(layer.shape))
        return {}
    codes = read_codes(model, layer)
    write_codes(model, layer, codes, np.zeros(layer.shape))
    return {"value": "zero point"}


# Significant bits of each float type: a product of two numbers with p//2 and p - p//2
# significant bits is exact in p bits, so such an outer product is exactly rank 1 when stored.
SIGNIFICANT_BITS = {TensorProto.FLOAT: 24, TensorProto.FLOAT16: 11, TensorProto.BFLOAT16: 8,
                    TensorProto.DOUBLE: 53}


def top_pair(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The leading singular triple (u, v, sigma) of m, from the Gram matrix of the smaller
    side (as cheap as an SVD gets for one triple, and deterministic)."""
    if m.shape[0] <= m.shape[1]:
        u = np.linalg.eigh(m @ m.T)[1][:, -1]
        mv = m.T @ u
        sigma = float(np.linalg.norm(mv))
        return u, mv / sigma, sigma
    v = np.linalg.eigh(m.T @ m)[1][:, -1]
    mu = m @ v
    sigma = float(np.linalg.norm(mu))
    return mu / sigma, v, sigma


def round_significant(x: np.ndarray, bits: int) -> np.ndarray:
    mant, exp = np.frexp(x)
    return np.ldexp(np.round(mant * 2.0**bits) / 2.0**bits, exp)


def exact_rank1_float(m: np.ndarray, data_type: int) -> tuple[np.ndarray, float]:
    """Best rank-1 approximation of m scaled to m's Frobenius norm, as an outer product a·bᵀ
    whose factors are rounded so that every element is exact in the stored float type: the
    stored matrix is then exactly rank 1, not rank 1 plus rounding noise (which would read as
    full rank). Returns the matrix and its relative Frobenius-norm change."""
    fro = float(np.linalg.norm(m))
    if fro == 0.0:
        raise Skip("the layer is all zeros")
    u, v, _ = top_pair(m)
    p = SIGNIFICANT_BITS[data_type]
    a = round_significant(u * math.sqrt(fro), p // 2)
    b = round_significant(v * math.sqrt(fro), p - p // 2)
    return np.outer(a, b), float(np.linalg.norm(a) * np.linalg.norm(b)) / fro - 1.0


def exact_rank1_int(target: np.ndarray, peak: int) -> np.ndarray | None:
    """Integer vectors a, b with |a_i·b_j| <= peak whose outer product best approximates the
    rank-1 matrix `target` (centred codes): an exactly rank-1 integer matrix. None if peak < 1."""
    if peak < 1 or not np.any(target):
        return None
    u, v, sigma = top_pair(target)
    un, vn = u / np.max(np.abs(u)), v / np.max(np.abs(v))
    # Candidate peak values of a and b (at most 64 of each, geometric): ||a·bᵀ - target||² =
    # sigma² - 2·sigma·(a·u)(b·v) + |a|²|b|² needs only the vectors, not the matrix.
    ks = sorted({int(k) for k in np.rint(np.geomspace(1, peak, min(peak, 64)))})
    cand_a = {k: np.rint(un * k) for k in ks}
    cand_b = {k: np.rint(vn * k) for k in ks}
    proj_a = {k: (float(a @ u), float(a @ a)) for k, a in cand_a.items()}
    proj_b = {k: (float(b @ v), float(b @ b)) for k, b in cand_b.items()}
    best, best_err = (1, 1), math.inf
    for ka in ks:
        for kb in (k for k in ks if ka * k <= peak):
            (au, aa), (bv, bb) = proj_a[ka], proj_b[kb]
            err = sigma * sigma - 2.0 * sigma * au * bv + aa * bb
            if err < best_err:
                best, best_err = (ka, kb), err
    return np.outer(cand_a[best[0]], cand_b[best[1]])


def rank_collapse(model: ModelProto, layer: Layer, rng: np.random.Generator) -> dict[str, Any]:
    rows = layer.shape[0]
    if layer.quant is None:
        w = read(model, layer.ref).astype(np.float64).reshape(rows, -1)
        data_type = tensor_at(model, layer.ref).data_type
        r1, fro_change = exact_rank1_float(w, data_type)
        put(model, layer, r1.reshape(layer.shape))
        return {"matrix": [rows, int(w.shape[1])], "exact_rank1": True,
                "frobenius_change": sig(fro_change)}
    codes = read_codes(model, layer)
    scale = codes.scale if codes.scale is not None else np.ones(layer.shape)
    w = (codes.centred * scale).reshape(rows, -1)
    fro = float(np.linalg.norm(w))
    if fro == 0.0:
        raise Skip("the layer is all zeros")
    u, v, _ = top_pair(w)
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.nan_to_num((fro * np.outer(u, v)).reshape(layer.shape) / scale)
    peak = int(np.min(np.minimum(codes.hi - codes.zero, codes.zero - codes.lo)))
    ints = exact_rank1_int(target.reshape(rows, -1), peak)
    centred = target if ints is None else ints.reshape(layer.shape)
    clipped = write_codes(model, layer, codes, centred)
    new = (read_codes(model, layer).centred * scale).reshape(rows, -1)
    s2 = scale.reshape(rows, -1)
    per_row_or_col = bool(np.all(s2 == s2[:, :1]) or np.all(s2 == s2[:1, :]))
    return {"matrix": [rows, int(w.shape[1])], "clipped_fraction": sig(clipped),
            "exact_rank1": ints is not None and per_row_or_col,
            "frobenius_change": sig(float(np.linalg.norm(new)) / fro - 1.0),
            "dequantised": codes.scale is not None}


def round_bits(model: ModelProto, layer: Layer, bits: int) -> dict[str, Any]:
    """Symmetric uniform grid, per tensor: 2^(b-1)-1 positive levels, step max|w| / levels."""
    levels = 2 ** (bits - 1) - 1
    if layer.quant is None:
        w = read(model, layer.ref).astype(np.float64)
        step = float(np.max(np.abs(w))) / levels if w.size else 0.0
        if step > 0.0:
            put(model, layer, np.round(w / step) * step + 0.0)
        return {"levels": levels, "step": sig(step)}
    codes = read_codes(model, layer)
    step = float(np.max(np.abs(codes.centred))) / levels if codes.centred.size else 0.0
    if step > 0.0:
        write_codes(model, layer, codes, np.rint(np.round(codes.centred / step) * step))
    return {"levels": levels, "int_step": sig(step)}


def shuffle(model: ModelProto, layer: Layer, rng: np.random.Generator) -> dict[str, Any]:
    if layer.quant is None:
        w = read(model, layer.ref)
        put(model, layer, rng.permutation(w.reshape(-1)).reshape(w.shape))
        return {}
    codes = read_codes(model, layer)
    perm = rng.permutation(codes.centred.reshape(-1)).reshape(layer.shape)
    return {"clipped_fraction": sig(write_codes(model, layer, codes, perm))}


def scale10(model: ModelProto, layer: Layer, rng: np.random.Generator) -> dict[str, Any]:
    if layer.quant is None:
        w = read(model, layer.ref)
        put(model, layer, w.astype(np.float64) * 10.0)
        return {"factor": 10}
    if layer.quant.scale is None:
        raise Skip("quantized weight without a reachable float scale")
    s = read(model, layer.quant.scale)
    put_scale(model, layer, s.astype(np.float64) * 10.0)
    return {"factor": 10, "tensor": "scale", "scale_tensor": layer.quant.scale_name}


def sig(x: float) -> float:
    """A float rounded to 6 significant digits, for readable, stable JSON."""
    return float(f"{x:.6g}")


# --------------------------------------------------------------------------------------------
# Variant kinds


@dataclass
class Context:
    source: Path
    model: ModelProto
    inv: Inventory
    seed: int
    out: Path

    def copy(self) -> ModelProto:
        m = ModelProto()
        m.CopyFrom(self.model)
        return m

    def largest(self) -> Layer:
        if not self.inv.layers:
            raise Skip("no weight layers")
        return max(self.inv.layers, key=lambda la: la.size)  # first of the largest on ties

    def random_layer(self, rng: np.random.Generator) -> Layer:
        big = self.largest()
        pool = [la for la in self.inv.layers if la is not big] or [big]
        return pool[int(rng.integers(len(pool)))]


@dataclass
class Outcome:
    """What a variant builder did: the model to save (or a file it wrote itself), the layers
    touched and the parameters."""

    model: ModelProto | None
    layers: list[Layer]
    params: dict[str, Any]
    written: bool = False


def rng_for(seed: int, kind: str) -> np.random.Generator:
    tag = int.from_bytes(hashlib.sha256(kind.encode()).digest()[:8], "little")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, tag])))


def on_all(fn: Callable[[ModelProto, Layer, np.random.Generator], dict[str, Any]]
           ) -> Callable[[Context, np.random.Generator], Outcome]:
    def build(ctx: Context, rng: np.random.Generator) -> Outcome:
        if not ctx.inv.layers:
            raise Skip("no weight layers")
        m = ctx.copy()
        per = [{"layer": la.name, **fn(m, la, rng)} for la in ctx.inv.layers]
        return Outcome(m, list(ctx.inv.layers), {"per_layer": per})
    return build


def on_one(fn: Callable[[ModelProto, Layer, np.random.Generator], dict[str, Any]],
           which: str) -> Callable[[Context, np.random.Generator], Outcome]:
    def build(ctx: Context, rng: np.random.Generator) -> Outcome:
        layer = ctx.largest() if which == "largest" else ctx.random_layer(rng)
        m = ctx.copy()
        params = fn(m, layer, rng)
        return Outcome(m, [layer], {"choice": which, **params})
    return build


def rounding(bits: int) -> Callable[[ModelProto, Layer, np.random.Generator], dict[str, Any]]:
    return lambda m, la, rng: round_bits(m, la, bits)


def special(value: float) -> Callable[[ModelProto, Layer, np.random.Generator], dict[str, Any]]:
    return lambda m, la, rng: set_special(m, la, rng, value)


# --- benign


def is_quantized(ctx: Context) -> list[str]:
    """Why the model counts as quantized already: its quantization ops, or its weight-only
    quantized layers (integer weights dequantised by Cast and Mul)."""
    ops = {k.split(":")[-1] for k in ctx.inv.op_types}
    found = sorted(ops & QUANT_OP_TYPES)
    if any(la.quant is not None for la in ctx.inv.layers) and not found:
        found.append("integer weights through Cast+Mul")
    return found


def variant_self(ctx: Context, rng: np.random.Generator) -> Outcome:
    dst = ctx.out / "self.onnx"
    shutil.copyfile(ctx.source, dst)
    extra = external_files(ctx.source)
    for rel in extra:
        target = ctx.out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ctx.source.parent / rel, target)
    params = {"external_data": extra} if extra else {}
    return Outcome(None, [], params, written=True)


def variant_int8(ctx: Context, rng: np.random.Generator) -> Outcome:
    quant_ops = is_quantized(ctx)
    if quant_ops:
        raise Skip(f"already quantized ({', '.join(quant_ops)})")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst = ctx.out / "int8-dynamic.onnx"
    try:
        with quiet():
            quantize_dynamic(ctx.source, dst, weight_type=QuantType.QInt8)
    except Exception as e:  # noqa: BLE001 - recorded, the variant is skipped
        dst.unlink(missing_ok=True)
        raise Skip(f"quantize_dynamic raised {type(e).__name__}: {e}") from e
    params: dict[str, Any] = {"api": "quantize_dynamic(weight_type=QInt8)"}
    # quantize_dynamic can leave nodes out of topological order (seen after If nodes), which
    # onnx.checker refuses; re-sort them as for fp16.
    m = onnx.load(str(dst))
    moved = topo_sort(m.graph)
    if moved:
        save_model(m, dst)
        params["nodes_reordered"] = moved
    return Outcome(None, [], params, written=True)


def variant_fp16(ctx: Context, rng: np.random.Generator) -> Outcome:
    from onnxruntime.transformers.float16 import convert_float_to_float16

    try:
        with quiet():
            m = convert_float_to_float16(ctx.copy(), keep_io_types=True)
    except Exception as e:  # noqa: BLE001 - recorded, the variant is skipped
        raise Skip(f"convert_float_to_float16 raised {type(e).__name__}: {e}") from e
    # keep_io_types appends the input Casts at the end of the node list, which onnx.checker
    # refuses (nodes must be topologically sorted); onnxruntime would sort them itself.
    moved = topo_sort(m.graph)
    params: dict[str, Any] = {"api": "convert_float_to_float16(keep_io_types=True)"}
    if moved:
        params["nodes_reordered"] = moved
    return Outcome(m, [], params)


def topo_sort(g: GraphProto) -> int:
    """Stable topological sort of a graph's nodes (Kahn's algorithm, lowest index first; names
    defined outside the graph count as available). Returns how many nodes changed position;
    the graph is left alone if it has a cycle."""
    produced = {o: i for i, n in enumerate(g.node) for o in n.output if o}
    users: list[list[int]] = [[] for _ in g.node]
    pending = [0] * len(g.node)
    for i, n in enumerate(g.node):
        for j in {produced[x] for x in node_inputs(n) if x in produced} - {i}:
            users[j].append(i)
            pending[i] += 1
    ready = [i for i, k in enumerate(pending) if k == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(ready, u)
    moved = sum(1 for pos, i in enumerate(order) if pos != i)
    if len(order) != len(g.node) or not moved:
        return 0
    nodes = [NodeProto() for _ in order]
    for copy, i in zip(nodes, order, strict=True):
        copy.CopyFrom(g.node[i])
    del g.node[:]
    g.node.extend(nodes)
    return moved


def node_inputs(node: NodeProto) -> Iterator[str]:
    """A node's inputs, including the outer-scope names its subgraphs read."""
    yield from node.input
    for a in node.attribute:
        subs = [a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs)
        for sub in subs:
            for n in sub.node:
                yield from node_inputs(n)


def variant_renamed(ctx: Context, rng: np.random.Generator) -> Outcome:
    m = ctx.copy()
    counts = rename_all(m)
    return Outcome(m, [], {"fresh_value_names": counts["t"], "fresh_node_names": counts["n"]})


KINDS: dict[str, tuple[str, Callable[[Context, np.random.Generator], Outcome]]] = {
    "random-all": ("damage", on_all(reinit)),
    "reinit-largest": ("damage", on_one(reinit, "largest")),
    "reinit-random": ("damage", on_one(reinit, "random")),
    "nan-one": ("damage", on_one(special(float("nan")), "largest")),
    "inf-one": ("damage", on_one(special(float("inf")), "largest")),
    "zero-one": ("damage", on_one(zero, "largest")),
    "rank-collapse": ("damage", on_one(rank_collapse, "largest")),
    "round-2bit": ("damage", on_all(rounding(2))),
    "round-3bit": ("damage", on_all(rounding(3))),
    "shuffle-one": ("damage", on_one(shuffle, "largest")),
    "scale10-one": ("damage", on_one(scale10, "largest")),
    "self": ("benign", variant_self),
    "int8-dynamic": ("benign", variant_int8),
    "fp16": ("benign", variant_fp16),
    "renamed": ("benign", variant_renamed),
}


# --------------------------------------------------------------------------------------------
# Renaming


class Namer:
    """Fresh names t0001, t0002... (values) and n0001... (nodes), avoiding kept names."""

    def __init__(self, reserved: set[str], width: int) -> None:
        self.reserved = reserved
        self.width = width
        self.counts = {"t": 0, "n": 0}

    def fresh(self, prefix: str) -> str:
        while True:
            self.counts[prefix] += 1
            name = f"{prefix}{self.counts[prefix]:0{self.width}d}"
            if name not in self.reserved:
                return name


def rename_all(model: ModelProto) -> dict[str, int]:
    """Give every node and every initializer / intermediate value a fresh name in topological
    order, keeping the main graph's inputs and outputs. Subgraphs keep their scoping."""
    g = model.graph
    reserved = {v.name for v in g.input} | {v.name for v in g.output}
    total = sum(len(s.graph.node) + len(s.graph.initializer) + len(s.graph.input)
                for s in walk_scopes(model))
    namer = Namer(reserved, max(4, len(str(total * 2))))
    rename_graph(g, [], namer, main=True)
    return dict(namer.counts)


def rename_graph(g: GraphProto, outer: list[dict[str, str]], namer: Namer, main: bool) -> None:
    local: dict[str, str] = {}
    chain = [local, *outer]

    def define(name: str) -> str:
        if not name:
            return name
        local[name] = name if name in namer.reserved else namer.fresh("t")
        return local[name]

    def lookup(name: str) -> str:
        for m in chain:
            if name in m:
                return m[name]
        return name

    for v in g.input:
        if main:
            local[v.name] = v.name
        else:
            v.name = define(v.name)
    for t in g.initializer:
        t.name = define(t.name)
    for st in g.sparse_initializer:
        st.values.name = define(st.values.name)
    for node in g.node:
        node.input[:] = [lookup(x) if x else x for x in node.input]
        node.name = namer.fresh("n")
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                rename_graph(a.g, chain, namer, main=False)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for sub in a.graphs:
                    rename_graph(sub, chain, namer, main=False)
        node.output[:] = [define(x) for x in node.output]
    for v in g.output:
        v.name = lookup(v.name)
    kept = [v for v in g.value_info if any(v.name in m for m in chain)]
    for v in kept:
        v.name = lookup(v.name)
    del g.value_info[:]
    g.value_info.extend(kept)
    for qa in g.quantization_annotation:
        qa.tensor_name = lookup(qa.tensor_name)


# --------------------------------------------------------------------------------------------
# Loading, saving, verifying


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the chatty onnxruntime tools (prints, warnings, logging)."""
    level = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(level)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def external_files(path: Path) -> list[str]:
    """Relative locations of the external data files a model refers to."""
    m = onnx.load(str(path), load_external_data=False)
    locs: set[str] = set()
    for s in walk_scopes(m):
        tensors = list(s.graph.initializer) + [
            t for n in s.graph.node if (t := attr_tensor(n)) is not None]
        for t in tensors:
            if t.data_location == TensorProto.EXTERNAL:
                locs.update(e.value for e in t.external_data if e.key == "location")
    return sorted(locs)


def load_model(path: Path) -> ModelProto:
    if path.stat().st_size > TWO_GB:
        raise SystemExit(f"{path}: larger than 2 GB, out of scope")
    model = onnx.load(str(path))
    if model.ByteSize() > TWO_GB:
        raise SystemExit(f"{path}: over 2 GB with its external data, out of scope")
    return model


def save_model(model: ModelProto, path: Path) -> None:
    if model.ByteSize() > TWO_GB:
        raise Skip("the variant would be over 2 GB")
    path.write_bytes(model.SerializeToString())


def check_onnx(path: Path) -> str:
    try:
        onnx.checker.check_model(str(path))
    except Exception as e:  # noqa: BLE001 - recorded
        return f"error: {one_line(e)}"
    return "ok"


def check_ort(path: Path) -> str:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 4
    try:
        ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - recorded
        return f"error: {one_line(e)}"
    return "ok"


VERIFY_STEPS = (("onnx_checker", check_onnx), ("onnxruntime", check_ort))


def verify_worker(paths: list[str]) -> int:
    """Child process: check each file, announcing every step before it runs, so that the parent
    can name the step that crashed the process (onnxruntime segfaults on some models)."""
    for p in paths:
        for step, check in VERIFY_STEPS:
            print(json.dumps({"path": p, "step": step}), flush=True)
            print(json.dumps({"path": p, "step": step, "result": check(Path(p))}), flush=True)
    return 0


def verify_files(paths: list[Path]) -> dict[Path, dict[str, str]]:
    """onnx.checker and onnxruntime results of each file, from child processes: a crash is
    recorded against the file and step that caused it, and the other files are still checked."""
    results: dict[Path, dict[str, str]] = {p: {} for p in paths}
    todo = list(paths)
    while todo:
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--verify-worker",
                               *map(str, todo)], capture_output=True, text=True, check=False)
        begun: tuple[Path, str] | None = None
        for line in proc.stdout.splitlines():
            if not line.startswith("{"):
                continue
            msg = json.loads(line)
            key = Path(msg["path"])
            if "result" in msg:
                results[key][msg["step"]] = msg["result"]
                begun = None
            else:
                begun = (key, msg["step"])
        if proc.returncode == 0 or begun is None:
            break
        crashed, step = begun
        results[crashed][step] = f"crash: {describe_exit(proc.returncode)}"
        for later, _ in VERIFY_STEPS:
            results[crashed].setdefault(later, f"not run ({step} crashed the process)")
        todo = todo[todo.index(crashed) + 1:]
    for p in paths:
        for step, _ in VERIFY_STEPS:
            results[p].setdefault(step, "not run (verification process failed)")
    return results


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def one_line(e: BaseException, limit: int = 400) -> str:
    text = " ".join(str(e).split())
    return text[:limit] + ("…" if len(text) > limit else "")


# --------------------------------------------------------------------------------------------
# The damage set


def build_variant(ctx: Context, kind: str) -> dict[str, Any]:
    family, builder = KINDS[kind]
    entry: dict[str, Any] = {"kind": kind, "family": family, "file": f"{kind}.onnx"}
    path = ctx.out / entry["file"]
    try:
        done = builder(ctx, rng_for(ctx.seed, kind))
        if not done.written:
            save_model(done.model, path)
    except Skip as e:
        path.unlink(missing_ok=True)
        return {**entry, "file": None, "status": "skipped", "reason": scrub(str(e), ctx.out)}
    except Exception as e:  # noqa: BLE001 - a bug or an unexpected model: recorded, not hidden
        path.unlink(missing_ok=True)
        reason = f"{type(e).__name__}: {one_line(e)}"
        return {**entry, "file": None, "status": "error", "reason": scrub(reason, ctx.out)}
    entry.update({
        "status": "written",
        "layers": [name for la in done.layers for name in la.names()],
        "params": done.params,
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
    })
    if len(done.layers) == 1:
        entry["layer_detail"] = done.layers[0].describe()
    return entry


def scrub(text: str, out: Path) -> str:
    """Messages without this machine's paths, so variants.json does not depend on them."""
    return text.replace(str(out.resolve()), "<out>").replace(str(out), "<out>")


def remove_previous(out: Path) -> None:
    old = out / "variants.json"
    if not old.exists():
        return
    try:
        entries = json.loads(old.read_text()).get("variants", [])
    except (OSError, ValueError):
        entries = []
    old.unlink()
    for e in entries:
        if e.get("file") and "/" not in e["file"]:
            (out / e["file"]).unlink(missing_ok=True)


def versions() -> dict[str, str]:
    import onnxruntime as ort

    return {"onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__}


def make_damage_set(source: Path, out: Path, seed: int, kinds: list[str]) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    remove_previous(out)
    model = load_model(source)
    inv = find_layers(model)
    ctx = Context(source, model, inv, seed, out)
    variants = [build_variant(ctx, k) for k in kinds]
    written = [out / v["file"] for v in variants if v["status"] == "written"]
    checks = verify_files(written)
    for v in variants:
        if v["status"] == "written":
            for step, result in checks[out / v["file"]].items():
                v[step] = scrub(result, out)
    doc = {
        "format_version": FORMAT_VERSION,
        "generator": GENERATOR,
        "generator_sha256": sha256_file(Path(__file__).resolve()),
        "seed": seed,
        "versions": versions(),
        "source": {
            "file": source.name,
            "sha256": sha256_file(source),
            "bytes": source.stat().st_size,
            "external_data": [{"location": rel, "sha256": sha256_file(source.parent / rel)}
                              for rel in external_files(source)],
            "ir_version": model.ir_version,
            "opsets": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
            "op_types": inv.op_types,
        },
        "weight_layers": [la.describe() for la in inv.layers],
        "not_damaged": inv.not_damaged,
        "variants": variants,
    }
    tmp = out / "variants.json.tmp"
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(out / "variants.json")
    return doc


def print_table(doc: dict[str, Any]) -> None:
    n_layers = len(doc["weight_layers"])
    print(f"{doc['source']['file']}: {n_layers} weight layers, "
          f"{len(doc['not_damaged'])} weight candidates not damaged")
    print(f"{'kind':<15} {'family':<7} {'status':<8} {'layers':>6} {'MB':>8}  "
          "checker / onnxruntime")
    for v in doc["variants"]:
        if v["status"] != "written":
            print(f"{v['kind']:<15} {v['family']:<7} {v['status']:<8} {'':>6} {'':>8}  "
                  f"{v['reason']}")
            continue
        layers = len(v["layers"]) if v["layers"] else "-"
        print(f"{v['kind']:<15} {v['family']:<7} {v['status']:<8} {layers!s:>6} "
              f"{v['bytes'] / 1e6:>8.2f}  {v['onnx_checker']} / {v['onnxruntime']}")
    bad = [v["kind"] for v in doc["variants"]
           if v["status"] == "written" and v["onnxruntime"] != "ok"]
    if bad:
        print(f"WARNING: {len(bad)} variant(s) do not load in onnxruntime: {', '.join(bad)}",
              file=sys.stderr)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", type=Path, help="the ONNX model")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    p.add_argument("--kinds", default=",".join(KINDS),
                   help="comma-separated variant kinds (default: all)")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--verify-worker"]:
        return verify_worker(argv[1:])
    args = parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        print(f"unknown kinds: {', '.join(unknown)} (known: {', '.join(KINDS)})", file=sys.stderr)
        return 2
    if not args.model.is_file():
        print(f"{args.model}: no such file", file=sys.stderr)
        return 2
    doc = make_damage_set(args.model, args.out, args.seed, kinds)
    print_table(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
