"""load_observations: validation against the registry, merge semantics, history, audit, modes."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from ingest_helpers import current, snapshot

from pilot_roi.errors import InvalidInput
from pilot_roi.ingest import load_observations
from pilot_roi.resources import read_sql


def frame(rows: list[tuple[str, str, date, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["site_code", "metric_code", "period", "value"], orient="row")


BASE = [
    ("KMG-ANPZ", "energy_gj", date(2025, 1, 1), 10.0),
    ("KMG-ANPZ", "energy_gj", date(2025, 1, 2), 11.0),
    ("KMG-PNHZ", "output_t", date(2025, 1, 1), 500.0),
]


def audits_clean(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("duplicate_current_keys", "orphan_observation_codes", "orphan_upload_references"):
        assert con.execute(read_sql(f"audits/{name}.sql")).fetchall() == [], name


def test_load_then_identical_reload_is_unchanged(reg_con: duckdb.DuckDBPyConnection) -> None:
    first = load_observations(reg_con, frame(BASE), file_name="a", uploaded_by="u")
    assert (first.status, first.rows_read, first.rows_inserted, first.rows_rejected) == ("loaded", 3, 3, 0)
    assert current(reg_con) == sorted(BASE)
    before = reg_con.execute("SELECT * FROM observation_current ORDER BY ALL").fetchall()
    again = load_observations(reg_con, frame(BASE), file_name="a", uploaded_by="u")
    assert (again.status, again.rows_inserted, again.rows_updated, again.rows_unchanged) == ("unchanged", 0, 0, 3)
    assert reg_con.execute("SELECT * FROM observation_current ORDER BY ALL").fetchall() == before
    assert reg_con.execute("SELECT count(*) FROM observation_superseded").fetchone() == (0,)
    statuses = reg_con.execute("SELECT status FROM uploads ORDER BY upload_id").fetchall()
    assert statuses == [("loaded",), ("unchanged",)]
    audits_clean(reg_con)


def test_restatement_keeps_history(reg_con: duckdb.DuckDBPyConnection) -> None:
    first = load_observations(reg_con, frame(BASE), file_name="a", uploaded_by="u")
    changed = [BASE[0], (*BASE[1][:3], 12.5), ("KMG-ANPZ", "energy_gj", date(2025, 1, 3), 13.0)]
    report = load_observations(reg_con, frame(changed), file_name="b", uploaded_by="v")
    assert (report.status, report.rows_inserted, report.rows_updated, report.rows_unchanged) == ("loaded", 1, 1, 1)
    assert current(reg_con) == sorted([BASE[0], changed[1], changed[2], BASE[2]])
    history = reg_con.execute(
        "SELECT value, upload_id, valid_to IS NULL FROM observation_history "
        "WHERE site_code = 'KMG-ANPZ' AND period = DATE '2025-01-02' ORDER BY valid_from"
    ).fetchall()
    assert history == [(11.0, first.upload_id, False), (12.5, report.upload_id, True)]
    superseded = reg_con.execute(
        "SELECT s.superseded_by_upload_id, s.valid_to = u.uploaded_at FROM observation_superseded s "
        "JOIN upload_log u ON u.upload_id = s.superseded_by_upload_id"
    ).fetchall()
    assert superseded == [(report.upload_id, True)]
    actions = reg_con.execute("SELECT action, username FROM audit_log WHERE action <> 'registry_load'").fetchall()
    assert actions == [("upload", "u"), ("upload", "v"), ("restatement", "v")]
    audits_clean(reg_con)


def test_all_or_nothing_rejects_and_records(reg_con: duckdb.DuckDBPyConnection) -> None:
    rows = [*BASE, ("NOPE", "energy_gj", date(2025, 1, 1), 1.0)]
    report = load_observations(reg_con, frame(rows), file_name="bad", uploaded_by="u", lang="ru")
    assert report.status == "rejected" and report.rows_rejected == 1 and report.rows_inserted == 0
    assert current(reg_con) == []
    [error] = report.errors
    assert (error.line, error.column, error.value, error.code) == (4, "site_code", "NOPE", "ingest.site_unknown")
    assert "неизвестный" in error.message
    stored = reg_con.execute("SELECT upload_id, line, column_name, value, code FROM upload_errors").fetchall()
    assert stored == [(report.upload_id, 4, "site_code", "NOPE", "ingest.site_unknown")]
    assert reg_con.execute("SELECT status, rows_rejected FROM uploads").fetchall() == [("rejected", 1)]
    assert reg_con.execute("SELECT action FROM audit_log WHERE action = 'upload'").fetchall() == [("upload",)]


def test_skip_invalid_loads_the_rest(reg_con: duckdb.DuckDBPyConnection) -> None:
    rows = [*BASE, ("NOPE", "energy_gj", date(2025, 1, 1), 1.0)]
    report = load_observations(reg_con, frame(rows), file_name="bad", uploaded_by="u", mode="skip_invalid")
    assert (report.status, report.rows_inserted, report.rows_rejected) == ("loaded", 3, 1)
    assert current(reg_con) == sorted(BASE)
    assert reg_con.execute("SELECT status FROM upload_log").fetchall() == [("partial",)]
    assert reg_con.execute("SELECT count(*) FROM upload_errors").fetchone() == (1,)


def test_dry_run_writes_nothing(reg_con: duckdb.DuckDBPyConnection) -> None:
    load_observations(reg_con, frame(BASE), file_name="a", uploaded_by="u")
    before = snapshot(reg_con)
    changed = [(*BASE[0][:3], 99.0), ("KMG-ANPZ", "energy_gj", date(2025, 1, 5), 1.0)]
    report = load_observations(reg_con, frame(changed), file_name="b", uploaded_by="u", dry_run=True)
    assert (report.status, report.rows_inserted, report.rows_updated, report.upload_id) == ("loaded", 1, 1, None)
    assert snapshot(reg_con) == before


@pytest.mark.parametrize(
    ("row", "code", "column"),
    [
        (("NOPE", "energy_gj", date(2025, 1, 1), 1.0), "ingest.site_unknown", "site_code"),
        (("KMG-ANPZ", "nope", date(2025, 1, 1), 1.0), "ingest.metric_unknown", "metric_code"),
        (("KTZ-DEPOT1", "energy_gj", date(2025, 1, 1), 1.0), "ingest.site_forbidden", "site_code"),
        (("KMG-ANPZ", "output_t", date(2025, 3, 15), 1.0), "ingest.period_not_monthly", "period"),
        (("KMG-ANPZ", "power_kwh", date(2025, 3, 4), 1.0), "ingest.period_not_weekly", "period"),
        (("KMG-ANPZ", "uptime_pct", date(2025, 2, 1), 1.0), "ingest.period_not_quarterly", "period"),
        (("KMG-ANPZ", "energy_gj", date.today() + timedelta(days=3), 1.0), "ingest.period_future", "period"),
        (("KMG-ANPZ", "energy_gj", date(2025, 1, 1), -1.0), "ingest.value_below_min", "value"),
        (("KMG-ANPZ", "uptime_pct", date(2025, 4, 1), 101.0), "ingest.value_above_max", "value"),
        (("KMG-ANPZ", "energy_gj", date(2025, 1, 1), float("nan")), "ingest.value_not_number", "value"),
        (("KMG-ANPZ", "energy_gj", date(2025, 1, 1), float("inf")), "ingest.value_not_number", "value"),
        (("KMG-ANPZ", "energy_gj", date(2025, 1, 1), None), "ingest.value_not_number", "value"),
    ],
)
def test_each_registry_error(reg_con: duckdb.DuckDBPyConnection, row: tuple, code: str, column: str) -> None:
    report = load_observations(
        reg_con, frame([BASE[2], row]), file_name="x", uploaded_by="u", allowed_subsidiaries={"KMG"}
    )
    assert report.status == "rejected"
    assert [(e.line, e.column, e.code) for e in report.errors] == [(2, column, code)]
    assert all(e.message and e.message != e.code for e in report.errors)


def test_case_insensitive_codes_are_stored_as_registered(reg_con: duckdb.DuckDBPyConnection) -> None:
    report = load_observations(reg_con, frame([("kmg-anpz", "ENERGY_GJ", date(2025, 1, 1), 1.0)]),
                               file_name="x", uploaded_by="u")  # fmt: skip
    assert report.status == "loaded"
    assert current(reg_con) == [("KMG-ANPZ", "energy_gj", date(2025, 1, 1), 1.0)]


def test_duplicates_collapse_or_conflict(reg_con: duckdb.DuckDBPyConnection) -> None:
    exact = load_observations(reg_con, frame([BASE[0], BASE[1], BASE[0]]), file_name="x", uploaded_by="u")
    assert (exact.status, exact.rows_inserted) == ("loaded", 2)
    assert any("collapsed" in note for note in exact.notes)
    conflict = load_observations(reg_con, frame([BASE[0], (*BASE[0][:3], 99.0)]), file_name="y", uploaded_by="u")
    assert conflict.status == "rejected"
    assert sorted((e.line, e.code) for e in conflict.errors) == [
        (1, "ingest.duplicate_conflict"),
        (2, "ingest.duplicate_conflict"),
    ]
    audits_clean(reg_con)


def test_bad_mode_and_missing_columns_are_refused(reg_con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(InvalidInput):
        load_observations(reg_con, frame(BASE), file_name="x", uploaded_by="u", mode="some")
    with pytest.raises(InvalidInput):
        load_observations(reg_con, frame(BASE).drop("value"), file_name="x", uploaded_by="u")
