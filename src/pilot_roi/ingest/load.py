"""Loading typed observations into the warehouse: validate, stage, classify, merge in one transaction.

The merge is the fast path measured in ENVIRONMENT.md: a staging view over the validated frame, a join with
the current values, then in ONE transaction the restated current rows move to `observation_superseded`
(closed at the upload's time, with the upload that replaced them), are deleted from `observation_current`,
and the new and restated rows are inserted. There is no PRIMARY KEY index: each key stays unique by
construction (the validator rejects conflicting duplicates, unchanged keys are never re-inserted) and
`pipelines/audits/duplicate_current_keys.sql` checks it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable, Collection
from datetime import date
from typing import Any

import duckdb
import polars as pl

from pilot_roi import audit
from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.i18n import t
from pilot_roi.ingest.model import (
    ERROR_SCHEMA,
    FIELDS,
    REPORT_ERRORS_MAX,
    STORED_ERRORS_MAX,
    IngestError,
    IngestReport,
    ParsedFile,
    Status,
    check_mode,
    empty_errors,
    error_rows,
)
from pilot_roi.ingest.validate import RegistryView, validate_observations
from pilot_roi.resources import read_sql
from pilot_roi.warehouse import transaction
from pilot_roi.warehouse.quality_summary import refresh_quality_summary

#: Called with the name of each stage as the load reaches it ("validated", "staged", "merged", "committing";
#: a dry run stops after "validated"); `ingest_file` first reports "read" once the file is parsed.
StageCallback = Callable[[str], None]

_REQUIRED = {"site_code": pl.String, "metric_code": pl.String, "period": pl.Date, "value": pl.Float64}


def frame_to_parsed(frame: pl.DataFrame, *, source_format: str = "frame") -> ParsedFile:
    """Wrap an already clean frame [site_code, metric_code, period, value] as a ParsedFile.

    The "line" of an observation is its 1-based row number in the frame. Missing columns or types that cannot
    be cast are refused with InvalidInput; null or non-finite values become row errors.
    """
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise InvalidInput([Problem("ingest.frame_missing_columns", params={"columns": ", ".join(missing)})])
    try:
        typed = frame.select([pl.col(c).cast(dtype) for c, dtype in _REQUIRED.items()])
    except pl.exceptions.PolarsError as exc:
        raise InvalidInput([Problem("ingest.frame_bad_types", params={"detail": str(exc).splitlines()[0]})]) from exc
    typed = typed.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_rec"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_line"),
    )
    errors = [empty_errors()]
    for field in ("site_code", "metric_code", "period"):
        missing_cells = typed.filter(pl.col(field).is_null())
        if not missing_cells.is_empty():
            errors.append(
                error_rows(missing_cells, sheet=None, column=pl.lit(field), value=pl.lit(""), code="ingest.empty")
            )
    bad = typed.select((pl.col("value").is_null() | ~pl.col("value").is_finite()).fill_null(True).alias("bad"))["bad"]
    if bool(bad.any()):
        subset = typed.filter(bad)
        errors.append(
            error_rows(
                subset, sheet=None, column=pl.lit("value"), value=pl.col("value"), code="ingest.value_not_number"
            )
        )
        typed = typed.with_columns(pl.when(~bad).then(pl.col("value")).alias("value"))
    return ParsedFile(
        frame=typed,
        errors=pl.concat(errors),
        notes=(),
        columns={c: c for c in _REQUIRED},
        source_format=source_format,
    )


def frame_sha256(frame: pl.DataFrame) -> tuple[str, int]:
    """SHA-256 and size of the frame's Arrow IPC serialisation (the identity of a frame upload)."""
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    data = buffer.getvalue()
    return hashlib.sha256(data).hexdigest(), len(data)


def load_observations(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    *,
    file_name: str,
    uploaded_by: str,
    sha256: str | None = None,
    size_bytes: int | None = None,
    allowed_subsidiaries: Collection[str] | None = None,
    mode: str = "all_or_nothing",
    dry_run: bool = False,
    lang: str = "en",
    today: date | None = None,
    source_format: str = "frame",
    on_stage: StageCallback | None = None,
) -> IngestReport:
    """Validate and merge an already clean frame of observations into the warehouse.

    `frame` has columns site_code (str), metric_code (str), period (date: monthly and coarser periods as the
    first day of the period, weekly as the Monday), value (float, in the metric's registry unit); other
    columns are ignored. Every row is checked against the registry exactly as a file upload is (unknown codes,
    subsidiaries not in `allowed_subsidiaries` (None: all), frequency fit, future periods, bounds, duplicate
    keys); an error's line is the row's 1-based position in the frame.

    `mode`: "all_or_nothing" (any error rejects the whole frame) or "skip_invalid" (valid rows load, the rest
    are reported). `dry_run` computes the report and writes nothing. `sha256`/`size_bytes` identify the
    upload in `upload_log`; by default they are computed from the frame. Every non-dry-run call records one
    upload (status loaded, unchanged, rejected; `partial` in upload_log when skip_invalid dropped rows) and an
    `upload` audit event (plus `restatement` when current values changed), in one transaction.
    Must not be called inside an open transaction of `con`.
    """
    check_mode(mode)
    parsed = frame_to_parsed(frame, source_format=source_format)
    if sha256 is None or size_bytes is None:
        digest, size = frame_sha256(frame)
        sha256 = sha256 or digest
        size_bytes = size if size_bytes is None else size_bytes
    return load_parsed(
        con,
        parsed,
        file_name=file_name,
        sha256=sha256,
        size_bytes=size_bytes,
        uploaded_by=uploaded_by,
        allowed_subsidiaries=allowed_subsidiaries,
        mode=mode,
        dry_run=dry_run,
        lang=lang,
        today=today,
        on_stage=on_stage,
    )


