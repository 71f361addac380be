from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import polars as pl
import pytest
from dgp import Scenario, simulate

from pilot_roi import estimate_effect
from pilot_roi.estimation import api
from pilot_roi.estimation.api import METHODS, estimate_panel
from pilot_roi.estimation.design import describe_design
from pilot_roi.estimation.diagnostics import _periods_beside_controls
from pilot_roi.estimation.method_words import method_reason_in
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.panel import PanelData, from_arrays

FAST = {"diagnostics": False, "robustness": False}


def _frame(panel: PanelData) -> pl.DataFrame:
    ft = panel.first_treated
    go = [
        dt.date.fromisoformat(str(panel.time_labels[g])) if 0 <= g < panel.n_times else None for g in ft[panel.unit_idx]
    ]
    return pl.DataFrame(
        {
            "site_code": [f"S{u:03d}" for u in panel.unit_idx],
            "period": panel.time_labels[panel.time_idx].astype("datetime64[D]"),
            "value": panel.y,
            "go_live": pl.Series(go, dtype=pl.Date),
        }
    )


@pytest.fixture(scope="module")
def pilot() -> pl.DataFrame:
    panel, _ = simulate(Scenario("p", 2, 10, n_pre=60, n_post=30, effect=5.0), np.random.default_rng(11))
    return _frame(panel)


def test_registry_holds_every_method() -> None:
    assert set(METHODS) == {"did", "staggered_did", "synthetic_control", "its"}


def test_auto_on_a_common_go_live_is_did_with_robustness(pilot) -> None:
    res = estimate_effect(pilot, unit="site_code", time="period", outcome="value", first_treated="go_live")
    assert res.method == "did" and res.ok
    assert "same date" in res.method_reason and "placebo variance" in res.method_reason
    assert [r.method for r in res.robustness] == ["staggered_did", "synthetic_control", "its"]
    assert {"placebo_in_time", "leave_one_out", "mde", "design"} <= set(res.diagnostics)
    assert res.diagnostics["placebo_in_time"]["status"] == "ok"
    assert res.mde is not None and res.mde > 0
    text = res.summary()
    assert "Difference-in-differences" in text and "95% confidence interval" in text
    assert "Разность разностей" in res.summary("ru") and "Айырмалар" in res.summary("kk")


def test_pandas_input_and_row_order_give_identical_numbers(pilot) -> None:
    kwargs = dict(unit="site_code", time="period", outcome="value", first_treated="go_live", **FAST)
    a = estimate_effect(pilot, **kwargs)
    b = estimate_effect(pilot.sample(fraction=1.0, shuffle=True, seed=3).to_pandas(), **kwargs)
    assert (a.att, a.se, a.ci_low, a.ci_high, a.p_value) == (b.att, b.se, b.ci_low, b.ci_high, b.p_value)


def test_same_seed_same_numbers_bit_for_bit() -> None:
    panel, _ = simulate(Scenario("w", 8, 10, n_pre=30, n_post=20, effect=1.0), np.random.default_rng(2))
    a = estimate_panel(panel, "did", EstimationOptions(seed=5, **FAST))
    b = estimate_panel(panel, "did", EstimationOptions(seed=5, **FAST))
    assert "wild cluster bootstrap" in a.inference
    assert (a.ci_low, a.ci_high, a.p_value) == (b.ci_low, b.ci_high, b.p_value)


def test_auto_chooses_staggered_and_its_by_design() -> None:
    panel, _ = simulate(Scenario("s", 3, 10, n_pre=60, n_post=30, n_cohorts=3), np.random.default_rng(1))
    res = estimate_panel(panel, "auto", EstimationOptions(**FAST))
    assert res.method == "staggered_did" and "different dates" in res.method_reason
    no_controls = panel.subset_units(panel.treated)
    res = estimate_panel(no_controls, "auto", EstimationOptions(**FAST))
    assert res.method == "its" and "control sites: none" in res.method_reason


