"""`make bench` writes figures a machine can read (benchmarks/results.py)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from benchmarks import results


def test_figures_are_appended_with_name_unit_value_params_time_and_commit(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bench" / "results.json"
    monkeypatch.setenv("BENCH_RESULTS", str(path))
    monkeypatch.setattr(results, "_figures", [])  # figures other tests in this process recorded are not ours
    results.record("waiting_room.join_after_start.p95", "ms", 87.123456, other_rooms=200)
    results.record("waiting_room.idle_cpu", "fraction", 0.031, rooms=1000)
    assert results.save() == path
    results.record("meeting_list.query.p95", "ms", float("nan"), db="postgres", meetings=100_000)
    results.save()
    figures = json.loads(path.read_text())
    assert [(f["name"], f["unit"], f["value"], f["params"]) for f in figures] == [
        ("waiting_room.join_after_start.p95", "ms", 87.1235, {"other_rooms": 200}),
        ("waiting_room.idle_cpu", "fraction", 0.031, {"rooms": 1000}),
        ("meeting_list.query.p95", "ms", None, {"db": "postgres", "meetings": 100_000}),
    ]
    for figure in figures:
        assert set(figure) == {"name", "unit", "value", "params", "at", "commit"}
        assert datetime.fromisoformat(figure["at"]).tzinfo is not None
        assert figure["commit"] == results.commit() and len(figure["commit"]) >= 40
