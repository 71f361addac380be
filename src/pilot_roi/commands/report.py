"""`pilot-roi report`: write the year-end report, or freeze a run as the official result of a year.

    pilot-roi report --year 2025 --format pdf|xlsx|csv|json --lang ru|kk|en --out PATH [--run RUN_ID]
    pilot-roi report freeze --year 2025 [--run RUN_ID] [--format text|json]

Writing a report records an `export` event in the audit log (with the file's SHA-256); freezing records
a `report_freeze` event.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from pilot_roi import audit, clock
from pilot_roi.errors import InvalidInput, Problem, UsageProblem
from pilot_roi.i18n import t
from pilot_roi.reports import RENDERERS, freeze_report, load_report
from pilot_roi.settings import Settings
from pilot_roi.warehouse import connect, migrate, require_writable, transaction
from pilot_roi.writable import closed_folder

FORMATS = tuple(RENDERERS)


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `report` (write a report) and `report freeze`."""
    parser = subparsers.add_parser("report", parents=[common], help="year-end report (PDF, XLSX, CSV); freeze a run")
    parser.add_argument(
        "action", nargs="?", choices=("freeze",), help="freeze: mark a run as the year's official result"
    )
    parser.add_argument("--year", required=True, type=int, help="calendar year of the report")
    parser.add_argument("--format", choices=(*FORMATS, "text"), default=None, help="report format (default pdf)")
    parser.add_argument("--out", help="file to write (report only)")
    parser.add_argument("--run", type=int, default=None, help="estimate run id (default: frozen run, else latest)")
    parser.set_defaults(handler=run)


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise InvalidInput([Problem("report.bad_year", params={"value": year})])
    this_year = clock.today().year
    if year > this_year:  # a report of a year not yet begun, or a freeze that no later run could ever replace
        raise InvalidInput([Problem("cli.report.future_year", params={"year": year, "this_year": this_year})])


def _check_options(args: argparse.Namespace) -> None:
    """Refuse options the chosen action does not take, rather than ignore them (exit 2, nothing done)."""
    if args.action == "freeze":
        if args.out:
            raise UsageProblem([Problem("cli.report.freeze_takes_no_out", params={"out": args.out})])
        if args.format not in (None, "text", "json"):
            raise UsageProblem([Problem("cli.report.freeze_format", params={"format": args.format})])
        return
    if args.format is not None and args.format not in RENDERERS:
        raise UsageProblem(
            [Problem("cli.report.bad_format", params={"format": args.format, "allowed": ", ".join(FORMATS)})]
        )
    if not args.out:  # an option left out, as argparse's own usage errors (exit 2), not a refused input (exit 1)
        fmt = args.format or "pdf"
        raise UsageProblem([Problem("cli.report.needs_out", params={"year": args.year, "format": fmt})])


def _check_out(out: Path) -> None:
    """Refuse, before any work, an `--out` that names a folder or lies in a folder this user may not write.

    The report is written beside `out` first (`<name>.partial`) and then renamed over it: the folder must
    allow both.
    """
    if not out.parent.is_dir():
        raise InvalidInput([Problem("report.out_dir_missing", params={"path": str(out.parent)})])
    if out.is_dir():
        raise InvalidInput([Problem("report.out_is_folder", params={"path": str(out)})])
    if closed_folder(out) is not None:
        raise InvalidInput(
            [Problem("report.out_dir_not_writable", params={"path": str(out), "folder": str(out.parent)})]
        )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Write the report file, or freeze; exit 0 when done, 1 when refused, 2 when the options do not fit."""
    _check_options(args)
    _check_year(args.year)
    if args.action == "freeze":
        return _freeze(args, settings)
    fmt = args.format or "pdf"
    out = Path(args.out)
    _check_out(out)
    con = connect(settings.warehouse)
    try:
        require_writable(settings.warehouse)  # the export is recorded in the warehouse's audit log
        migrate(con, path_label=str(settings.warehouse))
        report = load_report(con, args.year, args.run)
        tmp = out.with_name(out.name + ".partial")
        try:
            RENDERERS[fmt](report, settings.lang, tmp)
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        data = out.read_bytes()
        r = report.reproducibility
        with transaction(con):
            audit.record(
                con,
                settings.user,
                "export",
                f"report:{args.year}",
                {
                    "year": args.year,
                    "format": fmt,
                    "lang": settings.lang,
                    "run_id": r.run_id,
                    "frozen": r.frozen,
                    "file": out.name,
                    "bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                },
            )
    finally:
        con.close()
    if fmt == "json":  # `--format json` promises scripts one JSON document on stdout, whatever the outcome
        document = {"status": "written", "year": args.year, "format": fmt, "lang": settings.lang,
                    "run_id": r.run_id, "frozen": r.frozen, "path": str(out), "bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
        print(json.dumps(document, ensure_ascii=False))
        return 0
    frozen = t("report.written_frozen", settings.lang) if r.frozen else ""
    print(t("report.written", settings.lang, year=args.year, format=fmt, run=r.run_id, frozen=frozen, path=str(out)))
    return 0


def _freeze(args: argparse.Namespace, settings: Settings) -> int:
    con = connect(settings.warehouse)
    try:
        require_writable(settings.warehouse)
        migrate(con, path_label=str(settings.warehouse))
        report = freeze_report(con, args.year, args.run, username=settings.user)
    finally:
        con.close()
    s = report.summary
    if args.format == "json":
        print(
            json.dumps(
                {
                    "status": "frozen",
                    "year": args.year,
                    "run_id": report.reproducibility.run_id,
                    "pilots": s.n_pilots,
                    "estimates": s.n_estimates,
                    "demonstrated_annual_gain_kzt": s.demonstrated_annual_gain.value,
                },
                ensure_ascii=False,
            )
        )
    else:
        print(
            t(
                "report.frozen_done",
                settings.lang,
                year=args.year,
                run=report.reproducibility.run_id,
                pilots=s.n_pilots,
                estimates=s.n_estimates,
            )
        )
    return 0
