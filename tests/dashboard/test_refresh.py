"""Pages notice a new finished run: the portfolio and pilot pages' version-poll callbacks over HTTP (Flask's
test client, the real app and a copy of the demo warehouse), and the background re-estimation an upload
that changed data starts (a new finished run appears within a bounded wait), with the server's warm estimation
pool replaced when it broke."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import ENGINEER, EXECUTIVE, finish_upload_job, sign_in, triggered_by
from dashboard_helpers import dash_app as _app
from dashboard_helpers import dependency as _dependency
from dashboard_helpers import post_callback as _call
from dashboards.components import reestimate
from dashboards.context import EXTENSION

from pilot_roi import dashboard_queries as q
from pilot_roi.runner import RunOptions, run_portfolio
from pilot_roi.runner.pool import usable

RUN_TIMEOUT_S = 120.0


def _state(app: Any) -> tuple[str, int | None]:
    with app.server.extensions[EXTENSION].cursor() as cur:
        return q.results_state(cur)


def _poll(client: Any, output_part: str, known: str, store: str, lang_store: str) -> Any:
    dep = _dependency(client, output_part)
    return _call(
        client, dep, {f"{store}.data": known, f"{lang_store}.data": "en", f"{dep['inputs'][0]['id']}.n_intervals": 1}
    )


def _wait_idle(timeout: float = RUN_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while reestimate.is_running() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not reestimate.is_running(), "the background re-estimation did not end"


@pytest.mark.slow
def test_poll_reports_a_new_finished_run(demo_warehouse: Path) -> None:
    app = _app(demo_warehouse)
    client = sign_in(app.server.test_client(), *EXECUTIVE)
    version, run_id = _state(app)
    assert run_id is not None
    polls = (
        ("portfolio-results-version.data", "portfolio-results-version", "portfolio-lang"),
        ("pilot-results-version.data", "pilot-results-version", "pilot-lang"),
    )
    for part, store, lang_store in polls:  # nothing new: no update at all
        response = _poll(client, part, version, store, lang_store)
        assert response.status_code in (200, 204), (part, response.status_code)
        if response.status_code == 200:
            assert response.get_json()["response"] == {}, part

    with app.server.extensions[EXTENSION].cursor() as cur:  # the app holds the file: write through it
        run_portfolio(cur, RunOptions(workers=1, started_by="test"))
    new_version, new_run = _state(app)
    assert new_run is not None and new_run > run_id and new_version != version

    for part, store, lang_store in polls:
        response = _poll(client, part, version, store, lang_store)
        assert response.status_code == 200, (part, response.status_code)
        payload = response.get_json()["response"]
        assert payload[store]["data"] == new_version
        notice = str(payload[store.replace("version", "notice")]["children"])
        assert f"Estimates updated: run {new_run}." in notice
        assert "Traceback" not in response.get_data(as_text=True)

    # the content callback takes the polled version as an Input and answers with it
    content = _dependency(client, "portfolio-table.children")
    assert any(i["id"] == "portfolio-results-version" for i in content["inputs"])
    response = _call(client, content, {"portfolio-lang.data": "en", "portfolio-results-version.data": new_version})
    assert response.status_code == 200


def _csv(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


@pytest.mark.slow
def test_upload_that_changes_data_re_estimates_in_the_background(demo_warehouse: Path) -> None:
    app = _app(demo_warehouse)
    _wait_idle()
    with app.server.extensions[EXTENSION].cursor() as cur:
        row = cur.execute(
            "SELECT o.site_code, o.metric_code, o.period, o.value FROM observation_current o "
            "JOIN sites s ON s.code = o.site_code WHERE s.subsidiary_code = 'KMG' ORDER BY 1, 2, 3 LIMIT 1"
        ).fetchone()
    assert row is not None
    version, run_id = _state(app)
    assert run_id is not None
    # the server's warm estimation pool broke while idle (as when its workers are killed): the run replaces it
    broken = reestimate.estimation_pool.get()
    assert broken is not None, "the warm estimation pool did not start"
    broken.shutdown()
    client = sign_in(app.server.test_client(), *ENGINEER)
    text = f"site_code,metric_code,period,value\n{row[0]},{row[1]},{row[2]:%Y-%m-%d},{float(row[3]) + 5}\n"
    preview = _dependency(client, "upload-preview.children")
    response = _call(client, preview, {"upload-files.contents": [_csv(text)], "upload-files.filename": ["change.csv"],
                                       "upload-mode.value": "all_or_nothing", "upload-lang.data": "en"})  # fmt: skip
    assert response.status_code == 200
    token = response.get_json()["response"]["upload-token"]["data"]
    assert token, "the preview offered nothing to load"

    confirm = triggered_by(client, "upload-confirm.n_clicks")
    started = time.monotonic()
    response = _call(client, confirm, {"upload-confirm.n_clicks": 1, "upload-token.data": token,
                                       "upload-lang.data": "en"})  # fmt: skip
    assert response.status_code == 200
    job = response.get_json()["response"]["upload-job"]["data"]
    _polls, shown = finish_upload_job(client, job)
    assert shown is not None, "the upload job did not end"
    assert "Estimates are being updated in the background" in shown.get_data(as_text=True)

    new_run: int | None = None
    while time.monotonic() - started < RUN_TIMEOUT_S:
        with app.server.extensions[EXTENSION].cursor() as cur:
            found = cur.execute("SELECT max(run_id) FROM estimate_runs WHERE status = 'finished'").fetchone()
        if found and found[0] is not None and int(found[0]) > run_id:
            new_run = int(found[0])
            break
        time.sleep(0.5)
    assert new_run is not None, f"no new finished run within {RUN_TIMEOUT_S:.0f} s of the upload"
    _wait_idle()
    with app.server.extensions[EXTENSION].cursor() as cur:
        failed = cur.execute(
            "SELECT count(*) FROM estimate_results WHERE run_id = ? AND reason = 'worker_failed'", [new_run]
        ).fetchone()
    assert failed == (0,)
    replaced = reestimate.estimation_pool.get()
    assert replaced is not None and replaced is not broken and usable(replaced)

    exec_client = sign_in(app.server.test_client(), *EXECUTIVE)
    response = _poll(
        exec_client, "portfolio-results-version.data", version, "portfolio-results-version", "portfolio-lang"
    )
    assert response.status_code == 200
    assert f"run {_state(app)[1]}." in response.get_data(as_text=True)
