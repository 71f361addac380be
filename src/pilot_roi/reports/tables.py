"""The report's sections as typed tables (columns with a kind, rows of raw values), shared by XLSX and CSV.

Values stay raw (floats, ints, dates, text); each renderer formats them by the column's kind. Moments (kind
"datetime") are stored in UTC and given here on the product's clock (`pilot_roi.clock`), the header saying which.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pilot_roi import clock
from pilot_roi.audit import action_words
from pilot_roi.economics import PERIODS_PER_YEAR
from pilot_roi.grading import describe_grade_reason
from pilot_roi.i18n import frequency_word, t
from pilot_roi.reports.model import (
    Amount,
    Diagnostic,
    GroupRow,
    MetricResult,
    PilotSection,
    SiteRef,
    SourceFile,
    TreatedSiteRow,
    YearReport,
)

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


Get = Callable[[Any, str], Cell]


@dataclass(frozen=True, slots=True)
class Field:
    """One column of a table spec and how to read its value from one row's source object.

    `header` is an i18n key, or a function of the language for headers that are not a plain key; `get` reads the
    value from the row's source (and the language); without it the value is the source's attribute named `id`.
    """

    id: str
    header: str | Callable[[str], str]
    kind: Kind
    get: Get | None = None

    def column(self, lang: str) -> Column:
        """The column in the report's language."""
        header = self.header(lang) if callable(self.header) else t(self.header, lang)
        return Column(self.id, clock.zoned(header) if self.kind == "datetime" else header, self.kind)

    def value(self, source: Any, lang: str) -> Cell:
        """This column's cell for one row's source object."""
        value = getattr(source, self.id) if self.get is None else self.get(source, lang)
        return clock.local(value) if self.kind == "datetime" and isinstance(value, datetime) else value


def spec_table(key: str, title_key: str, fields: Sequence[Field], sources: Iterable[Any], lang: str) -> Table:
    """A table from its spec: one column per field, one row per source object."""
    return Table(
        key,
        t(title_key, lang),
        tuple(f.column(lang) for f in fields),
        tuple(tuple(f.value(s, lang) for f in fields) for s in sources),
    )


def _literal(text: str) -> Callable[[str], str]:
    return lambda _lang: text


def _attr(name: str) -> Get:
    return lambda s, _lang: getattr(s, name)


def _name(attr: str) -> Get:
    """A `Name` attribute in the reader's language."""
    return lambda s, lang: getattr(s, attr).get(lang)


def _text(attr: str) -> Get:
    """An optional text attribute, '' when absent."""
    return lambda s, _lang: getattr(s, attr) or ""


def _words(attr: str) -> Get:
    """An optional reason code (or comma-joined codes) in the reader's language, '' when absent: the code
    column beside it stays for machines and for checking against the warehouse."""

    def get(s: Any, lang: str) -> Cell:
        code = getattr(s, attr)
        return describe_grade_reason(code, lang) if code else ""

    return get


def _part(attr: str, part: Literal["value", "ci_low", "ci_high"]) -> Get:
    """One part of an optional `Amount` attribute (None when the amount is absent)."""

    def get(s: Any, _lang: str) -> Cell:
        amount: Amount | None = getattr(s, attr)
        return None if amount is None else getattr(amount, part)

    return get


def _at(index: int, *fields: Field) -> tuple[Field, ...]:
    """The same fields read from element `index` of a tuple source (rows of nested sections)."""

    def moved(f: Field) -> Field:
        return Field(f.id, f.header, f.kind, lambda s, lang: f.value(s[index], lang))

    return tuple(moved(f) for f in fields)


def treated_sites_text(sites: Iterable[TreatedSiteRow]) -> str:
    """Treated sites with their go-lives in one cell, the same in every language: "S01 (2024-04-01); S02 (...)"."""
    return "; ".join(f"{s.site_code} ({s.go_live.isoformat()})" for s in sites)


