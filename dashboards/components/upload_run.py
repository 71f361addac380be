"""The upload page's work, runnable outside a request: each file through `ingest_file`, with progress.

Everything the work needs (the warehouse, the user's name and upload scope, the files) is captured inside
the request as an `UploadRequest`, so the same functions (`run_preview`, `run_load`) serve a preview
answered at once and a job in a background thread (`upload_jobs`). Progress: the files' share of the
total bytes, and inside a file its stage (reading → validating → comparing with the stored values or
loading), from `ingest_file`'s stages.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from dashboards.components import reestimate
from dashboards.components.pending import PendingUpload, put_pending
from dashboards.components.upload_jobs import Reporter
from dashboards.context import WarehouseAccess
from pilot_roi.errors import PilotRoiError

#: A dry run of more bytes than this (all dropped files together) runs as a job with progress; smaller
#: ones answer at once, without a progress bar flashing by (measured: a 2.4 MB CSV of 16k rows dry-runs in
#: 0.1-0.5 s; the 50 MB upload limit takes seconds).
BACKGROUND_PREVIEW_BYTES = 2 * 1_048_576

#: ingest_file's stage -> (the stage shown, how far through the file it is). Parsing is most of the work.
_WITHIN_FILE = {
    "read": ("validating", 0.5),
    "validated": ("loading", 0.7),
    "staged": ("loading", 0.8),
    "merged": ("loading", 0.95),
    "committing": ("loading", 1.0),
}


@dataclass(frozen=True, slots=True)
class UploadRequest:
    """One preview or load, as the request that asked for it decided it."""

    warehouse: WarehouseAccess
    username: str
    allowed_subsidiaries: Collection[str] | None
    files: tuple[tuple[str, bytes], ...]
    mode: str
    dry_run: bool
    lang: str


def silent(stage: str, fraction: float | None = None, **params: Any) -> None:
    """A Reporter that reports nothing (work answered inside the request)."""
    return None


def ingest_files(request: UploadRequest, report: Reporter = silent) -> list[tuple[str, Any]]:
    """`ingest_file` on each file: [(name, IngestReport or the file's refusal as a PilotRoiError)]."""
    from pilot_roi.ingest import ingest_file  # imported here: the page renders even while ingestion is absent

    total_bytes = sum(len(data) for _name, data in request.files) or 1
    done_bytes = 0
    results: list[tuple[str, Any]] = []
    for index, (name, data) in enumerate(request.files):
        where = {"file": name, "n": index + 1, "total": len(request.files)}
        share = len(data) / total_bytes

        def on_stage(stage: str, start: int = done_bytes, share: float = share, where: dict[str, Any] = where) -> None:
            shown, within = _WITHIN_FILE.get(stage, ("loading", 0.0))
            if shown == "loading" and request.dry_run:
                shown = "comparing"
            report(shown, start / total_bytes + share * within, **where)

        report("reading", done_bytes / total_bytes, **where)
        try:
            with request.warehouse.cursor() as cur:
                result: Any = ingest_file(
                    cur,
                    data,
                    file_name=name,
                    uploaded_by=request.username,
                    allowed_subsidiaries=request.allowed_subsidiaries,
                    mode=request.mode,
                    dry_run=request.dry_run,
                    lang=request.lang,
                    on_stage=on_stage,
                )
        except PilotRoiError as exc:  # a file's refusal is its result, not the end of the others
            result = exc
        results.append((name, result))
        done_bytes += len(data)
    return results


@dataclass(frozen=True, slots=True)
class UploadOutcome:
    """What a preview or a load gave: each file's report (or refusal); for a preview, the token of the files
    waiting for confirmation (None: nothing loadable); for a load, whether a re-estimation was requested."""

    dry_run: bool
    results: list[tuple[str, Any]]
    token: str | None = None
    reestimating: bool = False


def run_preview(request: UploadRequest, report: Reporter = silent) -> UploadOutcome:
    """Dry-run the files; keep them for confirmation when something would load."""
    results = ingest_files(request, report)
    loadable = any(
        not isinstance(r, PilotRoiError) and r.status != "rejected" and (r.rows_inserted or r.rows_updated)
        for _n, r in results
    )
    token = (
        put_pending(PendingUpload(request.username, request.files, request.mode, time.monotonic()))
        if loadable
        else None
    )
    return UploadOutcome(True, results, token=token)


def run_load(request: UploadRequest, report: Reporter = silent) -> UploadOutcome:
    """Load the files for real; when data changed, ask for the affected pilots' re-estimation (here, so that
    it starts even if the browser is gone)."""
    results = ingest_files(request, report)
    changed = any(
        not isinstance(r, PilotRoiError) and r.status == "loaded" and (r.rows_inserted or r.rows_updated)
        for _n, r in results
    )
    return UploadOutcome(
        False, results, reestimating=changed and reestimate.request_run(request.warehouse, request.username)
    )
