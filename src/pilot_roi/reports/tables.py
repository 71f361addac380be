"""The report's sections as typed tables (columns with a kind, rows of raw values), shared by XLSX and CSV.

Values stay raw (floats, ints, dates, text); each renderer formats them by the column's kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pilot_roi.i18n import t
from pilot_roi.reports.model import Amount, GroupRow, YearReport

Kind = Literal["text", "money", "number", "pct", "ratio", "p", "int", "date", "datetime"]
Cell = str | float | int | date | datetime | None


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its stable id (for machines), its header in the report's language, and its kind."""

    id: str
    header: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class Table:
    """One section as a table: `key` names it (sheet), `title` is what a reader sees."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


def _c(lang: str) -> Callable[[str, str, Kind], Column]:
    def make(col_id: str, key: str, kind: Kind) -> Column:
        return Column(col_id, t(key, lang), kind)

    return make


def grade_label(grade: str, lang: str) -> str:
    """The evidence grade in the reader's language."""
    return t(f"report.grade.{grade}", lang)


def method_label(method: str | None, lang: str) -> str:
    """An estimation method's name in the reader's language ('' when there is none)."""
    if not method:
        return ""
    key = f"report.method.{method}"
    text = t(key, lang)
    return method if text == key else text


def _lo(a: Amount | None) -> float | None:
    return None if a is None else a.ci_low


def _hi(a: Amount | None) -> float | None:
    return None if a is None else a.ci_high


def _v(a: Amount | None) -> float | None:
    return None if a is None else a.value


def summary_table(report: YearReport, lang: str) -> Table:
    """Executive summary as label / value / 95% CI rows (values in their natural units)."""
    s = report.summary
    c = _c(lang)
    rows: list[tuple[Cell, ...]] = [
        (
            "demonstrated_annual_gain",
            t("report.kpi.demonstrated_gain", lang),
            s.demonstrated_annual_gain.value,
            s.demonstrated_annual_gain.ci_low,
            s.demonstrated_annual_gain.ci_high,
        ),
        ("realized_gain_year", t("report.kpi.realized_year", lang, year=report.year), s.realized_gain_year, None, None),
        ("investment_capex", t("report.kpi.investment", lang), s.investment_capex, None, None),
        ("investment_opex_per_year", t("report.kpi.opex", lang), s.investment_opex_per_year, None, None),
        (
            "portfolio_npv",
            t("report.kpi.npv", lang),
            s.portfolio_npv.value,
            s.portfolio_npv.ci_low,
            s.portfolio_npv.ci_high,
        ),
        ("portfolio_roi", t("report.kpi.roi", lang), s.portfolio_roi, None, None),
        ("n_pilots", t("report.col.pilots", lang), s.n_pilots, None, None),
        ("n_estimates", t("report.col.estimates", lang), s.n_estimates, None, None),
    ]
    for g in s.by_grade:
        rows.append(
            (f"pilots_{g.grade}", f"{t('report.col.pilots', lang)}: {grade_label(g.grade, lang)}", g.pilots, None, None)
        )
    return Table(
        "summary",
        t("report.section.summary", lang),
        (
            Column("item", "id", "text"),
            c("label", "report.col.item", "text"),
            c("value", "report.col.value", "number"),
            c("ci_low", "report.col.ci_low", "number"),
            c("ci_high", "report.col.ci_high", "number"),
        ),
        tuple(rows),
    )