def all_treated_staggered(diagnostics: Iterable[Diagnostic]) -> bool:
    """The estimate is a staggered DiD in which every site goes live (the not-yet-live ones are the comparison)."""
    return any(d.name == "method_choice.case" and d.value == "all_treated_staggered" for d in diagnostics)


def no_controls_key(metric: MetricResult) -> str | None:
    """The words (an i18n key) for what a metric estimated without control sites was compared with instead: an
    interrupted time series forecasts from the treated sites' own history; a staggered DiD whose every site goes live
    compares each with those not yet live. None when it has control sites, when its sites are not known (a snapshot
    frozen before they were kept) or when there is nothing more to say."""
    if metric.controls or not metric.treated_sites:
        return None
    if metric.method == "its":
        return "report.pilot.controls_none_own_history"
    if all_treated_staggered(metric.diagnostics):
        return "report.pilot.controls_none_staggered"
    return None


def controls_text(metric: MetricResult, lang: str) -> str:
    """The control sites the run estimated a metric with, by code ("S04; S05"), or in words what it was compared with
    when it used none (an interrupted time series: the treated sites' own history), never the sites it did not read."""
    if metric.controls:
        return "; ".join(s.site_code for s in metric.controls)
    key = no_controls_key(metric)
    return t(key, lang) if key else ""


def source_files_text(sources: Iterable[SourceFile]) -> str:
    """The uploads behind an estimate in one cell, the same in every language: "4: kmg_2024.csv; 7: kmg_2025.csv"
    (upload number, then file; the lineage sheet gives each one's SHA-256 and rows)."""
    return "; ".join(f"{s.upload_id}: {s.file_name}" for s in sources)


def _grade(s: Any, lang: str) -> Cell:
    return grade_label(s.grade, lang)


def _method(s: Any, lang: str) -> Cell:
    return method_label(s.method, lang)


def _use_case(s: Any, lang: str) -> Cell:
    return t(f"report.use_case.{s.use_case}", lang)


_PILOT_CODE = Field("pilot_code", "report.col.pilot_code", "text", _attr("code"))
_METRIC_CODE = Field("metric_code", "report.col.metric_code", "text")
_PILOT_HEAD = (
    _PILOT_CODE,
    Field("pilot_name", "report.col.pilot_name", "text", _name("name")),
    Field("subsidiary", "report.col.subsidiary", "text", _name("subsidiary_name")),
    Field("use_case", "report.col.use_case", "text", _use_case),
)
_DEMONSTRATED = (
    Field(
        "demonstrated_annual_gain", "report.col.demonstrated_gain", "money", _part("demonstrated_annual_gain", "value")
    ),
    Field(
        "demonstrated_annual_gain_ci_low",
        "report.col.annual_gain_ci_low",
        "money",
        _part("demonstrated_annual_gain", "ci_low"),
    ),
    Field(
        "demonstrated_annual_gain_ci_high",
        "report.col.annual_gain_ci_high",
        "money",
        _part("demonstrated_annual_gain", "ci_high"),
    ),
)
_REALIZED_YEAR = Field("realized_gain_year", "report.col.realized_year", "money")
_CAPEX = Field("capex", "report.col.capex", "money")
_OPEX = Field("opex_per_year", "report.col.opex", "money")
_NPV = Field("npv", "report.col.npv", "money")
_ROI = Field("roi", "report.col.roi", "ratio")
_PAYBACK = Field("payback_months", "report.col.payback", "number")
_STATUS = Field("status", "report.col.status", "text")
_REASON = Field("reason", "report.col.reason", "text", _text("reason"))
_REASON_WORDS = Field("reason_text", "report.col.reason_text", "text", _words("reason"))
_METHOD = Field("method", "report.col.method", "text", _method)
_EFFECT = Field("effect", "report.col.effect", "number")
_SE = Field("se", "report.col.se", "number")
_EFFECT_PCT = Field("effect_pct", "report.col.effect_pct", "pct")
_CI_LOW = Field("ci_low", "report.col.ci_low", "number")
_CI_HIGH = Field("ci_high", "report.col.ci_high", "number")
_P_VALUE = Field("p_value", "report.col.p_value", "p")
_N_TREATED = Field("n_treated", "report.col.n_treated", "int")
_UPLOAD_ID = Field("upload_id", "report.col.upload_id", "int")
_FILE_NAME = Field("file_name", "report.col.file", "text")

