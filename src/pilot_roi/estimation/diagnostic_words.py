"""An estimate's design and diagnostics as sentences in the reader's language, for the dashboard and the reports.

The input is one estimate as a mapping with the `estimates` view's columns (method, n_treated, n_controls,
n_pre_periods, n_post_periods, pre_trend_p, p_value, q_value, mde, grade_reason, method_reason, unit) and its
`diagnostics` (JSON text or a mapping). The message keys keep their `dash.diag.*` names from when only the
dashboard said these things.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pilot_roi.estimation.method_words import method_reason_in
from pilot_roi.grading import describe_grade_reason
from pilot_roi.i18n import format_number, t, unit_label
from pilot_roi.numbers import finite_or_none

# How the interval was built is in the method reason, in the reader's language; the estimator's own (English)
# inference label stays in the warehouse and the XLSX report's diagnostics record.
SHOWN_DIAGNOSTICS: tuple[str, ...] = (
    "pre_rmse_pct",
    "placebo_p",
    "placebo_time_p",
    "randomization_p_value",
    "excluded_sites",
)


def label(prefix: str, value: object, lang: str) -> str:
    """The word for a code (`dash.<prefix>.<value>`), or the code made readable when no message exists."""
    text = str(value or "")
    key = f"dash.{prefix}.{text}"
    word = t(key, lang)
    return text.replace("_", " ") if word == key else word


def diagnostics_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """An estimate's diagnostics (JSON text or a mapping) as a dict; empty when absent or unreadable."""
    raw = row.get("diagnostics")
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        diagnostics = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return diagnostics if isinstance(diagnostics, dict) else {}


def all_sites_treated(diagnostics: Mapping[str, Any]) -> bool:
    """Every site goes live at staggered dates: the comparison is the sites not yet live, there are no controls."""
    facts = diagnostics.get("method_choice")
    return isinstance(facts, Mapping) and facts.get("case") == "all_treated_staggered"


def design_in_words(row: Mapping[str, Any], lang: str, diagnostics: Mapping[str, Any] | None = None) -> str:
    """The design in one sentence: method, treated sites, controls (or the not-yet-live comparison), periods.

    `diagnostics`: the row's parsed diagnostics when the caller has them (else parsed here).
    """
    diagnostics = diagnostics_of(row) if diagnostics is None else diagnostics
    # With every site treated the estimator's control count is the not-yet-live comparison sites, not controls.
    return t(
        "dash.diag.design_all_treated" if all_sites_treated(diagnostics) else "dash.diag.design",
        lang,
        method=label("method", row.get("method") or "none", lang),
        treated=row.get("n_treated") or 0,
        controls=row.get("n_controls") or 0,
        pre=row.get("n_pre_periods") or 0,
        post=row.get("n_post_periods") or 0,
    )


def checks_in_words(row: Mapping[str, Any], lang: str, diagnostics: Mapping[str, Any] | None = None) -> list[str]:
    """The checks a reviewer weighs the estimate by: pre-trend test, minimum detectable effect, placebo in time,
    leave-one-out and the few other diagnostics a reader can act on."""
    diagnostics = diagnostics_of(row) if diagnostics is None else diagnostics
    return _pretrend(row, diagnostics, lang) + _other_checks(row, diagnostics, lang)


def diagnostics_in_words(row: Mapping[str, Any], lang: str) -> list[str]:
    """The design and its diagnostics as sentences (design, method reason, pre-trend test, p and q, minimum
    detectable effect, placebo in time, leave-one-out, grade reason)."""
    diagnostics = diagnostics_of(row)
    lines = [design_in_words(row, lang, diagnostics)]
    reason = method_reason_in(diagnostics, row.get("method_reason"), lang)
    if reason:
        lines.append(t("dash.diag.method_reason", lang, reason=reason))
    lines.extend(_pretrend(row, diagnostics, lang))
    p_value, q_value = finite_or_none(row.get("p_value")), finite_or_none(row.get("q_value"))
    if p_value is not None:
        lines.append(t("dash.diag.pq", lang, p=format_number(p_value, lang, 3), q=format_number(q_value, lang, 3)))
    lines.extend(_other_checks(row, diagnostics, lang))
    if row.get("grade_reason"):
        lines.append(t("dash.diag.grade_reason", lang, reason=describe_grade_reason(str(row["grade_reason"]), lang)))
    return lines


def _pretrend(row: Mapping[str, Any], diagnostics: Mapping[str, Any], lang: str) -> list[str]:
    pre_p = finite_or_none(row.get("pre_trend_p"))
    if pre_p is None:
        return []
    key = "dash.diag.pretrend_bad" if pre_p < 0.05 else "dash.diag.pretrend_ok"
    key += "_not_yet" if all_sites_treated(diagnostics) and pre_p >= 0.05 else ""
    return [t(key, lang, p=format_number(pre_p, lang, 2))]


