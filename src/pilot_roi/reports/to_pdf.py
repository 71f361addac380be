"""PDF rendering through WeasyPrint: A4, page numbers, a table of contents, inline SVG charts, DejaVu Sans.

The HTML is built here from the `YearReport` (numbers formatted with pilot_roi.i18n.format_*); WeasyPrint
lays it out. Page numbers in the contents come from CSS `target-counter`.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from html import escape
from pathlib import Path

from pilot_roi import clock
from pilot_roi.audit import action_words
from pilot_roi.economics import PERIODS_PER_YEAR
from pilot_roi.grading import describe_grade_reason
from pilot_roi.i18n import format_money, format_number, format_percent, frequency_word, t, unit_label
from pilot_roi.reports.charts import bar_chart, series_chart
from pilot_roi.reports.model import Amount, GroupRow, MetricResult, PilotSection, TreatedSiteRow, YearReport
from pilot_roi.reports.tables import (
    all_treated_staggered,
    grade_label,
    method_label,
    no_controls_key,
    reproducibility_table,
)

_CSS = """
@page {
  size: A4; margin: 16mm 14mm 18mm 14mm;
  @top-left { content: string(doctitle); font-size: 7pt; color: #666; }
  @top-right { content: string(demo); font-size: 7pt; color: #c00000; font-weight: bold; }
  @bottom-right { content: "%(page)s " counter(page) " / " counter(pages); font-size: 7.5pt; color: #444; }
  @bottom-left { content: string(status); font-size: 7pt; color: #666; }
}
@page:first { @top-left { content: none; } }
html { font-family: "DejaVu Sans", sans-serif; font-size: 8.5pt; color: #111; }
h1 { font-size: 17pt; margin: 0 0 4mm 0; string-set: doctitle content(); }
h2 { font-size: 12.5pt; margin: 5mm 0 2mm 0; color: #1f4e79; break-after: avoid; }
h3 { font-size: 10pt; margin: 3mm 0 1.5mm 0; break-after: avoid; }
h2.section { break-before: page; }
h2.pilot { break-before: page; }
h2.section + h2.pilot { break-before: avoid; }  /* the first pilot under the Pilots heading, not a page alone */
.banner { color: #c00000; font-weight: bold; border: 1px solid #c00000; padding: 2mm; margin: 3mm 0;
          string-set: demo content(); }
.status { string-set: status content(); color: #333; margin: 2mm 0; }
table { border-collapse: collapse; width: 100%%; margin: 1mm 0 3mm 0; table-layout: fixed; }
table.kv th:first-child, table.kv td:first-child { width: 32%%; }
th, td { border: 0.4pt solid #bbb; padding: 0.8mm 1.2mm; vertical-align: top; }
/* a word wider than its column (a file name, "Неблагоприятных" in a narrow header) breaks inside the cell instead
   of running over its neighbour; amounts (td.n) keep their no-break spaces and never split from their "₸" */
th, td:not(.n) { overflow-wrap: break-word; }
tr { break-inside: avoid; }  /* a row's label and its value on one page */
th { background: #ddebf7; text-align: left; font-weight: bold; hyphens: auto; }
td.n { text-align: right; white-space: nowrap; }
table.kpi td { font-size: 10pt; }
table.kpi td.big { font-size: 12pt; font-weight: bold; }
.small { font-size: 7pt; color: #444; }
ul.small { margin: 0 0 2mm 0; padding-left: 4mm; }
table.groups { font-size: 7pt; table-layout: fixed; }
table.groups td.n { white-space: normal; }
table.groups th:first-child { width: 15%%; }
table.groups th:nth-child(2), table.groups th:nth-child(3), table.groups th:nth-child(4) { width: 6.5%%; }
table.groups td:first-child { hyphens: auto; }
table.uploads th:first-child { width: 7%%; }
table.uploads th:nth-child(2), table.uploads th:nth-child(3) { width: 24%%; }
.ci { font-size: 6.5pt; color: #555; white-space: normal; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 6.5pt; word-break: break-all; }
.toc a { color: #111; text-decoration: none; }
.toc a::after { content: leader('.') target-counter(attr(href), page); }
.toc li { list-style: none; margin: 0.4mm 0; }
.toc ul { padding-left: 4mm; margin: 0; }
.toc > ul { padding-left: 0; }
.grade-demonstrated { color: #2e7d32; font-weight: bold; }
.grade-adverse { color: #c62828; font-weight: bold; }
figure { margin: 1mm 0 2mm 0; break-inside: avoid; }
figcaption { font-size: 7pt; color: #555; }
p { margin: 1mm 0 2mm 0; }
"""


def _e(text: object) -> str:
    return escape(str(text))


class _Fmt:
    """Number formatting in the reader's language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def money(self, value: float | None) -> str:
        """An amount that never breaks across lines ("17.4 bn" / "₸" in a narrow cell): no-break spaces."""
        return format_money(value, self.lang).replace(" ", "\u00a0")

    def amount(self, a: Amount | None) -> str:
        if a is None:
            return "—"
        text = self.money(a.value)
        if a.ci_low is not None and a.ci_high is not None:
            text += f" ({t('report.ci95', self.lang)}: {self.money(a.ci_low)} … {self.money(a.ci_high)})"
        return text

    def amount_html(self, a: Amount | None) -> str:
        """Escaped HTML: the value, and its interval on a second, smaller line."""
        if a is None:
            return "—"
        html = _e(self.money(a.value))
        if a.ci_low is not None and a.ci_high is not None:
            ci = f"{self.money(a.ci_low)} … {self.money(a.ci_high)}"
            html += f'<br><span class="ci">{_e(t("report.ci95", self.lang))}: {_e(ci)}</span>'
        return html

    def num(self, value: float | None, decimals: int = 2) -> str:
        if value is None:
            return "—"
        if isinstance(value, int) or decimals == 0:
            return format_number(value, self.lang, 0)
        if value != 0 and abs(value) < 10**-decimals * 5:
            # too small for the decimals: scientific, with the reader's decimal mark ("3,55e-02" in ru and kk)
            mantissa, exponent = f"{value:.2e}".split("e")
            return f"{format_number(float(mantissa), self.lang, 2)}e{exponent}"
        return format_number(value, self.lang, decimals)

    def pct(self, value: float | None) -> str:
        return format_percent(value, self.lang)

    def ratio(self, value: float | None) -> str:
        return "—" if value is None else format_percent(100 * value, self.lang)

    def p(self, value: float | None) -> str:
        if value is None:
            return "—"
        if value < 1e-4:  # the bound in the reader's format, as every other p ("< 0,0001" in ru and kk)
            return f"< {format_number(1e-4, self.lang, 4)}"
        return format_number(value, self.lang, 4)

    def months(self, value: float | None) -> str:
        """A payback: +inf ("never pays back") in words, the CLI's; None ("not available") as a dash."""
        if value is None:
            return "—"
        if math.isinf(value):
            return t("estimate.payback_never", self.lang)
        return format_number(value, self.lang, 1)


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None, cls: str = "") -> str:
    numeric = numeric or set()
    if len(headers) == 2:
        cls = f"{cls} kv".strip()
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _grade(grade: str, lang: str) -> str:
    return f'<span class="grade-{grade}">{_e(grade_label(grade, lang))}</span>'


def _summary_html(report: YearReport, lang: str, f: _Fmt) -> str:
    s = report.summary
    rows = [
        [
            _e(t("report.kpi.demonstrated_gain", lang)),
            f'<span class="big">{_e(f.amount(s.demonstrated_annual_gain))}</span>',
        ],
        [_e(t("report.kpi.realized_year", lang, year=report.year)), _e(f.money(s.realized_gain_year))],
        [_e(t("report.kpi.investment", lang)), _e(f.money(s.investment_capex))],
        [_e(t("report.kpi.opex", lang)), _e(f.money(s.investment_opex_per_year))],
        [_e(t("report.kpi.npv", lang)), _e(f.amount(s.portfolio_npv))],
        [_e(t("report.kpi.roi", lang)), _e(f.ratio(s.portfolio_roi))],
    ]
    html = [_table([t("report.col.item", lang), t("report.col.value", lang)], rows, cls="kpi")]
    html.append(
        f"<p>{_e(t('report.kpi.pilots', lang, pilots=s.n_pilots, estimates=s.n_estimates))}. "
        f"{_e(t('report.only_demonstrated', lang))}</p>"
    )
    html.append(f"<h3>{_e(t('report.by_grade', lang))}</h3>")
    html.append(
        _table(
            [t("report.col.grade", lang), t("report.col.pilots", lang), t("report.col.estimates", lang)],
            [[_grade(g.grade, lang), str(g.pilots), str(g.estimates)] for g in s.by_grade],
            {1, 2},
        )
    )
    for title_key, lines in (("report.largest_gains", s.largest_gains), ("report.adverse_results", s.adverse)):
        html.append(f"<h3>{_e(t(title_key, lang))}</h3>")
        if not lines:
            html.append(f"<p>{_e(t('report.none', lang))}</p>")
            continue
        html.append(
            _table(
                [
                    t("report.col.pilot", lang),
                    t("report.col.metric", lang),
                    t("report.col.grade", lang),
                    t("report.col.effect_pct", lang),
                    t("report.col.annual_gain", lang),
                ],
                [
                    [
                        f'<a href="#pilot-{_e(g.pilot_code)}">{_e(g.pilot_code)}</a> {_e(g.pilot_name.get(lang))}',
                        _e(g.metric_name.get(lang)),
                        _grade(g.grade, lang),
                        _e(f.pct(g.effect_pct)),
                        f.amount_html(g.annual_gain),
                    ]
                    for g in lines
                ],
                {3, 4},
            )
        )
    return "".join(html)


def _group_html(groups: tuple[GroupRow, ...], name_key: str, lang: str, f: _Fmt) -> str:
    chart = bar_chart(
        [
            (
                g.name.get(lang),
                g.demonstrated_annual_gain.value,
                g.demonstrated_annual_gain.ci_low,
                g.demonstrated_annual_gain.ci_high,
            )
            for g in groups
        ],
        number=f.money,
    )
    table = _table(
        [
            t(name_key, lang),
            t("report.col.pilots", lang),
            t("report.col.n_demonstrated", lang),
            t("report.col.n_adverse", lang),
            t("report.col.demonstrated_gain", lang),
            t("report.col.realized_year", lang),
            t("report.col.capex", lang),
            t("report.col.opex", lang),
            t("report.col.npv", lang),
            t("report.col.roi", lang),
        ],
        [
            [
                _e(g.name.get(lang)),
                str(g.n_pilots),
                str(g.n_demonstrated),
                str(g.n_adverse),
                f.amount_html(g.demonstrated_annual_gain),
                _e(f.money(g.realized_gain_year)),
                _e(f.money(g.capex)),
                _e(f.money(g.opex_per_year)),
                _e(f.money(g.npv)),
                _e(f.ratio(g.roi)),
            ]
            for g in groups
        ],
        set(range(1, 10)),
        cls="groups",
    )
    return (
        f"<figure>{chart}<figcaption>{_e(t('report.col.demonstrated_gain', lang))}, {_e(t('report.ci95', lang))}"
        f"</figcaption></figure>{table}"
    )


def _metric_html(p: PilotSection, m: MetricResult, lang: str, f: _Fmt) -> str:
    unit = unit_label(m.unit, lang)
    html = [f"<h3>{_e(m.metric_name.get(lang))} ({_e(m.metric_code)}, {_e(unit)}) — {_grade(m.grade, lang)}</h3>"]
    if m.status != "ok" or m.effect is None:
        why = describe_grade_reason(m.reason or m.status, lang)
        html.append(f"<p>{_e(t('report.pilot.no_estimate', lang, reason=why))}</p>")
    go_live = min(s.go_live for s in p.treated_sites)
    chart = series_chart(
        m.series,
        go_live,
        labels=(t("report.col.observed", lang), t("report.col.counterfactual", lang), t("report.ci95", lang)),
        number=lambda value, decimals: format_number(value, lang, decimals),
    )
    if chart:
        html.append(f"<figure>{chart}<figcaption>{_e(t('report.pilot.chart_caption', lang))}</figcaption></figure>")
    elif m.status == "ok":
        html.append(f'<p class="small">{_e(t("report.pilot.no_series", lang))}</p>')
    method = method_label(m.method, lang)
    reused = f" ({_e(t('report.pilot.reused', lang, run=m.reused_from_run))})" if m.reused_from_run else ""
    rows = [
        [_e(t("report.col.method", lang)), f"{_e(method)}{reused}"],
        [_e(t("report.col.method_reason", lang)), _e(m.method_reason.get(lang) if m.method_reason else "—")],
        [
            _e(t("report.col.effect", lang)),
            f"{_e(f.num(m.effect))} {_e(unit)} ({_e(t('report.ci95', lang))}: {_e(f.num(m.ci_low))} … "
            f"{_e(f.num(m.ci_high))}); {_e(f.pct(m.effect_pct))}",
        ],
        [
            _e(t("report.col.p_value", lang) + " / " + t("report.col.q_value", lang)),
            f"{_e(f.p(m.p_value))} / {_e(f.p(m.q_value))}",
        ],
        [_e(t("report.col.annual_gain", lang)), _e(f.amount(m.annual_gain))],
        *_gain_terms_rows(m, unit, lang, f),
        [_e(t("report.col.npv", lang)), _e(f.amount(m.npv))],
        [_e(t("report.col.roi", lang)), _e(f.ratio(m.roi))],
        [_e(t("report.col.payback", lang)), _e(f.months(m.payback_months))],
        [_e(t("report.col.realized_year", lang)), _e(f.money(m.realized_gain_year))],
        [_e(t("report.col.realized_to_date", lang)), _e(f.money(m.realized_gain_to_date))],
        [
            _e(t("report.col.grade", lang)),
            f"{_grade(m.grade, lang)}: {_e(describe_grade_reason(m.grade_reason, lang))}",
        ],
    ]
    html.append(
        _table(
            [t("report.col.item", lang), t("report.col.value", lang)],
            rows + _metric_sites_rows(p, m, lang) + _sources_rows(m, lang, f),
        )
    )
    html.append(_diagnostics_html(m, lang, f))
    if len(m.robustness) > 1:
        html.append(
            _table(
                [
                    t("report.col.method", lang),
                    t("report.col.status", lang),
                    t("report.col.effect", lang),
                    t("report.col.ci_low", lang),
                    t("report.col.ci_high", lang),
                    t("report.col.p_value", lang),
                ],
                [
                    [
                        _e(method_label(r.method, lang)) + (" *" if r.is_primary else ""),
                        # the same mark as the dashboard for an estimate, else why there is none in words
                        "✓" if r.status == "ok" else _e(describe_grade_reason(r.reason or r.status, lang)),
                        _e(f.num(r.effect)),
                        _e(f.num(r.ci_low)),
                        _e(f.num(r.ci_high)),
                        _e(f.p(r.p_value)),
                    ]
                    for r in m.robustness
                ],
                {2, 3, 4, 5},
                cls="small",
            )
        )
        html.append(f'<p class="small">{_e(t("report.pilot.robustness_caption", lang))}</p>')
    return "".join(html)


def _gain_terms_rows(m: MetricResult, unit: str, lang: str, f: _Fmt) -> list[list[str]]:
    """The annual gain's terms, so that a reader can redo it: effect × tenge per unit × periods a year × sites."""
    periods = PERIODS_PER_YEAR.get(m.frequency)
    if m.effect is None or periods is None or not m.n_treated:
        return []
    terms = t(
        "report.pilot.gain_terms",
        lang,
        effect=f"{f.num(m.effect)} {unit}",
        value=f.money(m.value_kzt_per_unit),
        periods=f.num(periods, 2 if periods != round(periods) else 0),
        frequency=frequency_word(m.frequency, lang),
        sites=f.num(m.n_treated, 0),
        direction=t("report.pilot.direction_up" if m.higher_is_better else "report.pilot.direction_down", lang),
    )
    return [[_e(t("report.col.gain_terms", lang)), _e(terms)]]


def _treated_html(sites: tuple[TreatedSiteRow, ...], lang: str) -> str:
    return ", ".join(f"{_e(s.site_name.get(lang))} ({_e(s.site_code)}, {s.go_live.isoformat()})" for s in sites)


def _metric_sites_rows(p: PilotSection, m: MetricResult, lang: str) -> list[list[str]]:
    """The metric's own treated and control sites, where the run used others for it than the pilot's listing (which
    spans every metric: e.g. a control another pilot touches within this metric's window only, or none at all for an
    interrupted time series beside a DiD, said in words)."""
    rows = []
    if m.treated_sites and m.treated_sites != p.treated_sites:
        rows.append([_e(t("report.pilot.treated", lang)), _treated_html(m.treated_sites, lang)])
    if m.treated_sites and m.controls != p.controls:
        key = no_controls_key(m)
        listed = ", ".join(f"{_e(s.site_name.get(lang))} ({_e(s.site_code)})" for s in m.controls)
        rows.append([_e(t("report.pilot.controls", lang)), listed or (_e(t(key, lang)) if key else "—")])
    return rows


def _sources_rows(m: MetricResult, lang: str, f: _Fmt) -> list[list[str]]:
    """The uploads the estimate rests on, with how many of their values (names and SHA-256 in the lineage section)."""
    if not m.sources:  # a snapshot frozen before they were kept: the lineage section lists all pilots' uploads
        return []
    listed = "; ".join(f"№{s.upload_id} {_e(s.file_name)}: {_e(f.num(s.n_values, 0))}" for s in m.sources)
    return [[_e(t("report.pilot.sources", lang)), listed]]


def _diagnostics_html(m: MetricResult, lang: str, f: _Fmt) -> str:
    """The design and its checks in words; the estimator's full record is the XLSX's diagnostics sheet."""
    lines = [line.get(lang) for line in m.checks_in_words]
    if not lines:  # no estimate, or a snapshot frozen before the sentences were kept: the counts, labelled
        counts = [
            (t("report.col.pre_trend_p", lang), f.p(m.pre_trend_p)),
            (t("report.col.mde", lang), f.num(m.mde)),
            (t("report.col.n_treated", lang), f.num(m.n_treated, 0)),
            (t("report.col.n_controls", lang), f.num(m.n_controls, 0)),
            (t("report.col.n_pre", lang), f.num(m.n_pre_periods, 0)),
            (t("report.col.n_post", lang), f.num(m.n_post_periods, 0)),
        ]
        lines = ["; ".join(f"{k}: {v}" for k, v in counts)]
    record = t("report.pilot.diagnostics_record", lang, sheet=t("report.section.diagnostics", lang))
    items = "".join(f"<li>{_e(line)}</li>" for line in [*lines, record])
    return f"<p class='small'><b>{_e(t('report.pilot.diagnostics', lang))}:</b></p><ul class='small'>{items}</ul>"


def _controls_html(p: PilotSection, lang: str) -> str:
    """The control sites, or what the treated sites are compared with when there are none."""
    if p.controls:
        listed = ", ".join(f"{_e(s.site_name.get(lang))} ({_e(s.site_code)})" for s in p.controls)
        return f"{_e(t('report.pilot.controls_default', lang))}: {listed}" if p.controls_default else listed
    staggered = any(all_treated_staggered(m.diagnostics) for m in p.metrics)
    key = "report.pilot.controls_none_staggered" if staggered else "report.pilot.controls_none_own_history"
    return _e(t(key, lang))


def _pilot_html(p: PilotSection, lang: str, f: _Fmt, run_id: int) -> str:
    html = [f'<h2 class="pilot" id="pilot-{_e(p.code)}">{_e(p.code)} — {_e(p.name.get(lang))}</h2>']
    html.append(
        f"<p>{_e(p.subsidiary_name.get(lang))} · {_e(t(f'report.use_case.{p.use_case}', lang))} · "
        f"{_e(t('report.col.grade', lang))}: {_grade(p.grade, lang)}</p>"
    )
    treated = _treated_html(p.treated_sites, lang)
    controls = _controls_html(p, lang)
    metrics = ", ".join(f"{_e(m.metric_name.get(lang))} ({_e(unit_label(m.unit, lang))})" for m in p.metrics) or "—"
    html.append(f"<h3>{_e(t('report.pilot.design', lang))}</h3>")
    html.append(
        _table(
            [t("report.col.item", lang), t("report.col.value", lang)],
            [
                [_e(t("report.pilot.treated", lang)), treated],
                [_e(t("report.pilot.controls", lang)), controls],
                [_e(t("report.pilot.metrics", lang)), metrics],
                [
                    _e(t("report.col.capex", lang) + " / " + t("report.col.opex", lang)),
                    f"{_e(f.money(p.capex))} / {_e(f.money(p.opex_per_year))}",
                ],
            ],
        )
    )
    if not p.sites_recorded:
        html.append(f'<p class="small">{_e(t("report.pilot.sites_from_registry", lang, run=run_id))}</p>')
    html.append(f"<h3>{_e(t('report.pilot.economics', lang))}</h3>")
    html.append(
        _table(
            [
                t("report.col.demonstrated_gain", lang),
                t("report.col.realized_year", lang),
                t("report.col.npv", lang),
                t("report.col.roi", lang),
                t("report.col.payback", lang),
            ],
            [
                [
                    f.amount_html(p.demonstrated_annual_gain),
                    _e(f.money(p.realized_gain_year)),
                    _e(f.money(p.npv)),
                    _e(f.ratio(p.roi)),
                    _e(f.months(p.payback_months)),
                ]
            ],
            {0, 1, 2, 3, 4},
        )
    )
    html.extend(_metric_html(p, m, lang, f) for m in p.metrics)
    return "".join(html)


def _lineage_html(report: YearReport, lang: str) -> str:
    r = report.reproducibility
    html = [f"<p>{_e(t('report.lineage.intro', lang, run=r.run_id))}</p>"]
    html.append(
        _table(
            [
                t("report.col.upload_id", lang),
                t("report.col.file", lang),
                t("report.col.sha256", lang),
                t("report.col.uploaded_by", lang),
                clock.zoned(t("report.col.uploaded_at", lang)),
                t("report.col.rows_read", lang),
                t("report.col.rows_current", lang),
            ],
            [
                [
                    str(u.upload_id),
                    _e(u.file_name),
                    f'<span class="mono">{_e(u.sha256)}</span>',
                    _e(u.uploaded_by),
                    _e(_moment(u.uploaded_at)),
                    str(u.rows_read),
                    str(u.rows_current),
                ]
                for u in report.lineage.uploads
            ],
            {0, 5, 6},
            cls="small uploads",
        )
    )
    html.append(f"<h3>{_e(t('report.section.restatements', lang))}</h3>")
    if report.lineage.restatements:
        html.append(
            _table(
                [
                    t("report.col.upload_id", lang),
                    t("report.col.file", lang),
                    t("report.col.superseded_by", lang),
                    t("report.col.superseded_by_file", lang),
                    clock.zoned(t("report.col.restated_at", lang)),
                    t("report.col.n_values", lang),
                ],
                [
                    [
                        str(x.upload_id),
                        _e(x.file_name),
                        str(x.superseded_by_upload_id),
                        _e(x.superseded_by_file),
                        _e(_moment(x.restated_at)),
                        str(x.n_values),
                    ]
                    for x in report.lineage.restatements
                ],
                {0, 2, 5},
                cls="small",
            )
        )
    else:
        html.append(f"<p>{_e(t('report.none', lang))}</p>")
    return "".join(html)


def _audit_html(report: YearReport, lang: str) -> str:
    """The appendix: the year's audit trail up to the run's start (time, user, action, target, short details)."""
    if not report.lineage.audit_events:
        return f"<p>{_e(t('report.none', lang))}</p>"
    return _table(
        [
            clock.zoned(t("report.col.uploaded_at", lang)),
            t("report.col.user", lang),
            t("report.col.event", lang),
            t("report.col.target", lang),
            t("report.col.details", lang),
        ],
        [
            [
                _e(_moment(a.occurred_at)),
                _e(a.username),
                _e(action_words(a.action, lang)),
                _e((a.target or "")[:120]),
                f'<span class="mono">{_e(_audit_details(a.details)[:300])}</span>',
            ]
            for a in report.lineage.audit_events
        ],
        set(),
        cls="small",
    )


def _audit_details(details: str | None) -> str:
    """An event's details as "key: value; key: value" (the log stores a JSON object); other text as it is."""
    try:
        parsed = json.loads(details or "")
    except ValueError:
        return details or ""
    if not isinstance(parsed, dict):
        return details or ""
    return "; ".join(
        f"{key}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in parsed.items()
    )


def _moment(value: datetime) -> str:
    """A stored moment (UTC) on the product's clock, to the second."""
    return clock.local_moment_text(value, "%Y-%m-%d %H:%M:%S")


def _repro_value(item: str, value: object, lang: str) -> str:
    """One value of the reproducibility table (already on the product's clock) as the PDF prints it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if item == "discount_rate" and isinstance(value, float):
        return format_percent(100 * value, lang)
    return str(value)


def _repro_html(report: YearReport, lang: str) -> str:
    """The XLSX's reproducibility table (one list of items for both), as text."""
    rows = [
        (label, _repro_value(str(item), value, lang)) for item, label, value in reproducibility_table(report, lang).rows
    ]
    table = _table(
        [t("report.col.item", lang), t("report.col.value", lang)],
        [[_e(str(k)), f'<span class="mono">{_e(v)}</span>' if len(v) > 40 else _e(v)] for k, v in rows],
    )
    run = report.reproducibility.run_id
    return table + f"<p>{_e(t('report.repro.how', lang, year=report.year, run=run))}</p>"


def _methodology_html(report: YearReport, lang: str) -> str:
    r = report.reproducibility
    paras = [t(f"report.method_text.{k}", lang) for k in ("p1", "did", "sc", "its", "grades")]
    paras.append(
        t(
            "report.method_text.economics",
            lang,
            horizon=r.horizon_years,
            rate=format_percent(100 * r.discount_rate, lang),
        )
    )
    paras.append(t("report.method_text.limits", lang))
    return "".join(f"<p>{_e(p)}</p>" for p in paras)


def build_html(report: YearReport, lang: str) -> str:
    """The report as one HTML document for WeasyPrint (exposed for tests and previews)."""
    f = _Fmt(lang)
    r = report.reproducibility
    title = t("report.title", lang, year=report.year)
    if r.frozen:
        status = t("report.status_frozen", lang, user=r.frozen_by or "", when=clock.stamp(r.frozen_at), run=r.run_id)
    else:
        status = t("report.status_draft", lang)
    sections = [
        ("summary", "report.section.summary", _summary_html(report, lang, f)),
        (
            "by-subsidiary",
            "report.section.by_subsidiary",
            _group_html(report.by_subsidiary, "report.col.subsidiary", lang, f),
        ),
        ("by-use-case", "report.section.by_use_case", _group_html(report.by_use_case, "report.col.use_case", lang, f)),
    ]
    tail = [
        ("methodology", "report.section.methodology", _methodology_html(report, lang)),
        ("lineage", "report.section.lineage", _lineage_html(report, lang)),
        ("reproducibility", "report.section.reproducibility", _repro_html(report, lang)),
        ("audit", "report.section.audit", _audit_html(report, lang)),
    ]
    toc = ['<nav class="toc"><h2>' + _e(t("report.toc", lang)) + "</h2><ul>"]
    for anchor, key, _ in sections:
        toc.append(f'<li><a href="#{anchor}">{_e(t(key, lang))}</a></li>')
    toc.append(f'<li><a href="#pilots">{_e(t("report.section.pilots", lang))}</a><ul>')
    toc.extend(
        f'<li><a href="#pilot-{_e(p.code)}">{_e(p.code)} — {_e(p.name.get(lang))}</a></li>' for p in report.pilots
    )
    toc.append("</ul></li>")
    for anchor, key, _ in tail:
        toc.append(f'<li><a href="#{anchor}">{_e(t(key, lang))}</a></li>')
    toc.append("</ul></nav>")

    body = [f"<h1>{_e(title)}</h1>", f"<p>{_e(t('report.subtitle', lang))}</p>"]
    if report.demo:
        body.append(f'<div class="banner">{_e(t("report.demo_banner", lang))}</div>')
    body.append(f'<div class="status">{_e(status)}</div>')
    body.append("".join(toc))
    for anchor, key, html in sections:
        body.append(f'<h2 class="section" id="{anchor}">{_e(t(key, lang))}</h2>{html}')
    body.append(f'<h2 class="section" id="pilots">{_e(t("report.section.pilots", lang))}</h2>')
    body.extend(_pilot_html(p, lang, f, report.reproducibility.run_id) for p in report.pilots)
    for anchor, key, html in tail:
        body.append(f'<h2 class="section" id="{anchor}">{_e(t(key, lang))}</h2>{html}')
    css = _CSS % {"page": t("report.page", lang).replace('"', "")}
    return (
        f'<!DOCTYPE html><html lang="{_e(lang)}"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{css}</style></head><body>{''.join(body)}</body></html>"
    )


def render_pdf(report: YearReport, lang: str, out: Path) -> None:
    """Write the report as an A4 PDF to `out`."""
    from weasyprint import HTML  # heavy import, only when a PDF is asked for

    HTML(string=build_html(report, lang)).write_pdf(str(out))
