"""Dashboard fixtures: the real demo warehouse (demo builder + estimate runner), built once per session, and
headless Debian Chromium for Dash's browser tests (`pytest --headless`)."""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

from headless_chromium import chromium_options

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:  # `dashboards/` sits at the repository root, beside src/
    sys.path.insert(0, str(_ROOT))


def pytest_setup_options() -> Options:
    return chromium_options("--window-size=1400,1000")


@pytest.fixture(scope="session")
def demo_warehouse_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse with a finished estimate run, built by the real demo builder and runner.

    Built once per test session, shared by pytest-xdist workers (a file lock; the first worker builds).
    PILOT_ROI_TEST_DEMO=PATH uses a demo warehouse built beforehand instead (it is copied, never changed).
    """
    prebuilt = os.environ.get("PILOT_ROI_TEST_DEMO")
    if prebuilt:
        return Path(prebuilt)
    from pilot_roi.demo.build import build_demo

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / "dashboard-demo"
    path = folder / "demo.duckdb"
    with (root / "dashboard-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "ok").exists():
            folder.mkdir(exist_ok=True)
            summary = build_demo(path)
            steps = {s.name: s.status for s in summary.steps}
            if steps.get("estimates") != "done":
                pytest.fail(f"the demo's estimate run did not finish: {summary.steps}")
            (folder / "ok").write_text("built\n", encoding="utf-8")
    return path


@pytest.fixture
def demo_warehouse(demo_warehouse_master: Path, tmp_path: Path) -> Path:
    """A private copy of the demo warehouse (tests that upload change it)."""
    target = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_warehouse_master, target)
    return target


@pytest.fixture(scope="session")
def no_run_warehouse_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse without its estimate run: registry, observations and accounts, no run yet."""
    from pilot_roi.demo.build import build_demo

    path = tmp_path_factory.mktemp("no-run") / "no-run.duckdb"
    build_demo(path, estimates=False)
    return path


@pytest.fixture
def no_run_warehouse(no_run_warehouse_master: Path, tmp_path: Path) -> Path:
    """A private copy of the warehouse with no run yet (tests run the estimates into it)."""
    target = tmp_path / "no-run.duckdb"
    shutil.copyfile(no_run_warehouse_master, target)
    return target
