"""Running the CLI as a user who may not write the warehouse: the prefix that becomes one, and locked copies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest


def other_user_prefix() -> list[str]:
    """The prefix that runs a command as a user who may write only what it was given: [] for an ordinary
    user; for root (who may write anything) `setpriv` to `nobody`, the way a plant engineer's account would.

    Skips the test when that is impossible: root without setpriv, or a checkout `nobody` cannot run
    (e.g. one under /root).
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: no way to be a user without write access")
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import pilot_roi.cli"], capture_output=True, cwd="/", timeout=120, check=False
    )
    if probe.returncode != 0:
        pytest.skip("user nobody cannot run this checkout's Python (a folder on its path is closed to it)")
    return prefix


@dataclass(frozen=True)
class LockedWarehouses:
    """Two copies of a warehouse the other user may not change, and a folder that user may write.

    `read_only_file` is itself read-only; `writable_file` is writable but lies in `locked` (read-only), where
    DuckDB cannot create its `.wal`. `open` is writable by anyone (inputs, outputs). The folder is named
    `locked` on purpose: a word of the path must never be read as DuckDB's "could not set lock".
    """

    locked: Path
    read_only_file: Path
    writable_file: Path
    open: Path


def lock_warehouses(source: Path) -> LockedWarehouses:
    """Copy `source` twice into a new locked folder, outside pytest's own folder (0700, closed to `nobody`)."""
    root = Path(tempfile.mkdtemp(prefix="pilot-roi-readonly-"))
    root.chmod(0o755)
    locked, open_folder = root / "locked", root / "open"
    locked.mkdir()
    open_folder.mkdir()
    open_folder.chmod(0o777)
    made = LockedWarehouses(locked, locked / "read_only.duckdb", locked / "writable.duckdb", open_folder)
    shutil.copyfile(source, made.read_only_file)
    shutil.copyfile(source, made.writable_file)
    made.read_only_file.chmod(0o444)
    made.writable_file.chmod(0o666)
    locked.chmod(0o555)
    return made


def remove_locked(root: Path) -> None:
    """Remove a folder made by `lock_warehouses`."""
    for folder in (root, *(p for p in root.iterdir() if p.is_dir())):
        folder.chmod(0o755)
    shutil.rmtree(root)


def run_cli(prefix: list[str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m pilot_roi ARGS` in a process of its own behind `prefix` (e.g. `as_other_user`), from `/`."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "pilot_roi", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd="/",
        timeout=300,
        check=False,
    )
