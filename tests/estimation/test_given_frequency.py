"""`estimate_effect(..., frequency=...)`: the panel's frequency stated by the caller (the runner: the registry's).

Without it the estimator reads the frequency from the spacing of the dates, and the reading can be wrong: a daily
metric whose sites report only on Mondays reads as weekly, so a Wednesday go-live makes that Monday (a day before
the go-live, wholly untreated) the first treated period; a monthly metric reported only in January, April, July
and October reads as quarterly, so a go-live on 15 February treats January. Stated, the frequency decides the
first treated period, the data-sufficiency thresholds, the calendar grid behind the gap share, the ITS seasonal
cycles and the words of the method's reason; dates that contradict it are refused, never read another way.
frequency=None keeps every earlier result bit for bit (golden numbers recorded with the code before the keyword),
except where dates merged on the guessed ITS grid (`test_dates_a_guessed_grid_would_merge_stay_apart`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import numpy as np
import polars as pl
import pytest

from pilot_roi import estimate_effect
from pilot_roi.errors import InvalidInput
from pilot_roi.estimation import _its_core as core
from pilot_roi.estimation.api import run_method
from pilot_roi.estimation.design import describe_design
from pilot_roi.estimation.diagnostics import leave_one_out_controls, placebo_in_time
from pilot_roi.estimation.its import estimate_its
from pilot_roi.estimation.options import FREQUENCIES, EstimationOptions
from pilot_roi.estimation.panel import PanelData, first_treated_period, off_period_start, prepare_panel

COLUMNS = {"unit": "site", "time": "period", "outcome": "value", "first_treated": "go_live"}
FAST = {"diagnostics": False, "robustness": False}
MONDAY = dt.date(2024, 1, 1)  # a Monday
WEDNESDAY_GO_LIVE = dt.date(2024, 7, 31)  # the Wednesday after Monday 29 July, the 31st Monday from MONDAY
N_MONDAYS_BEFORE = 31  # 1 January ... 29 July: the last one two days before the go-live, wholly untreated


def _panel(
    dates: list[dt.date], go_live: dt.date, *, n_sites: int = 8, n_treated: int = 2, seed: int = 3
) -> pl.DataFrame:
    """Sites sharing a random-walk shock, each with its level and noise; the treated ones 10 units lower on and
    after the go-live *day* (a value dated before it is untreated, whatever period it falls in)."""
    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0.0, 1.0, len(dates)))
    rows = []
    for s in range(n_sites):
        treated = s < n_treated
        for day, shock in zip(dates, common, strict=True):
            value = 100.0 + 3.0 * s + shock + rng.normal(0.0, 1.0) - (10.0 if treated and day >= go_live else 0.0)
            rows.append({"site": f"S{s}", "period": day, "value": value, "go_live": go_live if treated else None})
    return pl.DataFrame(rows)


def _mondays(n: int, start: dt.date = MONDAY, every: int = 1) -> list[dt.date]:
    return [start + dt.timedelta(weeks=every * k) for k in range(n)]


def _months(n: int, start: dt.date, every: int = 1) -> list[dt.date]:
    index = start.year * 12 + start.month - 1
    return [dt.date((index + every * k) // 12, (index + every * k) % 12 + 1, 1) for k in range(n)]


def monday_daily() -> pl.DataFrame:
    """A daily metric whose sites report only on Mondays: 31 Mondays before a Wednesday go-live, 11 after."""
    return _panel(_mondays(42), WEDNESDAY_GO_LIVE)


def daily() -> pl.DataFrame:
    return _panel([dt.date(2024, 1, 1) + dt.timedelta(days=k) for k in range(70)], dt.date(2024, 2, 21))


def weekly() -> pl.DataFrame:
    return _panel(_mondays(40, dt.date(2024, 1, 1)), dt.date(2024, 6, 12))


def weekly_every_other() -> pl.DataFrame:
    """A weekly metric with every other week missing everywhere: the dates are 14 days apart."""
    return _panel(_mondays(52, dt.date(2023, 1, 2), every=2), dt.date(2024, 6, 12))


def monthly() -> pl.DataFrame:
    return _panel(_months(36, dt.date(2022, 1, 1)), dt.date(2024, 6, 17))


def monthly_in_quarter_months() -> pl.DataFrame:
    """A monthly metric reported only in January, April, July and October: the dates look quarterly."""
    return _panel(_months(24, dt.date(2019, 1, 1), every=3), dt.date(2023, 2, 15))


def quarterly() -> pl.DataFrame:
    return _panel(_months(20, dt.date(2020, 1, 1), every=3), dt.date(2023, 5, 20))


def yearly() -> pl.DataFrame:
    return _panel(_months(10, dt.date(2015, 1, 1), every=12), dt.date(2021, 7, 1))


def _estimate(frame: pl.DataFrame, **kwargs: Any) -> Any:
    return estimate_effect(frame, **COLUMNS, **kwargs)


def _design(result: Any) -> dict[str, Any]:
    return dict(result.diagnostics["design"])


# --- the bug: a daily metric reported only on Mondays, a Wednesday go-live --------------------------------------


def test_the_monday_before_a_wednesday_go_live_is_untreated_when_the_metric_is_daily() -> None:
    frame = monday_daily()
    guessed = prepare_panel(frame, **COLUMNS)
    stated = prepare_panel(frame, **COLUMNS, frequency="daily")
    # read as weekly, Monday 29 July "holds" the Wednesday go-live; stated daily, the first treated day is 5 August
    assert guessed.time_labels[guessed.first_treated[0]] == np.datetime64("2024-07-29")
    assert stated.time_labels[stated.first_treated[0]] == np.datetime64("2024-08-05")
    assert stated.first_treated.tolist() == [N_MONDAYS_BEFORE] * 2 + [-1] * 6
    assert stated.frequency == "daily" and guessed.frequency is None


def test_stated_daily_estimates_from_the_first_monday_after_the_go_live() -> None:
    frame = monday_daily()
    # six days in seven are missing from a daily metric: the default gap limit refuses it (below), 0.9 lets it through
    guessed = _estimate(frame, max_gap_share=0.9)
    stated = _estimate(frame, max_gap_share=0.9, frequency="daily")
    assert guessed.ok and stated.ok and stated.method == guessed.method == "did"
    assert (guessed.n_pre_periods, guessed.n_post_periods) == (N_MONDAYS_BEFORE - 1, 12)
    assert (stated.n_pre_periods, stated.n_post_periods) == (N_MONDAYS_BEFORE, 11)
    assert _design(guessed)["first_go_live_used"] == dt.date(2024, 7, 29)
    assert _design(stated)["first_go_live_used"] == dt.date(2024, 8, 5)
    assert _design(stated)["frequency"] == "daily" and _design(stated)["frequency_source"] == "stated"
    assert _design(guessed)["frequency"] == "weekly" and "frequency_source" not in _design(guessed)
    # the untreated Monday dilutes the guessed effect by about one post period in twelve; the true effect is -10
    assert abs(stated.att + 10.0) < abs(guessed.att + 10.0)
    assert stated.att == pytest.approx(-10.0, abs=0.6)
    assert f"{N_MONDAYS_BEFORE} days before go-live" in stated.method_reason
    assert f"{N_MONDAYS_BEFORE - 1} weeks before go-live" in guessed.method_reason


def test_a_daily_metric_reported_one_day_in_seven_has_too_many_gaps_by_default() -> None:
    stated = _estimate(monday_daily(), frequency="daily", **FAST)
    assert stated.status == "insufficient_data" and stated.reason == "too_many_gaps"
    calendar_days = 7 * (42 - 1) + 1
    design = _design(stated)
    assert design["missing_periods"] == calendar_days - 42
    assert design["gap_share"] == round(1.0 - 42 / calendar_days, 4)
    assert (stated.n_pre_periods, stated.n_post_periods) == (N_MONDAYS_BEFORE, 11)  # the design's counts


# --- the other misreadings ------------------------------------------------------------------------------------


def test_a_monthly_metric_in_quarter_months_is_first_treated_after_a_february_go_live() -> None:
    frame = monthly_in_quarter_months()
    guessed = prepare_panel(frame, **COLUMNS)
    stated = prepare_panel(frame, **COLUMNS, frequency="monthly")
    assert guessed.time_labels[guessed.first_treated[0]] == np.datetime64("2023-01-01")  # the "quarter" of 15 Feb
    assert stated.time_labels[stated.first_treated[0]] == np.datetime64("2023-04-01")  # January is before it
    design = describe_design(stated, EstimationOptions())
    assert (design.frequency, design.missing_periods, design.n_pre) == ("monthly", 70 - 24, 17)
    assert (design.min_pre, design.min_post) == (6, 1)


def test_a_weekly_metric_with_every_other_week_missing_stays_weekly() -> None:
    frame = weekly_every_other()
    guessed = describe_design(prepare_panel(frame, **COLUMNS), EstimationOptions())
    stated = describe_design(prepare_panel(frame, **COLUMNS, frequency="weekly"), EstimationOptions())
    assert (guessed.frequency, guessed.missing_periods, guessed.min_pre) == ("periods", 0, 2)
    assert (stated.frequency, stated.step_days, stated.missing_periods, stated.min_pre) == ("weekly", 7, 51, 8)
    assert stated.gap_share == pytest.approx(1.0 - 52 / 103)


def test_its_reads_its_grid_and_seasonal_cycles_from_the_stated_frequency() -> None:
    panel = prepare_panel(weekly_every_other(), **COLUMNS, frequency="weekly")
    stated = core.detect_grid(panel.time_ordinal, panel.time_kind, "weekly")
    assert (stated.frequency, stated.n_grid, stated.seasonal_periods) == ("weekly", 103, (365.25 / 7.0,))
    assert stated.position.tolist() == list(range(0, 103, 2))
    res = estimate_its(panel, max_missing_share=0.6, model="segmented")
    assert res.ok and res.diagnostics["frequency"] == "weekly"
    assert res.diagnostics["seasonal_periods"] == [365.25 / 7.0]
    days = prepare_panel(monday_daily(), **COLUMNS, frequency="daily")
    grid = core.detect_grid(days.time_ordinal, days.time_kind, "daily")
    assert (grid.frequency, grid.n_grid, grid.seasonal_periods) == ("daily", 7 * 41 + 1, (7.0, 365.25))
    assert estimate_its(days).reason == "too_many_gaps"  # a day-of-week cycle from Mondays alone: refused


@pytest.mark.parametrize(
    ("labels", "go_live", "frequency", "expected"),
    [
        (("2024-01-01", "2024-01-08", "2024-01-15"), "2024-01-10", "daily", 2),  # Wednesday: the next Monday
        (("2024-01-01", "2024-01-08", "2024-01-15"), "2024-01-10", "weekly", 1),  # the week that holds it
        (("2024-01-01", "2024-01-08", "2024-01-15"), "2024-01-08", "daily", 1),  # on the label's own day
        (("2024-01-01", "2024-04-01", "2024-07-01"), "2024-02-15", "monthly", 1),  # February missing: April
        (("2024-01-01", "2024-04-01", "2024-07-01"), "2024-02-15", "quarterly", 0),  # the quarter of 1 January
        (("2024-01-01", "2024-02-01", "2024-03-01"), "2024-03-31", "monthly", 2),
        (("2023-01-01", "2024-01-01", "2025-01-01"), "2024-12-31", "yearly", 1),
        (("2023-01-01", "2024-01-01", "2025-01-01"), "2024-12-31", "monthly", 2),  # 2024's only month is January
        (("2024-01-01", "2024-01-08"), "2023-12-31", "weekly", 0),  # before the first period
        (("2024-01-01", "2024-01-08"), "2024-01-15", "weekly", 2),  # after the last one
    ],
)
def test_first_treated_period_follows_the_stated_frequency(
    labels: tuple[str, ...], go_live: str, frequency: str, expected: int
) -> None:
    days = np.array(labels, dtype="datetime64[D]")
    go = (np.array([go_live], dtype="datetime64[D]") - np.datetime64("1970-01-01", "D")).astype(np.int64)
    assert first_treated_period(days, go, frequency).tolist() == [expected]


def test_dates_a_guessed_grid_would_merge_stay_apart() -> None:
    # Mondays 14 days apart: the smallest step (14 days) reads as months, and two Mondays of one month would take one
    # position of a monthly grid, one value silently overwriting the other; they go on a weekly grid instead
    panel = prepare_panel(weekly_every_other(), **COLUMNS)
    months = core._date_grid(np.asarray(panel.time_ordinal), "monthly").position
    assert (np.diff(months) == 0).sum() > 0  # what the guess alone would do
    guessed = core.detect_grid(panel.time_ordinal, panel.time_kind)
    assert (guessed.frequency, guessed.n_grid) == ("weekly", 103)
    assert guessed.position.tolist() == list(range(0, 103, 2))
    stated = prepare_panel(weekly_every_other(), **COLUMNS, frequency="weekly")
    for model in ("segmented", "structural"):
        a = estimate_its(panel, max_missing_share=0.6, model=model)
        b = estimate_its(stated, max_missing_share=0.6, model=model)
        assert a.ok and (a.att, a.se, a.ci_low, a.ci_high) == (b.att, b.se, b.ci_low, b.ci_high), model
    # dates that are not whole weeks apart (the 1st and the 16th of each month) go on a daily grid
    tens = [dt.date(2023, m, d) for m in range(1, 13) for d in (1, 16)]
    ordinal = (np.array(tens, dtype="datetime64[D]") - np.datetime64("1970-01-01", "D")).astype(np.int64)
    grid = core.detect_grid(ordinal, "date")
    assert grid.frequency == "daily" and (np.diff(grid.position) > 0).all()


# --- frequency=None: the results of the code before the keyword, bit for bit -----------------------------------

PANELS = {
    "monday_daily": monday_daily,
    "daily": daily,
    "weekly_every_other": weekly_every_other,
    "monthly": monthly,
    "monthly_in_quarter_months": monthly_in_quarter_months,
}


def fingerprint(result: Any) -> dict[str, Any]:
    """The numbers an estimate reports (primary and robustness methods), as exact floats."""
    design = result.diagnostics.get("design", {})
    return {
        "method": result.method,
        "status": result.status,
        "numbers": [result.att, result.se, result.ci_low, result.ci_high, result.p_value, result.att_pct],
        "periods": [result.n_pre_periods, result.n_post_periods],
        "frequency": design.get("frequency"),
        "first_go_live_used": str(design.get("first_go_live_used")),
        "robustness": [(r.method, r.status, r.att, r.se) for r in result.robustness],
    }


# Recorded with the code before `frequency` existed (commit 13451f4), on these panels, with every diagnostic and
# robustness method on; the code with the keyword gave them bit for bit on that machine. Floats are compared within
# 1e-9 relative (the report goldens' tolerance), room for another CPU's or BLAS's last bits only: a change of
# frequency reading moves them by whole percents (monday_daily below: -9.03 read as weekly, about -10 as daily).
GOLDEN: dict[str, dict[str, Any]] = {
    "daily": {
        "method": "did",
        "status": "ok",
        "numbers": [-10.020274545368228, 0.36331478964022546, -10.95420494423542,
                    -9.086344146501036, 1.1727982288695415e-06, -10.071975614671882],
        "periods": [51, 19],
        "frequency": "daily",
        "first_go_live_used": "2024-02-21",
        "robustness": [
            ("staggered_did", "ok", -10.02027454536824, 0.3633147896402258),
            ("synthetic_control", "ok", -14.766672070936337, 3.9158232771708206),
            # the structural fit's optimizer starts at `start_values` since 2026-11-28 (same maximum): before,
            # ("its", "ok", -12.792367734972515, 3.1368296713126544), the SE 1.9e-6 apart
            ("its", "ok", -12.792368052395537, 3.136823841427108),
        ],
    },
    "monday_daily": {
        "method": "did",
        "status": "ok",
        "numbers": [-9.034558038837867, 0.35284536095984087, -9.941575914509773,
                    -8.12754016316596, 1.6967582975850114e-06, -8.851261926006623],
        "periods": [30, 12],
        "frequency": "weekly",
        "first_go_live_used": "2024-07-29",
        "robustness": [
            ("staggered_did", "ok", -9.034558038837876, 0.3528453609598413),
            ("synthetic_control", "ok", -13.539003318222484, 4.26584080572149),
            # before `start_values`: ("its", "ok", -9.42490424164153, 2.6261154415249344), the SE 7.3e-7 apart
            ("its", "ok", -9.424904314309165, 2.6261173557657993),
        ],
    },
    "monthly": {
        "method": "did",
        "status": "ok",
        "numbers": [-8.623878966451075, 0.3542102326684133, -9.534405356545012,
                    -7.713352576357139, 2.1791046534944164e-06, -8.363985739358366],
        "periods": [29, 7],
        "frequency": "monthly",
        "first_go_live_used": "2024-06-01",
        "robustness": [
            ("staggered_did", "ok", -8.623878966451095, 0.3542102326684141),
            ("synthetic_control", "ok", -13.324503487860682, 4.5636717925498775),
            ("its", "ok", -4.857776427303457, 1.8449144561769448),
        ],
    },
    "monthly_in_quarter_months": {
        "method": "did",
        "status": "ok",
        "numbers": [-8.593239251839403, 0.5663740248830975, -10.049150032380124,
                    -7.137328471298683, 2.254405816059249e-05, -8.673596121967975],
        "periods": [16, 8],
        "frequency": "quarterly",
        "first_go_live_used": "2023-01-01",
        "robustness": [
            ("staggered_did", "ok", -8.593239251839403, 0.566374024883097),
            ("synthetic_control", "ok", -13.003974521425846, 4.392734286164188),
            ("its", "ok", -8.303164033038295, 2.4604513804485246),
        ],
    },
    "weekly_every_other": {
        "method": "did",
        "status": "ok",
        "numbers": [-10.292172493156412, 0.5688343952798254, -11.7544078571479,
                    -8.829937129164925, 9.475196899005916e-06, -10.18413108534755],
        "periods": [38, 14],
        "frequency": "periods",
        "first_go_live_used": "2024-06-17",
        "robustness": [
            ("staggered_did", "ok", -10.292172493156418, 0.5688343952798247),
            ("synthetic_control", "ok", -14.535079723761978, 5.398484045576055),
            # before the grid kept dates apart: ("its", "ok", -10.45, 2.51) from a monthly grid on which two Mondays of
            # one month shared a position (test_dates_a_guessed_grid_would_merge_stay_apart); now half the weeks are
            # gaps, as with frequency="weekly"
            ("its", "insufficient_data", math.nan, math.nan),
        ],
    },
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PANELS))
def test_frequency_none_gives_the_earlier_results_bit_for_bit(name: str) -> None:
    _assert_same(fingerprint(_estimate(PANELS[name](), frequency=None)), GOLDEN[name])


def _assert_same(actual: Any, expected: Any) -> None:
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(actual)
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-15)
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            _assert_same(a, e)
    elif isinstance(expected, dict):
        assert actual.keys() == expected.keys()
        for key, e in expected.items():
            _assert_same(actual[key], e)
    else:
        assert actual == expected


# --- stating what the dates already show changes nothing -------------------------------------------------------


def _comparable(result: Any) -> dict[str, Any]:
    """Every field of a result, frames as rows (NaN as text, so that equal results compare equal), robustness
    results likewise; the design's `frequency_source` (the one thing stating the frequency adds) left out."""
    out = {f.name: _plain(getattr(result, f.name)) for f in dataclasses.fields(result)}
    out["robustness"] = [_comparable(r) for r in result.robustness]
    out["diagnostics"].get("design", {}).pop("frequency_source", None)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, pl.DataFrame):
        return [_plain(row) for row in value.to_dicts()]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


