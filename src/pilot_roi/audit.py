"""The append-only audit log: who did what, when, from where."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from pilot_roi.i18n import catalog, t
from pilot_roi.resources import read_sql


def action_words(action: str, lang: str) -> str:
    """An action in the reader's words ("upload" → "Загрузка"); an action without words yet shows its code."""
    key = f"dash.audit.action.{action}"
    text = t(key, lang)
    return action if text == key else text


def details_in_words(details: str | None, lang: str) -> str:
    """An event's details (the JSON object the log stores) as "key: value" lines in the reader's words.

    A known key reads in `lang` (`dash.audit.detail.<key>`; a registry section by its word: "объекты"), any other as
    written. Values read as text: a nested object as its own "key: value" pairs in brackets, a list
    comma-separated, true and false as yes and no, null as "—". Details that are not a JSON object are returned as
    stored. Every key and value is kept, whole, in the stored order.
    """
    if not details:
        return ""
    try:
        parsed = json.loads(details)
    except (TypeError, ValueError):
        return str(details)
    if not isinstance(parsed, dict):
        return str(details)
    lines = []
    for key, value in parsed.items():
        words = _key_words(str(key), lang)
        label = str(key) if words is None else words[:1].upper() + words[1:]  # in words, a line starts capitalised
        lines.append(f"{label}: {_detail_value(value, lang)}")
    return "\n".join(lines)


def detail_key(key: str, lang: str) -> str:
    """A detail's key in the reader's words ("rows_read" → "строк прочитано"); an unknown key as written."""
    words = _key_words(key, lang)
    return key if words is None else words


def _key_words(key: str, lang: str) -> str | None:
    """The words for a detail's key, or None when it has none."""
    for candidate in (f"dash.audit.detail.{key}", f"registry.table.{key}"):
        if candidate in catalog():
            return t(candidate, lang)
    return None


def _detail_value(value: Any, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("dash.audit.value.yes" if value else "dash.audit.value.no", lang)
    if isinstance(value, dict):
        return "(" + ", ".join(f"{detail_key(str(k), lang)}: {_detail_value(v, lang)}" for k, v in value.items()) + ")"
    if isinstance(value, list):
        return ", ".join(_detail_value(v, lang) for v in value)
    return str(value)


def record(
    con: duckdb.DuckDBPyConnection,
    username: str,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> None:
    """Append one event; call it inside the transaction of the change it describes."""
    con.execute(
        read_sql("audit/append_event.sql"),
        {
            "username": username,
            "action": action,
            "target": target,
            "details": json.dumps(details or {}, ensure_ascii=False, default=str),
            "remote_addr": remote_addr,
        },
    )
