"""Grades on constructed results and Benjamini–Hochberg q-values against statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from pilot_roi.grading import GradeInput, benjamini_hochberg, diagnostics_pass, grade, placebo_time_p


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=60))
def test_bh_matches_statsmodels(p: list[float]) -> None:
    ours = benjamini_hochberg(p)
    _, reference, _, _ = multipletests(p, method="fdr_bh")
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-15)


def test_bh_leaves_missing_p_values_out_of_the_family() -> None:
    p = [0.01, math.nan, 0.04, 0.03, math.nan, 0.5]
    ours = benjamini_hochberg(p)
    _, reference, _, _ = multipletests([0.01, 0.04, 0.03, 0.5], method="fdr_bh")
    assert math.isnan(ours[1]) and math.isnan(ours[4])
    np.testing.assert_allclose(ours[[0, 2, 3, 5]], reference, rtol=1e-12)
    assert np.all(np.isnan(benjamini_hochberg([math.nan, math.nan])))
    assert benjamini_hochberg([]).shape == (0,)


def test_bh_hand_checked() -> None:
    # m = 4; sorted p 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.04, 0.04, 0.5
    np.testing.assert_allclose(benjamini_hochberg([0.03, 0.5, 0.01, 0.02]), [0.04, 0.5, 0.04, 0.04])


def _item(**kw: object) -> GradeInput:
    base: dict[str, object] = {
        "status": "ok",
        "effect": 5.0,
        "ci_low": 2.0,
        "ci_high": 8.0,
        "q_value": 0.01,
        "higher_is_better": True,
        "pre_trend_p": 0.4,
        "diagnostics": {"placebo_time_p": 0.6},
    }
    base.update(kw)
    return GradeInput(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "expected", "reason_part"),
    [
        ({}, "demonstrated", "diagnostics_pass"),
        ({"pre_trend_p": None, "diagnostics": {}}, "demonstrated", "diagnostics_pass"),
        # energy-like metric: a fall is beneficial
        ({"effect": -5.0, "ci_low": -8.0, "ci_high": -2.0, "higher_is_better": False}, "demonstrated", ""),
        ({"q_value": 0.2}, "promising", "q_too_high"),
        ({"q_value": math.nan}, "promising", "q_too_high"),
        ({"ci_low": -1.0}, "promising", "ci_includes_zero"),
        ({"pre_trend_p": 0.01}, "promising", "pre_trend_failed"),
        ({"diagnostics": {"placebo_time_p": 0.001}}, "promising", "placebo_significant"),
        ({"diagnostics": {"placebo": {"p_value": 0.001}}}, "promising", "placebo_significant"),
        ({"effect": -5.0, "ci_low": -8.0, "ci_high": -2.0}, "adverse", "harmful"),
        # harm is reported even with failing diagnostics and a high q
        ({"effect": -5.0, "ci_low": -8.0, "ci_high": -2.0, "q_value": 0.9, "pre_trend_p": 0.001}, "adverse", ""),
        ({"effect": 5.0, "ci_low": 2.0, "ci_high": 8.0, "higher_is_better": False}, "adverse", ""),
        ({"effect": -1.0, "ci_low": -3.0, "ci_high": 1.0}, "inconclusive", "harmful_ci_includes_zero"),
        ({"effect": 0.0, "ci_low": -3.0, "ci_high": 3.0}, "inconclusive", "zero_effect"),
        ({"status": "insufficient_data", "reason": "insufficient_pre_periods"}, "insufficient_data", "pre_periods"),
        ({"status": "error", "reason": "ValueError: boom"}, "insufficient_data", "boom"),
        ({"effect": math.nan}, "insufficient_data", "no_estimate"),
        ({"ci_high": math.nan}, "insufficient_data", ""),
    ],
)
def test_grades(kw: dict[str, object], expected: str, reason_part: str) -> None:
    graded = grade(_item(**kw))
    assert graded.grade == expected
    assert reason_part in graded.reason


def test_diagnostics_pass_is_explicit() -> None:
    assert diagnostics_pass(None, None).passed
    check = diagnostics_pass(0.01, {"placebo_time_p": 0.01})
    assert not check.passed
    assert check.failures == ("pre_trend_failed", "placebo_significant")
    assert check.checked == ("pre_trend", "placebo_time")
    assert diagnostics_pass(0.05, {"placebo_time_p": 0.05}).passed  # the bound itself passes
    assert placebo_time_p({"placebo_time_p": "not a number"}) is None
    assert placebo_time_p({"placebo_time_p": True}) is None


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_every_reason_grading_can_give_is_said_in_words(lang: str) -> None:
    from pilot_roi.grading import describe_grade_reason
    from pilot_roi.i18n import catalog, t

    codes = {"insufficient_pre_periods", "no_controls", "no_estimate"}
    for effect, low, high, q, pre in [(1, 0.5, 1.5, 0.01, 0.5), (-1, -1.5, -0.5, 0.01, 0.5), (1, -1, 3, 0.5, 0.01),
                                      (0, -1, 1, 0.5, 0.5), (-1, -3, 1, 0.5, 0.5)]:  # fmt: skip
        item = GradeInput("ok", effect, low, high, q, higher_is_better=True, pre_trend_p=pre)
        graded = grade(item)
        codes.update(graded.reason.split(","))
    for code in codes:
        keys = [k for k in (f"grade_reason.{code}", f"estimation.reason.{code}") if k in catalog()]
        assert keys, f"no message for the grade reason {code!r}"
        assert describe_grade_reason(code, lang) == t(keys[0], lang)
    assert describe_grade_reason("q_too_high,pre_trend_failed", lang).count(";") == 1


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_runners_own_reasons_are_said_in_words_and_free_text_stays(lang: str) -> None:
    # The runner decides some rows without estimating (unknown_metric, no_treated_sites, worker_failed):
    # the dashboard, the reports and the CLI read them through the one lookup; non_finite_effect, written by
    # earlier runs (now degenerate_fit), still reads in words in stored rows.
    import inspect

    from pilot_roi.grading import describe_grade_reason
    from pilot_roi.i18n import t
    from pilot_roi.runner import run, worker

    source = inspect.getsource(run) + inspect.getsource(worker)
    for code in ("unknown_metric", "no_treated_sites", "worker_failed", "non_finite_effect"):
        assert (f'"{code}"' in source) == (code != "non_finite_effect"), code  # which the runner still writes
        assert describe_grade_reason(code, lang) == t(f"estimation.reason.{code}", lang)
    message = "ValueError: matrix is singular, rank 3 < 4"
    assert describe_grade_reason(message, lang) == message
