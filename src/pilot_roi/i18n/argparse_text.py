"""argparse's own English error texts, given back in the user's language (ru, kk, en).

argparse builds an error as one English sentence ("argument --format: invalid choice: 'xml' (choose from 'text',
'json')") and hands it to `ArgumentParser.error`. Our parser raises it as a `UsageError`; `localise_usage_detail`
reads the sentence back against argparse's own message templates (`TEMPLATES`, copied verbatim from its source)
and writes it again from the catalogue (messages/cli_usage.yaml), the user's values and choices kept verbatim.

Why read the sentence back rather than translate at source: argparse looks its texts up through the module
globals `argparse._` and `argparse.ngettext`, so routing them to our catalogue means swapping a global every parser
in the process shares (gunicorn's, pytest's, a thread's) and restoring it on every way out of `parse_args`,
`--help`'s SystemExit included. Reading the finished sentence touches nothing outside our own parser. Both ways
depend on argparse's English wording alike; a sentence no template matches (a future Python's new wording) is
kept as argparse wrote it, inside the localized frame, never an error.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from pilot_roi.i18n import t


class ArgumentValueError(argparse.ArgumentTypeError):
    """What one of our argparse `type=` functions raises for a value it refuses: a catalogue key and its params,
    so the message can be given in the user's language (argparse itself shows `str()`, the English text)."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(t(key, "en", **params))
        self.key = key
        self.params = params


def _value_error_of(exc: BaseException | None) -> ArgumentValueError | None:
    """The ArgumentValueError behind the exception argparse is handling when it calls `error()`: argparse raises
    its ArgumentError while handling the type function's error, so the latter is the former's `__context__`."""
    while exc is not None:
        if isinstance(exc, ArgumentValueError):
            return exc
        exc = exc.__context__
    return None


@dataclass(frozen=True, slots=True)
class Template:
    """One argparse message: `msgid` exactly as in argparse's source, the catalogue `key` that says it in our words,
    and the names our catalogue gives its positional `%s`/`%r` fields, in order (named fields keep their names)."""

    msgid: str
    key: str
    names: tuple[str, ...] = ()


# The wrapper argparse puts around the message of one argument; its message is looked up again in TEMPLATES.
ARGUMENT = Template("argument %(argument_name)s: %(message)s", "cli.usage.argument")
# Order matters where two could read the same sentence: "invalid choice: …" before "invalid %(type)s value: …".
TEMPLATES: tuple[Template, ...] = (
    Template("the following arguments are required: %s", "cli.usage.required", ("arguments",)),
    Template("invalid choice: %(value)r (choose from %(choices)s)", "cli.usage.invalid_choice"),
    Template("invalid %(type)s value: %(value)r", "cli.usage.invalid_value"),
    Template("unrecognized arguments: %s", "cli.usage.unrecognized", ("arguments",)),
    Template("expected one argument", "cli.usage.expected_one"),
    Template("expected at most one argument", "cli.usage.expected_at_most_one"),
    Template("expected at least one argument", "cli.usage.expected_at_least_one"),
    Template("expected %s argument", "cli.usage.expected_n", ("count",)),
    Template("expected %s arguments", "cli.usage.expected_n", ("count",)),
    Template("not allowed with argument %s", "cli.usage.not_allowed_with", ("other",)),
    Template("one of the arguments %s is required", "cli.usage.one_of_required", ("arguments",)),
    Template("ambiguous option: %(option)s could match %(matches)s", "cli.usage.ambiguous"),
    Template("ignored explicit argument %r", "cli.usage.ignored_explicit", ("value",)),
    Template("unknown parser %(parser_name)r (choices: %(choices)s)", "cli.usage.unknown_command"),
)
# "invalid %(type)s value": the type named in words where it is one we use, else the value alone
_VALUE_KEYS = {"int": "cli.usage.invalid_int", "float": "cli.usage.invalid_float"}

_FIELD = re.compile(r"%(?:\((\w+)\))?[sr]")
# What the user typed may hold anything, the template's own words too ("--kind 'x (choose from a)'"): it takes all
# it can. Our names and lists of choices never hold those words, so they take as little as they can. A type is a
# name (int, float, port_number), never with spaces.
_USER_FIELDS = frozenset({"value", "option", "parser_name"})


@cache
def _pattern(template: Template) -> re.Pattern[str]:
    """`template.msgid` as a regular expression with one named group per field."""
    parts: list[str] = []
    position = 0
    unnamed = iter(template.names)
    for match in _FIELD.finditer(template.msgid):
        parts.append(re.escape(template.msgid[position : match.start()]))
        name = match.group(1) or next(unnamed)
        pattern = r"\S+" if name == "type" else ".+" if name in _USER_FIELDS else ".+?"
        parts.append(f"(?P<{name}>{pattern})")
        position = match.end()
    parts.append(re.escape(template.msgid[position:]))
    return re.compile("".join(parts), re.DOTALL)


def _read(text: str, templates: tuple[Template, ...]) -> tuple[Template, dict[str, str]] | None:
    for template in templates:
        match = _pattern(template).fullmatch(text)
        if match is not None:
            return template, match.groupdict()
    return None


def _message(text: str, lang: str, own: ArgumentValueError | None) -> str:
    """One argument's message (or a message of the whole command line) in `lang`; as argparse wrote it when it is
    none we know."""
    if own is not None and text == str(own):
        return t(own.key, lang, **own.params)
    found = _read(text, TEMPLATES)
    if found is None:
        return text
    template, fields = found
    if template.key == "cli.usage.invalid_value":
        return t(_VALUE_KEYS.get(fields["type"], template.key), lang, value=fields["value"])
    return t(template.key, lang, **fields)


def localise_usage_detail(detail: str, lang: str, cause: BaseException | None = None) -> str:
    """argparse's English `detail` of a usage error in `lang`, its values, option names and choices verbatim.

    `cause` is the exception argparse was handling when it reported the error (an ArgumentValueError of one of our
    type functions among its contexts gives that function's own message in `lang`)."""
    own = _value_error_of(cause)
    found = _read(detail, (ARGUMENT,))
    if found is None:
        return _message(detail, lang, own)
    name, message = found[1]["argument_name"], found[1]["message"]
    key = "cli.usage.option" if name.startswith("-") else "cli.usage.argument"
    return t(key, lang, argument_name=name, message=_message(message, lang, own))
