"""`pilot-roi demo [--port 8050] [--no-serve] [--seed N] [--no-estimate]`: build the demo warehouse, serve it.

The warehouse is `warehouse/demo.duckdb` unless `--warehouse` names another file; the environment variable
PILOT_ROI_WAREHOUSE is ignored here on purpose, so the demo never replaces a real warehouse (and it refuses
to replace any existing file that is not a demo warehouse).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pilot_roi.commands.serve import port_number, require_free_port
from pilot_roi.i18n import t
from pilot_roi.settings import DEMO_WAREHOUSE, Settings
from pilot_roi.warehouse import require_writable

DEFAULT_PORT = 8050
HOST = "127.0.0.1"


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the `demo` subcommand."""
    parser = subparsers.add_parser(
        "demo", parents=[common], help="build the synthetic demo warehouse (warehouse/demo.duckdb) and serve it"
    )
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help=f"dashboard port (default {DEFAULT_PORT})"
    )
    parser.add_argument("--no-serve", action="store_true", help="stop after building the warehouse")
    parser.add_argument("--seed", type=int, default=None, help="generator seed (default: the scenario's)")
    parser.add_argument(
        "--no-estimate", action="store_true", help="skip the estimation run (run `pilot-roi estimate` later)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Build the demo warehouse atomically, report each step, print the log-ins, then serve."""
    from pilot_roi.demo.build import build_demo, check_replaceable
    from pilot_roi.demo.generate import load_scenario

    lang = settings.lang
    path = Path(getattr(args, "warehouse", None) or DEMO_WAREHOUSE)
    seed = args.seed
    # the demo is built beside the file, then renamed over it: refuse at once rather than after the build
    require_writable(path)
    check_replaceable(path)  # before "Building…" is printed: a refusal then reads as the only line
    if not args.no_serve:
        require_free_port(HOST, args.port)  # nor find the port taken only after the build

    def say(key: str, params: dict[str, Any]) -> None:
        print(t(key, lang, **params), flush=True)

    say("demo.building", {"path": path, "seed": seed if seed is not None else load_scenario().seed})
    summary = build_demo(path, seed=seed, lang=lang, estimates=not args.no_estimate, progress=say)

    for step in summary.steps:
        if step.name == "estimates":
            key = "demo.estimates_done" if step.status == "done" else "demo.estimates_failed"
            say(key, {"detail": step.detail, "path": path})
    if summary.coverage is not None:
        total, with_ci, covering = summary.coverage
        say("demo.truth_check", {"covering": covering, "with_ci": with_ci, "total": total})
    say("demo.built", {"path": path, "observations": summary.observations, "pilots": summary.pilots,
                       "seconds": f"{summary.seconds:.1f}"})  # fmt: skip
    if summary.users:
        say("demo.users_title", {})
        for user in summary.users:
            role = t(f"demo.role.{user.role}", lang, subsidiary=user.subsidiary_code or "")
            say("demo.user_line", {"role": role, "username": user.username, "password": user.password})

    if args.no_serve:
        say("demo.no_serve", {"path": path})
        return 0
    from pilot_roi.commands.serve import serve

    say("demo.serve_url", {"url": f"http://{HOST}:{args.port}"})
    serve(path, HOST, args.port)
    return 0
