"""tailwatch: data-free spectral audit of ONNX models, with WeightWatcher's Python API.

>>> import tailwatch
>>> watcher = tailwatch.WeightWatcher(model="model.onnx")      # doctest: +SKIP
>>> details = watcher.analyze(mp_fit=True)                     # doctest: +SKIP
>>> watcher.get_summary()                                      # doctest: +SKIP

``analyze()`` returns the DataFrame that ``pandas.read_csv`` gives for ``tailwatch analyze``'s
``details.csv``; ``study()`` runs a study file and ``gate()`` a release gate. The analysis runs in
the Rust library with the GIL released; Ctrl-C stops it before its next layer; long runs show a
tqdm bar when tqdm is installed; log messages go to the ``tailwatch`` logger. Errors are
:class:`tailwatch.Error` subclasses with ``.file`` and ``.reason``.
"""

from ._api import StudyResult, WeightWatcher, analyze, describe, gate, study
from ._errors import (
    ConfigError,
    Error,
    EvaluationError,
    FileError,
    GateError,
    InternalError,
    ModelError,
    OptionError,
    OutputError,
    UnsupportedOptionError,
)
from ._native import version as _version

__version__ = _version()

__all__ = [
    "WeightWatcher",
    "analyze",
    "describe",
    "study",
    "gate",
    "StudyResult",
    "Error",
    "FileError",
    "ModelError",
    "ConfigError",
    "OptionError",
    "UnsupportedOptionError",
    "OutputError",
    "EvaluationError",
    "GateError",
    "InternalError",
]
