"""Re-estimate in the background after an upload, one run at a time, in this server process.

`pilot_roi.runner.run_portfolio` re-estimates only the pilot-metrics whose inputs changed (the rest are
carried forward), so one call after a load updates exactly the affected pilots. It runs in a daemon thread
on a cursor of the server's shared connection (the server is the warehouse's only writer). Requests that
arrive while a run is going are merged into one follow-up run.

The estimates themselves go to one warm process pool (`pilot_roi.runner.pool.WarmPool`, `POOL_WORKERS`
spawned processes with the estimation stack imported), one or many: they run in parallel and do not hold this
process's GIL for seconds while other users' requests wait. `warm_pool_in_background` starts it when the server
starts (the app factory calls it for `pilot-roi serve`); otherwise it starts on the first re-estimation. A run
that reports the pool broken replaces it; a pool that cannot start leaves the estimates in this process (as
before), with a warning in the log. The pool is shut down at exit.

Pages notice a new finished run with `poll_components` (a 10-second `dcc.Interval` and a `dcc.Store` holding
the results version) and `poll_results` (the interval's callback logic: the new version and a notice, or
no update while it is unchanged); the page's content callback takes the store as an Input.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboards.context import WarehouseAccess, cursor
from pilot_roi import dashboard_queries as q
from pilot_roi.i18n import t
from pilot_roi.runner.pool import WarmPool

POLL_MS = 10_000
POOL_WORKERS = 2
"""Processes of the warm estimation pool: the machine has 2 cores (a run estimates a pilot's metrics at once)."""

log = logging.getLogger("pilot_roi.dashboard")

_lock = threading.Lock()
_state = {"running": False, "again": False}
estimation_pool = WarmPool(POOL_WORKERS)
"""The server's one warm estimation pool (made on first use or by `warm_pool_in_background`)."""
atexit.register(estimation_pool.close)


def warm_pool_in_background() -> None:
    """Start and warm the estimation pool in a background thread (at server start), so the first
    re-estimation after an upload finds it ready."""
    estimation_pool.start()


def _run_once(warehouse: WarehouseAccess, started_by: str) -> None:
    """One portfolio run on a cursor of the server's connection, its estimates in the warm pool when there is one."""
    from pilot_roi.runner import RunOptions, run_portfolio

    pool = estimation_pool.get()
    with warehouse.cursor() as cur:
        summary = run_portfolio(cur, RunOptions(workers=1, started_by=started_by), pool=pool)
    if pool is not None and summary.pool_broken:
        estimation_pool.replace(pool)


def is_running() -> bool:
    """True while a background run is going."""
    with _lock:
        return _state["running"]


def request_run(warehouse: WarehouseAccess, started_by: str) -> bool:
    """Start (or queue) a background portfolio run; True once it is started or queued."""
    with _lock:
        if _state["running"]:
            _state["again"] = True
            return True
        _state["running"] = True

    def work() -> None:
        while True:
            try:
                _run_once(warehouse, started_by)
            except SystemExit:  # the process (or a test harness) is stopping this thread
                with _lock:
                    _state["running"] = False
                return
            except Exception:  # a failed run must not take the server down; the log has the details
                log.exception("background re-estimation failed")
            with _lock:
                if not _state["again"]:
                    _state["running"] = False
                    return
                _state["again"] = False

    threading.Thread(target=work, name="pilot-roi-reestimate", daemon=True).start()
    return True


def poll_components(poll_id: str, store_id: str, notice_id: str, version: str) -> list[Any]:
    """The interval, the store of the shown results version and the (empty) notice for one page."""
    return [
        dcc.Interval(id=poll_id, interval=POLL_MS, n_intervals=0),
        dcc.Store(id=store_id, data=version),
        html.Div(id=notice_id),
    ]


def current_version() -> str:
    """The results version in the warehouse now (inside a request)."""
    with cursor() as cur:
        return q.results_state(cur)[0]


def poll_results(known: str | None, lang: str) -> tuple[Any, Any]:
    """(new version, notice) when the results version differs from `known`, else no update for both."""
    with cursor() as cur:
        version, run_id = q.results_state(cur)
    if known is not None and version == known:
        return dash.no_update, dash.no_update
    notice = dbc.Alert(
        t("dash.refresh.updated", lang, run=run_id if run_id is not None else "—"),
        color="info",
        dismissable=True,
        className="results-updated py-2",
    )
    return version, notice
