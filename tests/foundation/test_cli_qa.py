"""The command line used as a newcomer, an admin and a script would, found wanting and fixed: each case is a real
CLI call on real files and a real DuckDB file. Refusals exit 1 (2 for a command line that does not fit) with a
message in the user's language, never an internal error, and change nothing."""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from foundation.test_registry import BASE
from other_user import LockedWarehouses, run_cli
from pilot_roi.cli import build_parser, main
from pilot_roi.i18n import catalog, t
from pilot_roi.warehouse import connect


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _counts(path: Path) -> dict[str, int]:
    """Rows per table: what a refusal must leave as it was."""
    con = connect(path, read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {name: int(con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]) for name in tables}
    finally:
        con.close()


@pytest.fixture
def registry_file(tmp_path: Path) -> Path:
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(BASE, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def loaded(tmp_path: Path, registry_file: Path) -> Path:
    """A warehouse with the registry BASE (subsidiary TST, its sites, metrics and a pilot) and no data."""
    path = tmp_path / "w.duckdb"
    assert main(["registry", "load", str(registry_file), "--warehouse", str(path)]) == 0
    return path


# --- a warehouse that is not a DuckDB file ------------------------------------------------------------------------


# DuckDB 2 opens an existing CSV, TSV, JSON or Parquet file as an in-memory database with the file as a view: every
# command "succeeded" on it (init: "ready"; registry load: "17 pilots created") and stored nothing.
@pytest.mark.parametrize(
    "argv",
    [
        ["init"],
        ["registry", "load", "{registry}"],
        ["users", "list"],
        ["users", "add", "ann", "--role", "reviewer"],
        ["estimate", "--format", "json"],
        ["ingest", "{registry}", "--dry-run"],
    ],
)
@pytest.mark.parametrize("name", ["observations.csv", "export.json"])
def test_a_data_file_named_as_the_warehouse_is_refused_not_taken_for_an_empty_one(
    argv: list[str], name: str, tmp_path: Path, registry_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / name
    warehouse.write_text("site_code,metric_code,period,value\nS01,m,2024-01-01,1\n", encoding="utf-8")
    before = _digest(warehouse)
    args = [a.replace("{registry}", str(registry_file)) for a in argv]
    code = main([*args, "--lang", "kk", "--warehouse", str(warehouse)])
    captured = capsys.readouterr()
    message = t("warehouse.not_duckdb", "kk", path=str(warehouse))
    if "json" in args:
        assert (code, json.loads(captured.out)) == (1, {"status": "refused", "errors": [message]})
    else:
        assert (code, captured.err.strip(), captured.out) == (1, message, "")
    assert _digest(warehouse) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "registry.yaml"])


def test_a_warehouse_path_the_system_cannot_open_is_refused_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # /proc accepts no new files: DuckDB's "Cannot open file" was an internal error
    assert main(["init", "--lang", "ru", "--warehouse", "/proc/pilot-roi-qa.duckdb"]) == 1
    err = capsys.readouterr().err.strip()
    head = t("warehouse.cannot_open", "ru", path="/proc/pilot-roi-qa.duckdb", detail="\0").split("\0")[0]
    assert err.startswith(head) and t("cli.unexpected", "ru", ref="").split(":")[0] not in err, err