_GROUP_TAIL = (
    Field("n_pilots", "report.col.pilots", "int"),
    Field("n_demonstrated", "report.col.n_demonstrated", "int"),
    Field("n_adverse", "report.col.n_adverse", "int"),
    *_DEMONSTRATED,
    _REALIZED_YEAR,
    _CAPEX,
    _OPEX,
    _NPV,
    _ROI,
)
PILOT_FIELDS = (
    *_PILOT_HEAD,
    Field("grade", "report.col.grade", "text", _grade),
    Field("n_treated", "report.col.n_treated", "int", lambda p, _lang: len(p.treated_sites)),
    Field("first_go_live", "report.col.go_live", "date", lambda p, _lang: min(s.go_live for s in p.treated_sites)),
    _CAPEX,
    _OPEX,
    *_DEMONSTRATED,
    _REALIZED_YEAR,
    _NPV,
    _ROI,
    _PAYBACK,
)
_METRIC_FIELDS = (
    _METRIC_CODE,
    Field("metric_name", "report.col.metric", "text", _name("metric_name")),
    Field("unit", "report.col.unit", "text"),
    _STATUS,
    _REASON,
    _REASON_WORDS,
    _METHOD,
    Field("grade", "report.col.grade", "text", _grade),
    Field("grade_reason", "report.col.grade_reason", "text", _text("grade_reason")),
    Field("grade_reason_text", "report.col.grade_reason_text", "text", _words("grade_reason")),
    _EFFECT,
    _SE,
    _EFFECT_PCT,
    _CI_LOW,
    _CI_HIGH,
    _P_VALUE,
    Field("q_value", "report.col.q_value", "p"),
    Field("pre_trend_p", "report.col.pre_trend_p", "p"),
    _N_TREATED,
    Field("n_controls", "report.col.n_controls", "int"),
    Field("n_pre_periods", "report.col.n_pre", "int"),
    Field("n_post_periods", "report.col.n_post", "int"),
    Field("annual_gain_kzt", "report.col.annual_gain", "money", _part("annual_gain", "value")),
    Field("annual_gain_ci_low", "report.col.annual_gain_ci_low", "money", _part("annual_gain", "ci_low")),
    Field("annual_gain_ci_high", "report.col.annual_gain_ci_high", "money", _part("annual_gain", "ci_high")),
    Field("npv_kzt", "report.col.npv", "money", _part("npv", "value")),
    Field("npv_ci_low", "report.col.npv_ci_low", "money", _part("npv", "ci_low")),
    Field("npv_ci_high", "report.col.npv_ci_high", "money", _part("npv", "ci_high")),
    _ROI,
    _PAYBACK,
    Field("realized_gain_to_date", "report.col.realized_to_date", "money"),
    _REALIZED_YEAR,
    Field("treated_sites", "report.col.treated_sites", "text", lambda m, _lang: treated_sites_text(m.treated_sites)),
    Field("control_sites", "report.col.control_sites", "text", controls_text),
    # the terms of the annual gain (PRODUCT.md: effect × value per unit × periods per year × treated sites), last so
    # that the columns before keep their places
    Field("frequency", "report.col.frequency", "text", lambda m, lang: frequency_word(m.frequency, lang)),
    Field("value_kzt_per_unit", "report.col.value_kzt", "money"),
    Field(
        "periods_per_year", "report.col.periods_per_year", "number", lambda m, _lang: PERIODS_PER_YEAR.get(m.frequency)
    ),
    # the last term: +1 when a rise of the metric is the gain, -1 when a fall is (a reader cannot tell the sign of a
    # gain from the effect without it)
    Field("gain_sign", "report.col.gain_sign", "int", lambda m, _lang: 1 if m.higher_is_better else -1),
)
ESTIMATE_FIELDS = (
    *_at(0, *_PILOT_HEAD),
    *_at(1, *_METRIC_FIELDS),
    # the costs each metric's NPV, ROI and payback are priced with (the whole pilot's, as the run recorded them), so
    # that the CSV alone recomputes them with the discount rate and horizon of its last columns
    *_at(0, _CAPEX, _OPEX),
    # the uploads the estimate rests on (the lineage sheet has their SHA-256 and the sources sheet their rows)
    Field("source_files", "report.col.source_files", "text", lambda pm, _lang: source_files_text(pm[1].sources)),
)
"""Columns of the per pilot-metric table; a row's source is a (pilot, metric) pair."""


