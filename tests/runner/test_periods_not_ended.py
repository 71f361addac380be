"""A sum over a period that has not ended (an export on the 28th of the month) stays out of the estimate until the
period ends: it would read as a drop. A real warehouse, the runner end to end, the words a reader sees."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pilot_roi import clock
from pilot_roi.estimation.diagnostic_words import checks_in_words
from pilot_roi.ingest import load_observations
from pilot_roi.runner import RunOptions, run_portfolio
from pilot_roi.runner.model import PilotMetric
from pilot_roi.runner.read import (
    loaded_before_period_end,
    read_panel,
    read_portfolio,
    read_site_roles,
    split_open_periods,
)
from pilot_roi.warehouse import connect

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")


def _metric(frequency: str, aggregation: str) -> PilotMetric:
    fields: dict[str, Any] = dict.fromkeys(PilotMetric.__dataclass_fields__)
    return PilotMetric(**{**fields, "pilot_code": "P", "metric_code": "m", "frequency": frequency,
                          "aggregation": aggregation})  # fmt: skip


def _panel(periods: list[date]) -> pl.DataFrame:
    n = len(periods)
    return pl.DataFrame({"site_code": ["A"] * n, "period": periods, "value": [100.0] * (n - 1) + [93.0]})


MONTHS = [date(2026, m, 1) for m in range(1, 12)]
QUARTERS = [date(2026, m, 1) for m in (1, 4, 7, 10)]
YEARS = [date(y, 1, 1) for y in (2024, 2025, 2026)]


@pytest.mark.parametrize(
    ("frequency", "periods", "as_of", "left_out"),
    [
        ("monthly", MONTHS, date(2026, 11, 28), ["2026-11-01"]),  # November is not over on the 28th
        ("monthly", MONTHS, date(2026, 11, 30), ["2026-11-01"]),  # nor on its last day: its output is still coming
        ("monthly", MONTHS, date(2026, 12, 1), []),
        ("quarterly", QUARTERS, date(2026, 11, 28), ["2026-10-01"]),
        ("quarterly", QUARTERS, date(2027, 1, 1), []),
        ("yearly", YEARS, date(2026, 11, 28), ["2026-01-01"]),
        ("daily", [date(2026, 11, d) for d in range(20, 29)], date(2026, 11, 28), ["2026-11-28"]),
    ],
)
def test_a_sum_metric_leaves_out_the_periods_not_ended(
    frequency: str, periods: list[date], as_of: date, left_out: list[str]
) -> None:
    panel = _panel(periods)
    kept, found = split_open_periods(panel, _metric(frequency, "sum"), as_of)
    assert kept.height == panel.height - len(left_out)
    assert sorted(d.isoformat() for d in set(panel["period"]) - set(kept["period"])) == left_out
    assert found == ({"count": len(left_out), "periods": left_out, "as_of": as_of.isoformat()} if left_out else {})


def test_a_mean_metric_keeps_them() -> None:
    # a mean over part of a month is still a mean, with more noise: nothing to leave out
    panel = _panel(MONTHS)
    kept, found = split_open_periods(panel, _metric("monthly", "mean"), date(2026, 11, 28))
    assert kept.equals(panel) and found == {}


def _p_null(path: Path, run_id: int) -> dict[str, Any]:
    con = connect(path, read_only=True)
    try:
        cursor = con.execute(
            "SELECT r.*, m.unit FROM estimate_results AS r LEFT JOIN metrics AS m ON m.code = r.metric_code "
            "WHERE r.run_id = ? AND r.pilot_code = 'P-NULL'",
            [run_id],
        )
        names = [d[0] for d in cursor.description]
        row = dict(zip(names, cursor.fetchone() or (), strict=True))
        (last,) = con.execute(
            "SELECT max(period) FROM estimate_counterfactuals WHERE run_id = ? AND pilot_code = 'P-NULL'", [run_id]
        ).fetchone() or (None,)
        row["last_period"] = last
        return row
    finally:
        con.close()


def _run(path: Path, as_of: date) -> int:
    con = connect(path)
    try:
        return run_portfolio(con, RunOptions(workers=1, pilot="P-NULL", as_of=as_of)).run_id
    finally:
        con.close()


def test_the_runner_waits_for_the_period_to_end(
    estimated_file: tuple[Path, int], portfolio_copy: Callable[..., Path]
) -> None:
    # The daily portfolio's data end on 2024-12-31. Run as of 2024-12-30: the 30th and the 31st are not over, at
    # P-NULL's five sites (S03 and its listed controls S07-S10): ten values wait.
    base = _p_null(*estimated_file)
    path = portfolio_copy()
    early = _run(path, date(2024, 12, 30))
    row = _p_null(path, early)
    assert row["reused_from_run"] is None and row["status"] == "ok"
    assert json.loads(row["diagnostics"])["periods_not_ended"] == {
        "count": 10,
        "periods": ["2024-12-30", "2024-12-31"],
        "as_of": "2024-12-30",
    }
    assert row["last_period"] == date(2024, 12, 29) and base["last_period"] == date(2024, 12, 31)
    assert row["n_post_periods"] == base["n_post_periods"] - 2
    assert row["effect"] != base["effect"]
    ru, en = checks_in_words(row, "ru"), checks_in_words(row, "en")
    assert any("не закончившиеся на 2024-12-30: 10 (2024-12-30, 2024-12-31)" in line for line in ru), ru
    assert any("until their period ends: 10 value(s)" in line for line in en), en
    assert not any("period ends" in line for line in checks_in_words(base, "en"))

    # the same day again: the same rows, carried forward; once the period is over, estimated again with every day
    assert _p_null(path, _run(path, date(2024, 12, 30)))["reused_from_run"] == early
    later = _p_null(path, _run(path, date(2025, 1, 5)))
    assert later["reused_from_run"] is None and "periods_not_ended" not in json.loads(later["diagnostics"])
    assert (later["effect"], later["ci_low"], later["n_post_periods"], later["last_period"]) == (
        base["effect"],
        base["ci_low"],
        base["n_post_periods"],
        base["last_period"],
    )


def test_the_run_records_the_day_it_took_as_today(portfolio_copy: Callable[..., Path]) -> None:
    path = portfolio_copy()
    run_id = _run(path, date(2025, 1, 5))
    con = connect(path, read_only=True)
    try:
        sql = "SELECT parameters FROM estimate_runs WHERE run_id = ?"
        (parameters,) = con.execute(sql, [run_id]).fetchone() or ("",)
    finally:
        con.close()
    assert json.loads(parameters)["as_of"] == "2025-01-05"


def test_a_value_loaded_before_its_period_ended_is_named_once_the_period_is_over(
    portfolio_copy: Callable[..., Path],
) -> None:
    # today's energy at S03, loaded today: a total over part of the day. Tomorrow it is read as it is, and named.
    path = portfolio_copy(estimated=False)
    today = clock.today()
    con = connect(path)
    try:
        value = pl.DataFrame({"site_code": ["S03"], "metric_code": ["energy_gj"], "period": [today], "value": [400.0]})
        assert load_observations(con, value, file_name="today.csv", uploaded_by="test").status == "loaded"
        item = next(i for i in read_portfolio(con, "P-NULL"))
        panel = read_panel(con, item.metric_code, read_site_roles(con, "P-NULL", item.metric_code), load_times=True)
        assert loaded_before_period_end(panel, item, today + timedelta(days=1)) == {
            "count": 1,
            "n_periods": 1,
            "periods": [today.isoformat()],
        }
        assert loaded_before_period_end(panel, item, today) == {}  # not over: left out instead
        # a feed loaded the day before each period ended: every value counted, the first ten periods named
        days = panel.with_columns(pl.col("period").cast(pl.Datetime("us")).alias("loaded_at"))
        early = loaded_before_period_end(days, item, today + timedelta(days=1))
        assert (early["count"], early["n_periods"]) == (days.height, days["period"].n_unique())
        assert early["periods"] == sorted(d.isoformat() for d in days["period"].unique())[:10]
        assert split_open_periods(panel, item, today)[1]["periods"] == [today.isoformat()]
        mean = replace(item, aggregation="mean")
        assert loaded_before_period_end(panel, mean, today + timedelta(days=1)) == {}
    finally:
        con.close()
    words = {
        lang: checks_in_words(
            {"diagnostics": {"loaded_before_period_end": {"count": 1, "periods": ["2026-11-28"]}}}, lang
        )
        for lang in ("ru", "kk", "en")
    }
    assert "Значений, загруженных до конца своего периода: 1 (2026-11-28)" in words["ru"][0]
    assert "жүктелген мәндер: 1 (2026-11-28)" in words["kk"][0]
    assert words["en"][0].startswith("1 value(s) were loaded before their period ended (2026-11-28)")
    # more periods than named: the words say there are more
    named = {"count": 40, "n_periods": 12, "periods": ["2026-01-01", "2026-01-02", "2026-01-03"]}
    line = checks_in_words({"diagnostics": {"loaded_before_period_end": named}}, "en")[0]
    assert line.startswith("40 value(s) were loaded before their period ended (2026-01-01, 2026-01-02, 2026-01-03, …)")
