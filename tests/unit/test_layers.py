"""The layers import one way: models never reach into the service layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_models_loads_no_service_module() -> None:
    probe = ("import sys, rxapp.models; "
             "print(sorted(m for m in sys.modules if m.startswith('rxapp.services')))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_services_clock_is_the_one_clock() -> None:
    from datetime import UTC, datetime

    from rxapp import clock
    from rxapp import clock as services_clock

    moment = datetime(2030, 1, 1, tzinfo=UTC)
    services_clock.set_clock(lambda: moment)
    try:
        assert clock.now() == moment and services_clock.now() == moment
    finally:
        clock.set_clock(None)
