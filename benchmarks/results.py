"""Benchmark figures a machine can read: `var/bench/results.json`.

Every figure a benchmark prints is also recorded here as
`{"name", "unit": "ms" | "fraction" | "per_s", "value", "params", "at", "commit"}`.
`make bench` (scripts/bench.sh) starts the file empty and each benchmark appends its figures;
a benchmark run on its own appends to whatever file is there. BENCH_RESULTS names another file.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
Unit = Literal["ms", "fraction", "per_s"]

_figures: list[dict[str, Any]] = []


def results_path() -> Path:
    return Path(os.environ.get("BENCH_RESULTS") or ROOT / "var" / "bench" / "results.json")


@cache
def commit() -> str:
    """The commit measured (with "-dirty" when the work tree has changes), or "" outside git."""
    git = shutil.which("git")
    if git is None:
        return ""
    try:
        head = subprocess.run([git, "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,  # noqa: S603
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run([git, "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,  # noqa: S603
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return f"{head}-dirty" if dirty else head


def record(name: str, unit: Unit, value: float, **params: Any) -> None:
    """Remember one figure (written by `save`); NaN (nothing measured) is stored as null."""
    _figures.append({"name": name, "unit": unit, "value": None if math.isnan(value) else round(value, 4),
                     "params": params, "at": datetime.now(UTC).isoformat(timespec="seconds"), "commit": commit()})


def save() -> Path:
    """Append the recorded figures to the results file; returns its path."""
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        existing = json.loads(path.read_text())
    except (OSError, ValueError):
        existing = []
    if not isinstance(existing, list):
        existing = []
    path.write_text(json.dumps([*existing, *_figures], indent=1) + "\n")
    _figures.clear()
    return path
