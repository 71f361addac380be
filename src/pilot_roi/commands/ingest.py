"""`pilot-roi ingest FILE [--dry-run] [--skip-invalid] [--format json]`: load a metric file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pilot_roi.commands import require_input_file
from pilot_roi.errors import PilotRoiError
from pilot_roi.i18n import t
from pilot_roi.ingest import IngestReport, ingest_file
from pilot_roi.settings import Settings
from pilot_roi.warehouse import connect, migrate, require_current_schema, require_writable

_PRINTED_ERRORS = 50


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the `ingest` subcommand."""
    parser = subparsers.add_parser("ingest", parents=[common], help="load a metric file (CSV, TSV, XLSX, Parquet)")
    parser.add_argument("file", help="the metric file")
    parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    parser.add_argument("--skip-invalid", action="store_true", help="load the valid rows, record the rejected ones")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def render_text(report: IngestReport, lang: str) -> list[str]:
    """The report as lines of text in `lang`: a summary, notes, then the errors (the first 50)."""
    lines = [
        t(
            "ingest.summary",
            lang,
            file=report.file_name,
            status=t(f"ingest.status.{report.status}", lang),
            rows_read=report.rows_read,
            rows_inserted=report.rows_inserted,
            rows_updated=report.rows_updated,
            rows_unchanged=report.rows_unchanged,
            rows_rejected=report.rows_rejected,
        )
    ]
    if report.dry_run:
        lines.append(t("ingest.dry_run", lang))
    lines.extend(f"  {note}" for note in report.notes)
    for error in report.errors[:_PRINTED_ERRORS]:
        if error.line is None:
            lines.append(f"  {error.message}")
            continue
        where = f"{error.sheet}: " if error.sheet else ""
        lines.append(
            "  "
            + t(
                "ingest.error_line",
                lang,
                where=where,
                line=error.line,
                column=error.column or "",
                message=error.message,
            )
        )
    hidden = report.errors_total - min(len(report.errors), _PRINTED_ERRORS)
    if hidden > 0:
        lines.append("  " + t("ingest.more_errors", lang, count=hidden))
    return lines


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest the file; exit 0 when loaded or unchanged, 1 when rejected."""
    path = require_input_file(args.file)
    # a dry run writes nothing: a user who may only read the warehouse can still check a file against it
    read_only = args.dry_run and not _may_write(settings.warehouse)
    con = connect(settings.warehouse, read_only=read_only)
    try:
        if read_only:
            require_current_schema(con, str(settings.warehouse))
        else:
            require_writable(settings.warehouse)
            migrate(con, path_label=str(settings.warehouse))
        report = ingest_file(
            con,
            path,
            uploaded_by=settings.user,
            mode="skip_invalid" if args.skip_invalid else "all_or_nothing",
            dry_run=args.dry_run,
            lang=settings.lang,
        )
    finally:
        con.close()
    if args.format == "json":
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        stream = sys.stdout if report.status != "rejected" else sys.stderr
        for line in render_text(report, settings.lang):
            print(line, file=stream)
    return 1 if report.status == "rejected" else 0


def _may_write(warehouse: Path) -> bool:
    try:
        require_writable(warehouse)
    except PilotRoiError:
        return False
    return True