@pytest.mark.parametrize(
    ("make", "frequency"),
    [(daily, "daily"), (weekly, "weekly"), (monthly, "monthly"), (quarterly, "quarterly"), (yearly, "yearly")],
)
def test_stating_the_frequency_the_dates_show_changes_no_number(make: Any, frequency: str) -> None:
    frame = make()
    guessed, stated = _estimate(frame), _estimate(frame, frequency=frequency)
    assert _design(stated)["frequency"] == frequency and _design(stated)["frequency_source"] == "stated"
    assert _comparable(stated) == _comparable(guessed)


# --- diagnostics re-estimate with the stated frequency ---------------------------------------------------------


def test_placebo_and_leave_one_out_reestimate_with_the_stated_frequency() -> None:
    panel = prepare_panel(monday_daily(), **COLUMNS, frequency="daily")
    opts = EstimationOptions(max_gap_share=0.9)
    seen: list[str | None] = []

    def did(p: PanelData, o: EstimationOptions) -> Any:
        seen.append(describe_design(p, o).frequency)
        return run_method("did", p, o)

    design = describe_design(panel, opts)
    assert placebo_in_time(panel, did, opts, design)["status"] == "ok"
    assert leave_one_out_controls(panel, did, opts, design, 0.0)["status"] == "ok"
    assert seen == ["daily"] * 7  # the placebo, then each of the six controls left out
    every = panel.subset_units(np.ones(panel.n_units, bool)).with_first_treated(panel.first_treated)
    assert every.with_outcome(panel.y).frequency == "daily"


