"""Long upload work (loads, dry runs of big files) in a background thread, with progress the page polls.

A job belongs to the user who started it: `job_status` needs its random id AND that username, so a poll
with someone else's id finds nothing, exactly like an unknown id. Jobs live in this server process only,
like the pending uploads (`pilot-roi serve` runs one worker: DuckDB has one writer); at most JOBS_MAX at a
time, a finished one kept JOB_TTL_SECONDS for its last poll.

The work gets a `Reporter`: `report(stage, fraction, **params)` names the stage (a key the page turns into
words) and how far the job is (0..1; it never goes back). Writing jobs (`exclusive=True`) run one at a
time, in the order they start; the others run at once. A refusal (PilotRoiError) ends the job with its
problems; any other exception is logged with a reference and ends it with the internal-error message and
that reference, never a traceback.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pilot_roi.errors import InvalidInput, PilotRoiError, Problem

JOBS_MAX = 64
JOB_TTL_SECONDS = 1800.0

State = Literal["running", "done", "failed"]

log = logging.getLogger("pilot_roi.dashboard")


class Reporter(Protocol):
    """How a job's work says where it is."""

    def __call__(self, stage: str, fraction: float | None = None, **params: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A snapshot of one job.

    `stage`: the last stage key reported ("queued" until the work starts), with its `params`.
    `fraction`: 0..1, never decreasing; 1 once done. `result`: the work's return value once done.
    `error`: the refusal that ended a failed job.
    """

    state: State
    stage: str
    fraction: float
    params: dict[str, Any]
    result: Any = None
    error: PilotRoiError | None = None

    def messages(self, lang: str) -> list[str]:
        """The failure as lines of text in `lang` (empty unless failed)."""
        return self.error.render(lang) if self.error is not None else []


@dataclass(slots=True)
class _Job:
    owner: str
    created: float
    state: State = "running"
    stage: str = "queued"
    fraction: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    error: PilotRoiError | None = None
    finished: float | None = None


_jobs: dict[str, _Job] = {}
_jobs_lock = threading.Lock()
_write_lock = threading.Lock()  # one writing job at a time: the merge of one upload never races another


def _evict(now: float) -> None:
    """Forget expired finished jobs; at capacity, the oldest finished one (caller holds _jobs_lock)."""
    for key in [k for k, j in _jobs.items() if j.finished is not None and now - j.finished > JOB_TTL_SECONDS]:
        del _jobs[key]
    finished = [k for k, j in _jobs.items() if j.finished is not None]
    while len(_jobs) >= JOBS_MAX and finished:
        del _jobs[min(finished, key=lambda k: _jobs[k].created)]
        finished = [k for k, j in _jobs.items() if j.finished is not None]


def start_job(owner: str, work: Callable[[Reporter], Any], *, exclusive: bool = False) -> str:
    """Run `work(report)` in a daemon thread for `owner`; return the job's id.

    Refuses (InvalidInput "dash.upload.busy") when JOBS_MAX jobs are still running.
    """
    now = time.monotonic()
    job_id = secrets.token_urlsafe(16)
    with _jobs_lock:
        _evict(now)
        if len(_jobs) >= JOBS_MAX:
            raise InvalidInput([Problem("dash.upload.busy")])
        job = _jobs[job_id] = _Job(owner=owner, created=now)

    def report(stage: str, fraction: float | None = None, **params: Any) -> None:
        with _jobs_lock:
            job.stage = stage
            job.params = dict(params)
            if fraction is not None:
                job.fraction = max(job.fraction, min(1.0, max(0.0, float(fraction))))

    def run() -> None:
        try:
            if exclusive:
                with _write_lock:
                    result = work(report)
            else:
                result = work(report)
        except PilotRoiError as exc:
            _finish(job, "failed", error=exc)
        except Exception as exc:  # a bug must not reach the user as a traceback; the log has it
            ref = uuid.uuid4().hex[:8]
            log.error("upload job failed %s", ref, exc_info=exc)
            _finish(job, "failed", error=PilotRoiError([Problem("dash.internal_error", params={"ref": ref})]))
        else:
            _finish(job, "done", result=result)

    threading.Thread(target=run, name="pilot-roi-upload-job", daemon=True).start()
    return job_id


def _finish(job: _Job, state: State, *, result: Any = None, error: PilotRoiError | None = None) -> None:
    with _jobs_lock:
        job.state = state
        job.result = result
        job.error = error
        job.finished = time.monotonic()
        if state == "done":
            job.fraction = 1.0


def job_status(job_id: str, owner: str) -> JobStatus | None:
    """A snapshot of the job `job_id` if it belongs to `owner` and is still kept, else None."""
    with _jobs_lock:
        job = _jobs.get(str(job_id))
        if job is None or job.owner != owner:
            return None
        return JobStatus(job.state, job.stage, job.fraction, dict(job.params), job.result, job.error)


def wait_for(job_id: str, owner: str, timeout: float) -> JobStatus | None:
    """Poll until the job is no longer running or `timeout` seconds passed (tests, scripts)."""
    deadline = time.monotonic() + timeout
    status = job_status(job_id, owner)
    while status is not None and status.state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        status = job_status(job_id, owner)
    return status