def summary_table(report: YearReport, lang: str) -> Table:
    """Executive summary as label / value / 95% CI rows (values in their natural units)."""
    s = report.summary
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
            Column("label", t("report.col.item", lang), "text"),
            Column("value", t("report.col.value", lang), "number"),
            _CI_LOW.column(lang),
            _CI_HIGH.column(lang),
        ),
        tuple(rows),
    )


def group_table(key: str, title_key: str, name_key: str, groups: tuple[GroupRow, ...], lang: str) -> Table:
    """By-subsidiary or by-use-case table."""
    fields = (
        Field("code", _literal("code"), "text", _attr("key")),
        Field("name", name_key, "text", _name("name")),
        *_GROUP_TAIL,
    )
    return spec_table(key, title_key, fields, groups, lang)


def pilots_table(report: YearReport, lang: str) -> Table:
    """One row per pilot: design summary and the pilot's own economics (demonstrated gains only)."""
    return spec_table("pilots", "report.section.pilots", PILOT_FIELDS, report.pilots, lang)


def estimates_table(report: YearReport, lang: str) -> Table:
    """The per pilot-metric table (the CSV export): every estimate with its economics."""
    sources = ((p, m) for p in report.pilots for m in p.metrics)
    return spec_table("estimates", "report.section.estimates", ESTIMATE_FIELDS, sources, lang)


@dataclass(frozen=True, slots=True)
class _DesignRow:
    """One row of the design table: a site of a pilot in one role and the metrics whose estimate used it there, or
    (`site` None) the words for the metrics estimated without control sites (`no_controls_key`)."""

    pilot: PilotSection
    role: Literal["treated", "controls"]
    site: TreatedSiteRow | SiteRef | None
    metrics: tuple[str, ...]
    words_key: str | None = None


def _site_name(row: _DesignRow, lang: str) -> Cell:
    if row.site is None:
        return t(row.words_key, lang) if row.words_key else None
    return row.site.site_name.get(lang)


_DESIGN_FIELDS = (
    Field("pilot_code", "report.col.pilot_code", "text", lambda r, _lang: r.pilot.code),
    Field("role", "report.pilot.design", "text", lambda r, lang: t(f"report.pilot.{r.role}", lang)),
    Field("site_code", "report.col.site", "text", lambda r, _lang: r.site.site_code if r.site else None),
    Field("site_name", "report.col.site_name", "text", _site_name),
    Field("go_live", "report.col.go_live", "date", lambda r, _lang: getattr(r.site, "go_live", None)),
    Field(
        "sites_recorded",
        "report.col.sites_recorded",
        "text",
        lambda r, lang: t("report.yes" if r.pilot.sites_recorded else "report.no", lang),
    ),
    # last, so that the columns before keep their places
    Field("metrics", "report.pilot.metrics", "text", lambda r, _lang: "; ".join(r.metrics)),
)


