"""The Zoom OpenAPI documents live in the repo, so a bare clone runs its tests (issue 11.9)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .conftest import API_SPEC_PATH, SPEC_DIR, WEBHOOK_SPEC_PATH

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("tests", "rxapp", "scripts", "zoom_sandbox", "benchmarks", "mail_catcher", "devtools")
# The shared notes folder beside the repository, written as a path or as path parts ("..", "shared");
# the pattern is assembled so that this file does not name that path itself.
_UP, _NOTES = r"\.\.", "shared"
OUTSIDE = re.compile(rf"{_UP}/{_NOTES}|\"{_UP}\"\s*/\s*\"{_NOTES}\"")


def test_spec_documents_are_inside_the_repository() -> None:
    for path in (API_SPEC_PATH, WEBHOOK_SPEC_PATH, SPEC_DIR / "README.md"):
        assert path.resolve().is_relative_to(ROOT), path
        assert path.is_file(), path
    assert json.loads(API_SPEC_PATH.read_text())["openapi"].startswith("3.0")
    assert "webhooks" in json.loads(WEBHOOK_SPEC_PATH.read_text())
    assert "Vendored into this repository" in (SPEC_DIR / "README.md").read_text()  # the source is noted


def test_no_code_reads_from_a_folder_beside_the_repository() -> None:
    files = [ROOT / "Makefile"] + [p for d in CODE_DIRS for p in (ROOT / d).rglob("*")
                                   if p.suffix in (".py", ".sh", ".toml", ".ini") and p != Path(__file__)]
    offenders = [str(p.relative_to(ROOT)) for p in files if p.is_file() and OUTSIDE.search(p.read_text())]
    assert offenders == []
