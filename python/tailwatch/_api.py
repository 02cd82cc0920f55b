"""The public API: WeightWatcher's ``WeightWatcher`` class and tailwatch's module functions.

Everything is computed by the Rust library; this module only turns its outputs into pandas
objects: ``analyze()`` parses the very text the command line writes to ``details.csv`` with
``pandas.read_csv``, so the DataFrame equals ``pandas.read_csv("details.csv")`` (columns, order,
values and dtypes).
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import tempfile
from contextlib import contextmanager
from typing import Any, Iterator, NamedTuple, Optional, Sequence, Union

import pandas as pd

from . import _keywords, _native
from ._errors import GateError
from ._progress import Progress

__all__ = ["WeightWatcher", "analyze", "describe", "study", "gate", "StudyResult"]

logger = logging.getLogger("tailwatch")

#: The metrics WeightWatcher 0.7.7's ``get_summary()`` averages, in its order.
SUMMARY_METRICS = (
    "log_norm",
    "alpha",
    "alpha_weighted",
    "log_alpha_norm",
    "log_spectral_norm",
    "stable_rank",
    "mp_softrank",
)

PathLike = Union[str, "os.PathLike[str]"]


def _frame(text: Optional[str]) -> pd.DataFrame:
    """A CSV text as ``pandas.read_csv`` reads the file; an empty table (no weight layers) is an
    empty DataFrame, where ``read_csv`` of the empty file would raise."""
    if text is None or not text.strip():
        return pd.DataFrame()
    return pd.read_csv(io.StringIO(text))


def _is_model_proto(obj: Any) -> bool:
    return type(obj).__name__ == "ModelProto" and callable(
        getattr(obj, "SerializeToString", None)
    )


@contextmanager
def _model_file(model: Any) -> Iterator[str]:
    """The path of ``model``: a path as is; an ``onnx.ModelProto`` serialised to a temporary file
    (so its weights must be inside it: external data would be looked for beside the temporary
    file, and is refused)."""
    if isinstance(model, (str, os.PathLike)):
        yield os.fspath(model)
    elif _is_model_proto(model):
        with tempfile.TemporaryDirectory(prefix="tailwatch-") as d:
            path = os.path.join(d, "model.onnx")
            with open(path, "wb") as f:
                f.write(model.SerializeToString())
            yield path
    elif model is None:
        raise TypeError("no model: give a path to an ONNX file (or an onnx.ModelProto)")
    else:
        raise TypeError(
            f"model must be a path to an ONNX file or an onnx.ModelProto, not "
            f"{type(model).__name__}"
        )


def _limits(call: dict[str, Any]) -> tuple[Optional[int], Optional[int]]:
    return call.get("max_layer_bytes"), call.get("max_model_bytes")


def _analyze(model: Any, kwargs: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    preset, options, call = _keywords.split("analyze", kwargs)
    layer_bytes, model_bytes = _limits(call)
    progress = Progress(call.get("progress"))
    try:
        with _model_file(model) as path:
            details, summary = _native.analyze(
                path, preset, options, layer_bytes, model_bytes, logger, progress
            )
    finally:
        progress.close()
    return _frame(details), json.loads(summary)


class WeightWatcher:
    """WeightWatcher's entry point, for ONNX models.

    ``model`` is the path of an ONNX file, or an ``onnx.ModelProto`` (serialised to a temporary
    file for each call). ``log_level`` sets the level of the ``tailwatch`` logger.
    """

    def __init__(self, model: Any = None, log_level: Optional[Union[int, str]] = None) -> None:
        self.model = model
        #: The DataFrame of the last ``analyze()``, as WeightWatcher keeps it.
        self.details: Optional[pd.DataFrame] = None
        self._summary: Optional[dict[str, Any]] = None
        if log_level is not None:
            logger.setLevel(log_level)

    def analyze(self, model: Any = None, **kwargs: Any) -> pd.DataFrame:
        """Analyse the model: one row per weight layer (or per conv kernel position with
        ``pool=False``), the columns of ``tailwatch analyze``'s ``details.csv``.

        Keywords: every analysis option under WeightWatcher's name (``mp_fit``, ``randomize``,
        ``vectors``, ``min_evals``, ``max_evals``, ``max_N``, ``pool``, ``fix_fingers``, ``fit``,
        ``pl_package``, ``xmax``, ``detX``, ``tolerance``, ``layers``, …; ``configs/ww.yaml``
        lists them all), WeightWatcher's ``ww2x``, ``ERG`` and ``svd_method``, and
        ``preset='ww'|'ww2x'|'nature2021'``, ``progress=None|True|False``,
        ``max_layer_bytes``, ``max_model_bytes``.
        """
        if model is not None:
            self.model = model
        self.details, self._summary = _analyze(self.model, kwargs)
        return self.details

    def get_details(self) -> Optional[pd.DataFrame]:
        """The DataFrame of the last ``analyze()``."""
        return self.details

    def get_summary(self, details: Optional[pd.DataFrame] = None) -> dict[str, float]:
        """The model's mean metrics under WeightWatcher's ``get_summary()`` keys (``log_norm``,
        ``alpha``, ``alpha_weighted``, ``log_alpha_norm``, ``log_spectral_norm``,
        ``stable_rank``, and ``mp_softrank`` with ``mp_fit``).

        Without ``details``: the library's summary of the last ``analyze()`` (what
        ``summary.json`` holds and studies correlate: rows whose fit failed are left out of the
        fit metrics; with ``compat='ww-0.7.7'`` they are averaged in as WeightWatcher does). A
        mean with no value is NaN. With a ``details`` DataFrame: the mean of each of those
        columns it has, NaN values skipped, exactly as WeightWatcher computes it.
        """
        if details is not None:
            return {
                m: float(details[m].mean()) for m in SUMMARY_METRICS if m in details.columns
            }
        if self._summary is None:
            return {}
        return {
            m: math.nan if self._summary[m] is None else float(self._summary[m])
            for m in SUMMARY_METRICS
            if m in self._summary
        }

    def describe(self, model: Any = None, **kwargs: Any) -> pd.DataFrame:
        """The weight layers found, without spectra (``tailwatch describe --format csv``):
        WeightWatcher's ``describe()`` columns first. Takes ``analyze()``'s keywords."""
        if model is not None:
            self.model = model
        return describe(self.model, **kwargs)


def analyze(model: Any, **kwargs: Any) -> pd.DataFrame:
    """``WeightWatcher(model).analyze(**kwargs)``: the details DataFrame of one model."""
    return _analyze(model, kwargs)[0]


def describe(model: Any, **kwargs: Any) -> pd.DataFrame:
    """The weight layers of ``model`` without spectra; see ``WeightWatcher.describe``."""
    preset, options, call = _keywords.split("describe", kwargs)
    call.pop("progress", None)
    layer_bytes, model_bytes = _limits(call)
    with _model_file(model) as path:
        text = _native.describe(path, preset, options, layer_bytes, model_bytes, logger)
    return _frame(text)


class StudyResult(NamedTuple):
    """What ``study()`` returns: the report's tables and where the report is."""

    #: ``details.csv``: every analysed model's rows, ``model`` first.
    details: pd.DataFrame
    #: ``summary.csv``: one row per model, its errors, status, summary means and counts.
    summary: pd.DataFrame
    #: ``correlations.csv``: one row per (group, metric, target).
    correlations: pd.DataFrame
    #: The output directory (report.html, report.md, report.json, the CSVs, saved analyses).
    out: str
    #: Whether every model was analysed.
    complete: bool
    #: The models that could not be analysed: name → error message.
    failed: dict[str, str]


