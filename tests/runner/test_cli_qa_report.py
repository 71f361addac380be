"""`pilot-roi report` and `estimate` used as a script and a reviewer would: `--format json` is one JSON document on
stdout whatever happens, options an action does not take are refused (exit 2) rather than ignored, a year not yet
begun is refused, and nothing of that changes the warehouse."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pilot_roi import clock
from pilot_roi.cli import main
from pilot_roi.i18n import t
from pilot_roi.warehouse import connect


def _rows(path: Path) -> dict[str, int]:
    con = connect(path, read_only=True)
    try:
        return {
            table: int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
            for table in ("report_freezes", "audit_log", "estimate_runs")
        }
    finally:
        con.close()


@pytest.fixture
def estimated(portfolio_copy: Callable[..., Path]) -> Path:
    return portfolio_copy()


def test_report_format_json_prints_one_json_document_when_written(
    estimated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--format json` promised scripts one JSON document on stdout; a written report printed a sentence instead
    out = tmp_path / "report.json"
    argv = ["report", "--year", "2024", "--format", "json", "--out", str(out), "--lang", "kk"]
    assert main([*argv, "--warehouse", str(estimated)]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    data = out.read_bytes()
    assert document == {
        "status": "written", "year": 2024, "format": "json", "lang": "kk", "run_id": document["run_id"],
        "frozen": False, "path": str(out), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
    }  # fmt: skip
    assert isinstance(document["run_id"], int) and captured.err == ""
    json.loads(data)  # the report file itself


@pytest.mark.parametrize(
    ("argv", "key", "params"),
    [
        (["report", "freeze", "--year", "2024", "--out", "{tmp}/r.pdf"], "cli.report.freeze_takes_no_out",
         {"out": "{tmp}/r.pdf"}),
        (["report", "freeze", "--year", "2024", "--format", "pdf"], "cli.report.freeze_format", {"format": "pdf"}),
        (["report", "freeze", "--year", "2024", "--format", "json", "--out", "{tmp}/r.json"],
         "cli.report.freeze_takes_no_out", {"out": "{tmp}/r.json"}),
        (["report", "--year", "2024", "--format", "text", "--out", "{tmp}/r.txt"], "cli.report.bad_format",
         {"format": "text", "allowed": "pdf, xlsx, csv, json"}),
        # no --out: exit 1 ("refused") before, while every other option misuse is a usage error (exit 2)
        (["report", "--year", "2024", "--format", "xlsx"], "cli.report.needs_out", {"year": "2024", "format": "xlsx"}),
        (["report", "--year", "2024"], "cli.report.needs_out", {"year": "2024", "format": "pdf"}),
        (["report", "--year", "2024", "--format", "json"], "cli.report.needs_out", {"year": "2024", "format": "json"}),
    ],
)  # fmt: skip
def test_options_an_action_does_not_take_are_a_usage_error_and_nothing_is_done(
    argv: list[str],
    key: str,
    params: dict[str, str],
    estimated: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `report freeze --out r.pdf` froze the year and wrote nothing; `--format text` was "not ready yet" (exit 1)
    before = _rows(estimated)
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    message = t(key, "ru", **{k: v.replace("{tmp}", str(tmp_path)) for k, v in params.items()})
    assert main([*args, "--lang", "ru", "--warehouse", str(estimated)]) == 2
    captured = capsys.readouterr()
    if "json" in args:
        assert json.loads(captured.out) == {"status": "usage", "errors": [message]}
    else:
        assert (captured.out, captured.err.strip()) == ("", message)
    assert _rows(estimated) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wh.duckdb"]


@pytest.mark.parametrize("action", [[], ["freeze"]])
def test_a_year_not_yet_begun_is_refused(
    action: list[str], estimated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the latest run was written up, or frozen for good, as the result of a year that has not begun
    year = clock.today().year + 1
    before = _rows(estimated)
    argv = ["report", *action, "--year", str(year), "--format", "json", "--lang", "kk"]
    out = [] if action else ["--out", str(tmp_path / "r.json")]
    assert main([*argv, *out, "--warehouse", str(estimated)]) == 1
    message = t("cli.report.future_year", "kk", year=year, this_year=year - 1)
    assert json.loads(capsys.readouterr().out) == {"status": "refused", "errors": [message]}
    assert _rows(estimated) == before
    assert not (tmp_path / "r.json").exists()


def test_estimate_names_the_method_in_the_users_language(estimated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the text rows read "метод did", "әдіс synthetic_control": the code, not the words
    assert main(["estimate", "--lang", "ru", "--warehouse", str(estimated)]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    methods = {row.split("; ")[1] for row in rows if "; " in row}
    assert methods, rows
    words = {f"метод {t(f'dash.method.{m}', 'ru')}" for m in ("did", "staggered_did", "synthetic_control", "its")}
    assert methods <= words, methods