def test_method_reason_is_recorded_as_facts_and_read_in_every_language(pilot) -> None:
    res = estimate_effect(pilot, unit="site_code", time="period", outcome="value", first_treated="go_live", **FAST)
    facts = res.diagnostics["method_choice"]
    assert facts["case"] == "same_date" and facts["n_treated"] == 2 and facts["n_controls"] == 10
    assert facts["robustness"] == ["staggered_did", "synthetic_control", "its"]
    # the stored JSON of the diagnostics gives the same English sentence, and Russian and Kazakh ones
    stored = json.dumps(res.diagnostics, default=str)
    assert method_reason_in(stored, None, "en") == res.method_reason
    ru, kk = method_reason_in(stored, None, "ru"), method_reason_in(stored, None, "kk")
    assert "контрольных объектов: 10" in ru and "Синтетический контроль" in ru
    assert "бақылау нысандары: 10" in kk and "Синтетикалық бақылау" in kk
    # an estimate stored before the facts were recorded keeps its own sentence
    assert method_reason_in("{}", "older sentence", "ru") == "older sentence"
    assert method_reason_in("not json", None, "kk") == ""


def _insufficient(panel: PanelData, method: str = "did", **opts) -> str | None:
    res = estimate_panel(panel, method, EstimationOptions(**FAST, **opts))
    assert res.status == "insufficient_data" and np.isnan(res.att)
    return res.reason


def test_data_sufficiency_reason_codes() -> None:
    rng = np.random.default_rng(0)
    short_pre, _ = simulate(Scenario("a", 2, 8, n_pre=10, n_post=30), rng)
    assert _insufficient(short_pre) == "insufficient_pre_periods"
    short_post, _ = simulate(Scenario("b", 2, 8, n_pre=60, n_post=3), rng)
    assert _insufficient(short_post) == "insufficient_post_periods"
    panel, _ = simulate(Scenario("c", 2, 8, n_pre=60, n_post=30), rng)
    assert _insufficient(panel.subset_units(panel.treated)) == "no_controls"
    keep = rng.random(panel.n_obs) > 0.4
    gappy = PanelData(
        panel.unit_idx[keep],
        panel.time_idx[keep],
        panel.y[keep],
        panel.first_treated,
        panel.unit_labels,
        panel.time_labels,
        panel.time_ordinal,
        panel.time_kind,
    )
    assert _insufficient(gappy) == "too_many_gaps"
    assert _insufficient(panel.with_first_treated(np.full(panel.n_units, -1))) == "no_treated"


def test_periods_count_only_where_treated_and_controls_are_both_observed() -> None:
    # Go-live at month 26. The treated site reports months 28-29 after it, its controls only 26-27: the
    # calendar has post periods on both sides, the comparison has none (the HAR contrast divided by zero).
    rng = np.random.default_rng(4)
    months, go_live = 30, 26
    units = np.repeat(np.arange(3), months)
    times = np.tile(np.arange(months), 3)
    keep = np.where(units == 0, (times < go_live) | (times >= 28), times < 28)
    y = rng.normal(size=units.size)
    panel = from_arrays(units[keep], times[keep], y[keep], np.array([go_live, -1, -1]))
    for method in ("did", "staggered_did"):
        res = estimate_panel(panel, method, EstimationOptions(**FAST))
        assert (res.status, res.reason) == ("insufficient_data", "insufficient_post_periods_with_controls"), method
        assert "контрольным объектам" in res.summary("ru")
        assert res.diagnostics["n_post_periods_with_controls"] == 0
        assert res.diagnostics["n_pre_periods_with_controls"] == go_live
        # no estimate, but the design's counts: not zeros that read as a pilot without sites
        assert (res.n_treated, res.n_controls, res.n_pre_periods, res.n_post_periods) == (1, 2, go_live, 4)
    # with the controls' last months back, the same design estimates
    full = from_arrays(units, times, y, np.array([go_live, -1, -1]))
    assert estimate_panel(full, "did", EstimationOptions(**FAST)).ok
    # not-yet-treated sites count as controls before their own go-live
    later = from_arrays(units, times, y, np.array([20, 29, -1]))
    pre, post = _periods_beside_controls(later, describe_design(later, EstimationOptions()), "not_yet_treated")
    assert (pre, post) == ([20, 29], [10, 1])


