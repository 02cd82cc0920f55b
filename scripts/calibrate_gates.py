#!/usr/bin/env python3
"""Run tailwatch's default and release gates over a model zoo and its damage sets, and tabulate
how often each gate gives the expected answer.

Why: a gate threshold is only as good as the models it was checked on. This script takes real
trained models (a zoo made by scripts/fetch_zoo.py, split into a "calibration" and a "held-out"
half, plus the mnist-vgg-mini fixtures as a third group "mini"), builds the damage set of each
(scripts/make_damage_set.py: damaged and benignly changed variants), and runs:

- `tailwatch gate default.yaml M` on every original model (expected: pass) and on its
  random-all, nan-one and inf-one variants (expected: fail);
- `tailwatch gate release.yaml V --baseline ORIGINAL` on every variant: damages are expected to
  fail ("caught"), benign changes to pass.

A status `error` (exit 2) is never a pass, but it is not a clean catch either: it is counted in
its own column. Nothing is asserted: the tables are the result, and the script exits 0 unless
it crashed.

Usage:
    python3 scripts/calibrate_gates.py --tailwatch BIN --zoo ZOO_DIR --gates GATES_DIR \\
        --work WORK_DIR [--fixtures FIXTURES_DIR] [--jobs N] [--seed N] [--timeout S]
        [--include-duplicates]

GATES_DIR holds default.yaml and release.yaml. ZOO_DIR holds manifest.json (entries with id,
package, file (relative to ZOO_DIR) and half); entries marked `duplicate_of` another entry (the
same file) are left out unless --include-duplicates is given. Every *.onnx of FIXTURES_DIR is a
model of package "mnist-vgg-mini" in the group "mini".

Output in WORK_DIR: damage/<id>/ (the damage sets, reused while their variants.json matches
the model's sha256 and the make_damage_set.py that made them), cache/ (one verdict per (gate,
model, baseline, tailwatch binary) sha256, so reruns are fast), bin/ (a private copy of the
binary, so that a rebuild during the run cannot mix versions), results.csv (one row per run,
plus rows for variants that were not made) and confusion.md (the tables); the summary also
goes to stdout, progress to stderr. Output order is deterministic: group, package, id, then
the variant kinds in the damage set's order.

Needs Python 3.11 and, for building damage sets, numpy, onnx and onnxruntime.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HALVES = ("calibration", "held-out", "mini")
DEFAULT_GATE_KINDS = ("original", "random-all", "nan-one", "inf-one")
MINI_PACKAGE = "mnist-vgg-mini"
DAMAGE_FORMAT_VERSION = 2
CACHE_VERSION = 1
CSV_COLUMNS = (
    "half", "package", "id", "gate", "kind", "family", "expected", "status", "outcome",
    "exit_code", "failing_rules", "error_rules", "errors", "messages", "wall_s", "cached",
    "variant_onnxruntime", "model", "baseline", "model_sha256", "baseline_sha256", "verdict_json",
)


# --------------------------------------------------------------------------------------------
# Models


@dataclass(frozen=True)
class Model:
    id: str
    package: str
    half: str
    path: Path

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return half_index(self.half), self.package, self.id


def half_index(half: str) -> int:
    return HALVES.index(half) if half in HALVES else len(HALVES)


@dataclass
class Problem:
    """Something that kept a model (or part of its damage set) from being run."""

    model: Model
    what: str
    message: str


def load_zoo(zoo: Path, include_duplicates: bool) -> tuple[list[Model], list[str]]:
    """The manifest's models, and notes on the entries left out."""
    doc = json.loads((zoo / "manifest.json").read_text())
    entries = doc["models"] if isinstance(doc, dict) else doc
    models, notes = [], []
    for e in entries:
        dup = e.get("duplicate_of")
        if dup and not include_duplicates:
            notes.append(f"`{e['id']}` left out: the same file as `{dup}` (duplicate_of)")
            continue
        models.append(Model(str(e["id"]), str(e.get("package", "?")), str(e.get("half", "?")),
                            zoo / e["file"]))
    return models, notes


