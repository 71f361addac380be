"""Uploads as background jobs with progress: the job registry on its own (progress, owner, failure, one writer at
a time), the ingest stages it reports on a real warehouse, and the upload page's callbacks over HTTP (Flask's
test client, the real app, a copy of the demo warehouse): a confirm returns a job, polling it reaches the end,
the rows are stored, and nobody else can poll it."""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import ADMIN, ENGINEER, finish_upload_job, sign_in, triggered_by
from dashboard_helpers import dash_app as _app
from dashboard_helpers import post_callback as _call
from dashboards.components import reestimate, upload_jobs
from dashboards.components.upload_jobs import job_status, start_job, wait_for
from dashboards.components.upload_run import BACKGROUND_PREVIEW_BYTES, UploadRequest, ingest_files
from dashboards.context import EXTENSION, WarehouseAccess

from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.i18n import t
from pilot_roi.warehouse import connect

WAIT_S = 30.0


def _stepped_job(owner: str, fractions: list[float]) -> tuple[str, list[threading.Event], threading.Event]:
    """A job that reports each fraction only when the test lets it (one event per step), then returns "ok"."""
    steps = [threading.Event() for _ in fractions]
    reported = threading.Event()

    def work(report: upload_jobs.Reporter) -> str:
        for step, fraction in zip(steps, fractions, strict=True):
            assert step.wait(WAIT_S)
            report("reading", fraction, file="a.csv", n=1, total=1)
            reported.set()
        return "ok"

    return start_job(owner, work), steps, reported


def test_progress_goes_from_zero_to_one_and_never_back() -> None:
    job, steps, reported = _stepped_job("eng", [0.25, 0.1, 0.6, 7.0])
    first = job_status(job, "eng")
    assert first is not None and first.state == "running" and first.fraction == 0.0 and first.stage == "queued"
    seen = [first.fraction]
    for step in steps:
        reported.clear()
        step.set()
        assert reported.wait(WAIT_S)
        status = job_status(job, "eng")
        assert status is not None
        seen.append(status.fraction)
    assert seen[:4] == [0.0, 0.25, 0.25, 0.6]  # a smaller fraction reported later does not move the bar back
    assert seen[4] == 1.0  # clamped to 1
    final = wait_for(job, "eng", WAIT_S)
    assert final is not None and final.state == "done" and final.fraction == 1.0 and final.result == "ok"
    assert final.stage == "reading" and final.params == {"file": "a.csv", "n": 1, "total": 1}


def test_a_job_is_found_only_with_its_owner() -> None:
    job, steps, _reported = _stepped_job("eng", [0.5])
    assert job_status(job, "someone.else") is None
    assert job_status(job, "ENG") is None
    assert job_status("not-a-job", "eng") is None
    steps[0].set()
    assert wait_for(job, "someone.else", WAIT_S) is None
    done = wait_for(job, "eng", WAIT_S)
    assert done is not None and done.state == "done"


def test_a_refusal_ends_the_job_with_its_message() -> None:
    def refuse(report: upload_jobs.Reporter) -> None:
        report("reading", 0.3)
        raise InvalidInput([Problem("dash.upload.unreadable")])

    status = wait_for(start_job("eng", refuse), "eng", WAIT_S)
    assert status is not None and status.state == "failed" and status.result is None
    assert status.fraction == pytest.approx(0.3)  # where it stopped
    for lang in ("ru", "kk", "en"):
        assert status.messages(lang) == [t("dash.upload.unreadable", lang)]


def test_a_bug_ends_the_job_with_a_reference_never_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    def crash(report: upload_jobs.Reporter) -> None:
        raise RuntimeError("secret internals /srv/warehouse.duckdb")

    status = wait_for(start_job("eng", crash), "eng", WAIT_S)
    assert status is not None and status.state == "failed"
    (message,) = status.messages("en")
    assert message.startswith("Internal error") and "secret" not in message and "Traceback" not in message
    ref = message.rsplit("code ", 1)[1].rstrip(".")
    assert any(ref in record.getMessage() and record.exc_info for record in caplog.records)  # the log has it


def test_writing_jobs_run_one_at_a_time_and_the_second_waits_queued() -> None:
    release = threading.Event()
    started = threading.Event()

    def first(report: upload_jobs.Reporter) -> str:
        started.set()
        assert release.wait(WAIT_S)
        return "first"

    def second(report: upload_jobs.Reporter) -> str:
        report("loading", 0.5)
        return "second"

    a = start_job("eng", first, exclusive=True)
    assert started.wait(WAIT_S)
    b = start_job("eng", second, exclusive=True)
    time.sleep(0.3)
    waiting = job_status(b, "eng")
    assert waiting is not None and waiting.state == "running" and waiting.stage == "queued"
    release.set()
    assert (wait_for(a, "eng", WAIT_S) or waiting).result == "first"
    assert (wait_for(b, "eng", WAIT_S) or waiting).result == "second"