def test_controls_that_stop_reporting_before_go_live_are_left_out_and_auto_forecasts_instead() -> None:
    # Both listed controls' exports end before go-live: they compare nothing after it, so they are not
    # controls; "auto" takes the treated site's own forecast (ITS) instead of a refused DiD, and says why.
    rng = np.random.default_rng(6)
    days, go_live = 200, 150
    units = np.repeat(np.arange(3), days)
    times = np.tile(np.arange(days), 3)
    keep = (units == 0) | (times < 120)
    y = rng.normal(size=units.size) + 2.0 * ((units == 0) & (times >= go_live))
    panel = from_arrays(units[keep], times[keep], y[keep], np.array([go_live, -1, -1]), start_date=dt.date(2024, 1, 1))
    design = describe_design(panel, EstimationOptions())
    assert design.n_never == 0 and design.idle_controls.tolist() == [False, True, True]
    res = estimate_panel(panel, "auto", EstimationOptions(**FAST))
    assert res.ok and res.method == "its" and res.diagnostics["design"]["excluded_idle_controls"] == ["1", "2"]
    assert res.diagnostics["method_choice"]["n_controls"] == 0
    # the report and the dashboard say which listed sites the estimate could not use
    from pilot_roi.estimation.diagnostic_words import checks_in_words

    words = checks_in_words({"method": res.method, "unit": ""}, "ru", res.diagnostics)
    assert "Контрольные объекты, не вошедшие в оценку (нет данных по обе стороны от запуска): 1, 2." in words
    # a control that reports on both sides of go-live stays one
    keep_one = keep | (units == 1)
    both = from_arrays(units[keep_one], times[keep_one], y[keep_one], np.array([go_live, -1, -1]))
    assert describe_design(both, EstimationOptions()).never.tolist() == [False, True, False]


def test_an_interval_of_zero_width_is_never_reported(pilot) -> None:
    # Failure mode: a metric that never changes (or a treated series fitted without residuals) gave
    # status ok with se 0 and the interval [0, 0] (or [c, c]): certainty where the data carry none.
    flat = pilot.with_columns(pl.lit(7.0).alias("value"))
    for method in ("auto", "did", "synthetic_control", "its"):
        res = estimate_effect(flat, "site_code", "period", "value", "go_live", method=method, **FAST)
        assert (res.status, res.reason) == ("insufficient_data", "degenerate_fit"), method
        if method == "its":  # each treated site's flat history is refused before any fit
            assert set(res.diagnostics["excluded_treated"].values()) == {"degenerate_fit"}
        else:
            assert res.diagnostics["degenerate"]["se"] in (0.0, None)
    # a treated site alone, flat before go-live and flat (higher) after it: ITS fits it without residuals
    one = pilot.filter(pl.col("site_code") == pilot.filter(pl.col("go_live").is_not_null())["site_code"][0])
    step = one.with_columns(pl.when(pl.col("period") >= pl.col("go_live")).then(9.0).otherwise(7.0).alias("value"))
    res = estimate_effect(step, "site_code", "period", "value", "go_live", method="its", **FAST)
    assert (res.status, res.reason) == ("insufficient_data", "degenerate_fit")
    # the reason reads in every language, like the other sufficiency reasons
    for lang in ("ru", "kk", "en"):
        assert res.summary(lang).count("degenerate_fit") == 0
    # real data keeps its number
    assert estimate_effect(pilot, "site_code", "period", "value", "go_live", **FAST).ok


def test_which_uncertainty_counts_as_degenerate() -> None:
    from pilot_roi.estimation.result import EffectResult

    def ok(att: float, se: float, low: float, high: float) -> bool:
        result = EffectResult(method="did", status="ok", att=att, se=se, ci_low=low, ci_high=high)
        return api._credible_uncertainty(result)

    inf = float("inf")
    assert ok(1.0, 0.5, 0.0, 2.0)
    assert ok(1.0, 0.5, -inf, 3.0) and ok(1.0, 0.5, 0.2, inf)  # randomization inference may not bound a side
    assert not ok(1.0, 0.0, 1.0, 1.0)  # zero width: certainty the data cannot give
    assert not ok(1.0, 0.5, 1.0, 1.0)
    assert not ok(float("nan"), 0.5, 0.0, 2.0) and not ok(inf, 0.5, 0.0, 2.0)
    assert not ok(1.0, inf, -inf, inf) and not ok(1.0, float("nan"), 0.0, 2.0)