def load_fixtures(fixtures: Path | None, taken: set[str]) -> list[Model]:
    if fixtures is None:
        return []
    out = []
    for p in sorted(fixtures.glob("*.onnx")):
        mid = p.stem if p.stem not in taken else f"mini-{p.stem}"
        out.append(Model(mid, MINI_PACKAGE, "mini", p))
    return out


# --------------------------------------------------------------------------------------------
# Hashing, with a cache keyed by (path, size, mtime)


class Hasher:
    def __init__(self, store: Path) -> None:
        self.store = store
        self.lock = threading.Lock()
        try:
            self.known: dict[str, list[Any]] = json.loads(store.read_text())
        except (OSError, ValueError):
            self.known = {}

    def sha256(self, path: Path) -> str:
        st = path.stat()
        key = str(path.resolve())
        with self.lock:
            hit = self.known.get(key)
            if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
                return str(hit[2])
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        with self.lock:
            self.known[key] = [st.st_size, st.st_mtime_ns, digest]
        return digest

    def save(self) -> None:
        tmp = self.store.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.known, indent=0, sort_keys=True))
        tmp.replace(self.store)


# --------------------------------------------------------------------------------------------
# Damage sets


def damage_script() -> Path:
    return Path(__file__).resolve().with_name("make_damage_set.py")


def damage_set_is_current(doc: dict[str, Any], model: Model, dest: Path, seed: int,
                          hasher: Hasher) -> bool:
    """Reusable: same format, seed and generator script, the same model bytes, and every
    variant file still as recorded."""
    if doc.get("format_version") != DAMAGE_FORMAT_VERSION or doc.get("seed") != seed:
        return False
    if doc.get("generator_sha256") != hasher.sha256(damage_script()):
        return False
    src = doc.get("source", {})
    if src.get("sha256") != hasher.sha256(model.path):
        return False
    for ext in src.get("external_data", []):
        p = model.path.parent / ext["location"]
        if not p.is_file() or hasher.sha256(p) != ext["sha256"]:
            return False
    for v in doc.get("variants", []):
        if v.get("status") == "written":
            p = dest / v["file"]
            if not p.is_file() or hasher.sha256(p) != v.get("sha256"):
                return False
    return True


def ensure_damage_set(model: Model, dest: Path, seed: int, hasher: Hasher,
                      log: Log) -> dict[str, Any]:
    """The model's variants.json, building the damage set first unless it is current."""
    index = dest / "variants.json"
    if index.is_file():
        try:
            doc = json.loads(index.read_text())
            if damage_set_is_current(doc, model, dest, seed, hasher):
                return doc
        except (OSError, ValueError, KeyError):
            pass
    script = damage_script()
    log.say(f"building damage set of {model.id}")
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(script), str(model.path), "--out", str(dest),
                           "--seed", str(seed)], capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not index.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"make_damage_set.py exit {proc.returncode}: {' | '.join(tail)}")
    log.say(f"  damage set of {model.id}: {time.monotonic() - start:.1f} s")
    doc = json.loads(index.read_text())
    return doc if isinstance(doc, dict) else {}


# --------------------------------------------------------------------------------------------
# Runs


@dataclass(frozen=True)
class Run:
    model: Model
    gate: str  # "default" | "release"
    kind: str
    family: str  # "original" | "damage" | "benign"
    file: Path
    baseline: Path | None
    expected: str  # "pass" | "fail"
    variant_ort: str = ""
    model_extra: tuple[str, ...] = ()  # sha256 of the model's external data files

    @property
    def key(self) -> tuple[str, str, str]:
        return self.model.id, self.gate, self.kind