def _other_checks(row: Mapping[str, Any], diagnostics: Mapping[str, Any], lang: str) -> list[str]:
    lines = []
    mde = finite_or_none(row.get("mde"))
    unit = unit_label(str(row.get("unit") or ""), lang)
    if mde is not None:
        lines.append(t("dash.diag.mde", lang, mde=format_number(mde, lang, 2), unit=unit))
    lines.extend(placebo_and_leave_one_out(diagnostics, unit, lang))
    lines.extend(left_out(diagnostics, lang))
    lines.extend(periods_not_ended(diagnostics, lang))
    # Only the diagnostics a reader can act on, in words; the full record stays in the warehouse and the XLSX.
    for key in SHOWN_DIAGNOSTICS:
        value = diagnostics.get(key)
        if isinstance(value, bool) or value is None or isinstance(value, dict | list):
            continue
        if isinstance(value, int):  # a count of sites, not a measurement
            shown = format_number(float(value), lang, 0)
        else:
            shown = format_number(float(value), lang, 3) if isinstance(value, float) else str(value)
        lines.append(t(f"dash.diag.{key}", lang, value=shown))
    return lines


def left_out(diagnostics: Mapping[str, Any], lang: str) -> list[str]:
    """The listed sites the estimate could not use, so a reader can trace a figure to the sites behind it."""
    design = diagnostics.get("design")
    design = design if isinstance(design, Mapping) else {}
    excluded = diagnostics.get("excluded_treated")
    treated = [
        *_names(design.get("excluded_always_treated")),
        *_names(design.get("excluded_late")),
        *_names(design.get("excluded_idle_treated")),
        *_names(list(excluded) if isinstance(excluded, Mapping) else excluded),
        # listed sites with no value of the metric at all (the runner names them; the estimator never saw them)
        *_names(diagnostics.get("treated_without_data")),
    ]
    lines = []
    if treated:
        lines.append(t("dash.diag.left_out_treated", lang, sites=", ".join(dict.fromkeys(treated))))
    controls = [*_names(diagnostics.get("controls_without_data")), *_names(design.get("excluded_idle_controls"))]
    if controls:
        lines.append(t("dash.diag.left_out_controls", lang, sites=", ".join(controls)))
    return lines


def _names(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def placebo_and_leave_one_out(diagnostics: Mapping[str, Any], unit: str, lang: str) -> list[str]:
    """The placebo in time (a fake go-live in the pre-period) and the leave-one-control-out range, in words."""
    lines = []
    placebo = diagnostics.get("placebo_in_time")
    if (
        isinstance(placebo, Mapping)
        and placebo.get("status") == "ok"
        and finite_or_none(placebo.get("p_value")) is not None
    ):
        lines.append(
            t(
                "dash.diag.placebo_in_time",
                lang,
                date=str(placebo.get("fake_go_live") or "—"),
                att=format_number(finite_or_none(placebo.get("att")), lang, 2),
                unit=unit,
                p=format_number(finite_or_none(placebo.get("p_value")), lang, 3),
            )
        )
    loo = diagnostics.get("leave_one_out")
    if isinstance(loo, Mapping) and loo.get("status") == "ok":
        low, high = (
            format_number(finite_or_none(loo.get("att_min")), lang, 2),
            format_number(finite_or_none(loo.get("att_max")), lang, 2),
        )
        lines.append(t("dash.diag.loo", lang, low=low, high=high, unit=unit))
    elif isinstance(loo, Mapping) and loo.get("reason") == "no_controls":
        lines.append(t("dash.diag.loo_no_controls", lang))
    elif isinstance(loo, Mapping) and loo.get("reason") == "no_estimate_without_each_control":
        lines.append(t("dash.diag.loo_each_needed", lang))
    return lines


def periods_not_ended(diagnostics: Mapping[str, Any], lang: str) -> list[str]:
    """A sum-aggregated metric's values the runner left out because their period had not ended, and those it read
    although they were loaded before their period ended, in words."""
    lines = []
    for key in ("periods_not_ended", "loaded_before_period_end"):
        found = diagnostics.get(key)
        if not isinstance(found, Mapping) or not found.get("count"):
            continue
        periods = _names(found.get("periods"))
        more = len(periods) > 3 or int(found.get("n_periods") or 0) > len(periods)
        shown = ", ".join(periods[:3]) + (", …" if more else "")
        count = format_number(float(found["count"]), lang, 0)
        lines.append(t(f"dash.diag.{key}", lang, count=count, periods=shown, as_of=str(found.get("as_of") or "—")))
    return lines
