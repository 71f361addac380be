"""`pilot-roi registry load FILE.yaml`: create or update reference data and pilots."""

from __future__ import annotations

import argparse
import json

from pilot_roi.commands import require_input_file
from pilot_roi.registry import load_registry_file
from pilot_roi.settings import Settings
from pilot_roi.warehouse import connect, migrate, require_writable


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `registry load`."""
    parser = subparsers.add_parser("registry", parents=[common], help="reference data and pilots")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = actions.add_parser("load", parents=[common], help="load a registry YAML file")
    load.add_argument("file")
    load.add_argument("--format", choices=("text", "json"), default="text")
    load.set_defaults(handler=run_load)


def run_load(args: argparse.Namespace, settings: Settings) -> int:
    """Validate the file whole, then upsert it; print what changed."""
    path = require_input_file(args.file)
    require_writable(settings.warehouse)
    con = connect(settings.warehouse, create=True)
    try:
        migrate(con, path_label=str(settings.warehouse))
        summary = load_registry_file(con, path, username=settings.user)
    finally:
        con.close()
    if args.format == "json":
        document = {
            "status": "loaded",
            "changes": summary.as_dict(),
            "kept": summary.kept(),
            "outside_bounds": summary.outside_bounds_dict(),
        }
        print(json.dumps(document, ensure_ascii=False))
    else:
        for line in summary.lines(settings.lang):
            print(line)
    return 0