def test_an_empty_warehouse_option_is_a_usage_error_not_the_default_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--warehouse "$WH"` with WH unset used to create (or change) warehouse/pilot_roi.duckdb in the working folder
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--warehouse", "", "--lang", "ru"]) == 2
    assert capsys.readouterr().err.strip() == t("cli.empty_warehouse", "ru")
    assert main(["users", "list", "--format", "json", "--warehouse= ", "--lang", "kk"]) == 2
    assert json.loads(capsys.readouterr().out) == {"status": "usage", "errors": [t("cli.empty_warehouse", "kk")]}
    assert list(tmp_path.iterdir()) == []


# --- input files --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["ingest", "{file}", "--format", "json"], ["registry", "load", "{file}"]])
def test_a_folder_given_as_the_input_file_is_named_a_folder(
    argv: list[str], loaded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    before = _counts(loaded)
    code = main([*(a.replace("{file}", str(folder)) for a in argv), "--lang", "ru", "--warehouse", str(loaded)])
    captured = capsys.readouterr()
    message = t("cli.file_is_folder", "ru", path=str(folder))
    assert code == 1
    assert (json.loads(captured.out)["errors"] if "json" in argv else [captured.err.strip()]) == [message]
    assert _counts(loaded) == before


@pytest.mark.slow
def test_an_input_file_this_user_may_not_read_is_refused_not_an_internal_error(
    as_other_user: list[str], locked_warehouses: Callable[[Path], LockedWarehouses], loaded: Path
) -> None:
    locked = locked_warehouses(loaded)
    warehouse = locked.open / "w.duckdb"  # a warehouse this user may write; the inputs it may not read
    warehouse.write_bytes(loaded.read_bytes())
    warehouse.chmod(0o666)
    closed = {"ingest": locked.open / "metrics.csv", "registry": locked.open / "registry.yaml"}
    closed["ingest"].write_text("site_code,metric_code,period,value\n", encoding="utf-8")
    closed["registry"].write_text(yaml.safe_dump(BASE), encoding="utf-8")
    for path in closed.values():
        path.chmod(0o000)
    before = _counts(warehouse)
    for argv in (["ingest", str(closed["ingest"])], ["registry", "load", str(closed["registry"])]):
        path = closed[argv[0]]
        done = run_cli(as_other_user, *argv, "--lang", "kk", "--warehouse", str(warehouse))
        assert (done.returncode, done.stderr.strip()) == (1, t("cli.file_not_readable", "kk", path=str(path)))
        done = run_cli(as_other_user, *argv, "--format", "json", "--lang", "en", "--warehouse", str(warehouse))
        assert done.returncode == 1 and json.loads(done.stdout) == {
            "status": "refused",
            "errors": [t("cli.file_not_readable", "en", path=str(path))],
        }
    assert _counts(warehouse) == before
    assert not (locked.open / "pilot-roi-errors.log").exists()


def test_a_binary_file_given_as_the_registry_is_refused_in_words(
    loaded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # bytes neither UTF-8 nor Windows-1251 can decode (0x98): a UnicodeDecodeError, an internal error
    binary = tmp_path / "registry.xlsx"
    binary.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)
    before = _counts(loaded)
    assert main(["registry", "load", str(binary), "--lang", "kk", "--warehouse", str(loaded)]) == 1
    assert capsys.readouterr().err.strip() == t("registry.not_text", "kk")
    assert _counts(loaded) == before


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda doc: doc.update(data_start="2020-13-01"), "data_start"),
        (lambda doc: doc["pilots"][0]["sites"][0].update(go_live="2025-02-30"), "pilots[0].sites[0].go_live"),
    ],
)
def test_a_date_that_does_not_exist_in_the_registry_names_its_field(
    edit: Callable[[dict], None],
    where: str,
    loaded: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # PyYAML reads 2025-02-30 as a date and raises a bare ValueError ("day is out of range"): an internal error
    doc = yaml.safe_load(yaml.safe_dump(BASE))
    edit(doc)
    text = yaml.safe_dump(doc, allow_unicode=True)
    bad = next(v for v in ("2020-13-01", "2025-02-30") if v in text)
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(f"'{bad}'", bad), encoding="utf-8")  # a YAML date, not a quoted string
    before = _counts(loaded)
    assert main(["registry", "load", str(path), "--lang", "ru", "--warehouse", str(loaded)]) == 1
    assert capsys.readouterr().err.strip() == f"{where}: {t('registry.not_date', 'ru', value=bad)}"
    assert _counts(loaded) == before


def test_registry_load_names_the_tables_in_the_users_language(
    loaded: Path, registry_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["registry", "load", str(registry_file), "--lang", "kk", "--warehouse", str(loaded)]) == 0
    heads = [line.split(":")[0] for line in capsys.readouterr().out.splitlines()]
    assert heads == [t(f"registry.table.{n}", "kk") for n in ("subsidiaries", "sites", "metrics", "pilots")]
    assert "sites" not in heads


# --- unknown codes and accounts: what to type instead -------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "first"),
    [
        (["estimate", "--pilot", "NOPE"], ("estimate.unknown_pilot", {"pilot": "NOPE"})),
        (["users", "add", "eve", "--role", "engineer", "--subsidiary", "NOPE"],
         ("auth.unknown_subsidiary", {"code": "NOPE"})),
        (["template", "--subsidiary", "NOPE", "--out", "{tmp}/t.xlsx"],
         ("template.unknown_subsidiary", {"value": "NOPE"})),
    ],
)  # fmt: skip
def test_an_unknown_code_is_refused_with_the_codes_there_are(
    argv: list[str],
    first: tuple[str, dict[str, str]],
    loaded: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    con = connect(loaded, read_only=True)
    try:
        sql = "SELECT code FROM pilot_registry" if argv[0] == "estimate" else "SELECT code FROM subsidiaries"
        codes = ", ".join(sorted(r[0] for r in con.execute(sql).fetchall()))
    finally:
        con.close()
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main([*args, "--lang", "ru", "--warehouse", str(loaded)]) == 1
    key, params = first
    assert capsys.readouterr().err.splitlines() == [t(key, "ru", **params), t("cli.known_codes", "ru", codes=codes)]
    assert not (tmp_path / "t.xlsx").exists()


def test_an_account_that_exists_or_does_not_says_which_command_fits(
    loaded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["users", "add", "ann", "--role", "reviewer", "--lang", "kk", "--warehouse", str(loaded)]
    assert main(add) == 0
    capsys.readouterr()
    before = _counts(loaded)
    assert main(add) == 1
    assert capsys.readouterr().err.splitlines() == [
        t("auth.user_exists", "kk", name="ann"),
        t("cli.hint_user_exists", "kk", name="ann"),
    ]
    assert main(["users", "disable", "bob", "--lang", "ru", "--warehouse", str(loaded)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        t("auth.unknown_user", "ru", name="bob"),
        t("cli.hint_unknown_user", "ru"),
    ]
    assert _counts(loaded) == before


# --- serve and demo: the port -------------------------------------------------------------------------------------


def test_a_port_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # 99999999 reached gunicorn's bind(): OverflowError, an internal error
    for argv in (["serve", "--port", "99999999"], ["demo", "--port", "0", "--no-serve"]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and "--port" in captured.err and len(captured.err.splitlines()) == 1


def test_a_port_another_program_holds_is_refused_before_any_work(
    loaded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # gunicorn retried five times, logged each in English, then exited; the demo found out after its build
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        message = t("serve.port_in_use", "kk", host="127.0.0.1", port=port, next=port + 1)
        assert main(["serve", "--port", str(port), "--lang", "kk", "--warehouse", str(loaded)]) == 1
        assert capsys.readouterr().err.strip() == message
        demo = tmp_path / "demo.duckdb"
        assert main(["demo", "--port", str(port), "--no-estimate", "--lang", "kk", "--warehouse", str(demo)]) == 1
        captured = capsys.readouterr()
        assert (captured.out, captured.err.strip()) == ("", message)
        assert not demo.exists()


def test_a_bad_thread_count_in_the_environment_breaks_only_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # int(os.environ["PILOT_ROI_THREADS"]) ran while the parser was built: a traceback from every command
    monkeypatch.setenv("PILOT_ROI_THREADS", "eight")
    monkeypatch.setenv("PILOT_ROI_PORT", "http")
    assert main(["init", "--warehouse", str(tmp_path / "w.duckdb")]) == 0
    capsys.readouterr()
    assert main(["serve", "--lang", "ru", "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(t("cli.usage_error", "ru", detail="\0", prog="").split("\0")[0]) and "http" in err


# --- language -----------------------------------------------------------------------------------------------------


def test_the_locale_of_messages_chooses_the_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    for name in ("PILOT_ROI_LANG", "LC_ALL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setenv("LC_MESSAGES", "kk_KZ.UTF-8")
    missing = tmp_path / "none.duckdb"
    assert main(["users", "list", "--warehouse", str(missing)]) == 1
    assert capsys.readouterr().err.strip() == t("warehouse.missing", "kk", path=str(missing))


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_help_is_in_the_users_language(
    lang: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PILOT_ROI_LANG", lang)  # the environment's language, as --lang would be
    for argv, expected in (
        (["ingest", "--help"], [t("cli.help.ingest.dry_run", lang), t("cli.help.command.ingest", lang)]),
        (["--help"], [t("cli.help.description", lang), t("cli.help.command.users", lang)]),
        (["users", "add", "-h", "--lang", lang], [t("cli.help.users.role", lang), t("cli.help.users.name", lang)]),
    ):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        out = capsys.readouterr().out
        assert exited.value.code == 0
        flat = " ".join(out.split())
        assert out.startswith(t("cli.help.usage", lang).strip()), out
        assert all(" ".join(text.split()) in flat for text in expected), out
        for english in ("show this help message", "options:", "language of messages", "DuckDB file"):
            assert english not in flat, out


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_every_option_of_every_command_has_its_help_in_each_language(lang: str) -> None:
    def walk(parser: argparse.ArgumentParser, path: list[str]) -> list[str]:
        missing = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    missing += walk(sub, [*path, name])
            elif action.help is not argparse.SUPPRESS:
                keys = [".".join(["cli.help", *path[:depth], action.dest]) for depth in range(len(path), -1, -1)]
                if not any(lang in catalog().get(key, {}) for key in keys):
                    missing.append(" ".join([*path, action.dest]))
        return missing

    assert walk(build_parser(lang), []) == []
    # an option every command shares reads the same in each: the demo's own words stay in the demo's description
    parser = build_parser(lang)
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, sub in subcommands.items():
        warehouse = next(a for a in sub._actions if a.dest == "warehouse")
        assert warehouse.help == t("cli.help.warehouse", lang), name
