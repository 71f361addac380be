"""`res.summary()`: a plain-language paragraph and a text table, in ru, kk or en.

Printing lives apart from fitting (as in statsmodels): this module only reads an `EffectResult`.
"""

from __future__ import annotations

import math
from typing import Any

from pilot_roi.estimation.result import EffectResult
from pilot_roi.i18n import format_number, format_percent, t


def _num(value: float | None, lang: str) -> str:
    """A number with 3 significant digits after the point for small values, fewer for large ones."""
    if value is None or not math.isfinite(value):
        return "—"
    size = abs(value)
    decimals = 0 if size >= 1000 else 1 if size >= 100 else 2 if size >= 1 else 4
    return format_number(value, lang, decimals)


def _p(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.1e}" if value < 0.001 else f"{value:.3f}"


def _method_name(method: str, lang: str) -> str:
    key = f"estimation.method.{method}"
    text = t(key, lang)
    return method if text == key else text


def _reason(reason: str | None, lang: str) -> str:
    key = f"estimation.reason.{reason}"
    text = t(key, lang)
    return str(reason) if text == key else text


def _level(res: EffectResult) -> int:
    """The confidence level in percent, from the interval's own inference (95 unless stated)."""
    alpha = res.diagnostics.get("alpha", 0.05)
    return round(100 * (1 - float(alpha)))


def paragraph(res: EffectResult, lang: str = "en", outcome: str | None = None) -> str:
    """The plain-language paragraph: what changed, by how much, how sure, and why this method."""
    name = _method_name(res.method, lang)
    if not res.ok:
        return t("estimation.summary.no_estimate", lang, method=name, reason=_reason(res.reason, lang))
    alpha = 1 - _level(res) / 100
    parts = [
        t(
            "estimation.summary.effect",
            lang,
            method=name,
            outcome=outcome or res.diagnostics.get("outcome", "the outcome"),
            att=_num(res.att, lang),
            pct=format_percent(res.att_pct, lang),
            level=_level(res),
            low=_num(res.ci_low, lang),
            high=_num(res.ci_high, lang),
            p=_p(res.p_value),
        )
    ]
    excludes_zero = res.ci_low > 0 or res.ci_high < 0
    key = "estimation.summary.significant" if excludes_zero else "estimation.summary.not_significant"
    parts.append(t(key, lang, alpha=f"{alpha:g}"))
    if res.method == "staggered_did":
        parts.append(t("estimation.summary.staggered", lang))
    if res.pre_trend_p is not None:
        parts.append(t("estimation.summary.pretrend", lang, p=_p(res.pre_trend_p)))
    placebo: dict[str, Any] = res.diagnostics.get("placebo_in_time") or {}
    if placebo.get("status") == "ok":
        parts.append(
            t(
                "estimation.summary.placebo",
                lang,
                date=placebo.get("fake_go_live", ""),
                att=_num(placebo.get("att"), lang),
                p=_p(placebo.get("p_value")),
            )
        )
    loo: dict[str, Any] = res.diagnostics.get("leave_one_out") or {}
    if loo.get("status") == "ok":
        parts.append(
            t("estimation.summary.loo", lang, low=_num(loo.get("att_min"), lang), high=_num(loo.get("att_max"), lang))
        )
    if res.mde is not None and math.isfinite(res.mde):
        parts.append(t("estimation.summary.mde", lang, mde=_num(res.mde, lang)))
    if res.inference:
        parts.append(t("estimation.summary.inference", lang, inference=res.inference))
    if res.method_reason:
        parts.append(t("estimation.summary.why", lang, reason=res.method_reason))
    return " ".join(parts)


def table(res: EffectResult, lang: str = "en") -> str:
    """A text table: the primary result and every robustness check, one row each."""
    header = t("estimation.summary.table_header", lang).split("|")
    rows = [header]
    for r in (res, *res.robustness):
        interval = f"[{_num(r.ci_low, lang)}, {_num(r.ci_high, lang)}]" if r.ok else "—"
        status = "ok" if r.ok else f"{r.status}: {_reason(r.reason, lang)}"
        rows.append(
            [
                _method_name(r.method, lang),
                _num(r.att, lang),
                interval,
                _p(r.p_value),
                format_percent(r.att_pct, lang),
                status,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summarize(res: EffectResult, lang: str = "en", outcome: str | None = None) -> str:
    """The paragraph, a blank line, then the table."""
    return f"{paragraph(res, lang, outcome)}\n\n{table(res, lang)}"
