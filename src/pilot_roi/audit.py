"""The append-only audit log: who did what, when, from where."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from pilot_roi.i18n import t
from pilot_roi.resources import read_sql


def action_words(action: str, lang: str) -> str:
    """An action in the reader's words ("upload" → "Загрузка"); an action without words yet shows its code."""
    key = f"dash.audit.action.{action}"
    text = t(key, lang)
    return action if text == key else text


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