def render_notes(notes: Collection[tuple[str, dict[str, Any]]], lang: str) -> tuple[str, ...]:
    """Notes (message key, parameters) as text in `lang`."""
    return tuple(t(key, lang, **params) for key, params in notes)


def _render_errors(errors: pl.DataFrame, lang: str, limit: int) -> pl.DataFrame:
    """The first `limit` errors (file order) with a `message` column in `lang`."""
    head = errors.sort("sheet", "line", "column", nulls_last=True).head(limit)
    messages = [
        t(
            code,
            lang,
            value=value if value is not None else "",
            detail=detail if detail is not None else "",
            column=column or "",
            line=line if line is not None else "?",
        )
        for code, value, detail, column, line in head.select("code", "value", "detail", "column", "line").iter_rows()
    ]
    return head.with_columns(pl.Series("message", messages, dtype=pl.String))


def _as_tuples(rendered: pl.DataFrame, limit: int) -> tuple[IngestError, ...]:
    return tuple(
        IngestError(sheet=s, line=line, column=c, value=v, code=code, message=m)
        for s, line, c, v, code, m in rendered.head(limit)
        .select("sheet", "line", "column", "value", "code", "message")
        .iter_rows()
    )


def load_parsed(
    con: duckdb.DuckDBPyConnection,
    parsed: ParsedFile,
    *,
    file_name: str,
    sha256: str,
    size_bytes: int,
    uploaded_by: str,
    allowed_subsidiaries: Collection[str] | None = None,
    mode: str = "all_or_nothing",
    dry_run: bool = False,
    lang: str = "en",
    today: date | None = None,
    on_stage: StageCallback | None = None,
    extra_notes: Collection[tuple[str, dict[str, Any]]] = (),
) -> IngestReport:
    """Validate a ParsedFile against the registry and merge it (see load_observations for the contract)."""
    check_mode(mode)
    stage = on_stage or (lambda _name: None)
    registry = RegistryView.from_warehouse(con)
    frame, found, notes = validate_observations(
        parsed.frame,
        registry,
        columns=parsed.columns,
        sheet=parsed.sheet,
        allowed_subsidiaries=allowed_subsidiaries,
        today=today,
    )
    all_notes = [*extra_notes, *parsed.notes, *notes]
    errors = pl.concat([parsed.errors, found]) if not found.is_empty() else parsed.errors
    # Safety net: a row with a missing field must carry an error, whatever path let it through.
    incomplete = frame.filter(pl.any_horizontal(pl.col(f).is_null() for f in FIELDS))
    if not incomplete.is_empty():
        unexplained = incomplete.join(errors.select(pl.col("_rec")).drop_nulls().unique(), on="_rec", how="anti")
        if not unexplained.is_empty():
            errors = pl.concat(
                [
                    errors,
                    error_rows(
                        unexplained,
                        sheet=parsed.sheet,
                        column=pl.lit(None, pl.String),
                        value=pl.lit(None, pl.String),
                        code="ingest.empty",
                    ),
                ]
            )
    rows_read = parsed.frame.height
    bad_recs = errors.filter(pl.col("_rec").is_not_null())["_rec"].unique()
    file_level = errors.filter(pl.col("_rec").is_null()).height > 0
    rows_rejected = bad_recs.len() if not file_level else rows_read
    valid = frame.filter(~pl.col("_rec").is_in(bad_recs.implode())) if bad_recs.len() else frame
    rejected = errors.height > 0 and (mode == "all_or_nothing" or file_level or valid.is_empty())
    if rejected or (rows_read == 0):
        if rows_read == 0 and errors.height == 0:
            errors = pl.concat(
                [
                    errors,
                    pl.DataFrame(
                        {
                            "_rec": [None],
                            "sheet": [parsed.sheet],
                            "line": [None],
                            "column": [None],
                            "value": [None],
                            "code": ["ingest.no_rows"],
                            "detail": [None],
                        },
                        schema=ERROR_SCHEMA,
                    ),
                ]
            )
        valid = valid.clear()
        rejected = True
    stage("validated")

    rendered = _render_errors(errors, lang, STORED_ERRORS_MAX)
    report_errors = _as_tuples(rendered, REPORT_ERRORS_MAX)
    base = {
        "rows_read": rows_read,
        "rows_rejected": rows_rejected,
        "errors": report_errors,
        "errors_total": errors.height,
        "dry_run": dry_run,
        "file_name": file_name,
        "sha256": sha256,
        "source_format": parsed.source_format,
        "sheet": parsed.sheet,
    }
    if errors.height > STORED_ERRORS_MAX:
        all_notes.append(("ingest.note.errors_truncated", {"stored": STORED_ERRORS_MAX, "total": errors.height}))
    text_notes = render_notes(all_notes, lang)

    stage_frame = valid.select("site_code", "metric_code", "period", "value")
    con.register("ingest_frame", stage_frame)
    con.register("ingest_errors", rendered.select("sheet", "line", "column", "value", "code", "message"))
    try:
        con.execute(read_sql("ingest/stage_observations.sql"))
        if dry_run:
            counts = _classify(con)
            return _report(rejected, counts, base, None, text_notes)
        with transaction(con):
            counts = _classify(con) if not rejected else (0, 0, 0)
            status = _status(rejected, counts)
            stored_status = "partial" if status == "loaded" and rows_rejected else status
            row = con.execute(
                read_sql("ingest/insert_upload.sql"),
                {
                    "file_name": file_name,
                    "sha256": sha256,
                    "size_bytes": size_bytes,
                    "uploaded_by": uploaded_by,
                    "status": stored_status,
                    "rows_read": rows_read,
                    "rows_inserted": counts[0],
                    "rows_updated": counts[1],
                    "rows_unchanged": counts[2],
                    "rows_rejected": rows_rejected,
                    "source_format": parsed.source_format,
                    "notes": "\n".join(text_notes) or None,
                },
            ).fetchall()[0]
            upload_id, uploaded_at = int(row[0]), row[1]
            if rendered.height:
                con.execute(read_sql("ingest/insert_upload_errors.sql"), {"upload_id": upload_id})
            stage("staged")
            if status == "loaded":
                if counts[1]:
                    params = {"upload_id": upload_id, "valid_to": uploaded_at}
                    con.execute(read_sql("ingest/supersede_changed.sql"), params)
                    con.execute(read_sql("ingest/delete_changed.sql"))
                con.execute(read_sql("ingest/insert_current.sql"), {"upload_id": upload_id, "valid_from": uploaded_at})
                refresh_quality_summary(con, "upload", upload_id=upload_id)
            stage("merged")
            details = {
                "upload_id": upload_id,
                "status": stored_status,
                "sha256": sha256,
                "rows_read": rows_read,
                "rows_inserted": counts[0],
                "rows_updated": counts[1],
                "rows_unchanged": counts[2],
                "rows_rejected": rows_rejected,
            }
            audit.record(con, uploaded_by, "upload", file_name, details)
            if counts[1]:
                audit.record(
                    con, uploaded_by, "restatement", file_name, {"upload_id": upload_id, "rows_updated": counts[1]}
                )
            con.execute(read_sql("ingest/cleanup.sql"))
            stage("committing")
        return _report(rejected, counts, base, upload_id, text_notes)
    finally:
        con.unregister("ingest_frame")
        con.unregister("ingest_errors")
        with contextlib.suppress(duckdb.Error):
            con.execute(read_sql("ingest/cleanup.sql"))


def _classify(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """(inserted, updated, unchanged) that merging the staged rows would give."""
    con.execute(read_sql("ingest/match_current.sql"))
    row = con.execute(read_sql("ingest/count_changes.sql")).fetchall()[0]
    staged, updated, unchanged = (int(x or 0) for x in row)
    return staged - updated - unchanged, updated, unchanged


def _status(rejected: bool, counts: tuple[int, int, int]) -> Status:
    if rejected:
        return "rejected"
    return "loaded" if counts[0] + counts[1] else "unchanged"


def _report(
    rejected: bool,
    counts: tuple[int, int, int],
    base: dict[str, Any],
    upload_id: int | None,
    notes: tuple[str, ...],
) -> IngestReport:
    if rejected:
        counts = (0, 0, 0)
    return IngestReport(
        status=_status(rejected, counts),
        rows_inserted=counts[0],
        rows_updated=counts[1],
        rows_unchanged=counts[2],
        upload_id=upload_id,
        notes=notes,
        **base,
    )


__all__ = ["StageCallback", "empty_errors", "frame_sha256", "frame_to_parsed", "load_observations", "load_parsed"]