def group_table(key: str, title_key: str, name_key: str, groups: tuple[GroupRow, ...], lang: str) -> Table:
    """By-subsidiary or by-use-case table."""
    c = _c(lang)
    columns = (
        Column("code", "code", "text"),
        c("name", name_key, "text"),
        c("n_pilots", "report.col.pilots", "int"),
        c("n_demonstrated", "report.col.n_demonstrated", "int"),
        c("n_adverse", "report.col.n_adverse", "int"),
        c("demonstrated_annual_gain", "report.col.demonstrated_gain", "money"),
        c("demonstrated_annual_gain_ci_low", "report.col.annual_gain_ci_low", "money"),
        c("demonstrated_annual_gain_ci_high", "report.col.annual_gain_ci_high", "money"),
        c("realized_gain_year", "report.col.realized_year", "money"),
        c("capex", "report.col.capex", "money"),
        c("opex_per_year", "report.col.opex", "money"),
        c("npv", "report.col.npv", "money"),
        c("roi", "report.col.roi", "ratio"),
    )
    rows = tuple(
        (
            g.key,
            g.name.get(lang),
            g.n_pilots,
            g.n_demonstrated,
            g.n_adverse,
            g.demonstrated_annual_gain.value,
            g.demonstrated_annual_gain.ci_low,
            g.demonstrated_annual_gain.ci_high,
            g.realized_gain_year,
            g.capex,
            g.opex_per_year,
            g.npv,
            g.roi,
        )
        for g in groups
    )
    return Table(key, t(title_key, lang), columns, rows)


def pilots_table(report: YearReport, lang: str) -> Table:
    """One row per pilot: design summary and the pilot's own economics (demonstrated gains only)."""
    c = _c(lang)
    columns = (
        c("pilot_code", "report.col.pilot_code", "text"),
        c("pilot_name", "report.col.pilot_name", "text"),
        c("subsidiary", "report.col.subsidiary", "text"),
        c("use_case", "report.col.use_case", "text"),
        c("grade", "report.col.grade", "text"),
        c("n_treated", "report.col.n_treated", "int"),
        c("first_go_live", "report.col.go_live", "date"),
        c("capex", "report.col.capex", "money"),
        c("opex_per_year", "report.col.opex", "money"),
        c("demonstrated_annual_gain", "report.col.demonstrated_gain", "money"),
        c("demonstrated_annual_gain_ci_low", "report.col.annual_gain_ci_low", "money"),
        c("demonstrated_annual_gain_ci_high", "report.col.annual_gain_ci_high", "money"),
        c("realized_gain_year", "report.col.realized_year", "money"),
        c("npv", "report.col.npv", "money"),
        c("roi", "report.col.roi", "ratio"),
        c("payback_months", "report.col.payback", "number"),
    )
    rows = tuple(
        (
            p.code,
            p.name.get(lang),
            p.subsidiary_name.get(lang),
            t(f"report.use_case.{p.use_case}", lang),
            grade_label(p.grade, lang),
            len(p.treated_sites),
            min(s.go_live for s in p.treated_sites),
            p.capex,
            p.opex_per_year,
            p.demonstrated_annual_gain.value,
            p.demonstrated_annual_gain.ci_low,
            p.demonstrated_annual_gain.ci_high,
            p.realized_gain_year,
            p.npv,
            p.roi,
            p.payback_months,
        )
        for p in report.pilots
    )
    return Table("pilots", t("report.section.pilots", lang), columns, rows)


