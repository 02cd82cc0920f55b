"""Keyword handling: every option passes through, WeightWatcher's aliases map to their
equivalents, unknown keywords are TypeErrors and WeightWatcher keywords tailwatch lacks say so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE

import tailwatch
from tailwatch import _keywords, _native

CNN = REFERENCE / "cnn_conv2d.onnx"
MLP = REFERENCE / "mlp_gemm.onnx"


def test_every_library_option_is_a_keyword() -> None:
    names = set(_native.option_names())
    assert {"mp_fit", "randomize", "vectors", "min_evals", "max_evals", "max_N", "pool",
            "fix_fingers", "fit", "pl_package", "xmax", "detX", "tolerance", "layers"} <= names
    assert set(_keywords.OPTION_NAMES) == names
    # No option is shadowed by a package keyword or listed as unsupported.
    assert not names & set(_keywords.CALL_KEYWORDS)
    assert not names & set(_keywords.UNSUPPORTED)
    assert not names & set(_keywords.ALIASES)


def test_unknown_keyword_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'mpfit'"):
        tailwatch.analyze(MLP, mpfit=True)
    with pytest.raises(TypeError, match="'bogus'"):
        tailwatch.WeightWatcher(MLP).describe(bogus=1)


# WeightWatcher 0.7.7's analyze() keywords that tailwatch does not have.
WW_UNSUPPORTED = ["plot", "savefig", "deltas", "glorot_fix", "conv2d_fft", "fft", "intra",
                  "sparsify", "channels", "stacked", "start_ids", "base_model", "peft",
                  "inverse", "min_size", "max_size"]


@pytest.mark.parametrize("key", WW_UNSUPPORTED)
def test_weightwatcher_keywords_tailwatch_lacks_say_so(key) -> None:
    with pytest.raises(tailwatch.UnsupportedOptionError) as e:
        tailwatch.analyze(MLP, **{key: True})
    msg = str(e.value)
    assert f"keyword {key!r} is WeightWatcher's, but tailwatch does not support it" in msg
    assert e.value.reason and e.value.reason in msg
    # Catchable as a keyword problem and as a tailwatch error.
    assert isinstance(e.value, TypeError) and isinstance(e.value, tailwatch.Error)


def test_plot_points_to_an_alternative() -> None:
    with pytest.raises(tailwatch.UnsupportedOptionError, match="study"):
        tailwatch.analyze(MLP, plot=True)
    with pytest.raises(tailwatch.UnsupportedOptionError, match="gate"):
        tailwatch.analyze(MLP, base_model="other.onnx")


def test_bad_values_name_the_option() -> None:
    with pytest.raises(tailwatch.OptionError, match="min_evals=8.5") as e:
        tailwatch.analyze(MLP, min_evals=8.5)
    assert e.value.file is None and "min_evals" in e.value.reason
    with pytest.raises(tailwatch.OptionError, match="fit=\"power\""):
        tailwatch.analyze(MLP, fit="power")
    with pytest.raises(tailwatch.OptionError, match="xmax: force needs pl_package"):
        tailwatch.analyze(MLP, xmax="force")
    with pytest.raises(tailwatch.OptionError, match="unknown preset"):
        tailwatch.analyze(MLP, preset="ww3x")
    with pytest.raises(tailwatch.OptionError, match="not a value an option can take"):
        tailwatch.analyze(MLP, tolerance=object())
    with pytest.raises(ValueError):  # OptionError is a ValueError too
        tailwatch.analyze(MLP, min_evals=-1)


def frames_equal(a, b) -> bool:
    return a.equals(b)


def test_ww2x_is_pool_false_as_in_weightwatcher() -> None:
    sliced = tailwatch.analyze(CNN, ww2x=True, mp_fit=True, min_evals=50)
    assert frames_equal(sliced, tailwatch.analyze(CNN, pool=False, mp_fit=True, min_evals=50))
    assert "slice_id" in sliced.columns
    assert frames_equal(tailwatch.analyze(CNN, ww2x=False), tailwatch.analyze(CNN))
    # WeightWatcher's seed notebook kwargs are the ww2x preset.
    assert frames_equal(sliced, tailwatch.analyze(CNN, preset="ww2x"))
    with pytest.raises(tailwatch.OptionError, match="contradict"):
        tailwatch.analyze(CNN, ww2x=True, pool=True)


def test_erg_and_svd_method_aliases() -> None:
    assert frames_equal(tailwatch.analyze(MLP, ERG=True), tailwatch.analyze(MLP, detX=True))
    assert "detX_num" in tailwatch.analyze(MLP, ERG=True).columns
    assert frames_equal(
        tailwatch.analyze(MLP, svd_method="accurate"), tailwatch.analyze(MLP, eigensolver="svd")
    )
    assert frames_equal(tailwatch.analyze(MLP, svd_method="fast"), tailwatch.analyze(MLP))
    with pytest.raises(tailwatch.OptionError, match="'fast' or 'accurate'"):
        tailwatch.analyze(MLP, svd_method="truncated")
    with pytest.raises(tailwatch.OptionError, match="contradict"):
        tailwatch.analyze(MLP, svd_method="accurate", eigensolver="gram")


def test_weightwatchers_default_spellings_are_accepted() -> None:
    plain = tailwatch.analyze(MLP)
    assert frames_equal(plain, tailwatch.analyze(MLP, fix_fingers=False, xmax=None, layers=[]))
    assert frames_equal(plain, tailwatch.analyze(MLP, min_evals=np.int64(8), tolerance=np.float64(1e-6)))


def test_layers_select_by_id_and_name() -> None:
    all_layers = tailwatch.analyze(CNN)
    ids = all_layers["layer_id"].tolist()
    names = all_layers["name"].tolist()
    picked = tailwatch.analyze(CNN, layers=[ids[1], names[3]])
    assert picked["layer_id"].tolist() == [ids[1], ids[3]]
    # The same rows (pandas infers the dtypes of a column per table, so those may differ).
    subset = all_layers.iloc[[1, 3]].reset_index(drop=True)
    pd.testing.assert_frame_equal(picked, subset, check_dtype=False)
    assert tailwatch.analyze(CNN, layers=names[2])["name"].tolist() == [names[2]]
    assert tailwatch.analyze(CNN, layers=np.array([ids[0]]))["layer_id"].tolist() == [ids[0]]
    rest = tailwatch.analyze(CNN, layers=[-ids[1], -ids[2]])
    assert rest["layer_id"].tolist() == [ids[0], ids[3], ids[4]]
    with pytest.raises(tailwatch.OptionError, match='"nope" match no layer'):
        tailwatch.analyze(CNN, layers=["nope"])
    with pytest.raises(tailwatch.OptionError, match="cannot be mixed"):
        tailwatch.analyze(CNN, layers=[-1, 2])
    assert tailwatch.describe(CNN, layers=[names[0]])["name"].tolist() == [names[0]]


def test_limits_pass_through() -> None:
    rows = tailwatch.analyze(MLP, max_layer_bytes=1000)
    assert set(rows["status"]) == {"over_budget"}
    with pytest.raises(tailwatch.ModelError) as e:
        tailwatch.analyze(MLP, max_model_bytes=1000)
    assert e.value.kind == "over_budget"
