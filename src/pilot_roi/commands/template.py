"""`pilot-roi template --subsidiary CODE --out FILE.xlsx`: a ready-to-fill workbook for one subsidiary."""

from __future__ import annotations

import argparse
from pathlib import Path

from pilot_roi.commands import with_next_steps
from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.i18n import t
from pilot_roi.ingest.template import write_template
from pilot_roi.settings import Settings
from pilot_roi.warehouse import connect
from pilot_roi.writable import closed_folder


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the `template` subcommand."""
    parser = subparsers.add_parser("template", parents=[common], help="write an XLSX upload template")
    parser.add_argument("--subsidiary", required=True, help="subsidiary code, e.g. KMG")
    parser.add_argument("--out", required=True, help="the XLSX file to write")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Write the template; exit 1 if the subsidiary is unknown or `--out` cannot be written."""
    _check_out(Path(args.out))
    con = connect(settings.warehouse, read_only=True)
    try:
        with with_next_steps(con):
            out = write_template(con, args.subsidiary, args.out, lang=settings.lang)
    finally:
        con.close()
    print(t("template.written", settings.lang, path=str(out)))
    return 0


def _check_out(out: Path) -> None:
    """Refuse an `--out` that names a folder, or whose folder (the nearest one that exists: the rest is
    created) this user may not write, before the workbook is built."""
    if out.is_dir():
        raise InvalidInput([Problem("template.out_is_folder", params={"path": str(out)})])
    if out.suffix.lower() != ".xlsx":  # the template is a workbook: t.csv would be an XLSX that no tool opens as CSV
        params = {"path": str(out), "name": out.stem or "template"}
        raise InvalidInput([Problem("template.out_not_xlsx", params=params)])
    folder = closed_folder(out)
    if folder is not None:
        raise InvalidInput([Problem("template.out_dir_not_writable", params={"path": str(out), "folder": str(folder)})])