def estimates_table(report: YearReport, lang: str) -> Table:
    """The per pilot-metric table (the CSV export): every estimate with its economics."""
    c = _c(lang)
    columns = (
        c("pilot_code", "report.col.pilot_code", "text"),
        c("pilot_name", "report.col.pilot_name", "text"),
        c("subsidiary", "report.col.subsidiary", "text"),
        c("use_case", "report.col.use_case", "text"),
        c("metric_code", "report.col.metric_code", "text"),
        c("metric_name", "report.col.metric", "text"),
        c("unit", "report.col.unit", "text"),
        c("status", "report.col.status", "text"),
        c("reason", "report.col.reason", "text"),
        c("method", "report.col.method", "text"),
        c("grade", "report.col.grade", "text"),
        c("grade_reason", "report.col.grade_reason", "text"),
        c("effect", "report.col.effect", "number"),
        c("se", "report.col.se", "number"),
        c("effect_pct", "report.col.effect_pct", "pct"),
        c("ci_low", "report.col.ci_low", "number"),
        c("ci_high", "report.col.ci_high", "number"),
        c("p_value", "report.col.p_value", "p"),
        c("q_value", "report.col.q_value", "p"),
        c("pre_trend_p", "report.col.pre_trend_p", "p"),
        c("n_treated", "report.col.n_treated", "int"),
        c("n_controls", "report.col.n_controls", "int"),
        c("n_pre_periods", "report.col.n_pre", "int"),
        c("n_post_periods", "report.col.n_post", "int"),
        c("annual_gain_kzt", "report.col.annual_gain", "money"),
        c("annual_gain_ci_low", "report.col.annual_gain_ci_low", "money"),
        c("annual_gain_ci_high", "report.col.annual_gain_ci_high", "money"),
        c("npv_kzt", "report.col.npv", "money"),
        c("npv_ci_low", "report.col.npv_ci_low", "money"),
        c("npv_ci_high", "report.col.npv_ci_high", "money"),
        c("roi", "report.col.roi", "ratio"),
        c("payback_months", "report.col.payback", "number"),
        c("realized_gain_to_date", "report.col.realized_to_date", "money"),
        c("realized_gain_year", "report.col.realized_year", "money"),
    )
    rows = []
    for p in report.pilots:
        for m in p.metrics:
            rows.append(
                (
                    p.code,
                    p.name.get(lang),
                    p.subsidiary_name.get(lang),
                    t(f"report.use_case.{p.use_case}", lang),
                    m.metric_code,
                    m.metric_name.get(lang),
                    m.unit,
                    m.status,
                    m.reason or "",
                    method_label(m.method, lang),
                    grade_label(m.grade, lang),
                    m.grade_reason or "",
                    m.effect,
                    m.se,
                    m.effect_pct,
                    m.ci_low,
                    m.ci_high,
                    m.p_value,
                    m.q_value,
                    m.pre_trend_p,
                    m.n_treated,
                    m.n_controls,
                    m.n_pre_periods,
                    m.n_post_periods,
                    _v(m.annual_gain),
                    _lo(m.annual_gain),
                    _hi(m.annual_gain),
                    _v(m.npv),
                    _lo(m.npv),
                    _hi(m.npv),
                    m.roi,
                    m.payback_months,
                    m.realized_gain_to_date,
                    m.realized_gain_year,
                )
            )
    return Table("estimates", t("report.section.estimates", lang), columns, tuple(rows))


def design_table(report: YearReport, lang: str) -> Table:
    """Every pilot's treated and control sites (with go-lives) and metrics."""
    c = _c(lang)
    columns = (
        c("pilot_code", "report.col.pilot_code", "text"),
        Column("role", t("report.pilot.design", lang), "text"),
        c("site_code", "report.col.site", "text"),
        Column("site_name", t("report.col.site", lang) + " (" + t("report.col.item", lang).lower() + ")", "text"),
        c("go_live", "report.col.go_live", "date"),
    )
    rows: list[tuple[Cell, ...]] = []
    treated, controls = t("report.pilot.treated", lang), t("report.pilot.controls", lang)
    for p in report.pilots:
        rows.extend((p.code, treated, s.site_code, s.site_name.get(lang), s.go_live) for s in p.treated_sites)
        rows.extend((p.code, controls, s.site_code, s.site_name.get(lang), None) for s in p.controls)
    return Table("design", t("report.pilot.design", lang), columns, tuple(rows))


