"""Every command that writes the warehouse (or a report file) refuses, in the user's language, a place this user
may not write: exit 1, one clear message, nothing changed, never the internal-error message."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from other_user import LockedWarehouses, run_cli
from pilot_roi import auth
from pilot_roi.cli import main
from pilot_roi.i18n import t
from pilot_roi.warehouse import connect, migrate

# {open}: a folder the other user may write; {yaml}, {csv}: inputs that would change the warehouse
WRITE_COMMANDS: dict[str, list[str]] = {
    "init": ["init"],
    "registry load": ["registry", "load", "{yaml}"],
    "ingest": ["ingest", "{csv}"],
    "users add": ["users", "add", "newcomer", "--role", "reviewer", "--password-stdin"],
    "users disable": ["users", "disable", "operator"],
    "users reset": ["users", "reset", "operator", "--password-stdin"],
    "report": ["report", "--year", "2024", "--format", "csv", "--out", "{open}/report.csv"],
    "report freeze": ["report", "freeze", "--year", "2024"],
    "demo": ["demo", "--no-serve", "--no-estimate"],
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _exports(path: Path) -> int:
    con = connect(path, read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM audit_log WHERE action = 'export'").fetchone()
        assert row is not None
        return int(row[0])
    finally:
        con.close()


@pytest.fixture
def source(portfolio_copy: Callable[..., Path]) -> Path:
    """The estimated portfolio with one dashboard account, `operator`."""
    path = portfolio_copy()
    con = connect(path)
    try:
        auth.add_user(con, "operator", "a long enough passphrase 1", "engineer", "TST", actor="test")
    finally:
        con.close()
    return path


@pytest.fixture
def locked_inputs(
    source: Path, portfolio_file: Path, locked_warehouses: Callable[[Path], LockedWarehouses]
) -> tuple[LockedWarehouses, dict[str, str]]:
    """Locked copies of `source` and, in their open folder, inputs whose loading would change them."""
    locked = locked_warehouses(source)
    return locked, _inputs(locked.open, source, portfolio_file.with_suffix(".yaml"))


def _inputs(folder: Path, warehouse: Path, registry_yaml: Path) -> dict[str, str]:
    """Files the other user may read whose loading would change the warehouse: a pilot's new capex, and one
    site's year restated."""
    registry = folder / "registry.yaml"
    registry.write_text(
        registry_yaml.read_text(encoding="utf-8").replace("capex_kzt: 50000000", "capex_kzt: 60000000"),
        encoding="utf-8",
    )
    metric_file = folder / "restated.csv"
    con = connect(warehouse, read_only=True)
    try:
        con.execute(
            "COPY (SELECT site_code, metric_code, period, value + 100 AS value FROM observations "
            "WHERE site_code = 'S05' ORDER BY period) TO ? (HEADER)",
            [str(metric_file)],
        )
    finally:
        con.close()
    for path in (registry, metric_file):
        path.chmod(0o644)
    return {"{yaml}": str(registry), "{csv}": str(metric_file), "{open}": str(folder)}


@pytest.mark.slow
@pytest.mark.parametrize("command", list(WRITE_COMMANDS))
def test_a_warehouse_this_user_may_not_write_is_refused_by_every_write_command(
    command: str, locked_inputs: tuple[LockedWarehouses, dict[str, str]], as_other_user: list[str]
) -> None:
    locked, fill = locked_inputs
    argv = [fill.get(a, a.replace("{open}", fill["{open}"])) for a in WRITE_COMMANDS[command]]
    expected = {
        locked.read_only_file: t("warehouse.cannot_write", "kk", path=str(locked.read_only_file)),
        locked.writable_file: t(
            "warehouse.cannot_write_folder", "kk", path=str(locked.writable_file), folder=str(locked.locked)
        ),
    }
    before = {path: _digest(path) for path in expected}
    for path, message in expected.items():
        done = run_cli(as_other_user, *argv, "--lang", "kk", "--warehouse", str(path), stdin="a new passphrase 12\n")
        assert (done.returncode, done.stderr.strip()) == (1, message), done.stdout
        assert "Traceback" not in done.stdout + done.stderr
    assert {path: _digest(path) for path in expected} == before
    assert sorted(p.name for p in locked.locked.iterdir()) == ["read_only.duckdb", "writable.duckdb"]
    assert not (locked.open / "report.csv").exists()


def test_demo_refuses_a_folder_this_user_may_not_write_before_building(
    as_other_user: list[str], locked_warehouses: Callable[[Path], LockedWarehouses], source: Path
) -> None:
    locked = locked_warehouses(source)
    target = locked.locked / "new" / "demo.duckdb"
    done = run_cli(as_other_user, "demo", "--no-serve", "--no-estimate", "--lang", "ru", "--warehouse", str(target))
    message = t("warehouse.cannot_write_folder", "ru", path=str(target), folder=str(locked.locked))
    assert (done.returncode, done.stderr.strip()) == (1, message), done.stdout
    assert sorted(p.name for p in locked.locked.iterdir()) == ["read_only.duckdb", "writable.duckdb"]


