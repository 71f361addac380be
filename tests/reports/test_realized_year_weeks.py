"""Realized gain in a year: a week that straddles New Year counts its days in each year.

Weeks are stored at their Monday. A week from Monday 30 December 2024 has 2 days in 2024 and 5 in 2025: counting it
whole in 2024 (the rule before) put 5/7 of its gain in the wrong year's report, and the years of the reports did not
add up to the gain to date when the other straddling week (Monday 29 December 2025) was cut off at the end.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pilot_roi import economics
from pilot_roi.reports.assemble import realized_in_year
from pilot_roi.reports.model import SeriesPoint

WEEKLY = economics.MetricValue(1_000.0, True, "weekly")
GO_LIVE = date(2024, 12, 2)
GAP = {date(2024, 12, 2) + timedelta(weeks=i): 10.0 + i for i in range(10)}  # Mondays 2 Dec 2024 .. 3 Feb 2025


def _series(gaps: dict[date, float], frequency_days: int = 7) -> list[SeriesPoint]:
    before = [GO_LIVE - timedelta(days=frequency_days * k) for k in range(4, 0, -1)]
    points = [SeriesPoint(d, 100.0, 100.0, 99.0, 101.0) for d in before]
    points += [SeriesPoint(d, 100.0 + g, 100.0, 99.0, 101.0) for d, g in gaps.items()]
    return points


def test_a_week_across_new_year_counts_its_days_in_each_year() -> None:
    series = _series(GAP)
    in_2024 = realized_in_year(series, 2024, GO_LIVE, 2, WEEKLY)
    in_2025 = realized_in_year(series, 2025, GO_LIVE, 2, WEEKLY)
    straddling = GAP[date(2024, 12, 30)]
    whole_2024 = sum(g for d, g in GAP.items() if d.year == 2024 and d != date(2024, 12, 30))
    assert in_2024 == pytest.approx((whole_2024 + straddling * 2 / 7) * 1_000.0 * 2, rel=1e-12)
    assert in_2025 == pytest.approx((sum(GAP.values()) - whole_2024 - straddling * 2 / 7) * 1_000.0 * 2, rel=1e-12)
    to_date = economics.realized_gain_kzt(
        [p.period for p in series], [p.observed for p in series], [p.counterfactual for p in series],
        GO_LIVE, WEEKLY, 2,
    )  # fmt: skip
    assert in_2024 + in_2025 == pytest.approx(to_date, rel=1e-12)  # the years add up to the gain to date


def test_a_year_that_only_a_straddling_week_reaches_gets_its_share() -> None:
    only = {date(2025, 12, 29): 7.0}  # Monday 29 December 2025: 3 days in 2025, 4 in 2026
    series = _series(only)
    assert realized_in_year(series, 2025, GO_LIVE, 1, WEEKLY) == pytest.approx(7.0 * 3 / 7 * 1_000.0)
    assert realized_in_year(series, 2026, GO_LIVE, 1, WEEKLY) == pytest.approx(7.0 * 4 / 7 * 1_000.0)
    assert realized_in_year(series, 2027, GO_LIVE, 1, WEEKLY) is None


@pytest.mark.parametrize("frequency", ["daily", "monthly", "quarterly"])
def test_periods_that_never_cross_a_year_count_whole_in_theirs(frequency: str) -> None:
    metric = economics.MetricValue(1_000.0, True, frequency)
    last_of_2024 = {"daily": date(2024, 12, 31), "monthly": date(2024, 12, 1), "quarterly": date(2024, 10, 1)}
    series = _series({last_of_2024[frequency]: 5.0, date(2025, 1, 1): 9.0}, frequency_days=1)
    assert realized_in_year(series, 2024, date(2024, 10, 1), 1, metric) == 5_000.0
    assert realized_in_year(series, 2025, date(2024, 10, 1), 1, metric) == 9_000.0