def _kmg_rows(path: Path, limit: int | None = None) -> list[tuple[Any, ...]]:
    con = connect(path)
    try:
        return con.execute(
            "SELECT o.site_code, o.metric_code, o.period, o.value FROM observation_current o "
            "JOIN sites s ON s.code = o.site_code WHERE s.subsidiary_code = 'KMG' ORDER BY 1, 2, 3"
            + (f" LIMIT {int(limit)}" if limit else "")
        ).fetchall()
    finally:
        con.close()


def _csv_text(rows: list[tuple[Any, ...]], delta: float, comment: str = "") -> str:
    lines = ["site_code,metric_code,period,value" + (",comment" if comment else "")]
    lines += [f"{s},{m},{p:%Y-%m-%d},{float(v) + delta}" + (f",{comment}" if comment else "") for s, m, p, v in rows]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_ingest_reports_its_stages_in_order_with_growing_progress(demo_warehouse: Path) -> None:
    rows = _kmg_rows(demo_warehouse, 40)
    files = (
        ("one.csv", _csv_text(rows[:10], 1.0).encode()),
        ("two.csv", _csv_text(rows[10:], 1.0).encode()),
    )
    warehouse = WarehouseAccess(demo_warehouse)
    try:
        for dry_run, middle in ((True, "comparing"), (False, "loading")):
            seen: list[tuple[str, float, int]] = []

            def report(stage: str, fraction: float | None = None, seen: list[Any] = seen, **params: Any) -> None:
                seen.append((stage, float(fraction or 0.0), int(params["n"])))

            request = UploadRequest(warehouse, "demo.engineer", {"KMG"}, files, "all_or_nothing", dry_run, "en")
            results = ingest_files(request, report)
            assert [r.status for _n, r in results] == ["loaded", "loaded"]  # a dry run says what would happen
            stages = [s for s, _f, _n in seen]
            assert stages[0] == "reading" and stages[1] == "validating" and stages[2] == middle
            assert stages.count("reading") == 2  # once per file
            fractions = [f for _s, f, _n in seen]
            assert fractions == sorted(fractions) and fractions[0] == 0.0
            assert [n for _s, _f, n in seen] == sorted(n for _s, _f, n in seen)  # file 1, then file 2
            # by bytes: a load reports its last stage (committing) at 1; a dry run stops after validation (0.7)
            first = len(files[0][1]) / sum(len(data) for _name, data in files)
            assert fractions[-1] == pytest.approx(1.0 if not dry_run else first + (1 - first) * 0.7)
    finally:
        warehouse.close()


def _data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def _engineer_previews(warehouse: Path, text: str, filename: str, lang: str) -> tuple[Any, Any, Any]:
    """A fresh app, an engineer signed in to it, and the response to dropping one CSV on the upload page."""
    app = _app(warehouse)
    client = sign_in(app.server.test_client(), *ENGINEER)
    preview = triggered_by(client, "upload-files.contents")
    response = _call(client, preview, {"upload-files.contents": [_data_url(text)], "upload-files.filename": [filename],
                                       "upload-mode.value": "all_or_nothing", "upload-lang.data": lang})  # fmt: skip
    return app, client, response


def _stored(app: Any, rows: list[tuple[Any, ...]]) -> list[float]:
    with app.server.extensions[EXTENSION].cursor() as cur:
        return [
            float(cur.execute(
                "SELECT value FROM observation_current WHERE site_code = ? AND metric_code = ? AND period = ?",
                [s, m, p],
            ).fetchone()[0])  # type: ignore[index]
            for s, m, p, _v in rows
        ]  # fmt: skip


def _wait_reestimation_idle() -> None:
    deadline = time.monotonic() + 180
    while reestimate.is_running() and time.monotonic() < deadline:
        time.sleep(0.5)


