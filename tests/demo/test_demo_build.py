"""`pilot-roi demo --no-serve`: a complete synthetic warehouse, built atomically and reproducibly."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pilot_roi.cli import main
from pilot_roi.commands import serve as serve_command
from pilot_roi.demo.build import DEMO_USERS, build_demo, truth_coverage
from pilot_roi.demo.generate import generate, load_demo_registry
from pilot_roi.warehouse import connect, migrate

HAS_AUTH = importlib.util.find_spec("pilot_roi.auth") is not None


def _observations(path: Path) -> pl.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(
            "SELECT site_code, metric_code, period, value FROM observations ORDER BY site_code, metric_code, period"
        ).pl()
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    # --no-estimate: the estimation run belongs to the runner's tests and costs ~20-60 s on this machine
    code = main(["demo", "--no-serve", "--no-estimate", "--warehouse", str(path), "--lang", "en"])
    return path, code, ""


def test_demo_builds_a_complete_warehouse(built: tuple[Path, int, str], capsys: pytest.CaptureFixture[str]) -> None:
    path, code, _ = built
    assert code == 0
    expected = generate()
    registry = load_demo_registry()
    con = duckdb.connect(str(path), read_only=True)
    try:
        info = dict(con.execute("SELECT key, value FROM warehouse_info").fetchall())
        assert info["demo"] == "true"
        assert info["data_start"] == "2023-01-01"
        counts = con.execute(
            """SELECT (SELECT count(*) FROM subsidiaries), (SELECT count(*) FROM sites),
                      (SELECT count(*) FROM pilots), (SELECT count(*) FROM observations),
                      (SELECT count(*) FROM demo_truths), (SELECT count(*) FROM demo_truth_pilots),
                      (SELECT count(*) FROM demo_truth_vs_estimates WHERE effect IS NULL)"""
        ).fetchone()
        assert counts == (
            len(registry.subsidiaries),
            len(registry.sites),
            len(registry.pilots),
            expected.observations.height,
            expected.truths.height,
            sum(len(p.metrics) for p in registry.pilots),
            sum(len(p.metrics) for p in registry.pilots),  # --no-estimate: no estimates beside the truths yet
        )
        # the data came in as uploads, one per subsidiary and year, each recorded and audited
        uploads = con.execute("SELECT count(*), count(DISTINCT file_name), min(status), max(status) FROM uploads")
        n_uploads, n_names, lo, hi = uploads.fetchall()[0]
        assert n_uploads == n_names == len(registry.subsidiaries) * 3 and lo == hi == "loaded"
        audited = con.execute("SELECT count(*) FROM audit_log WHERE action = 'upload'").fetchone()
        assert audited == (n_uploads,)
        stray = con.execute("SELECT count(*) FROM observations WHERE upload_id NOT IN (SELECT upload_id FROM uploads)")
        assert stray.fetchall() == [(0,)]
        truths = con.sql("SELECT * FROM demo_truths").pl().select(expected.truths.columns)
        assert truths.sort("pilot_code", "metric_code", "site_code").equals(expected.truths)
        n_pilot_metrics = sum(len(p.metrics) for p in registry.pilots)
        assert truth_coverage(con) == (n_pilot_metrics, 0, 0)  # no estimates yet
        if HAS_AUTH:
            users = dict(con.execute("SELECT username, role FROM users").fetchall())
            assert users == {u.username: u.role for u in DEMO_USERS}
    finally:
        con.close()
    assert _observations(path).equals(expected.observations.sort("site_code", "metric_code", "period"))
    assert not [p for p in path.parent.iterdir() if p.name != path.name]  # no temporary files left behind


def test_building_twice_gives_identical_observations(built: tuple[Path, int, str]) -> None:
    path, _, _ = built
    before = _observations(path)
    summary = build_demo(path, estimates=False)  # replaces the demo warehouse in place
    assert summary.observations == before.height
    assert _observations(path).equals(before)


def test_a_real_warehouse_is_never_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "real.duckdb"
    con = connect(path, create=True)
    migrate(con)
    con.close()
    before = path.read_bytes()
    assert main(["demo", "--no-serve", "--warehouse", str(path), "--lang", "en"]) == 1
    assert "not a demo warehouse" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real.duckdb"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_lines(proc: subprocess.Popen[str], lines: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)


@pytest.mark.skipif(not callable(getattr(serve_command, "serve", None)), reason="the dashboard server is not installed")
def test_demo_builds_then_serves_the_dashboard_in_the_users_language(tmp_path: Path) -> None:
    path, port = tmp_path / "demo.duckdb", _free_port()
    argv = ["demo", "--lang", "kk", "--no-estimate", "--seed", "7", "--warehouse", str(path), "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pilot_roi", *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=_read_lines, args=(proc, lines), daemon=True)
    reader.start()
    healthy = warm = False
    try:
        deadline = time.monotonic() + 120  # a build of a few seconds, then gunicorn; slow on a loaded machine
        while time.monotonic() < deadline and proc.poll() is None and not healthy:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    healthy = response.status == 200
            except OSError:
                time.sleep(0.5)
        # the estimation pool the server warms as it starts says so in the server's log, at INFO
        while healthy and time.monotonic() < deadline and not warm:
            warm = any("estimation pool warm in" in line and "[INFO]" in line for line in list(lines))
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        reader.join(timeout=60)
    out = "".join(lines)
    assert healthy, out
    assert warm, out
    assert "Демонстрациялық қойма дайын" in out
    assert f"http://127.0.0.1:{port}" in out
    if HAS_AUTH:
        assert "demo.admin" in out and "admin-demo-2025" in out
    # another seed, other data
    assert not _observations(path).equals(generate().observations.sort("site_code", "metric_code", "period"))
