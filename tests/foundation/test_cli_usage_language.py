"""A command line argparse cannot parse is told in the user's language, the core of the message too: argparse's
own English sentence ("the following arguments are required: file") was framed in Russian or Kazakh but left
English inside. Each case is a real CLI call (`main`, or `python -m pilot_roi` in a process of its own); each
exits 2, names the wrong value and the valid choices verbatim, and leaves the warehouse as it was."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pilot_roi.cli import UsageError, _Parser, main
from pilot_roi.i18n import catalog, t
from pilot_roi.i18n.argparse_text import ARGUMENT, TEMPLATES, localise_usage_detail

LANGS = ("ru", "kk", "en")
# argparse's English, none of which may reach a user in any language: our catalogue has its own words for each
ARGPARSE_ENGLISH = (
    "the following arguments are required",
    "invalid choice",
    "choose from",
    "unrecognized arguments",
    "expected one argument",
    "invalid int value",
    "invalid float value",
    "invalid port",
    "ambiguous option",
    "could match",
    "ignored explicit argument",
    "not allowed with argument",
    "usage:",
)


def _option(name: str, key: str, **params: str) -> Callable[[str], str]:
    return lambda lang: t("cli.usage.option", lang, argument_name=name, message=t(key, lang, **params))


def _argument(name: str, key: str, **params: str) -> Callable[[str], str]:
    return lambda lang: t("cli.usage.argument", lang, argument_name=name, message=t(key, lang, **params))


def _whole(key: str, **params: str) -> Callable[[str], str]:
    return lambda lang: t(key, lang, **params)


COMMANDS = "'init', 'registry', 'ingest', 'template', 'estimate', 'report', 'users', 'serve', 'demo'"
# (error class, argv, the program whose --help the message points to, the detail expected in a language)
CASES = [
    ("required", ["ingest"], "pilot-roi ingest", _whole("cli.usage.required", arguments="file")),
    (
        "required_option",
        ["users", "add", "bob"],
        "pilot-roi users add",
        _whole("cli.usage.required", arguments="--role"),
    ),
    ("no_command", [], "pilot-roi", _whole("cli.usage.required", arguments="COMMAND")),
    (
        "invalid_command",
        ["estimat"],
        "pilot-roi",
        _argument("COMMAND", "cli.usage.invalid_choice", value="'estimat'", choices=COMMANDS),
    ),
    (
        "invalid_choice",
        ["estimate", "--format", "xml"],
        "pilot-roi estimate",
        _option("--format", "cli.usage.invalid_choice", value="'xml'", choices="'text', 'json'"),
    ),
    (
        "invalid_action",
        ["registry", "frobnicate"],
        "pilot-roi registry",
        _argument("ACTION", "cli.usage.invalid_choice", value="'frobnicate'", choices="'load'"),
    ),
    (
        "unrecognized",
        ["ingest", "x.csv", "--no-such-option", "extra"],
        "pilot-roi",
        _whole("cli.usage.unrecognized", arguments="--no-such-option extra"),
    ),
    ("expected_one", ["estimate", "--pilot"], "pilot-roi estimate", _option("--pilot", "cli.usage.expected_one")),
    (
        "invalid_int",
        ["report", "--year", "twenty"],
        "pilot-roi report",
        _option("--year", "cli.usage.invalid_int", value="'twenty'"),
    ),
    (
        "invalid_float",
        ["estimate", "--discount-rate", "15%"],
        "pilot-roi estimate",
        _option("--discount-rate", "cli.usage.invalid_float", value="'15%'"),
    ),
    ("invalid_port", ["serve", "--port", "0"], "pilot-roi serve", _option("--port", "cli.usage.bad_port", value="'0'")),
    (
        "invalid_threads",
        ["serve", "--threads", "many"],
        "pilot-roi serve",
        _option("--threads", "cli.usage.bad_threads", value="'many'"),
    ),
    (
        "ambiguous",
        ["estimate", "--f", "json"],
        "pilot-roi estimate",
        _whole("cli.usage.ambiguous", option="--f", matches="--format, --force"),
    ),
    (
        "value_for_a_flag",
        ["ingest", "--dry-run=yes", "x.csv"],
        "pilot-roi ingest",
        _option("--dry-run", "cli.usage.ignored_explicit", value="'yes'"),
    ),
]


def _env(monkeypatch: pytest.MonkeyPatch, pilot_roi_lang: str | None = None, locale: str = "C.UTF-8") -> None:
    for name in os.environ:
        if name.startswith(("LC_", "PILOT_ROI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LANG", locale)
    if pilot_roi_lang is None:
        monkeypatch.delenv("PILOT_ROI_LANG", raising=False)
    else:
        monkeypatch.setenv("PILOT_ROI_LANG", pilot_roi_lang)


def _assert_no_argparse_english(text: str) -> None:
    found = [fragment for fragment in ARGPARSE_ENGLISH if fragment in text]
    assert not found, (found, text)


@pytest.mark.parametrize("lang_first", [True, False], ids=["lang_first", "lang_last"])
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("name", "argv", "prog", "detail"), CASES, ids=[case[0] for case in CASES])
def test_a_usage_error_is_told_in_the_users_language(
    name: str,
    argv: list[str],
    prog: str,
    detail: Callable[[str], str],
    lang: str,
    lang_first: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the environment says English: the language is --lang's, before the command or after the bad argument
    _env(monkeypatch, pilot_roi_lang="en", locale="en_US.UTF-8")
    warehouse = tmp_path / "w.duckdb"
    flags = ["--lang", lang]
    full = (
        [*flags, *argv, "--warehouse", str(warehouse)] if lang_first else [*argv, "--warehouse", str(warehouse), *flags]
    )
    assert main(full) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [t("cli.usage_error", lang, detail=detail(lang), prog=prog)]
    _assert_no_argparse_english(captured.err)
    assert not warehouse.exists()


@pytest.mark.parametrize("lang", LANGS)
def test_a_failed_parse_leaves_an_existing_warehouse_as_it_was(
    lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch)
    warehouse = tmp_path / "w.duckdb"
    assert main(["init", "--warehouse", str(warehouse)]) == 0
    before = (hashlib.sha256(warehouse.read_bytes()).hexdigest(), warehouse.stat().st_mtime_ns)
    capsys.readouterr()
    for _, argv, _, _ in CASES:
        assert main([*argv, "--warehouse", str(warehouse), "--lang", lang]) == 2, argv
    assert (hashlib.sha256(warehouse.read_bytes()).hexdigest(), warehouse.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]  # no log of an internal error either


@pytest.mark.parametrize(
    ("argv", "pilot_roi_lang", "locale", "lang", "prog", "detail"),
    [
        # an invalid --lang is itself the error: told in the environment's language
        (
            ["estimate", "--lang", "de"],
            "kk",
            "C.UTF-8",
            "kk",
            "pilot-roi estimate",
            _option("--lang", "cli.usage.invalid_choice", value="'de'", choices="'ru', 'kk', 'en'"),
        ),
        (
            ["--lang", "fr", "ingest", "x.csv"],
            None,
            "ru_RU.UTF-8",
            "ru",
            "pilot-roi",
            _option("--lang", "cli.usage.invalid_choice", value="'fr'", choices="'ru', 'kk', 'en'"),
        ),
        # --lang without its value: the locale's language
        (
            ["ingest", "x.csv", "--lang"],
            None,
            "kk_KZ.UTF-8",
            "kk",
            "pilot-roi ingest",
            _option("--lang", "cli.usage.expected_one"),
        ),
        # no --lang at all: PILOT_ROI_LANG before the locale
        (
            ["estimate", "--pilot"],
            "ru",
            "kk_KZ.UTF-8",
            "ru",
            "pilot-roi estimate",
            _option("--pilot", "cli.usage.expected_one"),
        ),
        # the last --lang counts, as in argparse
        (
            ["--lang", "en", "estimate", "--format", "xml", "--lang", "kk"],
            None,
            "C.UTF-8",
            "kk",
            "pilot-roi estimate",
            _option("--format", "cli.usage.invalid_choice", value="'xml'", choices="'text', 'json'"),
        ),
    ],
)
def test_the_language_of_a_usage_error_when_lang_is_bad_missing_or_late(
    argv: list[str],
    pilot_roi_lang: str | None,
    locale: str,
    lang: str,
    prog: str,
    detail: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _env(monkeypatch, pilot_roi_lang=pilot_roi_lang, locale=locale)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [t("cli.usage_error", lang, detail=detail(lang), prog=prog)]
    _assert_no_argparse_english(err)


@pytest.mark.parametrize("lang", LANGS)
def test_a_usage_error_with_format_json_is_one_document_in_the_users_language(
    lang: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch)
    assert main(["estimate", "--format", "json", "--pilot", "--lang", lang]) == 2
    captured = capsys.readouterr()
    detail = _option("--pilot", "cli.usage.expected_one")(lang)
    assert json.loads(captured.out) == {
        "status": "usage",
        "errors": [t("cli.usage_error", lang, detail=detail, prog="pilot-roi estimate")],
    }
    assert captured.err == ""


@pytest.mark.parametrize(
    ("lang", "argv", "phrase"),
    [
        ("ru", ["--lang", "ru", "ingest"], "не указаны обязательные аргументы: file"),
        ("ru", ["--lang", "ru", "estimat"], "недопустимое значение 'estimat' (допустимые значения: 'init', "),
        ("kk", ["--lang", "kk", "estimate", "--format", "xml"], "'xml' мәні жарамсыз (рұқсат етілген мәндер: 'text'"),
        ("en", ["ingest", "a.csv", "b.csv", "--lang", "en"], "extra or unknown arguments: b.csv"),
    ],
)
def test_the_console_command_answers_a_bad_command_line_in_words(
    lang: str, argv: list[str], phrase: str, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    env = {name: value for name, value in os.environ.items() if not name.startswith(("LC_", "PILOT_ROI_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pilot_roi", *argv, "--warehouse", str(warehouse)],
        capture_output=True, text=True, cwd=tmp_path, env={**env, "LANG": "C.UTF-8"}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == "" and "Traceback" not in done.stderr
    head = t("cli.usage_error", lang, detail="\0", prog="").split("\0")[0]
    assert done.stderr.startswith(head) and phrase in done.stderr, done.stderr
    _assert_no_argparse_english(done.stderr)
    assert list(tmp_path.iterdir()) == []


# --- every argparse message we translate, produced by this Python's argparse -----------------------------------


def _parser() -> argparse.ArgumentParser:
    """A parser of the CLI's own class with what our commands do not use (yet): a mutually exclusive group, a
    required one, and counted arguments."""
    parser = _Parser(prog="pilot-roi test")
    either = parser.add_mutually_exclusive_group()
    either.add_argument("--csv", action="store_true")
    either.add_argument("--xlsx", action="store_true")
    one = parser.add_mutually_exclusive_group(required=True)
    one.add_argument("--site")
    one.add_argument("--pilot")
    parser.add_argument("--pair", nargs=2)
    parser.add_argument("--single", nargs=1)
    parser.add_argument("--many", nargs="+")
    parser.add_argument("--maybe", nargs="?", type=float)
    parser.add_argument("--kind", choices=("a", "b"))
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--version-file")
    return parser


@pytest.mark.parametrize(
    ("argv", "detail"),
    [
        (["--site", "S", "--csv", "--xlsx"], _option("--xlsx", "cli.usage.not_allowed_with", other="--csv")),
        (["--csv"], _whole("cli.usage.one_of_required", arguments="--site --pilot")),
        (["--site", "S", "--pair", "x"], _option("--pair", "cli.usage.expected_n", count="2")),
        (["--site", "S", "--single"], _option("--single", "cli.usage.expected_n", count="1")),
        (["--site", "S", "--many"], _option("--many", "cli.usage.expected_at_least_one")),
        (["--site", "S", "--maybe", "x"], _option("--maybe", "cli.usage.invalid_float", value="'x'")),
        (
            ["--site", "S", "--kind", "c"],
            _option("--kind", "cli.usage.invalid_choice", value="'c'", choices="'a', 'b'"),
        ),
        (
            ["--site", "S", "--ver", "x"],
            _whole("cli.usage.ambiguous", option="--ver", matches="--verbose, --version-file"),
        ),
        (["--site", "S", "--verbose=1"], _option("--verbose", "cli.usage.ignored_explicit", value="'1'")),
        (["--site", "S", "more"], _whole("cli.usage.unrecognized", arguments="more")),
        # a value in the words of a template is still read as the user's value
        (
            ["--site", "S", "--kind", "invalid int value: 'x' (choose from 'a')"],
            _option(
                "--kind",
                "cli.usage.invalid_choice",
                value="\"invalid int value: 'x' (choose from 'a')\"",
                choices="'a', 'b'",
            ),
        ),
    ],
)
@pytest.mark.parametrize("lang", LANGS)
def test_argparse_messages_the_cli_does_not_meet_yet_are_translated_too(
    argv: list[str], detail: Callable[[str], str], lang: str
) -> None:
    with pytest.raises(UsageError) as raised:
        _parser().parse_args(argv)
    text = localise_usage_detail(raised.value.detail, lang, raised.value.cause)
    assert text == detail(lang)
    if lang != "en":
        assert text != localise_usage_detail(raised.value.detail, "en", raised.value.cause)


def test_a_sentence_no_template_reads_is_kept_as_argparse_wrote_it() -> None:
    # a future Python's new wording: shown as is inside the localized frame, never an error (and every template
    # has been tried on it, so each compiles)
    assert localise_usage_detail("something new: 'x'", "ru") == "something new: 'x'"
    assert localise_usage_detail("argument --x: something new", "kk") == t(
        "cli.usage.option", "kk", argument_name="--x", message="something new"
    )


def test_every_message_key_of_the_translation_is_in_each_language_and_translated() -> None:
    keys = {template.key for template in (ARGUMENT, *TEMPLATES)} | {
        "cli.usage.option",
        "cli.usage.invalid_int",
        "cli.usage.invalid_float",
        "cli.usage.bad_port",
        "cli.usage.bad_threads",
    }
    keys |= {key for key in catalog() if key.startswith("cli.usage.")}
    for key in sorted(keys):
        texts = catalog().get(key, {})
        assert all(texts.get(lang) for lang in LANGS), key
        assert len({texts["ru"], texts["kk"], texts["en"]}) == 3, key


# --- --help: argparse's own headings and texts ---------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("argv", [["--help"], ["ingest", "-h"], ["users", "add", "--help"]])
def test_help_has_argparses_headings_and_texts_in_the_users_language(
    argv: list[str], lang: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch)
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--lang", lang])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    assert out.startswith(t("cli.help.usage", lang))
    for key in ("cli.help.positionals", "cli.help.options"):
        assert f"\n{t(key, lang)}:\n" in out, (key, out)
    assert t("cli.help.help", lang) in flat
    if argv == ["--help"]:
        assert t("cli.help.version", lang) in flat
    if lang != "en":
        english = ("usage:", "positional arguments", "options:", "show this help message", "show program's version")
        assert not [text for text in english if text in flat], out
