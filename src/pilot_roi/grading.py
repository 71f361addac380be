"""Evidence grades (PRODUCT.md, "Words") and Benjamini–Hochberg q-values across the portfolio.

Pure functions; the grade of one pilot-metric needs its estimate, its portfolio q-value and the
metric's direction.

Grades, checked in this order:

1. `insufficient_data`: the estimate carries no number (status not `ok`, or a non-finite effect or CI).
2. `adverse`: the point estimate is harmful and the 95% CI excludes zero (whatever the q-value and
   the diagnostics: harm is reported, never hidden).
3. `demonstrated`: the point estimate is beneficial, the 95% CI excludes zero, q < `alpha` (0.05) and
   the diagnostics pass.
4. `promising`: a beneficial point estimate that is not demonstrated; the reason says what is missing.
5. `inconclusive`: everything else (a harmful or zero point estimate whose CI includes zero).

"Diagnostics pass" means, for each check the design has (a check the design lacks is not held against it):
- the joint pre-trend test: p ≥ `min_diagnostic_p` (0.05);
- the placebo in time (a fake go-live inside the pre-period): p ≥ 0.05, i.e. no "effect" before go-live;
- the placebo across donors (synthetic control permutation of the untreated) is not a separate check:
  it *is* that design's inference, so it is already in the p-value and the CI;
- the pre-period fit (R² of a synthetic control) is reported beside the estimate but does not fail it:
  with noisy daily data a low R² is expected even when the counterfactual is right.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from pilot_roi.numbers import finite_or_none

Grade = Literal["demonstrated", "promising", "inconclusive", "adverse", "insufficient_data"]
GRADES: tuple[str, ...] = get_args(Grade)

ALPHA = 0.05
MIN_DIAGNOSTIC_P = 0.05

# Where estimators put the placebo-in-time p-value in `EffectResult.diagnostics` (first found wins).
_PLACEBO_KEYS = ("placebo_time_p", "placebo_p", "placebo_in_time_p", "time_placebo_p")
_PLACEBO_NESTED = ("placebo_time", "placebo", "placebo_in_time", "time_placebo")


@dataclass(frozen=True, slots=True)
class GradeInput:
    """What a grade needs: the effect (metric units), its 95% CI, status, q-value and diagnostics.

    `diagnostics` is `EffectResult.diagnostics` (a dict); `pre_trend_p` the joint pre-trend p-value or None.
    """

    status: str
    effect: float
    ci_low: float
    ci_high: float
    q_value: float
    higher_is_better: bool
    pre_trend_p: float | None = None
    diagnostics: Mapping[str, Any] | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Graded:
    """An evidence grade with a short machine-readable reason (e.g. `q_too_high`, `pre_trend_failed`)."""

    grade: Grade
    reason: str


@dataclass(frozen=True, slots=True)
class DiagnosticsCheck:
    """Whether the diagnostics pass, and the codes of those that failed (empty when they pass)."""

    passed: bool
    failures: tuple[str, ...] = ()
    checked: tuple[str, ...] = ()


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), same order as the input.

    Non-finite p-values (no estimate) are left out of the family and come back as NaN; the family size
    is the number of finite p-values. q_i = min_{j ≥ rank i} (m p_(j) / j), capped at 1.
    """
    p = np.asarray(p_values, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    m = int(finite.sum())
    if m == 0:
        return q
    values = np.clip(p[finite], 0.0, 1.0)
    order = np.argsort(values, kind="stable")
    ranked = values[order] * m / np.arange(1, m + 1, dtype=np.float64)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    q[finite] = out
    return q


def placebo_time_p(diagnostics: Mapping[str, Any] | None) -> float | None:
    """The placebo-in-time p-value in an estimator's diagnostics dict, if it reports one."""
    if not diagnostics:
        return None
    for key in _PLACEBO_KEYS:
        value = finite_or_none(diagnostics.get(key))
        if value is not None:
            return value
    for key in _PLACEBO_NESTED:
        nested = diagnostics.get(key)
        if isinstance(nested, Mapping):
            value = finite_or_none(nested.get("p_value", nested.get("p")))
            if value is not None:
                return value
    return None


def diagnostics_pass(
    pre_trend_p: float | None,
    diagnostics: Mapping[str, Any] | None,
    min_p: float = MIN_DIAGNOSTIC_P,
) -> DiagnosticsCheck:
    """Check the pre-trend test and the placebo in time, where the design has them."""
    failures: list[str] = []
    checked: list[str] = []
    trend = finite_or_none(pre_trend_p)
    if trend is not None:
        checked.append("pre_trend")
        if trend < min_p:
            failures.append("pre_trend_failed")
    placebo = placebo_time_p(diagnostics)
    if placebo is not None:
        checked.append("placebo_time")
        if placebo < min_p:
            failures.append("placebo_significant")
    return DiagnosticsCheck(not failures, tuple(failures), tuple(checked))


def grade(item: GradeInput, alpha: float = ALPHA, min_diagnostic_p: float = MIN_DIAGNOSTIC_P) -> Graded:
    """The evidence grade of one pilot-metric (rules in the module docstring)."""
    numbers = (item.effect, item.ci_low, item.ci_high)
    if item.status != "ok" or not all(math.isfinite(x) for x in numbers):
        return Graded("insufficient_data", item.reason or (item.status if item.status != "ok" else "no_estimate"))
    sign = 1.0 if item.higher_is_better else -1.0
    benefit = sign * item.effect
    excludes_zero = item.ci_low > 0.0 or item.ci_high < 0.0
    if benefit < 0 and excludes_zero:
        return Graded("adverse", "harmful_ci_excludes_zero")
    if benefit > 0:
        missing: list[str] = []
        if not excludes_zero:
            missing.append("ci_includes_zero")
        if not (math.isfinite(item.q_value) and item.q_value < alpha):
            missing.append("q_too_high")
        check = diagnostics_pass(item.pre_trend_p, item.diagnostics, min_diagnostic_p)
        missing.extend(check.failures)
        if not missing:
            return Graded("demonstrated", "beneficial_ci_excludes_zero_q_below_alpha_diagnostics_pass")
        return Graded("promising", ",".join(missing))
    if benefit == 0:
        return Graded("inconclusive", "zero_effect")
    return Graded("inconclusive", "harmful_ci_includes_zero")


_CODES = re.compile(r"\s*[a-z0-9_]+(?:\s*,\s*[a-z0-9_]+)*\s*")


def describe_grade_reason(codes: str | None, lang: str) -> str:
    """The grade's reason codes (comma-separated, as stored) in words of `lang`.

    Grading's own codes, then the estimators' reason codes (`no_controls`, `method_failed`, ...) and statuses
    (`insufficient_data`): the one lookup for every "why no estimate" the dashboard and the reports show. An
    unknown code is shown readable rather than hidden.
    """
    from pilot_roi.i18n import catalog, t

    if codes and not _CODES.fullmatch(codes):  # free text (an error's own message) reads as it is
        return codes
    known = catalog()
    words = []
    for code in filter(None, (part.strip() for part in (codes or "").split(","))):
        keys = (f"grade_reason.{code}", f"estimation.reason.{code}", f"dash.reason.{code}")
        key = next((k for k in keys if k in known), None)
        words.append(t(key, lang) if key else code.replace("_", " "))
    return "; ".join(words)
