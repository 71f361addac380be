"""`pilot-roi estimate` as a user runs it: refusals that change nothing, in the user's language, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

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
) -> None:
    # Root may write anything: run the command as `nobody` then, the way a plant engineer's account would.
    as_other_user: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: no way to be a user without write access")
        as_other_user = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        # the checkout may sit in a folder only root can enter (e.g. /root): then nobody cannot run us at all
        probe = subprocess.run(
            [*as_other_user, sys.executable, "-c", "import pilot_roi.cli"],
            capture_output=True,
            cwd="/",
            timeout=120,
            check=False,
        )
        if probe.returncode != 0:
            pytest.skip("user nobody cannot run this checkout's Python (a folder on its path is closed to it)")
    source = portfolio_copy()
    folder = Path(tempfile.mkdtemp(prefix="pilot-roi-readonly-"))  # outside the 0700 pytest folder
    try:
        read_only_file = folder / "read_only.duckdb"
        writable_file = folder / "writable.duckdb"
        shutil.copyfile(source, read_only_file)
        shutil.copyfile(source, writable_file)
        read_only_file.chmod(0o444)
        writable_file.chmod(0o666)
        folder.chmod(0o555)  # DuckDB could open writable.duckdb but not create writable.duckdb.wal
        before = _counts(writable_file)
        expected = {
            read_only_file: t("warehouse.cannot_write", "ru", path=str(read_only_file)),
            writable_file: t("warehouse.cannot_write_folder", "ru", path=str(writable_file), folder=str(folder)),
        }
        command = [*as_other_user, sys.executable, "-m", "pilot_roi", "estimate", "--format", "json", "--lang", "ru"]
        for path, message in expected.items():
            done = subprocess.run(
                [*command, "--force", "--warehouse", str(path)],
                capture_output=True,
                text=True,
                cwd="/",
                timeout=300,
                check=False,
            )
            assert done.returncode == 1, done.stderr
            assert json.loads(done.stdout) == {"status": "refused", "errors": [message]}
            assert "Traceback" not in done.stderr
        assert _counts(writable_file) == _counts(read_only_file) == before
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


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


def test_a_pilot_code_in_another_case_means_the_registrys_pilot(
    portfolio_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = portfolio_copy()
    assert main(["estimate", "--warehouse", str(path), "--pilot", " p-null ", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["parameters"]["pilot"] == "P-NULL"
    assert [e["pilot_code"] for e in document["estimates"]] == ["P-NULL"]
