"""The app listens on loopback unless APP_HOST opens it up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _backend_host(**env: str) -> str:
    code = "import rxconfig; print(rxconfig.config.backend_host)"
    clean = {k: v for k, v in os.environ.items() if k not in ("APP_HOST", "REFLEX_BACKEND_HOST")}
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env}, cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip().splitlines()[-1]


def test_the_app_listens_on_loopback_by_default() -> None:
    assert _backend_host() == "127.0.0.1"


def test_app_host_opens_it_up() -> None:
    assert _backend_host(APP_HOST="0.0.0.0") == "0.0.0.0"