def study(
    path: PathLike,
    out: Optional[PathLike] = None,
    stages: Optional[Union[str, Sequence[str]]] = None,
    progress: Optional[bool] = None,
) -> StudyResult:
    """Run a study file (``tailwatch study PATH [--out OUT] [--stages ...]``): analyse its models
    (reusing saved analyses in ``out``), correlate their summaries with the reported errors,
    write the report into ``out`` (default: the study's ``output:``), and return its tables.

    A model that cannot be analysed does not raise: it is listed in ``failed`` (and in the
    report, marked incomplete) and a warning is logged. ``stages`` is a list or a comma-separated
    string of stage names (``extract, eigensolve, mp_fit, powerlaw_fit, correlate, report``).
    """
    if isinstance(stages, str):
        stages = [s.strip() for s in stages.split(",") if s.strip()]
    elif stages is not None:
        stages = list(stages)
    bar = Progress(progress)
    try:
        out_dir, complete, tables, failed = _native.study(
            os.fspath(path),
            None if out is None else os.fspath(out),
            stages,
            logger,
            bar,
        )
    finally:
        bar.close()
    if not complete:
        logger.warning(
            "study incomplete, %d model(s) could not be analyzed: %s",
            len(failed),
            ", ".join(name for name, _ in failed),
        )
    details, summary, correlations = tables if tables is not None else (None, None, None)
    return StudyResult(
        details=_frame(details),
        summary=_frame(summary),
        correlations=_frame(correlations),
        out=out_dir,
        complete=complete,
        failed=dict(failed),
    )


def gate(
    gate_file: PathLike,
    model: Any,
    baseline: Any = None,
    baseline_report: Optional[PathLike] = None,
) -> dict[str, Any]:
    """Judge ``model`` against a gate file (``tailwatch gate GATE MODEL --json``): the verdict
    as a dict, ``verdict["verdict"]["status"]`` ``"pass"`` or ``"fail"``.

    ``baseline`` is the production model for rules that compare with one (an ONNX path or
    ``onnx.ModelProto``), ``baseline_report`` an ``analysis.json`` of it instead. A gate that
    cannot be evaluated (the command line's exit 2) raises: a :class:`tailwatch.GateError` with
    the verdict when rules could not be judged, or the error that kept the model, the baseline or
    the gate file from being read. An error is never a pass.
    """
    with _model_file(model) as model_path:
        if baseline is not None:
            with _model_file(baseline) as base_path:
                text = _gate(gate_file, model_path, base_path, baseline_report)
        else:
            text = _gate(gate_file, model_path, None, baseline_report)
    verdict = json.loads(text)
    body = verdict.get("verdict", {})
    if body.get("status") == "error":
        errors = body.get("errors") or ["the gate could not be evaluated"]
        raise GateError(
            f"{os.fspath(gate_file)}: could not be evaluated: " + "; ".join(errors),
            file=os.fspath(gate_file),
            reason="; ".join(errors),
            verdict=verdict,
        )
    return verdict


def _gate(
    gate_file: PathLike,
    model: str,
    baseline: Optional[str],
    baseline_report: Optional[PathLike],
) -> str:
    report = None if baseline_report is None else os.fspath(baseline_report)
    return _native.gate(os.fspath(gate_file), model, baseline, report, logger)
