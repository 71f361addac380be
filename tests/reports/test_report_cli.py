"""`pilot-roi report` and `pilot-roi report freeze` end to end, in process: exit codes, files, audit events."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from report_fixtures import Built

from pilot_roi.cli import main


def _wh(built: Built) -> list[str]:
    return ["--warehouse", str(built.path)]


def test_report_then_freeze_then_report(fresh: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "r.xlsx"
    assert main(["report", "--year", "2025", "--format", "xlsx", "--lang", "kk", "--out", str(out), *_wh(fresh)]) == 0
    assert out.stat().st_size > 0
    assert main(["report", "freeze", "--year", "2025", "--format", "json", *_wh(fresh)]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["status"] == "frozen" and printed["run_id"] == fresh.run_id
    assert main(["report", "freeze", "--year", "2025", "--lang", "en", *_wh(fresh)]) == 1
    assert "already frozen" in capsys.readouterr().err
    csv_out = tmp_path / "r.csv"
    assert (
        main(["report", "--year", "2025", "--format", "csv", "--lang", "en", "--out", str(csv_out), *_wh(fresh)]) == 0
    )
    assert "frozen" in capsys.readouterr().out
    con = duckdb.connect(str(fresh.path), read_only=True)
    try:
        events = con.execute(
            "SELECT action, json_extract_string(details, '$.format'), json_extract_string(details, '$.frozen') "
            "FROM audit_log WHERE action IN ('export', 'report_freeze') ORDER BY event_id"
        ).fetchall()
    finally:
        con.close()
    assert events == [("export", "xlsx", "false"), ("report_freeze", None, None), ("export", "csv", "true")]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--year", "2019", "--format", "csv", "--out", "{tmp}/x.csv"], 1, "2019"),
        (["--year", "2025", "--format", "csv", "--out", "{tmp}/missing/x.csv"], 1, "does not exist"),
        (["--year", "2025", "--format", "csv", "--out", "{tmp}/x.csv", "--run", "77"], 1, "77"),
        (["--year", "2025", "--format", "csv"], 2, "--out"),  # an option left out: a usage error, as argparse's
        (["--year", "1900", "--format", "csv", "--out", "{tmp}/x.csv"], 1, "2000"),
    ],
)
def test_refusals_are_messages_not_tracebacks(
    built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
):
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["report", *args, "--lang", "en", *_wh(built)]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_bad_format_is_a_usage_error(built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["report", "--year", "2025", "--format", "docx", "--out", str(tmp_path / "x"), *_wh(built)]) == 2
    assert "docx" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_empty_warehouse_says_to_run_estimates(
    warehouse_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    argv = ["report", "--year", "2025", "--format", "pdf", "--out", str(tmp_path / "r.pdf"), "--lang", "en"]
    assert main([*argv, "--warehouse", str(warehouse_path)]) == 1
    assert "pilot-roi estimate" in capsys.readouterr().err
    assert main(["report", "freeze", "--year", "2025", "--lang", "en", "--warehouse", str(warehouse_path)]) == 1
    assert not (tmp_path / "r.pdf").exists()
