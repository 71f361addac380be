"""Small hand-written SVG charts for the PDF: vector, no browser, microseconds per chart.

Pure functions from numbers to an SVG string; text in DejaVu Sans (renders Kazakh letters and ₸).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from html import escape

from pilot_roi.reports.model import SeriesPoint

FONT = "DejaVu Sans"
OBSERVED = "#1f4e79"
COUNTERFACTUAL = "#c55a11"
BAND = "#f4b183"
GAIN = "#2e7d32"
LOSS = "#c62828"
GRID = "#d9d9d9"
MAX_POINTS = 150  # more points than this add bytes to the PDF, not information at chart size


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 x a power of ten apart)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high <= low:
        span = abs(low) or 1.0
        low, high = low - span * 0.5, high + span * 0.5
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def tick_decimals(ticks: Sequence[float]) -> int:
    """Decimals that show every tick of one axis exactly and alike: none for a step of 25, one for 2.5, two for
    0.25 (the steps are 1, 2, 2.5 or 5 x a power of ten)."""
    if len(ticks) < 2:
        return 0
    step = abs(ticks[1] - ticks[0])
    for decimals in range(0, 10):
        if abs(round(step, decimals) - step) <= step * 1e-9:
            return decimals
    return 10


def downsample(points: Sequence[SeriesPoint], limit: int = MAX_POINTS) -> list[SeriesPoint]:
    """At most `limit` points: consecutive buckets averaged (missing values ignored), first period kept."""
    if len(points) <= limit:
        return list(points)
    size = math.ceil(len(points) / limit)
    out = []
    for start in range(0, len(points), size):
        bucket = points[start : start + size]

        def mean(values: list[float | None]) -> float | None:
            present = [v for v in values if v is not None]
            return sum(present) / len(present) if present else None

        out.append(
            SeriesPoint(
                bucket[0].period,
                mean([p.observed for p in bucket]),
                mean([p.counterfactual for p in bucket]),
                mean([p.ci_low for p in bucket]),
                mean([p.ci_high for p in bucket]),
            )
        )
    return out


def _text(x: float, y: float, body: str, *, size: float = 8, anchor: str = "start", fill: str = "#333") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(body)}</text>'
    )


def series_chart(
    points: Sequence[SeriesPoint],
    go_live: date | None,
    *,
    labels: tuple[str, str, str],
    number: Callable[[float, int], str],
    width: float = 500,
    height: float = 190,
) -> str:
    """Observed vs counterfactual lines with the counterfactual's 95% band and a go-live marker.

    `labels` are the legend texts (observed, counterfactual, band); `number(value, decimals)` formats the y ticks,
    all with the same decimals (`tick_decimals`).
    """
    pts = downsample([p for p in points if p.observed is not None or p.counterfactual is not None])
    if not pts:
        return ""
    left, right, top, bottom = 58.0, 8.0, 18.0, 22.0
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [
        v
        for p in pts
        for v in (p.observed, p.counterfactual, p.ci_low, p.ci_high)
        if v is not None and math.isfinite(v)
    ]
    ticks = nice_ticks(min(values), max(values))
    y_lo, y_hi = ticks[0], ticks[-1]
    decimals = tick_decimals(ticks)
    t0 = pts[0].period.toordinal()
    t1 = max(pts[-1].period.toordinal(), t0 + 1)

    def x_of(d: date) -> float:
        return left + (d.toordinal() - t0) / (t1 - t0) * plot_w

    def y_of(v: float) -> float:
        return top + (y_hi - v) / ((y_hi - y_lo) or 1.0) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}">'
    ]
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{width - right:.1f}" y2="{y:.1f}" stroke="{GRID}" '
            'stroke-width="0.5"/>'
        )
        parts.append(_text(left - 4, y + 3, number(tick, decimals), size=7, anchor="end"))
    years = range(pts[0].period.year, pts[-1].period.year + 2)
    for year in years:
        d = date(year, 1, 1)
        if pts[0].period <= d <= pts[-1].period:
            x = x_of(d)
            parts.append(
                f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{top + plot_h:.1f}" stroke="{GRID}" '
                'stroke-width="0.5"/>'
            )
            parts.append(_text(x + 2, height - 8, str(year), size=7))
    band = [(p.period, p.ci_low, p.ci_high) for p in pts if p.ci_low is not None and p.ci_high is not None]
    if band:
        upper = " ".join(f"{x_of(d):.1f},{y_of(hi):.1f}" for d, _lo, hi in band)
        lower = " ".join(f"{x_of(d):.1f},{y_of(lo):.1f}" for d, lo, _hi in reversed(band))
        parts.append(f'<polygon points="{upper} {lower}" fill="{BAND}" fill-opacity="0.45" stroke="none"/>')
    for attr, color, dash in (
        ("counterfactual", COUNTERFACTUAL, ' stroke-dasharray="4,2"'),
        ("observed", OBSERVED, ""),
    ):
        coords = [(p.period, getattr(p, attr)) for p in pts if getattr(p, attr) is not None]
        if coords:
            line = " ".join(f"{x_of(d):.1f},{y_of(v):.1f}" for d, v in coords)
            parts.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="1.1"{dash}/>')
    if go_live is not None and pts[0].period <= go_live <= pts[-1].period:
        x = x_of(go_live)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{top + plot_h:.1f}" stroke="#000" '
            'stroke-width="0.8" stroke-dasharray="2,2"/>'
        )
    parts.append(
        f'<rect x="{left:.1f}" y="{top:.1f}" width="{plot_w:.1f}" height="{plot_h:.1f}" fill="none" stroke="#999" '
        'stroke-width="0.5"/>'
    )
    legend_x = left
    for label, color, kind in (
        (labels[0], OBSERVED, "line"),
        (labels[1], COUNTERFACTUAL, "dash"),
        (labels[2], BAND, "band"),
    ):
        if kind == "band":
            parts.append(f'<rect x="{legend_x:.1f}" y="4" width="14" height="7" fill="{color}" fill-opacity="0.45"/>')
        else:
            dash = ' stroke-dasharray="4,2"' if kind == "dash" else ""
            parts.append(
                f'<line x1="{legend_x:.1f}" y1="8" x2="{legend_x + 14:.1f}" y2="8" stroke="{color}" '
                f'stroke-width="1.4"{dash}/>'
            )
        parts.append(_text(legend_x + 18, 11, label, size=7.5))
        legend_x += 26 + 5.2 * len(label)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    rows: Sequence[tuple[str, float, float | None, float | None]],
    *,
    number: Callable[[float], str],
    width: float = 500,
    bar_height: float = 16,
) -> str:
    """Horizontal bars (label, value, ci_low, ci_high) with 95% whiskers; gains green, losses red."""
    if not rows:
        return ""
    label_w, right, top = 170.0, 70.0, 6.0
    height = top * 2 + bar_height * len(rows) + 14
    plot_w = width - label_w - right
    extremes = [0.0] + [v for _, value, lo, hi in rows for v in (value, lo, hi) if v is not None and math.isfinite(v)]
    ticks = nice_ticks(min(extremes), max(extremes), 4)
    lo_t, hi_t = ticks[0], ticks[-1]

    def x_of(v: float) -> float:
        return label_w + (v - lo_t) / ((hi_t - lo_t) or 1.0) * plot_w

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}">'
    ]
    base = top + bar_height * len(rows)
    for tick in ticks:
        x = x_of(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{base:.1f}" stroke="{GRID}" stroke-width="0.5"/>'
        )
        parts.append(_text(x, base + 10, number(tick), size=6.5, anchor="middle"))
    zero = x_of(0.0)
    for i, (label, value, lo, hi) in enumerate(rows):
        y = top + i * bar_height
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(_text(label_w - 4, y + bar_height * 0.68, short, size=7.5, anchor="end"))
        x0, x1 = sorted((zero, x_of(value)))
        color = GAIN if value >= 0 else LOSS
        parts.append(
            f'<rect x="{x0:.1f}" y="{y + 3:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
            f'height="{bar_height - 6:.1f}" fill="{color}" fill-opacity="0.8"/>'
        )
        if lo is not None and hi is not None:
            mid = y + bar_height / 2
            parts.append(
                f'<line x1="{x_of(lo):.1f}" y1="{mid:.1f}" x2="{x_of(hi):.1f}" y2="{mid:.1f}" '
                'stroke="#222" stroke-width="0.8"/>'
            )
        parts.append(
            _text(max(x1, x_of(hi) if hi is not None else x1) + 3, y + bar_height * 0.68, number(value), size=7)
        )
    parts.append(
        f'<line x1="{zero:.1f}" y1="{top:.1f}" x2="{zero:.1f}" y2="{base:.1f}" stroke="#555" stroke-width="0.7"/>'
    )
    parts.append("</svg>")
    return "".join(parts)
