"""Shared fixtures: the repository's data and the real ``tailwatch`` command line, whose output
files the package's results are compared with.

The binary is ``$TAILWATCH_BIN`` when set, else ``target/release/tailwatch`` of this repository,
built with ``cargo build --release --locked --bin tailwatch`` when it is missing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Optional

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "tests" / "data" / "ww-0.7.7"
VGG = REPO / "fixtures" / "mnist-vgg-mini"
QUANT = REPO / "tests" / "data" / "quant"
ZOO = REPO / "tests" / "data" / "zoo"


def _binary() -> Path:
    env = os.environ.get("TAILWATCH_BIN")
    if env:
        return Path(env)
    path = REPO / "target" / "release" / "tailwatch"
    if not path.exists():
        subprocess.run(
            ["cargo", "build", "--release", "--locked", "--bin", "tailwatch"],
            cwd=REPO,
            check=True,
        )
    return path


@pytest.fixture(scope="session")
def cli() -> Path:
    path = _binary()
    assert path.is_file(), f"no tailwatch binary at {path}"
    return path


def yaml_value(v: Any) -> str:
    """A keyword's value as ``--set key=value`` takes it (a YAML scalar or flow list)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(yaml_value(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def cli_args(kwargs: dict[str, Any]) -> list[str]:
    """The command line's ``--preset P --set k=v ...`` for a keyword dict."""
    args: list[str] = []
    for k, v in kwargs.items():
        if k == "preset":
            args += ["--preset", v]
        else:
            args += ["--set", f"{k}={yaml_value(v)}"]
    return args


def run_cli(cli: Path, *args: str, cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(cli), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def cli_analyze(cli: Path, model: Path, kwargs: dict[str, Any], out: Path) -> Path:
    """Run ``tailwatch analyze`` and return its output directory."""
    r = run_cli(cli, "analyze", str(model), "--out", str(out), *cli_args(kwargs))
    assert r.returncode == 0, r.stderr
    return out


def read_details(out: Path) -> pd.DataFrame:
    """``pandas.read_csv`` of the CLI's details.csv (an empty file: an empty DataFrame)."""
    path = out / "details.csv"
    if path.stat().st_size == 0 or not path.read_text().strip():
        return pd.DataFrame()
    return pd.read_csv(path)