def robustness_table(report: YearReport, lang: str) -> Table:
    """Every method's result per pilot-metric."""
    c = _c(lang)
    columns = (
        c("pilot_code", "report.col.pilot_code", "text"),
        c("metric_code", "report.col.metric_code", "text"),
        c("method", "report.col.method", "text"),
        c("is_primary", "report.col.primary", "text"),
        c("status", "report.col.status", "text"),
        c("reason", "report.col.reason", "text"),
        c("effect", "report.col.effect", "number"),
        c("se", "report.col.se", "number"),
        c("ci_low", "report.col.ci_low", "number"),
        c("ci_high", "report.col.ci_high", "number"),
        c("p_value", "report.col.p_value", "p"),
        c("effect_pct", "report.col.effect_pct", "pct"),
    )
    yes, no = t("report.yes", lang), t("report.no", lang)
    rows = tuple(
        (
            p.code,
            m.metric_code,
            method_label(r.method, lang),
            yes if r.is_primary else no,
            r.status,
            r.reason or "",
            r.effect,
            r.se,
            r.ci_low,
            r.ci_high,
            r.p_value,
            r.effect_pct,
        )
        for p in report.pilots
        for m in p.metrics
        for r in m.robustness
    )
    return Table("robustness", t("report.section.robustness", lang), columns, rows)


def series_table(report: YearReport, lang: str) -> Table:
    """Observed vs counterfactual per pilot, metric and period (mean per treated site)."""
    c = _c(lang)
    columns = (
        c("pilot_code", "report.col.pilot_code", "text"),
        c("metric_code", "report.col.metric_code", "text"),
        c("period", "report.col.period", "date"),
        c("observed", "report.col.observed", "number"),
        c("counterfactual", "report.col.counterfactual", "number"),
        c("ci_low", "report.col.ci_low", "number"),
        c("ci_high", "report.col.ci_high", "number"),
    )
    rows = tuple(
        (p.code, m.metric_code, s.period, s.observed, s.counterfactual, s.ci_low, s.ci_high)
        for p in report.pilots
        for m in p.metrics
        for s in m.series
    )
    return Table("series", t("report.section.series", lang), columns, rows)


def event_study_table(report: YearReport, lang: str) -> Table:
    """Event-study coefficients per pilot-metric (periods relative to go-live)."""
    c = _c(lang)
    columns = (
        c("pilot_code", "report.col.pilot_code", "text"),
        c("metric_code", "report.col.metric_code", "text"),
        c("event_time", "report.col.event_time", "int"),
        c("att", "report.col.effect", "number"),
        c("ci_low", "report.col.ci_low", "number"),
        c("ci_high", "report.col.ci_high", "number"),
    )
    rows = tuple(
        (p.code, m.metric_code, e.event_time, e.att, e.ci_low, e.ci_high)
        for p in report.pilots
        for m in p.metrics
        for e in m.event_study
    )
    return Table("event_study", t("report.section.event_study", lang), columns, rows)


def uploads_table(report: YearReport, lang: str) -> Table:
    """Every upload behind the numbers: file, SHA-256, who, when, rows."""
    c = _c(lang)
    columns = (
        c("upload_id", "report.col.upload_id", "int"),
        c("file_name", "report.col.file", "text"),
        c("sha256", "report.col.sha256", "text"),
        c("size_bytes", "report.col.size", "int"),
        c("uploaded_by", "report.col.uploaded_by", "text"),
        c("uploaded_at", "report.col.uploaded_at", "datetime"),
        c("status", "report.col.status", "text"),
        c("rows_read", "report.col.rows_read", "int"),
        c("rows_inserted", "report.col.rows_inserted", "int"),
        c("rows_updated", "report.col.rows_updated", "int"),
        c("rows_current", "report.col.rows_current", "int"),
    )
    rows = tuple(
        (
            u.upload_id,
            u.file_name,
            u.sha256,
            u.size_bytes,
            u.uploaded_by,
            u.uploaded_at,
            u.status,
            u.rows_read,
            u.rows_inserted,
            u.rows_updated,
            u.rows_current,
        )
        for u in report.lineage.uploads
    )
    return Table("lineage", t("report.section.lineage", lang), columns, rows)


