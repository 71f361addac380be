"""Freezing: a reviewer marks one run as the official result of a year, and the report's numbers stop moving.

A freeze stores the assembled `YearReport` as JSON in `report_freezes.snapshot`. A frozen year's report is
rebuilt from that snapshot alone, so later uploads, restatements, registry edits or re-estimates never
change it, and regenerating it gives the same numbers.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import duckdb

from pilot_roi import audit, clock
from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.reports.assemble import assemble_report
from pilot_roi.reports.model import YearReport, from_json, to_json
from pilot_roi.resources import read_sql
from pilot_roi.warehouse import transaction


def snapshot_json(report: YearReport) -> str:
    """The report's numbers as a canonical JSON text (sorted keys)."""
    return json.dumps(to_json(report), ensure_ascii=False, sort_keys=True, allow_nan=False)


def report_from_snapshot(text: str) -> YearReport:
    """The `YearReport` stored by a freeze."""
    return from_json(YearReport, json.loads(text))


def get_freeze(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, Any] | None:
    """The freeze row of `year` (year, run_id, frozen_by, frozen_at, snapshot), or None."""
    cursor = con.execute(read_sql("reports/freeze_by_year.sql"), {"year": year})
    row = cursor.fetchone()
    if row is None:
        return None
    names = [d[0] for d in cursor.description or ()]
    return dict(zip(names, row, strict=True))


def freeze_report(
    con: duckdb.DuckDBPyConnection,
    year: int,
    run_id: int | None = None,
    *,
    username: str,
    now: datetime | None = None,
) -> YearReport:
    """Freeze run `run_id` (default: the latest finished run) as the official result of `year`.

    Refuses (InvalidInput) when the year is already frozen: a freeze is never silently replaced.
    Writes the freeze and its audit event in one transaction and returns the frozen report.
    """
    _refuse_if_frozen(con, year)
    frozen_at = (now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    report = assemble_report(con, year, run_id, now=frozen_at)
    report = dataclasses.replace(
        report,
        reproducibility=dataclasses.replace(
            report.reproducibility, frozen=True, frozen_by=username, frozen_at=frozen_at
        ),
    )
    try:
        _insert_freeze(con, year, report, username, frozen_at)
    except duckdb.ConstraintException:  # another reviewer froze the year meanwhile
        _refuse_if_frozen(con, year)
        raise
    return report


def _refuse_if_frozen(con: duckdb.DuckDBPyConnection, year: int) -> None:
    existing = get_freeze(con, year)
    if existing is not None:
        params = {
            "year": year,
            "run": existing["run_id"],
            "user": existing["frozen_by"],
            "when": clock.stamp(existing["frozen_at"], "%Y-%m-%d %H:%M:%S"),
        }
        raise InvalidInput([Problem("report.already_frozen", params=params)])


def _insert_freeze(
    con: duckdb.DuckDBPyConnection, year: int, report: YearReport, username: str, frozen_at: datetime
) -> None:
    with transaction(con):
        con.execute(
            read_sql("reports/insert_freeze.sql"),
            {
                "year": year,
                "run_id": report.reproducibility.run_id,
                "frozen_by": username,
                "frozen_at": frozen_at,
                "snapshot": snapshot_json(report),
            },
        )
        audit.record(
            con,
            username,
            "report_freeze",
            f"report:{year}",
            {"year": year, "run_id": report.reproducibility.run_id},
        )


def load_report(con: duckdb.DuckDBPyConnection, year: int, run_id: int | None = None) -> YearReport:
    """The report of `year`: its frozen snapshot when the year is frozen (and `run_id` is None or the frozen
    run), else assembled now from `run_id` or the latest finished run, marked as not frozen.
    """
    freeze = get_freeze(con, year)
    if freeze is not None and freeze["snapshot"] and (run_id is None or int(run_id) == int(freeze["run_id"])):
        return report_from_snapshot(str(freeze["snapshot"]))
    return assemble_report(con, year, run_id)