def test_the_diagnostics_of_a_stated_estimate_run() -> None:
    result = _estimate(monday_daily(), max_gap_share=0.9, frequency="daily")
    placebo = result.diagnostics["placebo_in_time"]
    assert placebo["status"] == "ok" and placebo["fake_go_live"] == str(MONDAY + dt.timedelta(weeks=15))
    assert result.diagnostics["leave_one_out"]["n_left_out"] == 6
    # ITS, a robustness method here, reads the daily grid too: a day-of-week cycle cannot come from Mondays alone
    assert [(r.method, r.status, r.reason) for r in result.robustness][-1] == (
        "its",
        "insufficient_data",
        "too_many_gaps",
    )


# --- what is refused, and how ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["biweekly", "Weekly", "day", "", 7, ("daily",)])
def test_a_frequency_that_is_not_one_of_the_five_is_refused_with_the_allowed_values(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"frequency=.* is not allowed; choose one of: ") as caught:
        _estimate(weekly(), frequency=bad)
    assert all(name in str(caught.value) for name in FREQUENCIES) and "None" in str(caught.value)
    with pytest.raises(ValueError, match="choose one of: daily, weekly, monthly, quarterly, yearly"):
        prepare_panel(weekly(), **COLUMNS, frequency=bad)


def _shifted(frame: pl.DataFrame, days: int) -> pl.DataFrame:
    return frame.with_columns(pl.col("period") + dt.timedelta(days=days))