@dataclass
class Result:
    run: Run
    status: str  # pass | fail | error | skipped
    exit_code: int | None = None
    failing: list[str] = field(default_factory=list)
    error_rules: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    wall_s: float | None = None
    cached: bool = False
    model_sha: str = ""
    baseline_sha: str = ""
    verdict_path: Path | None = None

    @property
    def outcome(self) -> str:
        if self.status == "skipped":
            return "skipped"
        return "expected" if self.status == self.run.expected else "unexpected"


def plan_model(model: Model, doc: dict[str, Any] | None, dest: Path) -> tuple[list[Run],
                                                                              list[Result]]:
    """The runs for one model, and the results of variants that were not written."""
    extra = tuple(e["sha256"] for e in (doc or {}).get("source", {}).get("external_data", []))
    runs = [Run(model, "default", "original", "original", model.path, None, "pass",
                model_extra=extra)]
    skipped: list[Result] = []
    for v in (doc or {}).get("variants", []):
        expected = "fail" if v["family"] == "damage" else "pass"
        if v["status"] != "written":
            run = Run(model, "release", v["kind"], v["family"], dest, model.path, expected)
            skipped.append(Result(run, "skipped", errors=[f"{v['status']}: {v.get('reason')}"]))
            continue
        path = dest / v["file"]
        ort = v.get("onnxruntime", "")
        if v["kind"] in DEFAULT_GATE_KINDS:
            runs.append(Run(model, "default", v["kind"], v["family"], path, None, expected, ort))
        runs.append(Run(model, "release", v["kind"], v["family"], path, model.path, expected,
                        ort, extra))
    return runs, skipped


@dataclass
class Context:
    tailwatch: Path
    tailwatch_sha: str
    gates: dict[str, Path]
    gate_sha: dict[str, str]
    cache: Path
    hasher: Hasher
    timeout: float
    log: Log


def cache_key(ctx: Context, run: Run, model_sha: str, base_sha: str) -> str:
    parts = [f"v{CACHE_VERSION}", ctx.gate_sha[run.gate], model_sha, base_sha or "-",
             ctx.tailwatch_sha]
    return hashlib.sha256(":".join(parts).encode()).hexdigest()


def digest(ctx: Context, path: Path, extra: Iterable[str]) -> str:
    """A model's identity: its file's sha256, combined with its external data's if any."""
    sha = ctx.hasher.sha256(path)
    extra = tuple(extra)
    if not extra:
        return sha
    return hashlib.sha256(":".join((sha, *extra)).encode()).hexdigest()


def execute(ctx: Context, run: Run) -> Result:
    """One gate run (or its cached verdict); a failure to run it is an error row, not a crash."""
    try:
        return execute_cached(ctx, run)
    except (OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
        return Result(run, "error", errors=[f"calibrate_gates could not run it: {e}"])


def execute_cached(ctx: Context, run: Run) -> Result:
    model_sha = digest(ctx, run.file, () if run.family != "original" else run.model_extra)
    base_sha = digest(ctx, run.baseline, run.model_extra) if run.baseline else ""
    key = cache_key(ctx, run, model_sha, base_sha)
    meta_path = ctx.cache / f"{key}.json"
    verdict_path = ctx.cache / f"{key}.verdict.json"
    meta = read_json(meta_path)
    cached = meta is not None
    if meta is None:
        meta = run_tailwatch(ctx, run, verdict_path)
        if meta["exit_code"] in (0, 1, 2):
            write_json(meta_path, meta)
    result = interpret(run, meta, read_json(verdict_path))
    result.cached, result.model_sha, result.baseline_sha = cached, model_sha, base_sha
    result.verdict_path = verdict_path if verdict_path.is_file() else None
    return result


def run_tailwatch(ctx: Context, run: Run, verdict_path: Path) -> dict[str, Any]:
    cmd = [str(ctx.tailwatch), "gate", str(ctx.gates[run.gate]), str(run.file),
           "--json", str(verdict_path)]
    if run.baseline is not None:
        cmd += ["--baseline", str(run.baseline)]
    verdict_path.unlink(missing_ok=True)
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=ctx.timeout,
                              check=False)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        code, out, err = None, "", f"timed out after {ctx.timeout:g} s"
    return {"exit_code": code, "wall_s": round(time.monotonic() - start, 3),
            "stdout_tail": tail(out), "stderr_tail": tail(err)}


