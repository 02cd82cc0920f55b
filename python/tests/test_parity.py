"""``analyze()`` gives the DataFrame that ``pandas.read_csv`` gives for the real command line's
``details.csv``: same columns in the same order, same dtypes, values to 1e-12 relative; and
``get_summary()`` / ``describe()`` agree with ``summary.json`` / ``describe --format csv``."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import QUANT, REFERENCE, VGG, ZOO, cli_analyze, cli_args, read_details, run_cli

import tailwatch

#: Option sets for the reference models: WeightWatcher's configurations of
#: tests/data/ww-0.7.7 (README §3) and the parity switches.
REFERENCE_OPTIONS: dict[str, dict[str, Any]] = {
    "default": {},
    "mp_fit": {"mp_fit": True},
    "seed_nb": {"preset": "ww2x"},
    "ww2x_kw": {"pool": False, "mp_fit": True, "min_evals": 50},
    "randomize": {"randomize": True, "seed": 3},
    "full": {"mp_fit": True, "randomize": True, "detX": True, "vectors": True},
    "clip_xmax": {"fix_fingers": "clip_xmax"},
    "pl_powerlaw": {"pl_package": "powerlaw"},
    "xmin_peak": {"pl_package": "powerlaw", "fix_fingers": "xmin_peak"},
    "tpl": {"pl_package": "powerlaw", "fit": "TPL"},
    "nature2021": {"preset": "nature2021"},
    "compat": {"compat": "ww-0.7.7", "layer_source": "initializers", "mp_fit": True},
    "svd_xmax": {"eigensolver": "svd", "xmax": -1, "tolerance": 1e-4},
    "layers": {"layers": [0, "fc.weight"]},
}

REFERENCE_MODELS = ["mlp_gemm", "mlp_matmul", "cnn_conv2d", "quirks"]


def assert_same_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert list(got.dtypes) == list(want.dtypes)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=0.0)


def check_model(cli: Path, model: Path, kwargs: dict[str, Any], tmp: Path) -> pd.DataFrame:
    want = read_details(cli_analyze(cli, model, kwargs, tmp / "cli"))
    got = tailwatch.analyze(model, **kwargs)
    assert_same_frame(got, want)
    return got


def reference_cases() -> list[Any]:
    cases = []
    for model in REFERENCE_MODELS:
        for name, kwargs in REFERENCE_OPTIONS.items():
            if name == "layers" and model != "cnn_conv2d":
                continue
            cases.append(pytest.param(model, kwargs, id=f"{model}-{name}"))
    return cases


@pytest.mark.parametrize("model,kwargs", reference_cases())
def test_reference_models_equal_the_cli(cli: Path, tmp_path: Path, model: str, kwargs) -> None:
    got = check_model(cli, REFERENCE / f"{model}.onnx", kwargs, tmp_path)
    assert len(got) > 0
    if "layers" in kwargs:
        assert list(got["name"]) == ["conv1.weight", "fc.weight"]


def fixture_models() -> list[Any]:
    models = sorted(VGG.glob("*.onnx")) + sorted(QUANT.glob("*.onnx")) + sorted(ZOO.glob("*.onnx"))
    return [pytest.param(m, id=f"{m.parent.name}/{m.name}") for m in models]


@pytest.mark.parametrize("model", fixture_models())
def test_fixture_models_equal_the_cli(cli: Path, tmp_path: Path, model: Path) -> None:
    check_model(cli, model, {"mp_fit": True}, tmp_path)


@pytest.mark.parametrize("name", ["vgg11_bn_mini.onnx", "vgg16_mini.onnx"])
@pytest.mark.parametrize("kwargs", [{"preset": "ww2x"}, {"randomize": True, "vectors": True}])
def test_vgg_with_sliced_and_randomized_options(cli, tmp_path, name, kwargs) -> None:
    check_model(cli, VGG / name, kwargs, tmp_path)


def test_the_frame_is_read_csv_of_the_details_file(cli: Path, tmp_path: Path) -> None:
    """Column by column, the dtypes pandas infers from the file (not a looser comparison)."""
    model = REFERENCE / "cnn_conv2d.onnx"
    want = read_details(cli_analyze(cli, model, {"mp_fit": True}, tmp_path))
    got = tailwatch.WeightWatcher(model=str(model)).analyze(mp_fit=True)
    assert dict(got.dtypes) == dict(want.dtypes)
    assert got["status"].tolist() == want["status"].tolist()
    assert got["layer_id"].dtype.kind == "i" and got["alpha"].dtype.kind == "f"
    # Bit-identical in fact: the extension and the binary run the same library code.
    assert got.equals(want)


def cli_summary(cli: Path, model: Path, kwargs: dict[str, Any], tmp: Path) -> dict[str, Any]:
    out = cli_analyze(cli, model, kwargs, tmp / "s")
    return json.loads((out / "summary.json").read_text())["summary"]


WW_KEYS = ["log_norm", "alpha", "alpha_weighted", "log_alpha_norm", "log_spectral_norm",
           "stable_rank", "mp_softrank"]


@pytest.mark.parametrize(
    "model,kwargs",
    [
        (REFERENCE / "cnn_conv2d.onnx", {"mp_fit": True}),
        (REFERENCE / "quirks.onnx", {"compat": "ww-0.7.7", "layer_source": "initializers"}),
        (REFERENCE / "quirks.onnx", {"fix_fingers": "clip_xmax"}),
        (VGG / "vgg11_bn_mini_ep01.onnx", {"preset": "ww2x"}),
        (ZOO / "silero-v6.2-16k-op15.onnx", {}),
    ],
    ids=["cnn-mp_fit", "quirks-compat", "quirks-clip_xmax", "vgg-ww2x", "silero"],
)
def test_get_summary_is_the_librarys_summary_and_agrees_with_the_frame(cli, tmp_path, model, kwargs):
    want = cli_summary(cli, model, kwargs, tmp_path)
    watcher = tailwatch.WeightWatcher(model=model)
    details = watcher.analyze(**kwargs)
    summary = watcher.get_summary()
    expected_keys = [k for k in WW_KEYS if k in want]
    assert list(summary) == expected_keys
    assert ("mp_softrank" in summary) == bool(kwargs.get("mp_fit") or kwargs.get("preset") == "ww2x")
    for k in expected_keys:
        if want[k] is None:
            assert math.isnan(summary[k])
        else:
            assert summary[k] == want[k], k
    # WeightWatcher's computation from the DataFrame: the column means, NaN skipped. Failed fits
    # are NaN natively and -1 under compat (averaged in both ways), so the two agree.
    from_frame = watcher.get_summary(details)
    assert list(from_frame) == [k for k in WW_KEYS if k in details.columns]
    for k in expected_keys:
        a, b = summary[k], from_frame[k]
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12), (k, a, b)


def test_get_summary_of_a_given_frame_is_weightwatchers_mean() -> None:
    frame = pd.DataFrame({"alpha": [2.0, float("nan"), 4.0], "log_norm": [1.0, 2.0, 3.0], "x": [9, 9, 9]})
    assert tailwatch.WeightWatcher().get_summary(frame) == {"log_norm": 2.0, "alpha": 3.0}
    assert tailwatch.WeightWatcher().get_summary() == {}


@pytest.mark.parametrize(
    "model,kwargs",
    [
        (REFERENCE / "quirks.onnx", {}),
        (REFERENCE / "cnn_conv2d.onnx", {"pool": False, "min_evals": 50}),
        (QUANT / "nbits_b4_asym_bs32.onnx", {}),
        (ZOO / "magika-v1.onnx", {"layers": [0, 1]}),
    ],
    ids=["quirks", "cnn-sliced", "nbits", "magika-layers"],
)
def test_describe_equals_the_cli(cli, model, kwargs) -> None:
    r = run_cli(cli, "describe", str(model), "--format", "csv", *cli_args(kwargs))
    assert r.returncode == 0, r.stderr
    want = pd.read_csv(io.StringIO(r.stdout))
    got = tailwatch.WeightWatcher(model=model).describe(**kwargs)
    assert_same_frame(got, want)
    assert list(got.columns[:8]) == ["layer_id", "name", "M", "N", "Q", "layer_type", "longname", "num_evals"]
