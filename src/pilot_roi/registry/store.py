"""Write a validated `Registry` into the warehouse: diff against what is stored, upsert only what changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from pilot_roi import audit
from pilot_roi.i18n import format_number, t
from pilot_roi.registry.model import Metric, Pilot, Registry, Site, Subsidiary
from pilot_roi.registry.parse import DEFAULT_DATA_START, KnownCodes, SiteInUse, StoredPilot, StoredValues
from pilot_roi.resources import read_sql
from pilot_roi.warehouse.connection import transaction
from pilot_roi.warehouse.quality_summary import refresh_quality_summary

KEPT_SHOWN = 10
"""How many codes a summary line names of what a file left out (the count says how many there are)."""


def table_word(table: str, lang: str) -> str:
    """A registry section ("sites") as the reader says it ("объекты"); the section's name if it has no word."""
    key = f"registry.table.{table}"
    word = t(key, lang)
    return table if word == key else word


@dataclass(frozen=True, slots=True)
class TableChange:
    """How many rows of one kind a load created, updated and left unchanged."""

    table: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: tuple[str, ...] = ()  # stored codes the file does not name (it names some of this kind): left as stored


@dataclass(frozen=True, slots=True)
class ValuesOutsideBounds:
    """Stored values of a metric that its new bounds (min_value/max_value) would refuse in an upload."""

    metric: str
    n_values: int
    n_sites: int
    lowest: float
    highest: float
    min_value: float | None
    max_value: float | None
    example_site: str
    example_period: date
    example_value: float


@dataclass(frozen=True, slots=True)
class LoadSummary:
    """The outcome of one registry load, per kind of row."""

    changes: tuple[TableChange, ...] = field(default_factory=tuple)
    outside_bounds: tuple[ValuesOutsideBounds, ...] = ()

    @property
    def changed(self) -> bool:
        """True if the load created or updated anything."""
        return any(c.created or c.updated for c in self.changes)

    def as_dict(self) -> dict[str, dict[str, int]]:
        """{table: {created, updated, unchanged}} for JSON output."""
        return {c.table: {"created": c.created, "updated": c.updated, "unchanged": c.unchanged} for c in self.changes}

    def kept(self) -> dict[str, list[str]]:
        """{table: codes} of what is stored but not named in a file that names others of its kind.

        A registry file creates and updates, it never deletes: a pilot, site or metric left out of the file stays,
        with its observations and estimates. Saying so is how an admin who meant to remove one learns it is still
        there.
        """
        return {c.table: list(c.kept) for c in self.changes if c.kept}

    def lines(self, lang: str) -> list[str]:
        """What the load did, one line per kind, then what the file left out and the warehouse keeps, in `lang`."""
        out = [
            t("registry.summary", lang, table=table_word(c.table, lang), created=c.created, updated=c.updated,
              unchanged=c.unchanged)
            for c in self.changes
        ]  # fmt: skip
        for table, codes in self.kept().items():
            more = f" (+{len(codes) - KEPT_SHOWN})" if len(codes) > KEPT_SHOWN else ""
            shown = ", ".join(codes[:KEPT_SHOWN]) + more
            out.append(t("registry.kept", lang, table=table_word(table, lang), n=len(codes), codes=shown))
        for o in self.outside_bounds:
            out.append(
                t("registry.values_outside_bounds", lang, code=o.metric, n=o.n_values, n_sites=o.n_sites,
                  low=_shown(o.min_value, lang), high=_shown(o.max_value, lang), lowest=_shown(o.lowest, lang),
                  highest=_shown(o.highest, lang), site=o.example_site, period=o.example_period.isoformat(),
                  value=_shown(o.example_value, lang))
            )  # fmt: skip
        return out

    def outside_bounds_dict(self) -> list[dict[str, Any]]:
        """The stored values the new bounds leave behind, per metric, for JSON output."""
        return [
            {"metric": o.metric, "n_values": o.n_values, "n_sites": o.n_sites, "lowest": o.lowest,
             "highest": o.highest, "min_value": o.min_value, "max_value": o.max_value,
             "example": {"site": o.example_site, "period": o.example_period.isoformat(), "value": o.example_value}}
            for o in self.outside_bounds
        ]  # fmt: skip