def interpret(run: Run, meta: dict[str, Any], doc: dict[str, Any] | None) -> Result:
    code = meta.get("exit_code")
    verdict = (doc or {}).get("verdict") or {}
    by_code = {0: "pass", 1: "fail"}.get(-1 if code is None else code, "error")
    status = verdict.get("status") or by_code
    rules = verdict.get("rules", [])
    errors = [str(e) for e in verdict.get("errors", [])]
    if not verdict:
        errors.append(f"no verdict JSON (exit code {code}): {meta.get('stderr_tail', '')}")
    elif {"pass": 0, "fail": 1, "error": 2}.get(status) != code:
        errors.append(f"exit code {code} does not match status {status}")
    return Result(
        run, status, code,
        failing=[r["name"] for r in rules if r.get("status") == "fail"],
        error_rules=[r["name"] for r in rules if r.get("status") == "error"],
        errors=errors,
        messages=[f"{r['name']}: {r.get('message', '')}" for r in rules
                  if r.get("status") in ("fail", "error")],
        wall_s=meta.get("wall_s"),
    )


def tail(text: str, lines: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def write_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(path)


class Log:
    """Progress lines on stderr (stdout is kept for the summary)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def say(self, text: str) -> None:
        with self.lock:
            print(text, file=sys.stderr, flush=True)


def run_all(ctx: Context, runs: list[Run], jobs: int) -> list[Result]:
    results: list[Result] = []
    done = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(execute, ctx, r): r for r in runs}
        for fut in concurrent.futures.as_completed(futures):
            r = fut.result()
            done += 1
            how = "cached" if r.cached else f"{r.wall_s or 0:.1f} s"
            ctx.log.say(f"[{done}/{len(runs)}] {r.run.gate:<7} {r.run.model.id} {r.run.kind}: "
                        f"{r.status} ({how})")
            results.append(r)
    return results


# --------------------------------------------------------------------------------------------
# Output: results.csv


def order_results(results: list[Result], kinds: list[str]) -> list[Result]:
    rank = {k: i for i, k in enumerate(kinds)}
    return sorted(results, key=lambda r: (*r.run.model.sort_key, rank.get(r.run.kind, 999),
                                          r.run.kind, r.run.gate))


def rel(path: Path | None, base: Path) -> str:
    if path is None:
        return ""
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def csv_row(r: Result, work: Path) -> dict[str, Any]:
    run = r.run
    return {
        "half": run.model.half, "package": run.model.package, "id": run.model.id,
        "gate": run.gate, "kind": run.kind, "family": run.family, "expected": run.expected,
        "status": r.status, "outcome": r.outcome,
        "exit_code": "" if r.exit_code is None else r.exit_code,
        "failing_rules": ";".join(r.failing), "error_rules": ";".join(r.error_rules),
        "errors": " | ".join(r.errors), "messages": " | ".join(r.messages),
        "wall_s": "" if r.wall_s is None else f"{r.wall_s:.3f}", "cached": int(r.cached),
        "variant_onnxruntime": run.variant_ort,
        "model": rel(run.file, work), "baseline": rel(run.baseline, work),
        "model_sha256": r.model_sha, "baseline_sha256": r.baseline_sha,
        "verdict_json": rel(r.verdict_path, work),
    }


def write_csv(path: Path, results: list[Result], work: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in results:
            w.writerow(csv_row(r, work))


# --------------------------------------------------------------------------------------------
# Output: confusion.md


def pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100.0 * n / d:.0f} %)" if d else "0/0"


def md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def short(items: list[str], limit: int = 3) -> str:
    more = f", +{len(items) - limit}" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def default_cell(r: Result | None) -> str:
    if r is None:
        return "–"
    mark = "✓" if r.outcome == "expected" else "✗"
    if r.status == "fail":
        return f"{mark} fail ({short(r.failing)})"
    if r.status == "error":
        why = short(r.error_rules) or (r.errors[0][:60] if r.errors else "")
        return f"{mark} error ({md_escape(why)})"
    return f"{mark} {r.status}"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def section_default(models: list[Model], by_key: dict[tuple[str, str, str], Result]
                    ) -> list[str]:
    rows = []
    for m in models:
        rows.append([m.package, f"`{m.id}`"] +
                    [default_cell(by_key.get((m.id, "default", k))) for k in DEFAULT_GATE_KINDS])
    header = ["package", "model", "original (expect pass)"] + [
        f"{k} (expect fail)" for k in DEFAULT_GATE_KINDS[1:]]
    return table(header, rows)


@dataclass
class Tally:
    n: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    not_loadable: int = 0

    def add(self, r: Result) -> None:
        if r.status == "skipped":
            self.skipped += 1
            return
        self.n += 1
        self.passed += r.status == "pass"
        self.failed += r.status == "fail"
        self.errors += r.status == "error"
        self.not_loadable += bool(r.run.variant_ort) and r.run.variant_ort != "ok"


def section_release(kinds: list[str], families: dict[str, str], results: list[Result]
                    ) -> list[str]:
    rows = []
    for k in kinds:
        t = Tally()
        for r in results:
            if r.run.gate == "release" and r.run.kind == k:
                t.add(r)
        if t.n == 0 and t.skipped == 0:
            continue
        fam = families.get(k, "")
        result = (f"caught {pct(t.failed, t.n)}" if fam == "damage"
                  else f"passed {pct(t.passed, t.n)}")
        rows.append([k, fam, result, str(t.passed), str(t.failed), str(t.errors), str(t.n),
                     str(t.skipped), str(t.not_loadable)])
    header = ["kind", "family", "result", "pass", "fail", "error", "N", "skipped (not made)",
              "does not load in onnxruntime"]
    return table(header, rows)


def section_matrix(models: list[Model], kinds: list[str],
                   by_key: dict[tuple[str, str, str], Result]) -> list[str]:
    variant_kinds = [k for k in kinds if k != "original"]
    rows = []
    for m in models:
        cells = []
        for k in variant_kinds:
            r = by_key.get((m.id, "release", k))
            if r is None or r.status == "skipped":
                cells.append("–")
                continue
            letter = {"pass": "P", "fail": "F"}.get(r.status, "E")
            cells.append(letter if r.outcome == "expected" else f"**{letter}**")
        rows.append([f"`{m.id}`", *cells])
    return table(["model", *variant_kinds], rows)


@dataclass
class Totals:
    originals: Tally = field(default_factory=Tally)
    default_damage: Tally = field(default_factory=Tally)
    release_damage: Tally = field(default_factory=Tally)
    release_benign: Tally = field(default_factory=Tally)

    def add(self, r: Result) -> None:
        if r.run.gate == "default":
            (self.originals if r.run.kind == "original" else self.default_damage).add(r)
        elif r.run.family == "damage":
            self.release_damage.add(r)
        else:
            self.release_benign.add(r)

    def lines(self) -> list[str]:
        o, d, rd, rb = self.originals, self.default_damage, self.release_damage, self.release_benign
        return [
            f"- default gate, originals passed: {pct(o.passed, o.n)}; failed {o.failed}, "
            f"error {o.errors}",
            f"- default gate, random-all/nan/inf caught (fail): {pct(d.failed, d.n)}; "
            f"error {d.errors}, passed {d.passed}",
            f"- release gate, damages caught (fail): {pct(rd.failed, rd.n)}; error "
            f"{pct(rd.errors, rd.n)}, missed (pass) {pct(rd.passed, rd.n)}; not made "
            f"{rd.skipped}",
            f"- release gate, benign changes passed: {pct(rb.passed, rb.n)}; failed "
            f"{rb.failed}, error {rb.errors}; not made {rb.skipped}"
            + (f"; {rb.not_loadable} benign variant(s) do not load in onnxruntime"
               if rb.not_loadable else ""),
        ]


def unexpected_lines(results: list[Result]) -> list[str]:
    out = []
    for r in results:
        if r.outcome != "unexpected":
            continue
        run = r.run
        rules = f" — failing: {', '.join(r.failing)}" if r.failing else ""
        if r.error_rules:
            rules += f" — error rules: {', '.join(r.error_rules)}"
        ort = (f" (variant does not load in onnxruntime: {run.variant_ort[:120]})"
               if run.variant_ort and run.variant_ort != "ok" else "")
        out.append(f"- `{run.model.package}/{run.model.id}` {run.gate} gate, **{run.kind}**: "
                   f"{r.status}, expected {run.expected}{rules}{ort}")
        out += [f"  - {md_escape(msg)}" for msg in r.messages]
        out += [f"  - error: {md_escape(e[:300])}" for e in r.errors]
    return out or ["- none"]


def render(ctx: Context, models: list[Model], kinds: list[str], families: dict[str, str],
           results: list[Result], problems: list[Problem], notes: list[str]) -> tuple[str, str]:
    """confusion.md, and the summary printed to stdout."""
    by_key = {r.run.key: r for r in results}
    sha = {k: v[:16] for k, v in ctx.gate_sha.items()}
    md = ["# Gate calibration on damage sets", "",
          f"tailwatch sha256 `{ctx.tailwatch_sha[:16]}`, default.yaml `{sha['default']}`, "
          f"release.yaml `{sha['release']}` (sha256 prefixes).", "",
          "Expected: the default gate passes originals and fails random-all/nan-one/inf-one; the "
          "release gate (with the original as baseline) fails every damage and passes every benign "
          "change. ✓ expected, ✗ unexpected. Only status `fail` counts as caught; `error` (exit 2) "
          "is counted apart. In the matrix, P/F/E = pass/fail/error, **bold** = unexpected, "
          "– = variant not made.", ""]
    summary = []
    grand = Totals()
    for half in HALVES:
        group = [m for m in models if m.half == half]
        if not group:
            continue
        mine = [r for r in results if r.run.model.half == half]
        totals = Totals()
        for r in mine:
            totals.add(r)
            grand.add(r)
        md += [f"## {half} ({len(group)} models)", "", "### (a) Default gate", ""]
        md += section_default(group, by_key)
        md += ["", "### (b) Release gate, by kind", ""]
        md += section_release(kinds, families, mine)
        md += ["", "### (c) Release gate, per model", ""]
        md += section_matrix(group, kinds, by_key)
        md += ["", "### (d) Totals", "", *totals.lines(), "", "### Unexpected outcomes", ""]
        md += unexpected_lines(mine)
        md.append("")
        summary += [f"{half} ({len(group)} models):", *totals.lines()]
    md += ["## All groups", "", *grand.lines(), ""]
    summary += ["all groups:", *grand.lines()]
    if problems or notes:
        md += ["## Not run", ""]
        md += [f"- `{p.model.id}` ({p.what}): {md_escape(p.message)}" for p in problems]
        md += [f"- {n}" for n in notes]
        md.append("")
        summary.append(f"not run: {len(problems)} problem(s), {len(notes)} entries left out")
    n_unexpected = sum(r.outcome == "unexpected" for r in results)
    summary.append(f"unexpected outcomes: {n_unexpected} of {len(results)} rows")
    return "\n".join(md), "\n".join(summary)


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tailwatch", type=Path, required=True, help="the tailwatch binary")
    p.add_argument("--zoo", type=Path, help="directory with manifest.json")
    p.add_argument("--gates", type=Path, required=True,
                   help="directory with default.yaml and release.yaml")
    p.add_argument("--work", type=Path, required=True, help="work/output directory")
    p.add_argument("--fixtures", type=Path, help="directory of mnist-vgg-mini *.onnx")
    p.add_argument("--jobs", type=int, default=1, help="parallel tailwatch runs (default 1)")
    p.add_argument("--seed", type=int, default=0, help="damage-set seed (default 0)")
    p.add_argument("--timeout", type=float, default=3600.0,
                   help="seconds per tailwatch run (default 3600)")
    p.add_argument("--include-duplicates", action="store_true",
                   help="also run manifest entries marked duplicate_of another")
    return p.parse_args(argv)


def snapshot_binary(src: Path, work: Path, sha: str) -> Path:
    """A private copy of the binary, so that a rebuild during the run cannot mix versions."""
    bindir = work / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    dst = bindir / f"tailwatch-{sha[:16]}"
    if not dst.is_file():
        for old in bindir.glob("tailwatch-*"):
            old.unlink()
        tmp = bindir / "tailwatch.tmp"
        shutil.copy2(src, tmp)
        tmp.replace(dst)
    os.chmod(dst, 0o755)
    return dst


def collect_models(args: argparse.Namespace) -> tuple[list[Model], list[str]]:
    models, notes = load_zoo(args.zoo, args.include_duplicates) if args.zoo else ([], [])
    models += load_fixtures(args.fixtures, {m.id for m in models})
    return sorted(models, key=lambda m: m.sort_key), notes


def kind_order(docs: Iterable[dict[str, Any] | None]) -> tuple[list[str], dict[str, str]]:
    kinds, families = ["original"], {"original": "original"}
    for doc in docs:
        for v in (doc or {}).get("variants", []):
            if v["kind"] not in families:
                kinds.append(v["kind"])
                families[v["kind"]] = v["family"]
    return kinds, families


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    work = args.work
    (work / "cache").mkdir(parents=True, exist_ok=True)
    log = Log()
    hasher = Hasher(work / "sha256_cache.json")
    gates = {g: args.gates / f"{g}.yaml" for g in ("default", "release")}
    for g in gates.values():
        if not g.is_file():
            print(f"{g}: no such gate file", file=sys.stderr)
            return 2
    if not args.tailwatch.is_file():
        print(f"{args.tailwatch}: no such binary", file=sys.stderr)
        return 2
    tw_sha = hasher.sha256(args.tailwatch)
    ctx = Context(snapshot_binary(args.tailwatch, work, tw_sha), tw_sha, gates,
                  {g: hasher.sha256(p) for g, p in gates.items()}, work / "cache", hasher,
                  args.timeout, log)
    models, notes = collect_models(args)
    runs: list[Run] = []
    rows: list[Result] = []
    problems: list[Problem] = []
    docs: list[dict[str, Any] | None] = []
    for m in models:
        if not m.path.is_file():
            problems.append(Problem(m, "model", f"no such file: {m.path}"))
            continue
        dest = work / "damage" / m.id
        doc: dict[str, Any] | None = None
        try:
            doc = ensure_damage_set(m, dest, args.seed, hasher, log)
        except (RuntimeError, OSError, ValueError) as e:
            problems.append(Problem(m, "damage set", str(e)))
        docs.append(doc)
        planned, skipped = plan_model(m, doc, dest)
        runs += planned
        rows += skipped
    hasher.save()
    rows += run_all(ctx, runs, args.jobs)
    hasher.save()
    kinds, families = kind_order(docs)
    rows = order_results(rows, kinds)
    write_csv(work / "results.csv", rows, work)
    md, summary = render(ctx, models, kinds, families, rows, problems, notes)
    (work / "confusion.md").write_text(md)
    print(summary)
    print(f"wrote {work / 'results.csv'} and {work / 'confusion.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
