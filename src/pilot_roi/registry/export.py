"""The warehouse's registry read back in the shape of a registry file's items (what `parse_registry` reads).

Used to prefill the Admin page's forms: an item read here, sent back unchanged, loads as "unchanged".
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import duckdb

from pilot_roi.resources import read_sql

Section = Literal["subsidiaries", "sites", "metrics", "pilots"]

_CURRENT_SQL: dict[str, str] = {
    "subsidiaries": "registry/current_subsidiaries.sql",
    "sites": "registry/current_sites.sql",
    "metrics": "registry/current_metrics.sql",
    "pilots": "registry/current_pilots.sql",
}


def _name(row: dict[str, Any]) -> dict[str, str]:
    return {lang: str(row[f"name_{lang}"] or "") for lang in ("ru", "kk", "en")}


def _optional(item: dict[str, Any], **values: Any) -> dict[str, Any]:
    """`item` plus the `values` that are not None (a registry file leaves absent fields out)."""
    return item | {key: value for key, value in values.items() if value is not None}


def _subsidiary_item(row: dict[str, Any]) -> dict[str, Any]:
    return _optional({"code": row["code"], "name": _name(row)}, sector=row["sector"])


def _site_item(row: dict[str, Any]) -> dict[str, Any]:
    item = {"code": row["code"], "subsidiary": row["subsidiary_code"], "name": _name(row)}
    return _optional(item, region=row["region"])


def _metric_item(row: dict[str, Any]) -> dict[str, Any]:
    item = {
        "code": row["code"], "name": _name(row), "unit": row["unit"], "frequency": row["frequency"],
        "aggregation": row["aggregation"], "higher_is_better": bool(row["higher_is_better"]),
        "value_kzt_per_unit": row["value_kzt_per_unit"],
    }  # fmt: skip
    return _optional(item, min_value=row["min_value"], max_value=row["max_value"])


def _pilot_item(row: dict[str, Any]) -> dict[str, Any]:
    # current_pilots.sql lists treated sites as "SITE@YYYY-MM-DD", sorted by site.
    sites = []
    for entry in row["treated"] or []:
        site, _, go_live = str(entry).rpartition("@")
        sites.append({"site": site, "go_live": date.fromisoformat(go_live)})
    item = {
        "code": row["code"], "name": _name(row), "subsidiary": row["subsidiary_code"], "use_case": row["use_case"],
        "sites": sites, "metrics": list(row["metrics"] or []), "capex_kzt": row["capex_kzt"],
        "opex_kzt_per_year": row["opex_kzt_per_year"],
    }  # fmt: skip
    return _optional(item, controls=list(row["controls"]) if row["controls"] else None)


_ITEM = {"subsidiaries": _subsidiary_item, "sites": _site_item, "metrics": _metric_item, "pilots": _pilot_item}


def stored_items(con: duckdb.DuckDBPyConnection, section: Section) -> dict[str, dict[str, Any]]:
    """Every stored subsidiary, site, metric or pilot as a registry-file item, by code (sorted by code)."""
    if section not in _CURRENT_SQL:
        raise ValueError(f"section={section!r} is not one of {', '.join(_CURRENT_SQL)}")
    cursor = con.execute(read_sql(_CURRENT_SQL[section]))
    names = [d[0] for d in cursor.description]
    rows = sorted((dict(zip(names, row, strict=True)) for row in cursor.fetchall()), key=lambda r: str(r["code"]))
    return {str(row["code"]): _ITEM[section](row) for row in rows}
