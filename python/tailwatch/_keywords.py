"""Keyword arguments of ``analyze()`` and ``describe()``: WeightWatcher's names to tailwatch's
options, with no analysis logic.

Every analysis option (``configs/ww.yaml``; ``_native.option_names()``) is a keyword of its own
and goes to the library as ``--set name=value`` would. WeightWatcher 0.7.7's other keywords are
either spelled differently here (``ww2x``, ``ERG``, ``svd_method``) or not supported, which is an
:class:`~tailwatch.UnsupportedOptionError` saying why and what to use instead. Anything else is a
``TypeError``, as for any Python function.
"""

from __future__ import annotations

import json
import numbers
import os
from typing import Any, Optional

from . import _native
from ._errors import OptionError, UnsupportedOptionError

#: Every analysis option of the library.
OPTION_NAMES: tuple[str, ...] = tuple(_native.option_names())

#: Keywords of this package that are not analysis options.
CALL_KEYWORDS = ("preset", "progress", "max_layer_bytes", "max_model_bytes")

#: WeightWatcher 0.7.7 ``analyze()`` keywords tailwatch does not have, and why.
UNSUPPORTED: dict[str, str] = {
    "plot": "tailwatch draws no plots while analysing; plot the returned DataFrame "
    "(matplotlib), or run tailwatch.study(), whose report.html has the ESD and metric plots",
    "savefig": "tailwatch draws no plots while analysing, so there is nothing to save; "
    "tailwatch.study() writes its report (with plots) to its output directory",
    "deltas": "it only adds plots of eigenvalue gaps in WeightWatcher (it needs plot=True)",
    "glorot_fix": "an ONNX export carries no initialiser information; the Glorot "
    "normalisation of WeightWatcher is not implemented",
    "conv2d_fft": "WeightWatcher's FFT analysis of conv kernels (deprecated there) is not "
    "implemented",
    "fft": "WeightWatcher's experimental FFT analysis of conv layers is not implemented",
    "intra": "intra-layer (between consecutive layers) correlations are not implemented",
    "sparsify": "it only applies to intra=True, which is not implemented",
    "channels": "ONNX fixes the layout (Conv weights are [out, in, kh, kw]): there is nothing "
    "to set",
    "stacked": "stacking all layers into one matrix is not implemented",
    "start_ids": "layer ids start at 0, as in WeightWatcher's ONNX reader; add 1 to the "
    "layer_id column if you need ids from 1",
    "base_model": "delta analysis against a base model is not implemented; to compare a "
    "model with its baseline layer by layer use tailwatch.gate(gate_file, model, "
    "baseline=...) with configs/gates/release.yaml",
    "peft": "PEFT/LoRA adapter analysis is not implemented; export the merged model to ONNX",
    "inverse": "the inverse ESD is not implemented",
    "min_size": "WeightWatcher 0.7.7 ignores it too (with a warning); use min_evals",
    "max_size": "WeightWatcher 0.7.7 ignores it too (with a warning); use max_evals",
    "framework": "tailwatch reads ONNX files only",
}

#: WeightWatcher spellings with a tailwatch equivalent.
ALIASES = {
    "ww2x": "True is WeightWatcher's deprecated alias of pool=False",
    "ERG": "True is WeightWatcher's alias of detX=True",
    "svd_method": "'accurate' is eigensolver='svd', 'fast' the default eigensolver='gram' "
    "(both exact in f64)",
}


def _jsonable(name: str, value: Any) -> Any:
    """A JSON value for an option, from Python and numpy scalars and sequences."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _jsonable(name, value.tolist())
    if isinstance(value, (list, tuple)):
        return [_jsonable(name, v) for v in value]
    raise OptionError(
        f"{name}={value!r}: not a value an option can take (a bool, number, string, None or a "
        f"list of those)",
        reason=f"unsupported value type {type(value).__name__}",
    )


def split(func: str, kwargs: dict[str, Any]) -> tuple[Optional[str], str, dict[str, Any]]:
    """(preset, the options as a JSON object, the call keywords other than preset) of ``func``'s
    keyword arguments."""
    options: dict[str, Any] = {}
    call: dict[str, Any] = {}
    preset = kwargs.get("preset")
    for key, value in kwargs.items():
        if key == "preset":
            continue
        if key in CALL_KEYWORDS:
            call[key] = value
        elif key in OPTION_NAMES:
            options[key] = value
        elif key in ALIASES:
            continue
        elif key in UNSUPPORTED:
            raise UnsupportedOptionError(
                f"{func}() keyword {key!r} is WeightWatcher's, but tailwatch does not support "
                f"it: {UNSUPPORTED[key]}",
                reason=UNSUPPORTED[key],
            )
        else:
            raise TypeError(f"{func}() got an unexpected keyword argument {key!r}")
    _aliases(func, kwargs, options)
    if "layers" in options:
        layers = options["layers"]
        if isinstance(layers, (str, numbers.Integral)):
            options["layers"] = [layers]  # WeightWatcher accepts a single id or name
    if options.get("fix_fingers") is False:
        options["fix_fingers"] = None  # WeightWatcher's default spelling of "no finger fix"
    if preset is not None and not isinstance(preset, str):
        raise OptionError(f"preset={preset!r}: a preset name, e.g. 'ww2x'", reason="not a name")
    text = json.dumps({k: _jsonable(k, v) for k, v in options.items()}, allow_nan=False)
    return preset, text, call


def _aliases(func: str, kwargs: dict[str, Any], options: dict[str, Any]) -> None:
    def conflict(alias: str, option: str) -> OptionError:
        return OptionError(
            f"{func}(): {alias}={kwargs[alias]!r} and {option}={kwargs[option]!r} contradict "
            f"each other ({alias}={ALIASES[alias]})",
            reason="contradicting keywords",
        )

    if "ww2x" in kwargs:
        if not isinstance(kwargs["ww2x"], bool):
            raise OptionError(f"ww2x={kwargs['ww2x']!r}: True or False", reason="not a bool")
        if kwargs["ww2x"]:
            if kwargs.get("pool", False) is not False:
                raise conflict("ww2x", "pool")
            options["pool"] = False
    if "ERG" in kwargs:
        if not isinstance(kwargs["ERG"], bool):
            raise OptionError(f"ERG={kwargs['ERG']!r}: True or False", reason="not a bool")
        if kwargs["ERG"]:
            if kwargs.get("detX", True) is not True:
                raise conflict("ERG", "detX")
            options["detX"] = True
    if "svd_method" in kwargs:
        method = kwargs["svd_method"]
        if method not in ("fast", "accurate"):
            raise OptionError(
                f"svd_method={method!r}: 'fast' or 'accurate' (WeightWatcher's values)",
                reason="unknown svd_method",
            )
        solver = "svd" if method == "accurate" else "gram"
        if kwargs.get("eigensolver", solver) != solver:
            raise conflict("svd_method", "eigensolver")
        options["eigensolver"] = solver
