"""Running inside an interpreter: the GIL is released during an analysis, Ctrl-C stops it,
progress goes to tqdm, log messages to the ``tailwatch`` logger from the calling thread."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import REFERENCE, VGG
from onnx import TensorProto, helper, numpy_helper

import tailwatch

#: Options that make the long model slow enough to interrupt (the SVD path, randomized ESDs and
#: eigenvectors on every layer).
SLOW = {"eigensolver": "svd", "randomize": True, "vectors": True, "mp_fit": True}


def chain(path: Path, layers: int, n: int, nan_layer: int = -1) -> Path:
    """x @ w0 @ w1 … with ``layers`` heavy-tailed n × n weights (one NaN weight if asked)."""
    rng = np.random.default_rng(5)
    nodes, inits = [], []
    for k in range(layers):
        w = (rng.standard_t(3, size=(n, n)) / np.sqrt(n)).astype(np.float32)
        if k == nan_layer:
            w[0, 0] = np.nan
        inits.append(numpy_helper.from_array(w, f"w{k}"))
        nodes.append(helper.make_node("MatMul", [f"x{k}", f"w{k}"], [f"x{k + 1}"], name=f"mm{k}"))
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("x0", TensorProto.FLOAT, [1, n])],
        [helper.make_tensor_value_info(f"x{layers}", TensorProto.FLOAT, [1, n])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path.write_bytes(model.SerializeToString())
    return path


@pytest.fixture(scope="module")
def long_model(tmp_path_factory) -> tuple[Path, float]:
    """A model whose analysis with SLOW takes a few seconds, and that time."""
    path = chain(tmp_path_factory.mktemp("long") / "long.onnx", layers=24, n=500)
    t0 = time.monotonic()
    rows = tailwatch.analyze(path, **SLOW)
    elapsed = time.monotonic() - t0
    assert len(rows) == 24
    assert elapsed > 1.0, f"the long model took only {elapsed:.2f} s: make it longer"
    return path, elapsed


def test_the_gil_is_released_during_an_analysis(long_model) -> None:
    path, elapsed = long_model
    done = threading.Event()
    worker = threading.Thread(target=lambda: (tailwatch.analyze(path, **SLOW), done.set()))
    worker.start()
    time.sleep(0.1)
    # Pure-Python work on this thread while the analysis runs on the other one.
    count, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < min(0.5, elapsed / 3):
        count += 1
    still_running = not done.is_set()
    worker.join()
    assert still_running, "the analysis ended before the measurement: make the model longer"
    assert count > 50_000, f"only {count} iterations: the GIL was held"


def test_ctrl_c_stops_a_long_analysis(long_model) -> None:
    path, elapsed = long_model
    script = (
        "import sys, time, tailwatch\n"
        "print('started', flush=True)\n"
        "t0 = time.monotonic()\n"
        "try:\n"
        f"    tailwatch.analyze({str(path)!r}, **{SLOW!r})\n"
        "    print('finished', time.monotonic() - t0, flush=True)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', time.monotonic() - t0, flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "started"
    time.sleep(min(0.5, elapsed / 4))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    word, seconds = out.split()
    assert word == "interrupted", out + err
    assert float(seconds) < elapsed * 0.8, (seconds, elapsed)
    assert "interrupted: stopping before the next layer" in err


def test_log_messages_go_to_the_tailwatch_logger_from_the_calling_thread(tmp_path, caplog) -> None:
    path = chain(tmp_path / "nan.onnx", layers=3, n=20, nan_layer=1)
    with caplog.at_level(logging.WARNING, logger="tailwatch"):
        rows = tailwatch.analyze(path)
    assert rows["status"].tolist()[1] == "invalid_values"
    warnings = [r for r in caplog.records if r.name == "tailwatch" and r.levelno == logging.WARNING]
    assert any("w1" in r.getMessage() for r in warnings), caplog.text
    assert all(r.threadName == threading.current_thread().name for r in warnings)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="tailwatch"):
        tailwatch.analyze(REFERENCE / "mlp_gemm.onnx")
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("eigensolves done" in m for m in debug), debug
    # Events inside a layer's span are prefixed with it.
    assert any(m.startswith("layer{id=") for m in debug), debug
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="tailwatch"):
        tailwatch.analyze(path)
    assert not caplog.records


class FakeBar:
    bars: list["FakeBar"] = []

    def __init__(self, total=None, desc=None, unit=None, leave=True) -> None:
        self.total, self.desc, self.n, self.closed, self.postfix = total, desc, 0, False, None
        FakeBar.bars.append(self)

    def set_postfix_str(self, s, refresh=True) -> None:
        self.postfix = s

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_tqdm(monkeypatch):
    FakeBar.bars = []
    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = FakeBar
    pkg = types.ModuleType("tqdm")
    pkg.auto = auto
    monkeypatch.setitem(sys.modules, "tqdm", pkg)
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    return FakeBar


def test_progress_bars(fake_tqdm) -> None:
    model = VGG / "vgg11_mini.onnx"
    n = len(tailwatch.analyze(model, progress=True))
    [bar] = fake_tqdm.bars
    assert (bar.desc, bar.n, bar.total, bar.closed) == ("layers", n, n, True)
    fake_tqdm.bars.clear()
    tailwatch.analyze(model, progress=False)
    tailwatch.analyze(model)  # automatic: a run this short shows nothing
    assert fake_tqdm.bars == []


def test_study_progress_counts_models(fake_tqdm, tmp_path) -> None:
    from test_study_gate import study_file

    tailwatch.study(study_file(tmp_path), out=tmp_path / "out", progress=True)
    models = [b for b in fake_tqdm.bars if b.desc == "models"]
    assert len(models) == 1 and (models[0].n, models[0].total) == (4, 4)
    assert any(b.desc == "layers" for b in fake_tqdm.bars)


def test_progress_true_without_tqdm_says_so(monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with caplog.at_level(logging.WARNING, logger="tailwatch"):
        rows = tailwatch.analyze(REFERENCE / "mlp_gemm.onnx", progress=True)
    assert len(rows) == 3
    assert "progress=True needs tqdm" in caplog.text
    with pytest.raises(TypeError, match="progress"):
        tailwatch.analyze(REFERENCE / "mlp_gemm.onnx", progress="yes")
