"""`pilot-roi init`: create or upgrade the warehouse file."""

from __future__ import annotations

import argparse

from pilot_roi.i18n import t
from pilot_roi.settings import Settings
from pilot_roi.warehouse import connect, migrate, require_writable, schema_version


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the `init` subcommand."""
    parser = subparsers.add_parser("init", parents=[common], help="create or upgrade the warehouse")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Apply pending migrations and say where the warehouse stands."""
    require_writable(settings.warehouse)
    con = connect(settings.warehouse, create=True)
    try:
        applied = migrate(con, path_label=str(settings.warehouse))
        version = schema_version(con)
    finally:
        con.close()
    print(t("cli.init_done", settings.lang, path=settings.warehouse, applied=applied, version=version))
    return 0
