"""`ingest_file`: the one entry point the CLI, the upload page and scripts call for a metric file."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.ingest.load import StageCallback, load_parsed
from pilot_roi.ingest.model import ERROR_SCHEMA, IngestReport, ParsedFile, check_mode
from pilot_roi.ingest.parse import parse_sheet
from pilot_roi.ingest.readers import FAST_CSV_BYTES, read_raw
from pilot_roi.ingest.validate import RegistryView
from pilot_roi.upload_guard import check_decompression


def read_metric_file(
    data: bytes, *, file_name: str, registry: RegistryView | None = None, fast_bytes: int = FAST_CSV_BYTES
) -> ParsedFile:
    """Read and parse a metric file (CSV, TSV, XLSX, Parquet) into typed observations and row errors.

    Raises InvalidInput when the file cannot be read at all (empty, unknown encoding, no header row, a broken
    workbook); never another exception for bad input.
    """
    raw = read_raw(data, file_name, fast_bytes=fast_bytes)
    try:
        return parse_sheet(raw, registry)
    except pl.exceptions.PolarsError as exc:  # pragma: no cover - a parser bug must still reach the user cleanly
        raise InvalidInput([Problem("ingest.csv_unreadable", params={"line": "?", "detail": str(exc)[:200]})]) from exc


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_level_error(exc: InvalidInput, lang: str, file_name: str) -> ParsedFile:
    rows = [
        {
            "_rec": None,
            "sheet": None,
            "line": p.params["line"] if isinstance(p.params.get("line"), int) else None,
            "column": None,
            "value": None if p.params.get("value") is None else str(p.params["value"]),
            "code": p.key,
            "detail": p.params.get("detail"),
        }
        for p in exc.problems
    ]
    empty = pl.DataFrame(
        schema={
            "site_code": pl.String,
            "metric_code": pl.String,
            "period": pl.Date,
            "value": pl.Float64,
            "_rec": pl.Int64,
            "_sheet": pl.String,
            "_line": pl.Int64,
            "_period_col": pl.String,
            "_value_col": pl.String,
            "_period_raw": pl.String,
            "_value_raw": pl.String,
        }
    )
    return ParsedFile(empty, pl.DataFrame(rows, schema=ERROR_SCHEMA), (), {}, source_format="unknown")


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path_or_bytes: str | Path | bytes,
    *,
    file_name: str | None = None,
    uploaded_by: str,
    allowed_subsidiaries: Collection[str] | None = None,
    mode: str = "all_or_nothing",
    dry_run: bool = False,
    lang: str = "en",
    today: date | None = None,
    on_stage: StageCallback | None = None,
    fast_bytes: int = FAST_CSV_BYTES,
) -> IngestReport:
    """Read, validate and merge one metric file; every upload (rejected ones too) is recorded unless dry_run.

    `path_or_bytes`: a path, or the file's bytes (then `file_name` names it, for the format and the log).
    `allowed_subsidiaries`: the subsidiaries whose sites the uploader may write (None: all).
    `mode`: "all_or_nothing" (default: any error rejects the whole file) or "skip_invalid".
    `dry_run`: report what would be inserted, updated and unchanged; write nothing.
    A file that cannot be read at all (empty, undecodable, no header) gives a `rejected` report whose single
    error names the problem. Returns an IngestReport (see its docstring); messages are in `lang`.
    `on_stage` is called with each stage's name as the work reaches it: "read" (the file is parsed), then
    the load's stages (see `StageCallback`).
    """
    check_mode(mode)
    if isinstance(path_or_bytes, bytes):
        data = path_or_bytes
        name = file_name or "upload"
    else:
        path = Path(path_or_bytes)
        if not path.is_file():
            raise InvalidInput([Problem("cli.file_not_found", params={"path": str(path)})])
        data = path.read_bytes()
        name = file_name or path.name
    registry = RegistryView.from_warehouse(con)
    size_bytes = len(data)
    # hashlib releases the GIL on big buffers: the digest of a 300 MB file runs beside the parsing.
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(_sha256_hex, data)
        try:
            check_decompression(data)  # an XLSX/Parquet bomb is refused before any reader inflates it
            parsed = read_metric_file(data, file_name=name, registry=registry, fast_bytes=fast_bytes)
        except InvalidInput as exc:
            parsed = _file_level_error(exc, lang, name)
        sha256 = digest.result()
    del data
    if on_stage is not None:
        on_stage("read")
    return load_parsed(
        con,
        parsed,
        file_name=name,
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


__all__: list[Any] = ["ingest_file", "read_metric_file"]
