"""Re-estimate in the background after an upload, one run at a time, in this server process.

`pilot_roi.runner.run_portfolio` re-estimates only the pilot-metrics whose inputs changed (the rest are
carried forward), so one call after a load updates exactly the affected pilots. It runs in a daemon thread
on a cursor of the server's shared connection (the server is the warehouse's only writer) with workers=1
(no process pool forked from the web server). Requests that arrive while a run is going are merged into
one follow-up run.
"""

from __future__ import annotations

import logging
import threading

from dashboards.context import WarehouseAccess

log = logging.getLogger("pilot_roi.dashboard")

_lock = threading.Lock()
_state = {"running": False, "again": False}


def is_running() -> bool:
    """True while a background run is going."""
    with _lock:
        return _state["running"]


def request_run(warehouse: WarehouseAccess, started_by: str) -> bool:
    """Start (or queue) a background portfolio run; False when the runner is not installed."""
    try:
        from pilot_roi.runner import RunOptions, run_portfolio
    except ImportError:
        return False
    with _lock:
        if _state["running"]:
            _state["again"] = True
            return True
        _state["running"] = True

    def work() -> None:
        while True:
            try:
                with warehouse.cursor() as cur:
                    run_portfolio(cur, RunOptions(workers=1, started_by=started_by))
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
