"""The example notebook and the README's Python snippet run end to end, as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO

NOTEBOOK = REPO / "examples" / "notebook.py"


def run(args: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_the_notebook_replays_the_workflow_and_writes_its_figures(tmp_path: Path) -> None:
    r = run([str(NOTEBOOK), "--out", str(tmp_path / "fig")])
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for name in ["vgg11_mini", "vgg19_bn_mini", "vgg11_bn_mini_ep01"]:
        assert f"{name}:" in out
    assert "trajectory: accuracy is best explained by" in out
    figures = sorted(p.name for p in (tmp_path / "fig").iterdir())
    assert figures == ["accuracy_vs_metrics_family.png", "accuracy_vs_metrics_trajectory.png"]
    for f in figures:
        assert (tmp_path / "fig" / f).read_bytes()[:4] == b"\x89PNG"
    # Nothing is written anywhere else (the figures only go to --out).
    assert not any(p.suffix == ".png" for p in REPO.glob("*.png"))


def test_the_notebook_skips_the_plots_without_matplotlib(tmp_path: Path) -> None:
    code = (
        "import runpy, sys; sys.modules['matplotlib'] = None; "
        f"sys.argv = [{str(NOTEBOOK)!r}, '--out', {str(tmp_path / 'fig')!r}]; "
        f"runpy.run_path({str(NOTEBOOK)!r}, run_name='__main__')"
    )
    r = run(["-c", code])
    assert r.returncode == 0, r.stderr
    assert "matplotlib is not installed: skipping the plots" in r.stdout
    assert not (tmp_path / "fig").exists()


def readme_python_snippet() -> tuple[str, str]:
    """The README's Python snippet and the output shown under it."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Python\n", 1)[1]
    match = re.search(r"```python\n(.*?)```\n\n```text\n(.*?)```", section, re.S)
    assert match, "the README's Python section has a ```python block and its ```text output"
    return match.group(1), match.group(2)


def test_the_readme_snippet_works_as_written_and_prints_what_the_readme_shows() -> None:
    code, shown = readme_python_snippet()
    r = run(["-c", code])
    assert r.returncode == 0, r.stderr
    assert r.stdout == shown

