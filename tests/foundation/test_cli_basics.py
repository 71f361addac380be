from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from foundation.test_registry import BASE
from pilot_roi.cli import main
from pilot_roi.i18n import t


def test_init_and_registry_load_via_the_console_entry_point(tmp_path: Path, capsys) -> None:
    warehouse = tmp_path / "w.duckdb"
    registry = tmp_path / "r.yaml"
    registry.write_text(yaml.safe_dump(BASE, allow_unicode=True), encoding="utf-8")
    assert main(["init", "--warehouse", str(warehouse)]) == 0
    assert main(["--lang", "ru", "registry", "load", str(registry), "--warehouse", str(warehouse)]) == 0
    assert "создано" in capsys.readouterr().out
    assert main(["registry", "load", str(registry), "--warehouse", str(warehouse), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["changes"]["pilots"] == {"created": 0, "updated": 0, "unchanged": 1}


def test_refusal_exits_1_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("pilots: [{code: X}]\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pilot_roi", "--lang", "kk", "registry", "load", str(bad),
         "--warehouse", str(tmp_path / "w.duckdb")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "pilots[0].subsidiary" in done.stderr
    assert "міндетті" in done.stderr


def test_a_reader_that_closes_the_pipe_gets_no_traceback(tmp_path: Path) -> None:
    # `pilot-roi ... --format json | head`: the reader leaves before the output is written. That was an
    # internal error (a second BrokenPipeError writing its report) and a traceback; now it is exit 141, as for
    # any Unix tool stopped by SIGPIPE, and nothing on stderr.
    warehouse = str(tmp_path / "w.duckdb")
    assert main(["init", "--warehouse", warehouse]) == 0
    command = [sys.executable, "-m", "pilot_roi", "users", "list", "--warehouse", warehouse, "--format", "json"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    stderr = child.stderr.read().decode()
    assert child.wait() == 141
    assert stderr == ""
    assert not list(tmp_path.glob("pilot-roi-errors.log"))  # not an internal error


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pilot_roi", "registry", "frobnicate"], capture_output=True)
    assert done.returncode == 2


def test_environment_variable_chooses_the_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "env.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "pilot_roi", "init"],
        capture_output=True, text=True, env={"PILOT_ROI_WAREHOUSE": str(warehouse), "PATH": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert warehouse.exists()


def _usage_message(text: str, lang: str, prog: str, fragment: str) -> bool:
    """`text` is cli.usage_error in `lang` for `prog`, around the detail of the usage error (argparse's, in `lang`:
    tests/foundation/test_cli_usage_language.py) which names `fragment`."""
    head, tail = t("cli.usage_error", lang, detail="\0", prog=prog).split("\0")
    return text.startswith(head) and text.endswith(tail) and fragment in text[len(head) : len(text) - len(tail)]


@pytest.mark.parametrize(
    ("argv", "env_lang", "lang", "prog", "fragment"),
    [
        (["estimate", "--format", "xml", "--lang", "ru"], "kk", "ru", "pilot-roi estimate", "xml"),
        (["--lang", "kk", "ingest", "x.csv", "--no-such-option"], None, "kk", "pilot-roi", "--no-such-option"),
        (["users", "add", "bob"], "ru", "ru", "pilot-roi users add", "--role"),
        (["registry", "frobnicate"], None, "en", "pilot-roi registry", "frobnicate"),
        (["estimate", "--lang", "de"], "kk", "kk", "pilot-roi estimate", "de"),  # a bad --lang: the environment's
        ([], "kk", "kk", "pilot-roi", "COMMAND"),
    ],
)
def test_usage_errors_are_a_short_message_in_the_users_language(
    argv: list[str],
    env_lang: str | None,
    lang: str,
    prog: str,
    fragment: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    if env_lang is None:
        monkeypatch.delenv("PILOT_ROI_LANG", raising=False)
    else:
        monkeypatch.setenv("PILOT_ROI_LANG", env_lang)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and _usage_message(lines[0], lang, prog, fragment), captured.err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["estimate", "--format", "json", "--workers", "many"], "many"),
        (["ingest", "--format=json", "--lang=kk"], "file"),
        (["report", "--format", "json", "--out", "r.json"], "--year"),
        (["estimate", "--format", "json", "--frobnicate"], "--frobnicate"),
    ],
)
def test_usage_errors_with_format_json_are_one_json_document(
    argv: list[str], fragment: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PILOT_ROI_LANG", raising=False)
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert main(argv) == 2
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["status"] == "usage" and len(document["errors"]) == 1
    lang = "kk" if "--lang=kk" in argv else "ru"
    prog = "pilot-roi" if fragment.startswith("--frob") else f"pilot-roi {argv[0]}"
    assert _usage_message(document["errors"][0], lang, prog, fragment), document
    assert captured.err == ""


def test_help_still_prints_argparses_help_and_exits_0(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # English asked for, so that the machine's locale (a Russian desktop) cannot change the headings read here
    monkeypatch.setenv("PILOT_ROI_LANG", "en")
    with pytest.raises(SystemExit) as exited:
        main(["estimate", "--help", "--format", "json"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("usage: pilot-roi estimate")
    english = {**os.environ, "PILOT_ROI_LANG": "en"}
    done = subprocess.run([sys.executable, "-m", "pilot_roi", "--help"], capture_output=True, text=True, env=english)
    assert done.returncode == 0 and done.stdout.startswith("usage: pilot-roi") and done.stderr == ""
