"""tailwatch's exceptions.

Every error of the library is a :class:`Error` carrying the file it is about (``.file``, ``None``
when no file is involved) and what was wrong with it (``.reason``); ``str(e)`` is the message the
command line prints. The native module raises these classes itself (``_native/errors.rs``).
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
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


class Error(Exception):
    """Anything tailwatch could not read, parse or evaluate (the command line's exit code 2)."""

    def __init__(
        self,
        message: str,
        file: Optional[str] = None,
        reason: Optional[str] = None,
        kind: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        #: The file the error is about (a model, a study or gate file, an output), or None.
        self.file = file
        #: What was wrong, without the file name.
        self.reason = reason if reason is not None else message
        #: The class of a rejected model file (``truncated``, ``path_traversal``, …), else None.
        self.kind = kind


class FileError(Error):
    """A file could not be opened or read: missing, not permitted, …"""


class ModelError(Error):
    """A model file that is not a readable ONNX model or breaks a loading rule.

    ``.kind`` names the rule (``truncated``, ``not_onnx``, ``path_traversal``, ``symlink``,
    ``out_of_bounds``, ``over_budget``, …; the README's Security section lists them).
    """


class ConfigError(Error):
    """An invalid study, gate or analysis configuration file."""


class OptionError(Error, ValueError):
    """An option value that is invalid on its own or in combination with others."""


class UnsupportedOptionError(OptionError, TypeError):
    """A WeightWatcher keyword that tailwatch does not have; the message says why and what to use."""


class OutputError(Error):
    """An output (a study's report) could not be written."""


class EvaluationError(Error):
    """Something that should be evaluated could not be (a gate rule naming an unknown metric…)."""


class GateError(EvaluationError):
    """The gate could not be evaluated (its verdict is ``error``, the command line's exit 2).

    ``.verdict`` holds the verdict dict, with the rules that could be judged and the errors.
    """

    def __init__(
        self,
        message: str,
        file: Optional[str] = None,
        reason: Optional[str] = None,
        kind: Optional[str] = None,
        verdict: Optional[dict[str, Any]] = None,
    ) -> None:
        super().__init__(message, file, reason, kind)
        #: The verdict (``tailwatch gate --json``), when one was made.
        self.verdict = verdict


class InternalError(Error):
    """A bug in tailwatch (a panic in the native code, caught before it reached Python)."""