def test_a_report_out_folder_this_user_may_not_write_is_refused_before_any_work(
    as_other_user: list[str], locked_warehouses: Callable[[Path], LockedWarehouses], source: Path
) -> None:
    locked = locked_warehouses(source)
    warehouse = locked.open / "wh.duckdb"  # a warehouse this user may write, a report folder it may not
    warehouse.write_bytes(source.read_bytes())
    warehouse.chmod(0o666)
    out = locked.locked / "report.csv"
    done = run_cli(
        as_other_user, "report", "--year", "2024", "--format", "csv", "--out", str(out), "--lang", "en",
        "--warehouse", str(warehouse),
    )  # fmt: skip
    message = t("report.out_dir_not_writable", "en", path=str(out), folder=str(locked.locked))
    assert (done.returncode, done.stderr.strip()) == (1, message), done.stdout
    assert _exports(warehouse) == _exports(source)
    assert sorted(p.name for p in locked.locked.iterdir()) == ["read_only.duckdb", "writable.duckdb"]


def test_a_report_out_that_is_a_folder_is_refused(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    argv = ["report", "--year", "2024", "--format", "csv", "--out", str(folder), "--warehouse", str(source)]
    assert main([*argv, "--lang", "kk"]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == t("report.out_is_folder", "kk", path=str(folder))
    assert list(folder.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["reports", "wh.duckdb"]
    assert _exports(source) == 0
    # the same report into a file is written, and its export recorded
    assert main([*argv[:-3], str(folder / "r.csv"), "--warehouse", str(source)]) == 0
    assert (folder / "r.csv").stat().st_size > 0 and _exports(source) == 1


def test_a_template_out_this_user_may_not_write_or_that_is_a_folder_is_refused(
    as_other_user: list[str],
    locked_warehouses: Callable[[Path], LockedWarehouses],
    source: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    locked = locked_warehouses(source)
    out = locked.locked / "forms" / "tst.xlsx"  # the missing "forms" would be created, in a closed folder
    done = run_cli(
        as_other_user, "template", "--subsidiary", "TST", "--out", str(out), "--lang", "ru",
        "--warehouse", str(locked.read_only_file),
    )  # fmt: skip
    message = t("template.out_dir_not_writable", "ru", path=str(out), folder=str(locked.locked))
    assert (done.returncode, done.stderr.strip()) == (1, message), done.stdout
    assert sorted(p.name for p in locked.locked.iterdir()) == ["read_only.duckdb", "writable.duckdb"]
    # a template may be read from a warehouse this user may not write, into a folder it may
    fine = locked.open / "tst.xlsx"
    done = run_cli(as_other_user, "template", "--subsidiary", "TST", "--out", str(fine), "--warehouse",
                   str(locked.read_only_file))  # fmt: skip
    assert done.returncode == 0 and fine.stat().st_size > 0, done.stderr
    assert main(["template", "--subsidiary", "TST", "--out", str(locked.open), "--lang", "kk",
                 "--warehouse", str(source)]) == 1  # fmt: skip
    assert capsys.readouterr().err.strip() == t("template.out_is_folder", "kk", path=str(locked.open))


def test_a_dry_run_checks_a_file_against_a_warehouse_this_user_may_only_read(
    locked_inputs: tuple[LockedWarehouses, dict[str, str]], as_other_user: list[str]
) -> None:
    # A dry run writes nothing, so the warehouse is opened read-only where this user may not write it: the
    # report (what loading would change) is the same as on a writable copy, and not one byte changes.
    locked, fill = locked_inputs
    before = {path: _digest(path) for path in (locked.read_only_file, locked.writable_file)}
    reports = []
    for path in (locked.read_only_file, locked.writable_file):
        argv = ["ingest", fill["{csv}"], "--dry-run", "--format", "json", "--warehouse", str(path)]
        done = run_cli(as_other_user, *argv)
        assert done.returncode == 0, done.stderr
        reports.append(json.loads(done.stdout))
    assert reports[0]["status"] == "loaded" and reports[0]["rows_updated"] > 0  # what loading would do
    assert reports[0] == reports[1]
    assert {path: _digest(path) for path in before} == before
    assert sorted(p.name for p in locked.locked.iterdir()) == ["read_only.duckdb", "writable.duckdb"]
    # a warehouse this version would have to upgrade cannot be upgraded read-only: refused, in words
    con = connect(locked.open / "old.duckdb", create=True)
    try:
        migrate(con)
        con.execute("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
    finally:
        con.close()
    old = locked.open / "old.duckdb"
    old.chmod(0o444)
    done = run_cli(as_other_user, "ingest", fill["{csv}"], "--dry-run", "--lang", "ru", "--warehouse", str(old))
    assert (done.returncode, done.stderr.strip()) == (1, t("warehouse.needs_upgrade", "ru", path=str(old)))
