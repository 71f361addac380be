"""The `pilot-roi` command line: parse arguments, call the library, print text or JSON.

Each subcommand lives in `pilot_roi.commands.<name>` with `register(subparsers)`; its handler returns
the exit code: 0 done, 1 refused (bad input, nothing changed), 2 usage.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import tempfile
import traceback
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from pilot_roi import __version__
from pilot_roi.errors import PilotRoiError, UsageProblem
from pilot_roi.i18n import catalog, t
from pilot_roi.i18n.argparse_text import localise_usage_detail
from pilot_roi.settings import LANGS, Settings, default_lang

COMMANDS = ("init", "registry", "ingest", "template", "estimate", "report", "users", "serve", "demo")

log = logging.getLogger("pilot_roi")


class UsageError(Exception):
    """A command line argparse cannot parse; `detail` is argparse's own (English) explanation, `cause` the exception
    argparse was handling when it gave up (where one of our type functions' refusals is found)."""

    def __init__(self, detail: str, prog: str, cause: BaseException | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.prog = prog
        self.cause = cause


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing English and exiting, so `main` can answer in the
    user's language (and in JSON). Subcommand parsers are made of the same class."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog, sys.exc_info()[1])


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered, its `--help` in `lang`."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--warehouse",
        default=argparse.SUPPRESS,
        help="DuckDB file (default: $PILOT_ROI_WAREHOUSE or warehouse/pilot_roi.duckdb)",
    )
    common.add_argument(
        "--lang",
        choices=LANGS,
        default=argparse.SUPPRESS,
        help="language of messages (default: $PILOT_ROI_LANG or locale)",
    )
    parser = _Parser(prog="pilot-roi", description="AI-pilot ROI tracker", parents=[common])
    parser.add_argument("--version", action="version", version=f"pilot-roi {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"pilot_roi.commands.{name}")
        module.register(subparsers, common)
    _localise_help(parser, lang, [])
    return parser


def _help_text(lang: str, path: list[str], dest: str) -> str | None:
    """The help of option `dest` of the command `path` in `lang`: cli.help.<path>.<dest>, looked up from the whole
    path down to cli.help.<dest> (the options every command shares); None when there is none."""
    for depth in range(len(path), -1, -1):
        key = ".".join(["cli.help", *path[:depth], dest])
        if key in catalog():
            return t(key, lang)
    return None


def _localise_help(parser: argparse.ArgumentParser, lang: str, path: list[str], seen: set[int] | None = None) -> None:
    """Put `parser`'s help, and its subcommands', in `lang`: argparse's own headings too ("usage:", "options").

    An option every command shares (--warehouse, --lang) is one object in all their parsers: it takes the shared
    text, where it is first seen (`seen`), and is not translated again per command."""
    seen = set() if seen is None else seen
    prefix = t("cli.help.usage", lang)

    class _Formatter(argparse.HelpFormatter):
        def add_usage(self, usage: Any, actions: Any, groups: Any, prefix_: str | None = None) -> None:
            super().add_usage(usage, actions, groups, prefix if prefix_ is None else prefix_)

    parser.formatter_class = _Formatter
    parser._positionals.title = t("cli.help.positionals", lang)
    parser._optionals.title = t("cli.help.options", lang)
    if not path:
        parser.description = t("cli.help.description", lang)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = t(f"cli.help.command.{'.'.join([*path, choice.dest])}", lang)
            for name, sub in action.choices.items():
                about = ".".join([*path, name])
                key = (
                    f"cli.help.about.{about}" if f"cli.help.about.{about}" in catalog() else f"cli.help.command.{about}"
                )
                sub.description = t(key, lang)
                _localise_help(sub, lang, [*path, name], seen)
        elif id(action) not in seen and action.help is not argparse.SUPPRESS:
            seen.add(id(action))
            action.help = _help_text(lang, path, action.dest) or action.help


def _log_internal_error(settings: Settings) -> tuple[str, Path | None]:
    """Append the traceback to pilot-roi-errors.log beside the warehouse, else in the temporary folder.

    Returns the reference to quote and where the log went (None when no place took it): the traceback
    itself never goes to the user's terminal.
    """
    ref = uuid.uuid4().hex[:8]
    text = f"--- {ref}\n{traceback.format_exc()}\n"
    for folder in (Path(settings.warehouse).parent, Path(tempfile.gettempdir())):
        log_path = folder / "pilot-roi-errors.log"
        try:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with log_path.open("a", encoding="utf-8") as fh:
                fh.write(text)
        except OSError:
            continue
        return ref, log_path
    return ref, None


def _tell(status: str, lines: list[str], wants_json: bool, code: int) -> int:
    """Say why a command did not finish: one JSON document on stdout, or the lines on stderr."""
    if wants_json:
        print(json.dumps({"status": status, "errors": lines}, ensure_ascii=False))
    else:
        for line in lines:
            print(line, file=sys.stderr)
    return code


def _refused(exc: PilotRoiError, lang: str, wants_json: bool) -> int:
    return _tell("refused", exc.render(lang), wants_json, 1)


def _option_value(argv: Sequence[str], option: str, shortest: str) -> str | None:
    """The last value given to `option` in raw `argv` (`--opt V`, `--opt=V`, or an abbreviation argparse
    accepts down to `shortest`), read without parsing: the parse itself may be what failed."""
    value = None
    for i, token in enumerate(argv):
        if token == "--":
            break
        name, eq, inline = token.partition("=")
        if not (name.startswith(shortest) and option.startswith(name)):
            continue
        if eq:
            value = inline
        elif i + 1 < len(argv):
            value = argv[i + 1]
    return value


def _argv_lang(argv: Sequence[str]) -> str:
    """The language `argv` asks for (`--lang`, read before parsing), else the environment's."""
    lang = _option_value(argv, "--lang", "--la")
    return lang if lang in LANGS else default_lang()


def _usage_error(exc: UsageError, argv: Sequence[str]) -> int:
    lang = _argv_lang(argv)
    detail = localise_usage_detail(exc.detail, lang, exc.cause)
    message = t("cli.usage_error", lang, detail=detail, prog=exc.prog)
    return _tell("usage", [message], _option_value(argv, "--format", "--form") == "json", 2)


# What a Unix tool stopped by SIGPIPE reports (128 + 13): the reader left, as `| head` does.
EXIT_READER_GONE = 141


def _reader_gone() -> int:
    """The reader of our output closed it (`pilot-roi ... | head`): no traceback, no error report to a closed
    pipe, and nothing left for Python to flush into it at exit. The work may have stopped part-way, so not 0."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (a test's capture): nothing to flush
        pass
    return EXIT_READER_GONE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    raw = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_argv_lang(raw))
    try:
        args = parser.parse_args(raw)
    except UsageError as exc:
        return _usage_error(exc, raw)
    wants_json = getattr(args, "format", None) == "json"
    lang = getattr(args, "lang", None)
    warehouse = getattr(args, "warehouse", None)
    if warehouse is not None and not warehouse.strip():  # `--warehouse "$UNSET"`: never the default file instead
        return _tell("usage", [t("cli.empty_warehouse", lang if lang in LANGS else default_lang())], wants_json, 2)
    try:
        settings = Settings.from_env(warehouse=warehouse, lang=lang)
    except PilotRoiError as exc:
        return _refused(exc, lang if lang in LANGS else default_lang(), wants_json)
    try:
        return int(args.handler(args, settings))
    except UsageProblem as exc:
        return _tell("usage", exc.render(settings.lang), wants_json, 2)
    except PilotRoiError as exc:
        return _refused(exc, settings.lang, wants_json)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_gone()
    except Exception:
        ref, log_path = _log_internal_error(settings)
        lines = [t("cli.unexpected", settings.lang, ref=ref)]
        if log_path is not None and log_path.parent != Path(settings.warehouse).parent:
            lines.append(t("cli.error_log_at", settings.lang, path=str(log_path)))
        return _tell("error", lines, wants_json, 1)
