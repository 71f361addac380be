"""The latest year a report has numbers for (`reports.latest_year`), the Reports page's default year: the demo's data
end in October 2025, and the page offered 2026, a year whose report has no realized gain at all."""

from __future__ import annotations

from datetime import date

import duckdb
from report_fixtures import Built

from pilot_roi.reports import assemble_report, latest_year
from pilot_roi.warehouse import connect


def _realized(con: duckdb.DuckDBPyConnection, year: int) -> dict[tuple[str, str], float]:
    """The realized gains in `year` of every pilot-metric of the year's report that has one."""
    report = assemble_report(con, year)
    return {
        (p.code, m.metric_code): m.realized_gain_year
        for p in report.pilots
        for m in p.metrics
        if m.realized_gain_year is not None
    }


def test_an_empty_warehouse_has_no_latest_year(con: duckdb.DuckDBPyConnection) -> None:
    assert latest_year(con) is None


def test_the_latest_year_is_the_last_whose_report_has_realized_gain(ro: duckdb.DuckDBPyConnection) -> None:
    year = latest_year(ro)
    assert year == 2025  # the fixture's values run to December 2025
    assert _realized(ro, year)
    assert _realized(ro, year + 1) == {}  # the next year's report would list the pilots and count nothing


def test_a_last_week_across_new_year_reaches_the_next_years_report(fresh: Built) -> None:
    """A week stored at Monday 29 December 2025 has four days in 2026: the 2026 report counts them, so 2026 is the
    latest year with numbers."""
    con = connect(fresh.path)
    try:
        pilot, metric = con.execute(
            "SELECT pilot_code, metric_code FROM estimate_results WHERE run_id = ? AND status = 'ok' "
            "ORDER BY pilot_code, metric_code LIMIT 1",
            [fresh.run_id],
        ).fetchone()  # type: ignore[misc]
        # the run records the series as weekly (with the rest of the inputs a run records since migration 0009)
        con.execute(
            "UPDATE estimate_results AS r SET frequency = 'weekly', value_kzt_per_unit = m.value_kzt_per_unit, "
            "higher_is_better = m.higher_is_better, capex_kzt = p.capex_kzt, opex_kzt_per_year = p.opex_kzt_per_year "
            "FROM metrics AS m, pilot_registry AS p "
            "WHERE m.code = r.metric_code AND p.code = r.pilot_code AND r.run_id = ? AND r.pilot_code = ? "
            "AND r.metric_code = ?",
            [fresh.run_id, pilot, metric],
        )
        con.execute(
            "INSERT INTO estimate_counterfactuals (run_id, pilot_code, metric_code, period, observed, counterfactual) "
            "VALUES (?, ?, ?, ?, 110.0, 100.0)",
            [fresh.run_id, pilot, metric, date(2025, 12, 29)],
        )
        assert latest_year(con) == 2026
        assert set(_realized(con, 2026)) == {(pilot, metric)}
    finally:
        con.close()


def test_before_any_run_the_latest_observation_dates_it(fresh: Built) -> None:
    con = connect(fresh.path)
    try:
        con.execute("UPDATE estimate_runs SET status = 'failed'")
        latest = con.execute("SELECT max(period) FROM observation_current").fetchone()[0]  # type: ignore[index]
        assert latest_year(con) == latest.year == 2025
    finally:
        con.close()
