"""Reference data and pilots as code: parse and validate a YAML registry file, then upsert it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import yaml

from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.registry.export import stored_items
from pilot_roi.registry.model import Registry
from pilot_roi.registry.parse import KnownCodes, parse_registry
from pilot_roi.registry.store import LoadSummary, known_codes, store_registry

__all__ = [
    "KnownCodes",
    "LoadSummary",
    "Registry",
    "load_registry_document",
    "load_registry_file",
    "parse_registry",
    "read_registry_yaml",
    "stored_items",
]


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a date that does not exist (`go_live: 2025-02-30`) stays the text it was
    (PyYAML raises a bare ValueError for it), so the field's own check names the field and the value."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> object:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def read_registry_yaml(text: str) -> object:
    """The YAML document, or InvalidInput with the line where it stops making sense."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        detail = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidInput([Problem("registry.not_yaml", params={"line": line, "detail": detail})]) from exc


def load_registry_file(con: duckdb.DuckDBPyConnection, path: str | Path, *, username: str = "cli") -> LoadSummary:
    """Validate the registry file whole against the warehouse, then upsert it in one transaction."""
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1251")
        except UnicodeDecodeError as exc:  # a binary file: a spreadsheet, an archive
            raise InvalidInput([Problem("registry.not_text")]) from exc
    doc = read_registry_yaml(text)
    if doc is None or doc == {}:  # an empty or comment-only file: "0 created" would read as a load that worked
        raise InvalidInput([Problem("registry.empty_file", params={"path": path.name})])
    return load_registry_document(con, doc, username=username, source=path.name)


def load_registry_document(con: duckdb.DuckDBPyConnection, doc: object, *, username: str, source: str) -> LoadSummary:
    """Validate a registry document (a whole or partial file's content) against the warehouse, then upsert it.

    The one way into the registry: the CLI, the YAML upload and the Admin page's forms all come here, so
    they refuse the same things with the same messages. `source` names the file (or form) in the audit log.
    """
    registry = parse_registry(doc, known_codes(con))
    data_start = None
    if isinstance(doc, dict) and "data_start" in doc:
        raw = doc["data_start"]
        data_start = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    return store_registry(con, registry, username=username, source=source, data_start=data_start)