def restatements_table(report: YearReport, lang: str) -> Table:
    """Restatements before the run: which upload's values another replaced, how many, when."""
    c = _c(lang)
    columns = (
        c("upload_id", "report.col.upload_id", "int"),
        c("file_name", "report.col.file", "text"),
        c("superseded_by_upload_id", "report.col.superseded_by", "int"),
        c("superseded_by_file", "report.col.superseded_by_file", "text"),
        c("restated_at", "report.col.restated_at", "datetime"),
        c("n_values", "report.col.n_values", "int"),
    )
    rows = tuple(
        (r.upload_id, r.file_name, r.superseded_by_upload_id, r.superseded_by_file, r.restated_at, r.n_values)
        for r in report.lineage.restatements
    )
    return Table("restatements", t("report.section.restatements", lang), columns, rows)


def audit_table(report: YearReport, lang: str) -> Table:
    """Audit-log events about data before the run."""
    c = _c(lang)
    columns = (
        Column("event_id", "#", "int"),
        c("occurred_at", "report.col.uploaded_at", "datetime"),
        c("username", "report.col.user", "text"),
        c("action", "report.col.event", "text"),
        c("target", "report.col.target", "text"),
        c("details", "report.col.details", "text"),
    )
    rows = tuple(
        (a.event_id, a.occurred_at, a.username, a.action, a.target or "", a.details or "")
        for a in report.lineage.audit_events
    )
    return Table("audit", t("report.section.audit", lang), columns, rows)


def reproducibility_table(report: YearReport, lang: str) -> Table:
    """Run, versions, parameters and the freeze, as item / value rows."""
    r = report.reproducibility
    yes, no = t("report.yes", lang), t("report.no", lang)
    items: list[tuple[str, str, Any]] = [
        ("run_id", "report.repro.run_id", r.run_id),
        ("run_started_at", "report.repro.run_started", r.run_started_at),
        ("run_finished_at", "report.repro.run_finished", r.run_finished_at),
        ("run_started_by", "report.repro.started_by", r.run_started_by),
        ("data_version", "report.repro.data_version", r.data_version),
        ("code_version", "report.repro.code_version", r.code_version),
        ("report_code_version", "report.repro.report_code_version", r.report_code_version),
        ("parameters", "report.repro.parameters", r.parameters),
        ("discount_rate", "report.repro.discount_rate", r.discount_rate),
        ("horizon_years", "report.repro.horizon", r.horizon_years),
        ("frozen", "report.repro.frozen", yes if r.frozen else no),
        ("frozen_by", "report.repro.frozen_by", r.frozen_by or ""),
        ("frozen_at", "report.repro.frozen_at", r.frozen_at),
        ("assembled_at", "report.repro.assembled_at", r.assembled_at),
        ("demo", "report.repro.demo", yes if report.demo else no),
    ]
    rows = tuple((item, t(key, lang), value) for item, key, value in items)
    return Table(
        "reproducibility",
        t("report.section.reproducibility", lang),
        (
            Column("item", "id", "text"),
            Column("label", t("report.col.item", lang), "text"),
            Column("value", t("report.col.value", lang), "text"),
        ),
        rows,
    )


def all_tables(report: YearReport, lang: str) -> tuple[Table, ...]:
    """Every section as a table, in the report's order."""
    return (
        summary_table(report, lang),
        group_table(
            "by_subsidiary", "report.section.by_subsidiary", "report.col.subsidiary", report.by_subsidiary, lang
        ),
        group_table("by_use_case", "report.section.by_use_case", "report.col.use_case", report.by_use_case, lang),
        pilots_table(report, lang),
        design_table(report, lang),
        estimates_table(report, lang),
        robustness_table(report, lang),
        series_table(report, lang),
        event_study_table(report, lang),
        uploads_table(report, lang),
        restatements_table(report, lang),
        audit_table(report, lang),
        reproducibility_table(report, lang),
    )