def _design_rows(p: PilotSection) -> list[_DesignRow]:
    """A pilot's treated sites, its control sites, then one row per kind of comparison without control sites, each
    with the metrics it served: a pilot lists the sites of every metric, and a metric only those its estimate used."""

    def metrics_with(site_code: str, role: str) -> tuple[str, ...]:
        return tuple(
            m.metric_code
            for m in p.metrics
            if any(s.site_code == site_code for s in (m.treated_sites if role == "treated" else m.controls))
        )

    rows = [_DesignRow(p, "treated", s, metrics_with(s.site_code, "treated")) for s in p.treated_sites]
    rows += [_DesignRow(p, "controls", s, metrics_with(s.site_code, "controls")) for s in p.controls]
    without: dict[str, list[str]] = {}
    for m in p.metrics:
        key = no_controls_key(m)
        if key is not None:
            without.setdefault(key, []).append(m.metric_code)
    rows += [_DesignRow(p, "controls", None, tuple(codes), key) for key, codes in without.items()]
    return rows


def design_table(report: YearReport, lang: str) -> Table:
    """Every pilot's treated and control sites (with go-lives) as the run used them, the metrics each served, and
    whether the run recorded them (if not, they are the registry's as the report was assembled); a metric estimated
    without control sites (an interrupted time series) says so in words, with no site."""
    sources = [row for p in report.pilots for row in _design_rows(p)]
    return spec_table("design", "report.pilot.design", _DESIGN_FIELDS, sources, lang)


def _yes_no(attr: str) -> Get:
    return lambda s, lang: t("report.yes" if getattr(s, attr) else "report.no", lang)


_ROBUSTNESS_FIELDS = (
    *_at(0, _PILOT_CODE),
    *_at(1, _METRIC_CODE),
    *_at(
        2,
        _METHOD,
        Field("is_primary", "report.col.primary", "text", _yes_no("is_primary")),
        _STATUS,
        _REASON,
        _REASON_WORDS,
        _EFFECT,
        _SE,
        _CI_LOW,
        _CI_HIGH,
        _P_VALUE,
        _EFFECT_PCT,
    ),
)


def robustness_table(report: YearReport, lang: str) -> Table:
    """Every method's result per pilot-metric."""
    sources = ((p, m, r) for p in report.pilots for m in p.metrics for r in m.robustness)
    return spec_table("robustness", "report.section.robustness", _ROBUSTNESS_FIELDS, sources, lang)


_DIAGNOSTIC_FIELDS = (
    *_at(0, _PILOT_CODE),
    *_at(1, _METRIC_CODE),
    *_at(
        2,
        Field("diagnostic", "report.col.diagnostic", "text", _attr("name")),
        Field("value", "report.col.value", "text"),
    ),
)


def diagnostics_table(report: YearReport, lang: str) -> Table:
    """Every diagnostic the estimator recorded, per pilot-metric, as stored (the PDF says the ones that matter in
    words; this is the full record a reviewer traces them to)."""
    sources = ((p, m, d) for p in report.pilots for m in p.metrics for d in m.diagnostics)
    return spec_table("diagnostics", "report.section.diagnostics", _DIAGNOSTIC_FIELDS, sources, lang)


_SERIES_FIELDS = (
    *_at(0, _PILOT_CODE),
    *_at(1, _METRIC_CODE),
    *_at(
        2,
        Field("period", "report.col.period", "date"),
        Field("observed", "report.col.observed", "number"),
        Field("counterfactual", "report.col.counterfactual", "number"),
        _CI_LOW,
        _CI_HIGH,
    ),
)


def series_table(report: YearReport, lang: str) -> Table:
    """Observed vs counterfactual per pilot, metric and period (mean per treated site)."""
    sources = ((p, m, s) for p in report.pilots for m in p.metrics for s in m.series)
    return spec_table("series", "report.section.series", _SERIES_FIELDS, sources, lang)


_EVENT_STUDY_FIELDS = (
    *_at(0, _PILOT_CODE),
    *_at(1, _METRIC_CODE),
    *_at(
        2,
        Field("event_time", "report.col.event_time", "int"),
        Field("att", "report.col.effect", "number"),
        _CI_LOW,
        _CI_HIGH,
    ),
)