def test_sites_neither_treated_nor_control_are_named(pilot) -> None:
    # a site live before the data start (no pre-period) and one going live after they end (no post-period)
    # are left out of both groups; the result must say which, not drop them silently
    controls = pilot.filter(pl.col("go_live").is_null())["site_code"].unique().sort()
    first, last = pilot["period"].min(), pilot["period"].max()
    moved = pilot.with_columns(
        pl.when(pl.col("site_code") == controls[0])
        .then(pl.lit(first - dt.timedelta(days=30)))
        .when(pl.col("site_code") == controls[1])
        .then(pl.lit(last + dt.timedelta(days=30)))
        .otherwise(pl.col("go_live"))
        .alias("go_live")
    )
    res = estimate_effect(moved, "site_code", "period", "value", "go_live", **FAST)
    assert res.ok and res.n_controls == controls.len() - 2
    assert res.diagnostics["design"]["excluded_always_treated"] == [controls[0]]
    assert res.diagnostics["design"]["excluded_late"] == [controls[1]]
    plain = estimate_effect(pilot, "site_code", "period", "value", "go_live", **FAST)
    assert plain.diagnostics["design"]["excluded_always_treated"] == plain.diagnostics["design"]["excluded_late"] == []


def test_options_are_checked_at_the_boundary(pilot) -> None:
    kwargs = dict(unit="site_code", time="period", outcome="value", first_treated="go_live")
    with pytest.raises(ValueError, match="did, staggered_did"):
        estimate_effect(pilot, method="magic", **kwargs)
    with pytest.raises(ValueError, match="never_treated, not_yet_treated"):
        estimate_effect(pilot, control_group="everyone", **kwargs)
    with pytest.raises(TypeError, match="unknown option"):
        estimate_effect(pilot, bogus=1, **kwargs)


def test_a_missing_method_module_is_reported_not_raised() -> None:
    run = api._external("synthetic_control", "no_such_module", "estimate_synthetic_control")
    panel, _ = simulate(Scenario("m", 1, 5, n_pre=40, n_post=20), np.random.default_rng(0))
    res = run(panel, EstimationOptions())
    assert res.status == "error" and res.reason == "method_not_available"


def test_integer_periods_and_not_yet_treated_controls() -> None:
    rows = []
    rng = np.random.default_rng(4)
    for u in range(12):
        go = [2005, 2007, None][u % 3] if u < 9 else None
        for year in range(2000, 2011):
            rows.append({"unit": u, "year": year, "y": rng.normal() + (1.0 if go and year >= go else 0.0), "g": go})
    df = pl.DataFrame(rows)
    res = estimate_effect(df, "unit", "year", "y", "g", control_group="not_yet_treated", **FAST)
    assert res.method == "staggered_did" and res.ok
    assert res.group_time["group"].dtype == pl.Int64


def test_the_design_names_the_earliest_go_live_among_the_sites_the_estimate_used() -> None:
    # site 0 is live from the first period (no pre-period), site 1 sends nothing after its go-live, site 2
    # goes live at 30: only site 2 enters, so realized gain must count from 30, not from 0 or 20
    rng = np.random.default_rng(8)
    units = np.repeat(np.arange(4), 60)
    times = np.tile(np.arange(60), 4)
    keep = ~((units == 1) & (times >= 20))
    y = rng.normal(size=units.size) + (units == 2) * (times >= 30) * 2.0
    panel = from_arrays(units[keep], times[keep], y[keep], np.array([0, 20, 30, -1]))
    without_site_1 = from_arrays(units[units != 1], times[units != 1], y[units != 1], np.array([0, -1, 30, -1]))
    res = estimate_panel(without_site_1, "auto", EstimationOptions(**FAST))
    assert res.ok and res.method == "did" and res.diagnostics["design"]["first_go_live_used"] == 30
    its = estimate_panel(panel, "its", EstimationOptions(**FAST))
    assert its.ok and its.diagnostics["design"]["first_go_live_used"] == 30
    from pilot_roi.estimation.diagnostic_words import checks_in_words

    (line,) = [w for w in checks_in_words({"method": "its", "unit": ""}, "en", its.diagnostics) if "left out" in w]
    assert line.endswith(": 0, 1.")  # live from the first period; silent after its go-live
    # dates come back as dates
    df = pl.DataFrame(
        {"site": ["a"] * 60 + ["b"] * 60, "day": [dt.date(2024, 1, 1) + dt.timedelta(days=k) for k in range(60)] * 2,
         "value": rng.normal(size=120), "go_live": [dt.date(2024, 1, 31)] * 60 + [None] * 60}
    )  # fmt: skip
    res = estimate_effect(df, "site", "day", "value", "go_live", **FAST)
    assert res.diagnostics["design"]["first_go_live_used"] == dt.date(2024, 1, 31)