def _shown(value: float | None, lang: str) -> str:
    """A stored value in the reader's number format with the decimals it has (up to 6): never "1.2e+06"."""
    if value is None:
        return "—"
    decimals = len(f"{value:.6f}".rstrip("0").partition(".")[2])
    return format_number(value, lang, decimals)


def _rows(con: duckdb.DuckDBPyConnection, sql_file: str) -> dict[str, dict[str, Any]]:
    cursor = con.execute(read_sql(sql_file))
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _warehouse_info(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute(read_sql("registry/get_warehouse_info.sql")).fetchall())


def _treated_site(text: str) -> tuple[str, date]:
    """("S01", 2024-04-01) of current_pilots.sql's "S01@2024-04-01" (a code never holds "@")."""
    site, _, day = text.partition("@")
    return site, date.fromisoformat(day)


def known_codes(con: duckdb.DuckDBPyConnection) -> KnownCodes:
    """The codes already in the warehouse, for validating a file that names only part of the registry."""
    info = _warehouse_info(con)
    sites = _rows(con, "registry/current_sites.sql")
    stored_values = {
        code: StoredValues(**{k: v for k, v in row.items() if k != "code"} | {"pilots": tuple(row["pilots"])})
        for code, row in _rows(con, "registry/metrics_with_values.sql").items()
    }
    pilots = {
        code: StoredPilot(frozenset(map(_treated_site, row["treated"])), frozenset(row["metrics"]))
        for code, row in _rows(con, "registry/current_pilots.sql").items()
    }
    return KnownCodes(
        subsidiaries=frozenset(_rows(con, "registry/current_subsidiaries.sql")),
        site_subsidiary={code: row["subsidiary_code"] for code, row in sites.items()},
        metrics=frozenset(_rows(con, "registry/current_metrics.sql")),
        data_start=date.fromisoformat(info["data_start"]) if "data_start" in info else DEFAULT_DATA_START,
        stored_values=stored_values,
        pilots=pilots,
        sites_in_use={
            code: SiteInUse(int(row["n_values"]), tuple(row["pilots"]))
            for code, row in _rows(con, "registry/sites_in_use.sql").items()
        },
    )


def _subsidiary_row(s: Subsidiary) -> dict[str, Any]:
    return {
        "code": s.code,
        "name_ru": s.name.ru,
        "name_kk": s.name.kk,
        "name_en": s.name.en,
        "sector": s.sector,
    }


def _site_row(s: Site) -> dict[str, Any]:
    return {
        "code": s.code, "subsidiary_code": s.subsidiary, "name_ru": s.name.ru, "name_kk": s.name.kk,
        "name_en": s.name.en, "region": s.region,
    }  # fmt: skip


def _metric_row(m: Metric) -> dict[str, Any]:
    return {
        "code": m.code, "name_ru": m.name.ru, "name_kk": m.name.kk, "name_en": m.name.en, "unit": m.unit,
        "frequency": m.frequency, "aggregation": m.aggregation, "higher_is_better": m.higher_is_better,
        "value_kzt_per_unit": m.value_kzt_per_unit, "min_value": m.min_value, "max_value": m.max_value,
    }  # fmt: skip


def _pilot_row(p: Pilot) -> dict[str, Any]:
    return {
        "code": p.code, "name_ru": p.name.ru, "name_kk": p.name.kk, "name_en": p.name.en,
        "subsidiary_code": p.subsidiary, "use_case": p.use_case, "capex_kzt": p.capex_kzt,
        "opex_kzt_per_year": p.opex_kzt_per_year,
        "treated": [f"{s.site}@{s.go_live.isoformat()}" for s in p.sites],
        "controls": list(p.controls), "metrics": list(p.metrics),
    }  # fmt: skip


def _upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    current_sql: str,
    rows: Iterable[dict[str, Any]],
    write: Callable[[dict[str, Any]], object],
) -> TableChange:
    stored = _rows(con, current_sql)
    created = updated = unchanged = 0
    named: set[str] = set()
    for row in rows:
        named.add(row["code"])
        before = stored.get(row["code"])
        if before is None:
            created += 1
        elif before == row:
            unchanged += 1
            continue
        else:
            updated += 1
        write(row)
    kept = tuple(sorted(set(stored) - named)) if named else ()
    return TableChange(table, created, updated, unchanged, kept)


