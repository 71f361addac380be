"""`pilot-roi estimate` as a user runs it: refusals that change nothing, in the user's language, never a traceback."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from other_user import LockedWarehouses, run_cli
from pilot_roi.cli import main
from pilot_roi.grading import describe_grade_reason
from pilot_roi.i18n import t
from pilot_roi.warehouse import connect

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")


def _counts(path: Path) -> tuple[int, int]:
    con = connect(path, read_only=True)
    try:
        runs = con.execute("SELECT count(*) FROM estimate_runs").fetchone()
        results = con.execute("SELECT count(*) FROM estimate_results").fetchone()
        assert runs is not None and results is not None
        return int(runs[0]), int(results[0])
    finally:
        con.close()


def test_a_bad_environment_setting_is_refused_in_the_users_language(
    portfolio_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = portfolio_copy()
    before = _counts(path)
    monkeypatch.setenv("PILOT_ROI_DISCOUNT_RATE", "0,15")  # a decimal comma, as a Russian locale writes it
    assert main(["estimate", "--warehouse", str(path), "--format", "json", "--lang", "kk"]) == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["status"] == "refused"
    assert document["errors"] == [
        "PILOT_ROI_DISCOUNT_RATE: " + t("estimate.bad_discount_rate", "kk", value="0,15"),
    ]
    assert "Traceback" not in captured.err
    assert _counts(path) == before


def test_an_internal_error_is_one_json_object_and_no_traceback_even_when_the_log_is_blocked(
    portfolio_copy: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    path = portfolio_copy()
    con = connect(path)
    con.execute("DROP TABLE estimate_event_study")  # a damaged warehouse: storing the run must fail
    con.close()
    before = _counts(path)
    (path.parent / "pilot-roi-errors.log").mkdir()  # the log beside the warehouse cannot be opened
    fallback = tmp_path / "tmp"
    fallback.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(fallback))

    assert main(["estimate", "--warehouse", str(path), "--format", "json"]) == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["status"] == "error" and len(document["errors"]) == 2
    ref = document["errors"][0].rsplit(" ", 1)[-1]
    assert document["errors"][0] == t("cli.unexpected", "en", ref=ref)
    log = fallback / "pilot-roi-errors.log"
    assert document["errors"][1] == t("cli.error_log_at", "en", path=str(log))
    assert f"--- {ref}" in log.read_text(encoding="utf-8") and "Traceback" in log.read_text(encoding="utf-8")
    assert "Traceback" not in captured.err + captured.out
    assert _counts(path) == before


def test_a_folder_given_as_the_warehouse_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "--warehouse", str(tmp_path), "--format", "json", "--lang", "ru"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document == {"status": "refused", "errors": [t("warehouse.not_a_file", "ru", path=str(tmp_path))]}


def test_a_warehouse_this_user_may_not_write_is_refused_before_any_work(
    portfolio_copy: Callable[..., Path],
    as_other_user: list[str],
    locked_warehouses: Callable[[Path], LockedWarehouses],
) -> None:
    locked = locked_warehouses(portfolio_copy())
    before = _counts(locked.writable_file)
    expected = {
        locked.read_only_file: t("warehouse.cannot_write", "ru", path=str(locked.read_only_file)),
        locked.writable_file: t(
            "warehouse.cannot_write_folder", "ru", path=str(locked.writable_file), folder=str(locked.locked)
        ),
    }
    for path, message in expected.items():
        done = run_cli(
            as_other_user, "estimate", "--format", "json", "--lang", "ru", "--force", "--warehouse", str(path)
        )
        assert done.returncode == 1, done.stderr
        assert json.loads(done.stdout) == {"status": "refused", "errors": [message]}
        assert "Traceback" not in done.stderr
    assert _counts(locked.writable_file) == _counts(locked.read_only_file) == before


def test_reasons_without_a_number_are_words_in_the_users_language(
    portfolio_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = portfolio_copy()
    assert main(["estimate", "--warehouse", str(path), "--format", "json"]) == 0
    reason = {e["pilot_code"]: e["reason"] for e in json.loads(capsys.readouterr().out)["estimates"]}["P-BROKEN"]
    assert reason and reason.replace("_", "").isalpha()  # a code, stored as such for machines
    for lang in ("ru", "kk", "en"):
        assert main(["estimate", "--warehouse", str(path), "--lang", lang]) == 0
        line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("P-BROKEN"))
        assert reason not in line
        assert line.endswith(t("estimate.no_number", lang, reason=describe_grade_reason(reason, lang)))


def test_the_json_document_gives_the_words_beside_the_codes_in_the_users_language(
    portfolio_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = portfolio_copy()
    for lang in ("ru", "kk", "en"):
        assert main(["estimate", "--warehouse", str(path), "--format", "json", "--lang", lang]) == 0
        document = json.loads(capsys.readouterr().out)
        assert document["lang"] == lang
        rows = {e["pilot_code"]: e for e in document["estimates"]}
        broken = rows["P-BROKEN"]
        assert broken["reason_text"] == describe_grade_reason(broken["reason"], lang) != broken["reason"]
        for row in rows.values():
            assert row["grade_text"] == t(f"estimate.grade.{row['grade']}", lang)
            assert row["grade_reason_text"] == describe_grade_reason(row["grade_reason"], lang)
            assert "_" not in row["grade_reason_text"]  # every code the portfolio gives has its words
            if row["status"] == "ok":
                assert row["reason_text"] is None and row["method_reason_text"]
                assert (lang == "en") == (row["method_reason_text"] == row["method_reason"])


def test_a_pilot_code_in_another_case_means_the_registrys_pilot(
    portfolio_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = portfolio_copy()
    assert main(["estimate", "--warehouse", str(path), "--pilot", " p-null ", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["parameters"]["pilot"] == "P-NULL"
    assert [e["pilot_code"] for e in document["estimates"]] == ["P-NULL"]


def test_the_summary_accounts_for_every_pilot_metric(
    silent_portfolio_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # P-BROKEN's only site sent no data at all: it is decided without estimating (no_treated_data), neither
    # estimated nor carried forward, and the summary must still count it
    path = silent_portfolio_file
    assert main(["estimate", "--warehouse", str(path), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {e["pilot_code"]: e["reason"] for e in document["estimates"]}["P-BROKEN"] == "no_treated_data"
    counts = (document["n_estimated"], document["n_reused"], document["n_not_estimated"])
    assert counts == (2, 0, 1)
    assert sum(counts) == document["n_estimates"] == len(document["estimates"]) == 3
    for i, lang in enumerate(("ru", "kk", "en"), start=1):
        assert main(["estimate", "--warehouse", str(path), "--lang", lang]) == 0
        summary = capsys.readouterr().out.splitlines()[0]
        # the seconds are the only part that varies: compare what stands before and after them
        head, tail = t(
            "estimate.run_done", lang, run_id=document["run_id"] + i, n=3, estimated=0, reused=2, not_estimated=1,
            errors=document["n_errors"], insufficient=document["n_insufficient_data"], seconds="\0",
        ).split("\0")  # fmt: skip
        assert summary.startswith(head) and summary.endswith(tail), summary
