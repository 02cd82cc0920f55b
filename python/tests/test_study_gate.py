"""``tailwatch.study()`` and ``tailwatch.gate()`` against the command line's own outputs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
from conftest import REPO, VGG, ZOO, run_cli
from onnx import numpy_helper

import tailwatch

DEFAULT_GATE = REPO / "configs" / "gates" / "default.yaml"
RELEASE_GATE = REPO / "configs" / "gates" / "release.yaml"


def study_file(d: Path, extra: str = "") -> Path:
    models = [("ep01", "vgg11_bn_mini_ep01.onnx", 46.92, 10.2),
              ("ep03", "vgg11_bn_mini_ep03.onnx", 10.16, 0.76),
              ("ep08", "vgg11_bn_mini_ep08.onnx", 5.88, 0.08),
              ("ep15", "vgg11_bn_mini.onnx", 4.04, 0.16)]
    y = "name: trajectory\npreset: ww\nanalysis: { mp_fit: true }\nmodels:\n"
    for name, f, t1, t5 in models:
        y += f"  - {{ name: {name}, path: {VGG / f}, top1_error: {t1}, top5_error: {t5} }}\n"
    y += extra
    y += "stages: [extract, eigensolve, mp_fit, powerlaw_fit, correlate, report]\n"
    y += "correlate: { metrics: [log_norm, alpha, log_spectral_norm, mp_softrank] }\n"
    p = d / "study.yaml"
    p.write_text(y)
    return p


def test_study_returns_the_reports_tables_and_writes_the_report(cli: Path, tmp_path: Path) -> None:
    path = study_file(tmp_path)
    r = tailwatch.study(path, out=tmp_path / "py", stages=None)
    assert r.complete and r.failed == {}
    assert Path(r.out) == tmp_path / "py"
    for f in ["report.html", "report.md", "report.json", "details.csv", "summary.csv",
              "correlations.csv"]:
        assert (tmp_path / "py" / f).is_file(), f
    # The tables are the report's files, and the command line writes the same files.
    cli_out = tmp_path / "cli"
    assert run_cli(cli, "study", str(path), "--out", str(cli_out)).returncode == 0
    for name, frame in [("details", r.details), ("summary", r.summary),
                        ("correlations", r.correlations)]:
        for d in (tmp_path / "py", cli_out):
            want = pd.read_csv(d / f"{name}.csv")
            pd.testing.assert_frame_equal(frame, want, check_exact=False, rtol=1e-12, atol=0.0)
    assert r.summary["model"].tolist() == ["ep01", "ep03", "ep08", "ep15"]
    assert set(r.details["model"]) == {"ep01", "ep03", "ep08", "ep15"}
    tau = r.correlations.set_index(["metric", "target"]).loc[("log_spectral_norm", "top1"), "kendall_tau"]
    assert tau < -0.6  # the trajectory's strong relation (README: τ = −0.87 on six epochs)

    # Re-correlating from the saved analyses: the same tables, no model analysed again.
    again = tailwatch.study(path, out=tmp_path / "py", stages="correlate,report")
    pd.testing.assert_frame_equal(again.correlations, r.correlations)
    pd.testing.assert_frame_equal(again.details, r.details)


def test_a_failed_model_is_reported_not_raised(tmp_path: Path, caplog) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes((VGG / "vgg11_mini.onnx").read_bytes()[:1000])
    path = study_file(tmp_path, extra=f"  - {{ name: broken, path: {broken}, top1_error: 5.0 }}\n")
    with caplog.at_level(logging.WARNING, logger="tailwatch"):
        r = tailwatch.study(path, out=tmp_path / "out")
    assert not r.complete
    assert list(r.failed) == ["broken"] and "[truncated]" in r.failed["broken"]
    assert r.summary.set_index("model").loc["broken", "status"] == "failed"
    assert (tmp_path / "out" / "report.html").is_file()
    assert any("study incomplete" in m for m in caplog.messages)


def test_study_without_an_output_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(tailwatch.ConfigError, match="no output directory"):
        tailwatch.study(study_file(tmp_path))
    with pytest.raises(tailwatch.OptionError, match='unknown stage "nope"'):
        tailwatch.study(study_file(tmp_path), out=tmp_path / "o", stages=["nope"])


def test_gate_verdict_is_the_clis_json(cli: Path, tmp_path: Path) -> None:
    model = VGG / "vgg11_bn_mini.onnx"
    v = tailwatch.gate(DEFAULT_GATE, model)
    assert v["verdict"]["status"] == "pass" and v["verdict"]["exit_code"] == 0
    out = tmp_path / "gate.json"
    r = run_cli(cli, "gate", str(DEFAULT_GATE), str(model), "--json", str(out))
    assert r.returncode == 0, r.stderr
    assert v == json.loads(out.read_text())


def scaled_copy(d: Path, src: Path, factor: float) -> Path:
    """``src`` with its largest float initializer multiplied by ``factor``."""
    m = onnx.load(str(src))
    big = max((t for t in m.graph.initializer if t.data_type == onnx.TensorProto.FLOAT),
              key=lambda t: int(np.prod(t.dims)))
    a = numpy_helper.to_array(big) * np.float32(factor)
    big.CopyFrom(numpy_helper.from_array(a.astype(np.float32), big.name))
    p = d / f"x{factor}-{src.name}"
    p.write_bytes(m.SerializeToString())
    return p


def test_release_gate_with_a_baseline(cli: Path, tmp_path: Path) -> None:
    base = ZOO / "ppocr-cls-v2.onnx"
    ok = tailwatch.gate(RELEASE_GATE, ZOO / "ppocr-cls-v2.renamed.onnx", baseline=base)
    assert ok["verdict"]["status"] == "pass"
    # A layer ×10 against the model it came from (the VGG fixtures keep their weights in
    # initializers, which the copy edits).
    base = VGG / "vgg11_mini.onnx"
    assert tailwatch.gate(RELEASE_GATE, base, baseline=base)["verdict"]["status"] == "pass"
    damaged = scaled_copy(tmp_path, base, 10.0)
    bad = tailwatch.gate(RELEASE_GATE, damaged, baseline=base)
    assert bad["verdict"]["status"] == "fail" and bad["verdict"]["exit_code"] == 1
    failing = [r["name"] for r in bad["verdict"]["rules"] if r["status"] == "fail"]
    assert failing, bad["verdict"]["rules"]
    r = run_cli(cli, "gate", str(RELEASE_GATE), str(damaged), "--baseline", str(base),
                  "--json", str(tmp_path / "v.json"))
    assert r.returncode == 1
    assert bad == json.loads((tmp_path / "v.json").read_text())


def test_a_gate_that_cannot_be_evaluated_raises(tmp_path: Path) -> None:
    # A baseline rule without a baseline: nothing is judged.
    with pytest.raises(tailwatch.EvaluationError, match="compare with a baseline"):
        tailwatch.gate(RELEASE_GATE, ZOO / "ppocr-cls-v2.onnx")
    # A baseline of another architecture: the verdict is an error, never a pass.
    with pytest.raises(tailwatch.GateError) as e:
        tailwatch.gate(RELEASE_GATE, VGG / "vgg11_mini.onnx", baseline=ZOO / "ppocr-cls-v2.onnx")
    assert e.value.verdict["verdict"]["status"] == "error"
    assert e.value.verdict["verdict"]["exit_code"] == 2
    assert e.value.file == str(RELEASE_GATE)
    with pytest.raises(tailwatch.ModelError):
        tailwatch.gate(DEFAULT_GATE, _truncated(tmp_path))


def _truncated(d: Path) -> Path:
    p = d / "t.onnx"
    p.write_bytes((VGG / "vgg11_mini.onnx").read_bytes()[:-5])
    return p