def event_study_table(report: YearReport, lang: str) -> Table:
    """Event-study coefficients per pilot-metric (periods relative to go-live)."""
    sources = ((p, m, e) for p in report.pilots for m in p.metrics for e in m.event_study)
    return spec_table("event_study", "report.section.event_study", _EVENT_STUDY_FIELDS, sources, lang)


_UPLOAD_FIELDS = (
    _UPLOAD_ID,
    _FILE_NAME,
    Field("sha256", "report.col.sha256", "text"),
    Field("size_bytes", "report.col.size", "int"),
    Field("uploaded_by", "report.col.uploaded_by", "text"),
    Field("uploaded_at", "report.col.uploaded_at", "datetime"),
    _STATUS,
    Field("rows_read", "report.col.rows_read", "int"),
    Field("rows_inserted", "report.col.rows_inserted", "int"),
    Field("rows_updated", "report.col.rows_updated", "int"),
    Field("rows_current", "report.col.rows_current", "int"),
)


def uploads_table(report: YearReport, lang: str) -> Table:
    """Every upload behind the numbers: file, SHA-256, who, when, rows."""
    return spec_table("lineage", "report.section.lineage", _UPLOAD_FIELDS, report.lineage.uploads, lang)


_SOURCE_FIELDS = (
    *_at(0, _PILOT_CODE),
    *_at(1, _METRIC_CODE),
    *_at(
        2,
        _UPLOAD_ID,
        _FILE_NAME,
        Field("sha256", "report.col.sha256", "text"),
        Field("n_values", "report.col.n_values", "int"),
    ),
)


def sources_table(report: YearReport, lang: str) -> Table:
    """Which uploads each pilot-metric estimate rests on, and how many of their values (at its treated and control
    sites, in force when the run started): a figure traced to its files."""
    sources = ((p, m, f) for p in report.pilots for m in p.metrics for f in m.sources)
    return spec_table("sources", "report.section.sources", _SOURCE_FIELDS, sources, lang)


_RESTATEMENT_FIELDS = (
    _UPLOAD_ID,
    _FILE_NAME,
    Field("superseded_by_upload_id", "report.col.superseded_by", "int"),
    Field("superseded_by_file", "report.col.superseded_by_file", "text"),
    Field("restated_at", "report.col.restated_at", "datetime"),
    Field("n_values", "report.col.n_values", "int"),
)


def restatements_table(report: YearReport, lang: str) -> Table:
    """Restatements before the run: which upload's values another replaced, how many, when."""
    return spec_table(
        "restatements", "report.section.restatements", _RESTATEMENT_FIELDS, report.lineage.restatements, lang
    )


_AUDIT_FIELDS = (
    Field("event_id", _literal("#"), "int"),
    Field("occurred_at", "report.col.uploaded_at", "datetime"),
    Field("username", "report.col.user", "text"),
    Field("action", "report.col.event", "text"),
    Field("action_text", "report.col.event_text", "text", lambda a, lang: action_words(a.action, lang)),
    Field("target", "report.col.target", "text", _text("target")),
    Field("details", "report.col.details", "text", _text("details")),
)


def audit_table(report: YearReport, lang: str) -> Table:
    """Audit-log events about data before the run."""
    return spec_table("audit", "report.section.audit", _AUDIT_FIELDS, report.lineage.audit_events, lang)


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
    rows = tuple(
        (item, clock.zoned(t(key, lang)), clock.local(value))
        if isinstance(value, datetime)
        else (item, t(key, lang), value)
        for item, key, value in items
    )
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
        diagnostics_table(report, lang),
        series_table(report, lang),
        event_study_table(report, lang),
        uploads_table(report, lang),
        sources_table(report, lang),
        restatements_table(report, lang),
        audit_table(report, lang),
        reproducibility_table(report, lang),
    )