def _write_pilot(con: duckdb.DuckDBPyConnection, pilot: Pilot) -> None:
    row = _pilot_row(pilot)
    own = {k: v for k, v in row.items() if k not in ("treated", "controls", "metrics")}
    con.execute(read_sql("registry/upsert_pilot.sql"), own)
    key = {"pilot_code": pilot.code}
    for sql in ("delete_pilot_treated_sites", "delete_pilot_control_sites", "delete_pilot_metrics"):
        con.execute(read_sql(f"registry/{sql}.sql"), key)
    for site in pilot.sites:
        con.execute(
            read_sql("registry/insert_pilot_treated_site.sql"),
            key | {"site_code": site.site, "go_live": site.go_live},
        )
    for control in pilot.controls:
        con.execute(read_sql("registry/insert_pilot_control_site.sql"), key | {"site_code": control})
    for metric in pilot.metrics:
        con.execute(read_sql("registry/insert_pilot_metric.sql"), key | {"metric_code": metric})


def _bounds(row: dict[str, Any]) -> tuple[Any, Any]:
    return row["min_value"], row["max_value"]


def _values_outside_bounds(con: duckdb.DuckDBPyConnection, codes: list[str]) -> tuple[ValuesOutsideBounds, ...]:
    """Stored values of `codes` outside their metrics' bounds as stored now.

    Bounds are checked at upload, so only a load that tightens them can leave values outside: they stay (a registry
    file does not edit observations) and keep counting in estimates until a corrected file restates them, so the
    load says how many there are and where to look.
    """
    if not codes:
        return ()
    rows = con.execute(read_sql("registry/values_outside_bounds.sql"), {"codes": codes}).fetchall()
    return tuple(
        ValuesOutsideBounds(code, n, n_sites, lowest, highest, low, high, ex["site"], ex["period"], ex["value"])
        for code, n, n_sites, lowest, highest, low, high, ex in rows
    )


def store_registry(
    con: duckdb.DuckDBPyConnection,
    registry: Registry,
    *,
    username: str,
    source: str,
    data_start: date | None = None,
) -> LoadSummary:
    """Upsert everything `registry` names in one transaction; unchanged rows are not touched."""
    with transaction(con):
        if data_start is not None:
            con.execute(read_sql("registry/set_warehouse_info.sql"), {"key": "data_start", "value": str(data_start)})
        stored_bounds = {code: _bounds(row) for code, row in _rows(con, "registry/current_metrics.sql").items()}
        rebounded = sorted(
            m.code
            for m in registry.metrics
            if m.code in stored_bounds and stored_bounds[m.code] != (m.min_value, m.max_value)
        )
        changes = (
            _upsert(con, "subsidiaries", "registry/current_subsidiaries.sql",
                    map(_subsidiary_row, registry.subsidiaries),
                    lambda r: con.execute(read_sql("registry/upsert_subsidiary.sql"), r)),
            _upsert(con, "sites", "registry/current_sites.sql", map(_site_row, registry.sites),
                    lambda r: con.execute(read_sql("registry/upsert_site.sql"), r)),
            _upsert(con, "metrics", "registry/current_metrics.sql", map(_metric_row, registry.metrics),
                    lambda r: con.execute(read_sql("registry/upsert_metric.sql"), r)),
        )  # fmt: skip
        # A metric's new frequency changes its pairs' expected periods: recount them in this transaction.
        refresh_quality_summary(con, "stale_frequency")
        pilots_by_code = {p.code: p for p in registry.pilots}
        pilot_change = _upsert(
            con,
            "pilots",
            "registry/current_pilots.sql",
            map(_pilot_row, registry.pilots),
            lambda r: _write_pilot(con, pilots_by_code[r["code"]]),
        )
        summary = LoadSummary((*changes, pilot_change), _values_outside_bounds(con, rebounded))
        if summary.changed:
            audit.record(con, username, "registry_load", source, summary.as_dict())
    return summary
