"""`pilot-roi estimate` (not ready yet: it says so and refuses)."""

from __future__ import annotations

import argparse

from pilot_roi.errors import PilotRoiError, Problem
from pilot_roi.settings import Settings


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the `estimate` subcommand."""
    parser = subparsers.add_parser("estimate", parents=[common], help="(not ready yet)")
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Refuse with a clear message until the feature lands."""
    raise PilotRoiError([Problem("cli.not_available", params={"what": "pilot-roi estimate"})])
