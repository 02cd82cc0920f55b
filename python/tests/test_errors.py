"""Hostile and broken inputs raise ``tailwatch.Error`` subclasses carrying the file and the
reason (the classes of the command line's exit 2); nothing crashes the interpreter."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from conftest import REFERENCE, VGG
from onnx import TensorProto, helper

import tailwatch
from tailwatch import _native

MLP = REFERENCE / "mlp_gemm.onnx"


def test_truncated_model(tmp_path: Path) -> None:
    p = tmp_path / "trunc.onnx"
    p.write_bytes(MLP.read_bytes()[:-7])
    with pytest.raises(tailwatch.ModelError) as e:
        tailwatch.analyze(p)
    assert e.value.kind == "truncated"
    assert e.value.file == str(p)
    assert "not a valid ONNX model" in e.value.reason
    assert str(e.value).startswith(str(p)) and str(e.value).endswith("[truncated]")


def test_random_bytes_and_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "random.onnx"
    p.write_bytes(bytes((i * 7919 + 13) % 251 for i in range(4096)))
    with pytest.raises(tailwatch.ModelError) as e:
        tailwatch.WeightWatcher(model=p).analyze()
    assert e.value.kind == "not_onnx"
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(tailwatch.ModelError, match="no graph"):
        tailwatch.describe(empty)


def external_model(location: str) -> onnx.ModelProto:
    """x @ w, with w's data in the external file ``location`` (64 bytes at offset 0)."""
    w = TensorProto()
    w.name = "w"
    w.data_type = TensorProto.FLOAT
    w.dims.extend([4, 4])
    w.data_location = TensorProto.EXTERNAL
    for key, value in [("location", location), ("offset", "0"), ("length", "64")]:
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        initializer=[w],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("location,needle", [("../secret.bin", "leaves"), ("/etc/passwd", "is absolute")])
def test_external_data_outside_the_model_directory_is_refused(tmp_path: Path, location, needle) -> None:
    (tmp_path / "secret.bin").write_bytes(b"\0" * 64)  # it exists: refused, not merely missing
    d = tmp_path / "model"
    d.mkdir()
    p = d / "m.onnx"
    p.write_bytes(external_model(location).SerializeToString())
    for call in (tailwatch.analyze, tailwatch.describe):
        with pytest.raises(tailwatch.ModelError) as e:
            call(p)
        assert e.value.kind == "path_traversal", str(e.value)
        assert e.value.file == str(p)
        assert needle in e.value.reason


def test_external_data_inside_the_directory_is_read(tmp_path: Path) -> None:
    import struct

    (tmp_path / "w.bin").write_bytes(struct.pack("<16f", *[float(i % 5 - 2) for i in range(16)]))
    p = tmp_path / "m.onnx"
    p.write_bytes(external_model("w.bin").SerializeToString())
    assert tailwatch.describe(p)["name"].tolist() == ["w"]
    rows = tailwatch.analyze(p, min_evals=2)
    assert rows["name"].tolist() == ["w"] and rows["has_esd"].tolist() == [True]


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(tailwatch.Error) as e:
        tailwatch.analyze(tmp_path)
    assert e.value.file == str(tmp_path)
    assert isinstance(e.value, (tailwatch.ModelError, tailwatch.FileError))
    missing = tmp_path / "missing.onnx"
    with pytest.raises(tailwatch.FileError) as e:
        tailwatch.WeightWatcher(model=str(missing)).analyze()
    assert e.value.file == str(missing)
    assert "No such file" in e.value.reason
    assert e.value.kind is None


def test_bad_study_and_gate_files(tmp_path: Path) -> None:
    bad = tmp_path / "study.yaml"
    bad.write_text("name: x\nmodels: []\nbogus_key: 1\n")
    with pytest.raises(tailwatch.ConfigError) as e:
        tailwatch.study(bad, out=tmp_path / "out")
    assert e.value.file == str(bad)
    gate = tmp_path / "gate.yaml"
    gate.write_text("rules: 3\n")
    with pytest.raises(tailwatch.ConfigError) as e:
        tailwatch.gate(gate, VGG / "vgg11_mini.onnx")
    assert e.value.file == str(gate)
    with pytest.raises(tailwatch.FileError):
        tailwatch.gate(tmp_path / "no-gate.yaml", VGG / "vgg11_mini.onnx")


def test_a_panic_in_the_library_becomes_an_internal_error() -> None:
    with pytest.raises(tailwatch.InternalError, match="deliberate test panic"):
        _native._panic_for_tests()
    # The interpreter and the package still work afterwards.
    assert len(tailwatch.analyze(MLP)) == 3


def test_model_types(tmp_path: Path) -> None:
    proto = onnx.load(str(MLP))
    assert tailwatch.analyze(proto).equals(tailwatch.analyze(MLP))
    assert tailwatch.WeightWatcher(model=proto).describe()["name"].tolist()[:1] == ["fc1.weight"]
    with pytest.raises(TypeError, match="not int"):
        tailwatch.analyze(42)
    with pytest.raises(TypeError, match="no model"):
        tailwatch.WeightWatcher().analyze()


def test_error_hierarchy() -> None:
    for cls in (tailwatch.FileError, tailwatch.ModelError, tailwatch.ConfigError,
                tailwatch.OptionError, tailwatch.OutputError, tailwatch.EvaluationError,
                tailwatch.GateError, tailwatch.InternalError, tailwatch.UnsupportedOptionError):
        assert issubclass(cls, tailwatch.Error)
    assert issubclass(tailwatch.GateError, tailwatch.EvaluationError)
    assert issubclass(tailwatch.UnsupportedOptionError, tailwatch.OptionError)
