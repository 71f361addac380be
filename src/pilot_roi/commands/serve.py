"""`pilot-roi serve [--host 127.0.0.1] [--port 8050]`: the dashboard on gunicorn, a production WSGI server.

One worker process with several threads: DuckDB allows one writing process per file, and the dashboard
both reads and writes (uploads); the threads share one connection, a cursor per request
(see dashboards/context.py). `serve(warehouse, host, port)` is what `pilot-roi demo` calls.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any

from pilot_roi.errors import PilotRoiError, Problem, WarehouseNotInitialised
from pilot_roi.i18n.argparse_text import ArgumentValueError
from pilot_roi.resources import _REPO_ROOT
from pilot_roi.settings import Settings

GIL_SWITCH_INTERVAL_S = 0.001
"""How often the server's threads may take the GIL from each other (Python's default is 0.005 s)."""


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535 (a larger one failed deep in the server as an internal error)."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise ArgumentValueError("cli.usage.bad_port", value=repr(text))
    return port


def _threads(text: str) -> int:
    """An argparse type: how many request threads, at least 1. Read when `serve` is parsed, not when the parser is
    built, so a bad PILOT_ROI_THREADS (or PILOT_ROI_PORT) is a usage error of `serve`, not a traceback of every
    command."""
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ArgumentValueError("cli.usage.bad_threads", value=repr(text))
    return threads


def require_free_port(host: str, port: int) -> None:
    """Refuse, in the user's language and before any work, an address the server could not listen on: a port
    another program holds (gunicorn would retry five times, log in English, then stop), one this user may not
    open, or a host name that does not resolve."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc)
        raise PilotRoiError([Problem("serve.bad_host", params={"host": host, "detail": detail})]) from exc
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does: a closing port is free
        try:
            sock.bind(address)
        except OSError as exc:
            key = "serve.port_in_use" if exc.errno == errno.EADDRINUSE else "serve.cannot_listen"
            params = {"host": host, "port": port, "next": port + 1 if port < 65535 else 8050, "detail": exc.strerror}
            raise PilotRoiError([Problem(key, params=params)]) from exc


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the `serve` subcommand."""
    parser = subparsers.add_parser("serve", parents=[common], help="serve the dashboard (gunicorn)")
    parser.add_argument("--host", default=os.environ.get("PILOT_ROI_HOST", "127.0.0.1"), help="address to listen on")
    parser.add_argument("--port", type=port_number, default=os.environ.get("PILOT_ROI_PORT", "8050"), help="port")
    parser.add_argument(
        "--threads", type=_threads, default=os.environ.get("PILOT_ROI_THREADS", "8"), help="request threads (default 8)"
    )
    parser.add_argument(
        "--production",
        action="store_true",
        default=os.environ.get("PILOT_ROI_PRODUCTION", "") == "1",
        help="secure cookies and HSTS; requires PILOT_ROI_SECRET_KEY (also: PILOT_ROI_PRODUCTION=1)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until interrupted."""
    serve(settings.warehouse, args.host, args.port, threads=args.threads, production=args.production)
    return 0


def load_create_app() -> Any:
    """`dashboards.app.create_app`; in a source checkout the repository root is put on the path first."""
    try:
        module = importlib.import_module("dashboards.app")
    except ModuleNotFoundError as exc:
        if exc.name not in ("dashboards", "dashboards.app"):
            raise
        if not (_REPO_ROOT / "dashboards" / "app.py").is_file():
            raise
        sys.path.insert(0, str(_REPO_ROOT))
        module = importlib.import_module("dashboards.app")
    return module.create_app


def build_wsgi_app(warehouse: Path, *, production: bool = False, secret_key: str | None = None) -> Any:
    """The Flask server of the dashboard for `warehouse` (gunicorn calls it in the worker, after forking), with the
    re-estimation's process pool warming in the background."""
    warehouse = Path(warehouse)
    if not warehouse.exists():
        raise WarehouseNotInitialised(str(warehouse))
    create_app = load_create_app()
    return create_app(warehouse, secret_key=secret_key, production=production, warm_pool=True).server


def log_to_the_servers_log(server_log: logging.Logger, names: tuple[str, ...] = ("pilot_roi", "dashboards")) -> None:
    """Send the product's own log lines (the warm pool's start, a dashboard error's reference) where the server's
    go, at its level. Under the command line's set-up (WARNING, on the root logger) the pool's INFO lines never
    reached the operator."""
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers = list(server_log.handlers)
        logger.setLevel(server_log.level)
        logger.propagate = False  # the root's handler would print each line a second time


def upgrade_warehouse(path: Path) -> int:
    """Apply the migrations this version has and `path` lacks, before the server starts (as every other command
    does when it opens the warehouse): pages read tables a newer version adds. The connection is closed again
    before gunicorn forks its worker. Returns how many were applied."""
    from pilot_roi.warehouse import connect, migrate

    if not path.exists():
        raise WarehouseNotInitialised(str(path))
    con = connect(path)
    try:
        return migrate(con, path_label=str(path))
    finally:
        con.close()


def serve(
    warehouse: str | Path,
    host: str = "127.0.0.1",
    port: int = 8050,
    *,
    threads: int = 8,
    production: bool = False,
    secret_key: str | None = None,
) -> None:
    """Run the dashboard on gunicorn (one worker, `threads` threads) until interrupted."""
    from gunicorn.app.base import BaseApplication

    path = Path(warehouse)
    upgrade_warehouse(path)
    if production and len(secret_key or os.environ.get("PILOT_ROI_SECRET_KEY", "")) < 32:
        raise PilotRoiError([Problem("security.secret_key_missing")])
    require_free_port(host, port)
    if not secret_key and not os.environ.get("PILOT_ROI_SECRET_KEY"):
        # One key for the worker's lifetime; the worker is the only process, so sessions stay valid.
        import secrets

        secret_key = secrets.token_hex(32)

    class _Server(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{int(port)}",
                "workers": 1,
                "worker_class": "gthread",
                "threads": max(1, int(threads)),
                "timeout": 300,
                "graceful_timeout": 20,
                "accesslog": os.environ.get("PILOT_ROI_ACCESS_LOG"),
                "errorlog": "-",
                "loglevel": os.environ.get("PILOT_ROI_LOG_LEVEL", "info"),
                "preload_app": False,  # open DuckDB in the worker, never before a fork
                "limit_request_line": 8190,
            }
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            # A request alternates short Python steps with DuckDB calls, which release the GIL; with Python's
            # default 5 ms switch interval a thread coming back from DuckDB waits up to 5 ms per call for the
            # GIL while other threads run (a convoy): at 1 ms a query thread beside a busy one ran 4x the
            # queries, the busy one no slower (bench/results/dashboard.md).
            sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
            log_to_the_servers_log(logging.getLogger("gunicorn.error"))  # set up by now, in this worker
            return build_wsgi_app(path, production=production, secret_key=secret_key)

    print(f"pilot-roi dashboard: http://{host}:{port}/  (warehouse {path})", flush=True)
    _Server().run()