@pytest.mark.slow
def test_confirm_returns_a_job_polling_reaches_the_end_and_the_rows_are_stored(demo_warehouse: Path) -> None:
    rows = _kmg_rows(demo_warehouse, 3)
    app, client, response = _engineer_previews(demo_warehouse, _csv_text(rows, 2.5), "change.csv", "en")
    assert response.status_code == 200
    payload = response.get_json()["response"]
    assert payload["upload-job"]["data"] is None  # a small file: the preview answers at once
    token = payload["upload-token"]["data"]
    assert token and _stored(app, rows) == [float(v) for *_k, v in rows]

    confirm = triggered_by(client, "upload-confirm.n_clicks")
    response = _call(client, confirm, {"upload-confirm.n_clicks": 1, "upload-token.data": token,
                                       "upload-lang.data": "kk"})  # fmt: skip
    assert response.status_code == 200
    payload = response.get_json()["response"]
    job = payload["upload-job"]["data"]
    assert job and payload["upload-job-poll"]["disabled"] is False  # the page starts polling
    assert payload["upload-token"]["data"] is None and payload["upload-confirm"]["disabled"] is True
    assert t("dash.upload.stage.starting", "kk") in json.dumps(payload["upload-progress"], ensure_ascii=False)

    # another user (an admin, who may upload too) polling the engineer's job learns nothing about it
    admin = sign_in(app.server.test_client(), *ADMIN)
    polls, shown = finish_upload_job(admin, job)
    assert len(polls) == 1
    text = json.dumps(polls[0].get_json(), ensure_ascii=False)
    assert t("dash.upload.job_unknown", "en") in text and "change.csv" not in text
    assert shown is None  # the polling stopped there
    show = triggered_by(admin, "upload-job-done.data")  # and asking for the results by hand gives nothing
    by_hand = _call(admin, show, {"upload-job-done.data": job, "upload-lang.data": "en"})
    assert by_hand.status_code in (200, 204) and "change.csv" not in by_hand.get_data(as_text=True)

    polls, shown = finish_upload_job(client, job, lang="kk")
    assert shown is not None, "the upload job did not end"
    final = polls[-1].get_json()["response"]
    assert final["upload-job-poll"]["disabled"] is True and final["upload-job"]["data"] is None
    for poll in polls[:-1]:  # while it ran: the stage in words and the bar
        assert "upload-progress-bar" in poll.get_data(as_text=True)
    assert shown.status_code == 200
    result = shown.get_json()["response"]
    result_text = json.dumps(result, ensure_ascii=False)
    assert t("dash.status.loaded", "kk") in result_text and "change.csv" in result_text
    assert t("dash.upload.reestimating", "kk") in result_text
    assert "change.csv" in json.dumps(result["upload-history"], ensure_ascii=False)
    assert "Traceback" not in result_text
    assert _stored(app, rows) == pytest.approx([float(v) + 2.5 for *_k, v in rows])
    _wait_reestimation_idle()  # the load asked for the re-estimation: let it end before the warehouse goes


@pytest.mark.slow
def test_a_big_dry_run_runs_as_a_job_and_ends_as_the_usual_preview(demo_warehouse: Path) -> None:
    rows = _kmg_rows(demo_warehouse)
    text = _csv_text(rows, 1.0, comment="checked by the shift engineer against the paper log " * 2)
    assert len(text.encode()) > BACKGROUND_PREVIEW_BYTES
    app, client, response = _engineer_previews(demo_warehouse, text, "big.csv", "ru")
    assert response.status_code == 200
    payload = response.get_json()["response"]
    job = payload["upload-job"]["data"]
    assert job and payload["upload-job-poll"]["disabled"] is False and payload["upload-token"]["data"] is None
    _polls, shown = finish_upload_job(client, job, lang="ru")
    assert shown is not None, "the upload job did not end"
    result = shown.get_json()["response"]
    assert "big.csv" in json.dumps(result["upload-preview"], ensure_ascii=False)
    assert result["upload-token"]["data"] and result["upload-confirm"]["disabled"] is False  # ready to confirm
    assert "upload-history" not in result  # a dry run changes no history
    with app.server.extensions[EXTENSION].cursor() as cur:  # nothing stored by the dry run
        assert cur.execute("SELECT count(*) FROM upload_log WHERE file_name = 'big.csv'").fetchone() == (0,)


@pytest.mark.slow
def test_a_failed_load_ends_as_a_clear_message(demo_warehouse: Path) -> None:
    rows = _kmg_rows(demo_warehouse, 2)
    app, client, response = _engineer_previews(demo_warehouse, _csv_text(rows, 4.0), "late.csv", "en")
    token = response.get_json()["response"]["upload-token"]["data"]
    app.server.extensions[EXTENSION].close()  # the warehouse goes away under the job: a real failure, not a mock
    with connect(demo_warehouse) as con:  # and comes back without the observations table the load needs
        con.execute("ALTER TABLE observation_current RENAME TO observation_current_gone")
    confirm = triggered_by(client, "upload-confirm.n_clicks")
    response = _call(client, confirm, {"upload-confirm.n_clicks": 1, "upload-token.data": token,
                                       "upload-lang.data": "en"})  # fmt: skip
    job = response.get_json()["response"]["upload-job"]["data"]
    _polls, shown = finish_upload_job(client, job)
    assert shown is not None, "the upload job did not end"
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "Traceback" not in text
    result = shown.get_json()["response"]
    message = json.dumps(result["upload-result"])
    assert "Internal error; the details are in the log" in message and "observation_current" not in message
    assert result["upload-confirm"]["disabled"] is True and result["upload-token"]["data"] is None