@pytest.mark.parametrize(
    ("make", "frequency", "first_off", "n_off"),
    [
        (lambda: _shifted(weekly(), 6), "weekly", "2024-01-07", 40),  # weeks labelled on Sundays: start or end?
        (lambda: _panel([MONDAY + dt.timedelta(days=3 * k) for k in range(30)], MONDAY), "monthly", "2024-01-04", 28),
        (lambda: _shifted(monthly(), 14), "monthly", "2022-01-15", 36),
        (monthly, "quarterly", "2022-02-01", 24),
        (quarterly, "yearly", "2020-04-01", 15),
        (daily, "weekly", "2024-01-02", 60),
    ],
)
def test_dates_that_contradict_the_stated_frequency_are_refused_in_every_language(
    make: Any, frequency: str, first_off: str, n_off: int
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _estimate(make(), frequency=frequency, **FAST)
    assert isinstance(caught.value, ValueError)
    (problem,) = caught.value.problems
    assert problem.key == f"estimation.period_not_at_start.{frequency}" and problem.where == "period"
    assert problem.params == {"value": first_off, "count": n_off, "frequency": frequency}
    texts = [problem.render(lang) for lang in ("ru", "kk", "en")]
    assert len(set(texts)) == 3 and all(first_off in text and not text.count("{") for text in texts)


def test_integer_times_with_a_frequency_are_refused() -> None:
    frame = pl.DataFrame(
        {"site": ["a"] * 10 + ["b"] * 10, "period": list(range(10)) * 2, "value": np.arange(20.0),
         "go_live": [5] * 10 + [None] * 10}
    )  # fmt: skip
    with pytest.raises(InvalidInput) as caught:
        _estimate(frame, frequency="monthly")
    assert [p.key for p in caught.value.problems] == ["estimation.frequency_needs_dates"]
    assert "no calendar" in caught.value.problems[0].render("en")
    assert _estimate(frame, **FAST).status  # without it the integer panel is read as before


@pytest.mark.parametrize("frequency", FREQUENCIES)
def test_warehouse_period_starts_are_accepted(frequency: str) -> None:
    starts = {
        "daily": ["2024-01-03", "2024-02-29"],
        "weekly": ["2024-01-01", "2025-12-29"],
        "monthly": ["2024-01-01", "2024-12-01"],
        "quarterly": ["1969-10-01", "2024-07-01"],
        "yearly": ["1960-01-01", "2024-01-01"],
    }[frequency]
    assert not off_period_start(np.array(starts, dtype="datetime64[D]"), frequency).any()
