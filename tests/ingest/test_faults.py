"""A second writer is refused clearly; a load killed mid-transaction leaves the warehouse exactly as before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ingest_helpers import snapshot

from pilot_roi.cli import main
from pilot_roi.errors import WarehouseBusy
from pilot_roi.ingest import ingest_file
from pilot_roi.resources import read_sql
from pilot_roi.warehouse import connect

HOLDER = """
import sys, time
from pilot_roi.warehouse import connect
con = connect(sys.argv[1])
print("ready", flush=True)
time.sleep(60)
"""

KILLED_LOADER = """
import sys, time
from pilot_roi.ingest import ingest_file
from pilot_roi.warehouse import connect

def on_stage(name):
    print(name, flush=True)
    if name == sys.argv[3]:
        time.sleep(60)  # the parent SIGKILLs us here, inside the open transaction

con = connect(sys.argv[1])
ingest_file(con, sys.argv[2], uploaded_by="killed", on_stage=on_stage)
print("finished", flush=True)
"""


def _start(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(proc: subprocess.Popen[str], word: str) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == word:
            return
    raise AssertionError(f"child ended before {word!r}: {proc.stderr.read() if proc.stderr else ''}")


def test_second_writer_gets_a_clear_busy_message(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "f.csv"
    path.write_text("site_code,metric_code,period,value\nKMG-ANPZ,energy_gj,2025-03-01,1\n", encoding="utf-8")
    holder = _start(HOLDER, str(reg_path))
    try:
        _wait_for(holder, "ready")
        with pytest.raises(WarehouseBusy):
            connect(reg_path)
        assert main(["ingest", str(path), "--warehouse", str(reg_path), "--lang", "en"]) == 1
        err = capsys.readouterr().err
        assert "busy" in err and "Traceback" not in err
    finally:
        holder.kill()
        holder.wait()
    con = connect(reg_path)
    assert ingest_file(con, path, uploaded_by="eng").status == "loaded"
    con.close()


def _rows(days: int, value: float) -> str:
    lines = ["site_code,metric_code,period,value"]
    for site in ("KMG-ANPZ", "KMG-PNHZ"):
        for day in range(days):
            lines.append(f"{site},energy_gj,{2024 + day // 365}-{1 + (day % 365) // 31:02d}-{1 + day % 28:02d},{value}")
    return "\n".join(dict.fromkeys(lines)) + "\n"


@pytest.mark.parametrize("stage", ["staged", "merged"])
def test_killed_load_leaves_the_warehouse_as_before(reg_path: Path, tmp_path: Path, stage: str) -> None:
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(_rows(300, 1.0), encoding="utf-8")
    second.write_text(_rows(600, 2.0), encoding="utf-8")  # restates the first 300 days, adds 300 more
    con = connect(reg_path)
    assert ingest_file(con, first, uploaded_by="eng").status == "loaded"
    before = snapshot(con)
    con.close()

    loader = _start(KILLED_LOADER, str(reg_path), str(second), stage)
    try:
        _wait_for(loader, stage)
        os.kill(loader.pid, signal.SIGKILL)
    finally:
        loader.wait()
    assert loader.returncode == -signal.SIGKILL

    con = connect(reg_path)
    assert snapshot(con) == before
    assert con.execute(read_sql("audits/duplicate_current_keys.sql")).fetchall() == []
    report = ingest_file(con, second, uploaded_by="eng")  # the warehouse still works normally
    assert report.status == "loaded" and report.rows_updated > 0
    con.close()
