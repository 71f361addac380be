"""Every estimate run is in the audit log: one `estimate_run` event, written in the run's own store transaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pilot_roi.warehouse import connect

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")


def test_the_run_records_an_estimate_run_event_with_its_id(estimated_file: tuple[Path, int]) -> None:
    path, run_id = estimated_file
    con = connect(path, read_only=True)
    try:
        events = con.execute(
            "SELECT username, target, CAST(details AS VARCHAR), occurred_at FROM audit_log "
            "WHERE action = 'estimate_run' ORDER BY event_id"
        ).fetchall()
        started_by, n_estimates = con.execute(
            "SELECT started_by, n_estimates FROM estimate_runs WHERE run_id = ?", [run_id]
        ).fetchone()  # type: ignore[misc]
    finally:
        con.close()
    assert len(events) == 1
    username, target, details, _when = events[0]
    assert (username, target) == (started_by, f"run:{run_id}") == ("cli", f"run:{run_id}")
    info = json.loads(details)
    assert info["run_id"] == run_id and info["n_estimates"] == n_estimates
    assert len(info["data_version"]) == 64
