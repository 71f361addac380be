"""Shared data of the security tests: two subsidiaries, their sites and one account per role."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from pilot_roi import auth
from pilot_roi.registry import load_registry_file
from pilot_roi.warehouse import connect, migrate
from registry_sample import sample_registry

REGISTRY = sample_registry("KMG-ANPZ", "KMG-PNHZ", "KTZ-AST")

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Correct-Horse-42"
ACCOUNTS = {  # username: (role, subsidiary)
    "admin": ("admin", None),
    "exec": ("executive", None),
    "rev": ("reviewer", None),
    "eng_kmg": ("engineer", "KMG"),
    "eng_ktz": ("engineer", "KTZ"),
}


def make_security_warehouse(path: Path) -> Path:
    """Migrate, load the two-subsidiary registry and add one account per role (all with PASSWORD)."""
    con = connect(path, create=True)
    try:
        migrate(con)
        registry = path.parent / "registry.yaml"
        registry.write_text(yaml.safe_dump(REGISTRY, allow_unicode=True), encoding="utf-8")
        load_registry_file(con, registry)
        for name, (role, subsidiary) in ACCOUNTS.items():
            auth.add_user(con, name, PASSWORD, role, subsidiary, language="en")
    finally:
        con.close()
    return path


def copy_template(template: Path, target: Path) -> Path:
    """A private copy of the template warehouse (made once per session: argon2 is slow on purpose)."""
    shutil.copyfile(template, target)
    return target


@dataclass(frozen=True)
class Server:
    """A running gunicorn: its base URL, port and the warehouse it serves."""

    url: str
    warehouse: Path
    port: int


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(app_spec: str, warehouse: Path, folder: Path, env: dict[str, str]) -> Iterator[Server]:
    """gunicorn (1 worker, 4 threads) serving `app_spec` on 127.0.0.1 until the block ends; stopped after."""
    port = free_port()
    full_env = {**os.environ, "PILOT_ROI_WAREHOUSE": str(warehouse), **env}
    full_env.pop("PILOT_ROI_SECRET_KEY", None)
    log_path = folder / "gunicorn.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers=1",
                "--threads=4",
                "--graceful-timeout=5",
                f"--bind=127.0.0.1:{port}",
                f"--control-socket={folder / 'gunicorn.ctl'}",
                app_spec,
            ],
            cwd=REPO_ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("server did not start:\n" + log_path.read_text())
                time.sleep(0.1)
            yield Server(url, warehouse, port)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