def test_the_percentage_keeps_the_effects_sign_over_a_negative_counterfactual() -> None:
    from pilot_roi.estimation.diagnostics import att_percent

    assert att_percent(5.0, -10.0) == 50.0 and att_percent(-5.0, -10.0) == -50.0 and att_percent(5.0, 10.0) == 50.0
    assert math.isnan(att_percent(1.0, 0.0)) and math.isnan(att_percent(math.nan, 3.0))
    # a series below zero (a net balance) that rises by 3 at go-live: +3 is a rise, in percent too
    rng = np.random.default_rng(2)
    y = -50.0 + rng.normal(size=120) + 3.0 * (np.arange(120) >= 80)
    panel = from_arrays(np.zeros(120, np.int64), np.arange(120), y, np.array([80]))
    res = estimate_panel(panel, "its", EstimationOptions(**FAST))
    assert res.ok and res.att > 0 and res.att_pct > 0


def test_a_design_that_needs_each_of_its_two_controls_says_so_not_that_it_has_fewer_than_two() -> None:
    # staggered, two controls, placebo variance from the controls: leaving either out leaves no estimate. The
    # leave-one-out check used to report "no_controls", read as "fewer than two control sites".
    from pilot_roi.estimation.diagnostic_words import checks_in_words

    rng = np.random.default_rng(1)
    units, times = np.repeat(np.arange(4), 60), np.tile(np.arange(60), 4)
    panel = from_arrays(units, times, rng.normal(size=240), np.array([20, 40, -1, -1]))
    res = estimate_panel(panel, "staggered_did", EstimationOptions(n_boot=99))
    assert res.ok and res.n_controls == 2
    assert res.diagnostics["leave_one_out"]["reason"] == "no_estimate_without_each_control"
    words = checks_in_words({"method": res.method, "unit": ""}, "en", res.diagnostics)
    assert "No leave-one-control-out check: without any one of the control sites there is no estimate." in words
    assert not any("fewer than two" in w for w in words)


def _two_treated_sites(first: dt.date, second: dt.date, *, control: bool = False) -> pl.DataFrame:
    rng = np.random.default_rng(5)
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(200)]
    sites = {"A": first, "B": second, **({"C": None} if control else {})}
    return pl.DataFrame(
        [(site, day, 100.0 + rng.normal(), go) for site, go in sites.items() for day in days],
        schema=["site", "day", "y", "go_live"],
        orient="row",
    )


@pytest.mark.parametrize(
    ("second", "method"),
    [(dt.date(2025, 1, 1), "did"), (dt.date(2024, 7, 16), "its")],  # after the data ends; 3 days before it ends
)
def test_treated_sites_refused_for_different_reasons_give_every_reason(second: dt.date, method: str) -> None:
    # A is live from the first day (nothing before go-live); B has nothing or too little after it. The answer used
    # to be "too few periods before go-live" alone, which is false of B.
    from pilot_roi.grading import describe_grade_reason
    from pilot_roi.i18n import t

    frame = _two_treated_sites(dt.date(2024, 1, 1), second)
    result = estimate_effect(frame, unit="site", time="day", outcome="y", first_treated="go_live")
    assert (result.status, result.method) == ("insufficient_data", method)
    assert result.reason == "insufficient_pre_periods,insufficient_post_periods"
    for lang in ("ru", "kk", "en"):
        words = [t(f"estimation.reason.{code}", lang) for code in result.reason.split(",")]
        assert describe_grade_reason(result.reason, lang) == "; ".join(words)
