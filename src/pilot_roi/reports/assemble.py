"""Assemble the year's numbers from one estimate run, once, into a `YearReport`; renderers only print it.

The flow: choose the run (`--run`, else the latest finished run) -> read the run's rows and the registry in
a few bulk queries (pipelines/reports/*.sql) -> pure functions turn rows into sections and totals.

Conventions (also stated in the report's methodology section):
- a pilot is in the year's report when its first go-live is on or before 31 December of the year;
- the sites are the run's own: each pilot-metric's treated sites with their go-lives and its control sites as the run
  recorded them (estimate_results, migration 0010: the controls its estimate used, none for an interrupted time
  series, and the treated sites it estimated, not one it left out, which its checks name in words), and so the first
  go-live too and the files a figure rests on; a pilot lists every site of its metrics. Only
  rows stored before the run recorded them take the current registry's (`sites_recorded` false);
- only `demonstrated` estimates count in totals; the 95% interval of a total combines the estimates'
  intervals in quadrature (independent, normal errors);
- NPV of a total = (annual gain - opex) x annuity(discount_rate, horizon_years) - capex, ROI = NPV / (capex
  + discounted opex), payback = 12 x capex / (annual gain - opex) months (undiscounted), as for one pilot;
  a payback that never comes (annual gain - opex not positive) is +inf, kept apart from None ("not available");
- the economic inputs are the run's own: the tenge value, direction and frequency of each metric and the pilot's
  capex and opex as the run recorded them (estimate_results, migration 0009), the discount rate and horizon from
  its parameters; only rows stored before the run recorded them take the current registry's;
- realized gain in the year = sum over the year's post-go-live periods of (observed - counterfactual) x
  direction x value per unit x treated sites, from the run's counterfactual series (mean per treated site); a week
  across New Year counts its days in each year.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import duckdb

from pilot_roi import __version__, economics
from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.estimation.diagnostic_words import checks_in_words, design_in_words, diagnostics_of
from pilot_roi.estimation.method_words import method_reason_in
from pilot_roi.i18n import t
from pilot_roi.reports.model import (
    GRADES,
    SNAPSHOT_VERSION,
    Amount,
    AuditRow,
    Diagnostic,
    EventPoint,
    ExecutiveSummary,
    GainLine,
    Grade,
    GradeCount,
    GroupRow,
    Lineage,
    MethodRow,
    MetricResult,
    Name,
    PilotSection,
    Reproducibility,
    RestatementRow,
    SeriesPoint,
    SiteRef,
    SourceFile,
    TreatedSiteRow,
    UploadRow,
    YearReport,
)
from pilot_roi.resources import read_sql

DEFAULT_DISCOUNT_RATE = 0.15
DEFAULT_HORIZON_YEARS = 5
_GRADE_ORDER: tuple[Grade, ...] = ("adverse", "demonstrated", "promising", "inconclusive", "insufficient_data")


# --- pure helpers -------------------------------------------------------------------------------------------


def _f(value: Any) -> float | None:
    """A finite float, or None (NaN and infinities from a runner become 'not available')."""
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def _months(value: Any) -> float | None:
    """A payback in months: +inf ("never pays back": the net annual flow is not positive) stays, unlike in `_f`;
    None ("not available") for NULL and NaN."""
    if value is None:
        return None
    out = float(value)
    if math.isnan(out):
        return None
    return out


def _i(value: Any) -> int | None:
    return None if value is None else int(value)


def sum_amounts(amounts: Iterable[Amount]) -> Amount:
    """The sum of amounts with its 95% interval (`economics.sum_with_intervals`: each side's distance in quadrature).

    An amount without an interval adds its value and no width; a sum of no intervals has none.
    """
    total, low, high = economics.sum_with_intervals((a.value, a.ci_low, a.ci_high) for a in amounts)
    return Amount(total, low, high)


def npv_of(annual_gain: float, capex: float, opex_per_year: float, annuity: float) -> float:
    """NPV in KZT of a constant annual gain less opex over the horizon, less capex (economics' convention)."""
    return (annual_gain - opex_per_year) * annuity - capex


def roi_of(npv: float, capex: float, opex_per_year: float, annuity: float) -> float | None:
    """NPV divided by the discounted total cost; None when nothing was spent."""
    cost = capex + opex_per_year * annuity
    return _f(economics.roi(npv, cost)) if cost > 0 else None


def payback_of(annual_gain: float, capex: float, opex_per_year: float) -> float | None:
    """Simple payback in months (economics.payback_months); +inf when the net annual gain never repays capex."""
    return _months(economics.payback_months(annual_gain, economics.PilotCosts(capex, opex_per_year)))


def pilot_grade(grades: Sequence[str]) -> Grade:
    """A pilot's grade from its metrics': adverse beats demonstrated beats promising beats inconclusive."""
    for grade in _GRADE_ORDER:
        if grade in grades:
            return grade
    return "insufficient_data"


def realized_in_year(
    series: Sequence[SeriesPoint], year: int, first_go_live: date, n_treated: int, metric: economics.MetricValue
) -> float | None:
    """Realized gain (KZT) over the year's post-go-live periods (economics.realized_gain_kzt on the year's
    part of the series); None when the year has no such period.

    Periods are stored at their first day, and only weeks cross a year's end: a week from Monday 30 December counts
    2/7 in that year and 5/7 in the next (its days in each), so the years of a report add up to the gain to date.
    """
    start, end = date(year, 1, 1), date(year, 12, 31)
    days = 7 if metric.frequency == "weekly" else 1
    points = [p for p in series if start - timedelta(days=days - 1) <= p.period <= end]
    if not points:
        return None
    nan = math.nan
    shares = [_days_inside(p.period, days, start, end) / days for p in points]
    value = economics.realized_gain_kzt(
        [p.period for p in points],
        [nan if p.observed is None else p.observed for p in points],
        [nan if p.counterfactual is None else p.counterfactual for p in points],
        first_go_live,
        metric,
        n_treated,
        shares,
    )
    return _f(value)


def _days_inside(first: date, days: int, start: date, end: date) -> int:
    """How many of the `days` days from `first` fall in [start, end]."""
    return max(0, (min(first + timedelta(days=days - 1), end) - max(first, start)).days + 1)


def _name(row: dict[str, Any], prefix: str = "name_") -> Name:
    return Name(ru=str(row[f"{prefix}ru"]), kk=str(row[f"{prefix}kk"]), en=str(row[f"{prefix}en"]))


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _query(con: duckdb.DuckDBPyConnection, sql_file: str, **params: Any) -> list[dict[str, Any]]:
    return _dicts(con.execute(read_sql(sql_file), params))


def _diagnostic_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(_diagnostic_text(v) for v in value) or "—"
    return json.dumps(value, ensure_ascii=False, default=str)


def _method_reason(row: dict[str, Any]) -> Name | None:
    if not row["method_reason"] and not row["diagnostics"]:
        return None
    return Name(*(method_reason_in(row["diagnostics"], row["method_reason"], lang) for lang in ("ru", "kk", "en")))


def _diagnostics(raw: str | None) -> tuple[Diagnostic, ...]:
    """The runner's diagnostics JSON as (name, text) pairs; nested objects flatten to dotted names."""
    if not raw:
        return ()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return (Diagnostic("raw", raw),)
    if not isinstance(data, dict):
        return (Diagnostic("value", _diagnostic_text(data)),)
    out: list[Diagnostic] = []
    for key, value in data.items():
        if isinstance(value, dict):
            out.extend(Diagnostic(f"{key}.{k}", _diagnostic_text(v)) for k, v in value.items())
        else:
            out.append(Diagnostic(str(key), _diagnostic_text(value)))
    return tuple(out)


def _amount(value: Any, low: Any, high: Any) -> Amount | None:
    v = _f(value)
    return None if v is None else Amount(v, _f(low), _f(high))


def _use_case_name(code: str) -> Name:
    key = f"report.use_case.{code}"
    names = {lang: t(key, lang) for lang in ("ru", "kk", "en")}
    if names["en"] == key:  # not in the catalogue: show the code itself
        return Name(code, code, code)
    return Name(**names)


# --- reading the warehouse ----------------------------------------------------------------------------------


def latest_year(con: duckdb.DuckDBPyConnection) -> int | None:
    """The latest calendar year a report has numbers for: the year the latest finished run's observed and
    counterfactual series end in (a weekly period by its last day), else, before any run, the year of the latest
    observation; None on an empty warehouse (`reports/latest_year.sql`)."""
    row = con.execute(read_sql("reports/latest_year.sql")).fetchone()
    return int(row[0]) if row is not None and row[0] is not None else None


def resolve_run(con: duckdb.DuckDBPyConnection, run_id: int | None) -> dict[str, Any]:
    """The run row to report on: `run_id` if given (it must be finished), else the latest finished run."""
    if run_id is None:
        latest = con.execute(read_sql("reports/latest_finished_run.sql")).fetchone()
        if latest is None or latest[0] is None:
            raise InvalidInput([Problem("report.no_run")])
        run_id = int(latest[0])
    rows = _query(con, "reports/run_by_id.sql", run_id=run_id)
    if not rows:
        raise InvalidInput([Problem("report.run_not_found", params={"run": run_id})])
    if rows[0]["status"] != "finished":
        raise InvalidInput([Problem("report.run_not_finished", params={"run": run_id, "status": rows[0]["status"]})])
    return rows[0]


def _group_by_pair(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[(row["pilot_code"], row["metric_code"])].append(row)
    return out


def assemble_report(
    con: duckdb.DuckDBPyConnection,
    year: int,
    run_id: int | None = None,
    *,
    now: datetime | None = None,
) -> YearReport:
    """The year's report numbers from run `run_id` (default: the latest finished run), not frozen.

    Raises InvalidInput when there is no such finished run or no pilot is live by the year's end.
    """
    run = resolve_run(con, run_id)
    rid = int(run["run_id"])
    info = dict(con.execute(read_sql("registry/get_warehouse_info.sql")).fetchall())
    try:
        params = json.loads(run["parameters"] or "{}")
    except json.JSONDecodeError:
        params = {}
    discount_rate = float(params.get("discount_rate", DEFAULT_DISCOUNT_RATE))
    horizon = int(params.get("horizon_years", DEFAULT_HORIZON_YEARS))
    annuity = economics.annuity_factor(discount_rate, horizon)

    sites_by_pilot: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _query(con, "reports/pilot_sites.sql", run_id=rid):
        sites_by_pilot[row["pilot_code"]].append(row)
    designs = {code: _pilot_design(rows) for code, rows in sites_by_pilot.items()}
    live = sorted(code for code, d in designs.items() if d.treated and d.first_go_live <= date(year, 12, 31))
    pilots = _query(con, "reports/year_pilots.sql", pilots=live)
    if not pilots:
        raise InvalidInput([Problem("report.no_pilots", params={"year": year})])
    codes = [p["code"] for p in pilots]
    results = _query(con, "reports/run_results.sql", run_id=rid)
    robustness = _group_by_pair(_query(con, "reports/run_robustness.sql", run_id=rid))
    series = _group_by_pair(_query(con, "reports/run_counterfactuals.sql", run_id=rid))
    events = _group_by_pair(_query(con, "reports/run_event_study.sql", run_id=rid))
    results_by_pilot: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in results:
        results_by_pilot[row["pilot_code"]].append(row)
    # (pilot, metric, site) of every treated and control site each reported estimate used: what its values rest on
    triples = [
        (code, str(r["metric_code"]), site.site_code)
        for code in codes
        for r in results_by_pilot[code]
        for site in designs[code].sites_of(str(r["metric_code"]))
    ]
    pilot_codes = [p for p, _, _ in triples]
    metric_codes = [m for _, m, _ in triples]
    site_codes = [s for _, _, s in triples]

    as_of = run["started_at"]
    lineage = Lineage(
        uploads=tuple(
            UploadRow(
                upload_id=int(r["upload_id"]),
                file_name=str(r["file_name"]),
                sha256=str(r["sha256"]),
                size_bytes=int(r["size_bytes"]),
                uploaded_by=str(r["uploaded_by"]),
                uploaded_at=r["uploaded_at"],
                status=str(r["status"]),
                rows_read=int(r["rows_read"]),
                rows_inserted=int(r["rows_inserted"]),
                rows_updated=int(r["rows_updated"]),
                rows_current=int(r["n_values"]),
            )
            for r in _query(
                con, "reports/lineage_uploads.sql", as_of=as_of, metric_codes=metric_codes, site_codes=site_codes
            )
        ),
        restatements=tuple(
            RestatementRow(
                upload_id=int(r["upload_id"]),
                file_name=str(r["file_name"]),
                superseded_by_upload_id=int(r["superseded_by_upload_id"]),
                superseded_by_file=str(r["superseded_by_file"]),
                restated_at=r["restated_at"],
                n_values=int(r["n_values"]),
            )
            for r in _query(con, "reports/lineage_restatements.sql", as_of=as_of, pilots=codes, run_id=rid)
        ),
        audit_events=tuple(
            AuditRow(
                event_id=int(r["event_id"]),
                occurred_at=r["occurred_at"],
                username=str(r["username"]),
                action=str(r["action"]),
                target=r["target"],
                details=r["details"],
            )
            for r in _query(con, "reports/lineage_audit.sql", as_of=as_of, year=year)
        ),
    )

    sources: dict[tuple[str, str], list[SourceFile]] = defaultdict(list)
    for r in _query(
        con,
        "reports/lineage_sources.sql",
        as_of=as_of,
        pilot_codes=pilot_codes,
        metric_codes=metric_codes,
        site_codes=site_codes,
    ):
        sources[(r["pilot_code"], r["metric_code"])].append(
            SourceFile(int(r["upload_id"]), str(r["file_name"]), str(r["sha256"]), int(r["n_values"]))
        )

    sections = tuple(
        _pilot_section(
            p,
            year,
            annuity,
            designs[p["code"]],
            results_by_pilot[p["code"]],
            robustness,
            series,
            events,
            sources,
        )
        for p in pilots
    )
    reproducibility = Reproducibility(
        run_id=rid,
        run_started_at=run["started_at"],
        run_finished_at=run["finished_at"],
        run_started_by=str(run["started_by"]),
        data_version=str(run["data_version"]),
        code_version=str(run["code_version"]),
        parameters=json.dumps(params, ensure_ascii=False, sort_keys=True),
        discount_rate=discount_rate,
        horizon_years=horizon,
        frozen=False,
        frozen_by=None,
        frozen_at=None,
        assembled_at=(now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0),
        report_code_version=__version__,
    )
    return YearReport(
        snapshot_version=SNAPSHOT_VERSION,
        year=year,
        demo=str(info.get("demo", "")).strip().lower() in ("true", "1", "yes"),
        summary=_summary(sections, annuity),
        by_subsidiary=_groups(sections, annuity, lambda s: (s.subsidiary_code, s.subsidiary_name)),
        by_use_case=_groups(sections, annuity, lambda s: (s.use_case, _use_case_name(s.use_case))),
        pilots=sections,
        lineage=lineage,
        reproducibility=reproducibility,
    )


@dataclass(frozen=True, slots=True)
class _Design:
    """A pilot's sites as the report lists them: every treated site (with go-live) and control site the run used for
    any of its metrics, and each metric's own (`by_metric`, by metric code)."""

    treated: tuple[TreatedSiteRow, ...]
    controls: tuple[SiteRef, ...]
    controls_default: bool
    recorded: bool
    by_metric: dict[str, tuple[tuple[TreatedSiteRow, ...], tuple[SiteRef, ...]]]

    @property
    def first_go_live(self) -> date:
        """The earliest go-live of the treated sites (there must be one)."""
        return min(s.go_live for s in self.treated)

    def metric_sites(self, metric_code: str) -> tuple[tuple[TreatedSiteRow, ...], tuple[SiteRef, ...]]:
        """The treated and control sites the run used for one metric (the pilot's when the run did not say)."""
        return self.by_metric.get(metric_code, (self.treated, self.controls))

    def sites_of(self, metric_code: str) -> tuple[TreatedSiteRow | SiteRef, ...]:
        """Every site, treated then control, whose values one metric's estimate rests on."""
        treated, controls = self.metric_sites(metric_code)
        return (*treated, *controls)


def _site_lists(row: dict[str, Any]) -> tuple[tuple[TreatedSiteRow, ...], tuple[SiteRef, ...]]:
    treated = tuple(TreatedSiteRow(str(s["site_code"]), _name(s), s["go_live"]) for s in row["treated"])
    controls = tuple(SiteRef(str(s["site_code"]), _name(s)) for s in row["controls"])
    return treated, controls


def _pilot_design(rows: Sequence[dict[str, Any]]) -> _Design:
    """A pilot's design from its rows of pipelines/reports/pilot_sites.sql (one per metric of the run, or one from the
    registry when the run has none of the pilot): the union of its metrics' sites, treated by go-live then code."""
    by_metric = {str(r["metric_code"]): _site_lists(r) for r in rows if r["metric_code"] is not None}
    lists = [_site_lists(r) for r in rows]
    treated = {(s.go_live, s.site_code): s for t, _ in lists for s in t}
    controls = {s.site_code: s for _, c in lists for s in c}
    return _Design(
        treated=tuple(treated[k] for k in sorted(treated)),
        controls=tuple(controls[k] for k in sorted(controls)),
        controls_default=bool(rows) and all(r["controls_default"] for r in rows),
        recorded=bool(rows) and all(r["recorded"] for r in rows),
        by_metric=by_metric,
    )


def _metric_result(
    row: dict[str, Any],
    year: int,
    first_go_live: date,
    sites: tuple[tuple[TreatedSiteRow, ...], tuple[SiteRef, ...]],
    robustness: list[dict[str, Any]],
    series_rows: list[dict[str, Any]],
    event_rows: list[dict[str, Any]],
    source_files: list[SourceFile],
) -> MetricResult:
    series = tuple(
        SeriesPoint(r["period"], _f(r["observed"]), _f(r["counterfactual"]), _f(r["ci_low"]), _f(r["ci_high"]))
        for r in series_rows
    )
    higher = bool(row["higher_is_better"]) if row["higher_is_better"] is not None else True
    value = _f(row["value_kzt_per_unit"]) or 0.0
    n_treated = _i(row["n_treated"])
    grade = row["grade"] if row["grade"] in GRADES else "insufficient_data"
    frequency = str(row["frequency"] or "")
    realized_year = (
        realized_in_year(
            series,
            year,
            economics.realized_gain_start(diagnostics_of(row), first_go_live, frequency),
            n_treated,
            economics.MetricValue(value, higher, frequency),
        )
        if n_treated and frequency in economics.PERIODS_PER_YEAR
        else None
    )
    return MetricResult(
        metric_code=str(row["metric_code"]),
        metric_name=_name(row) if row["name_en"] is not None else Name(*(3 * [str(row["metric_code"])])),
        unit=str(row["unit"] or ""),
        frequency=str(row["frequency"] or ""),
        higher_is_better=higher,
        value_kzt_per_unit=value,
        status=str(row["status"]),
        reason=row["reason"],
        method=row["method"],
        method_reason=_method_reason(row),
        effect=_f(row["effect"]),
        se=_f(row["se"]),
        effect_pct=_f(row["effect_pct"]),
        ci_low=_f(row["ci_low"]),
        ci_high=_f(row["ci_high"]),
        p_value=_f(row["p_value"]),
        q_value=_f(row["q_value"]),
        pre_trend_p=_f(row["pre_trend_p"]),
        mde=_f(row["mde"]),
        grade=cast(Grade, grade),
        grade_reason=row["grade_reason"],
        n_treated=n_treated,
        n_controls=_i(row["n_controls"]),
        n_pre_periods=_i(row["n_pre_periods"]),
        n_post_periods=_i(row["n_post_periods"]),
        annual_gain=_amount(row["annual_gain_kzt"], row["annual_gain_ci_low"], row["annual_gain_ci_high"]),
        npv=_amount(row["npv_kzt"], row["npv_ci_low"], row["npv_ci_high"]),
        roi=_f(row["roi"]),
        roi_ci_low=_f(row["roi_ci_low"]),
        roi_ci_high=_f(row["roi_ci_high"]),
        payback_months=_months(row["payback_months"]),
        realized_gain_to_date=_f(row["realized_gain_kzt"]),
        realized_gain_year=realized_year,
        reused_from_run=_i(row["reused_from_run"]),
        diagnostics=_diagnostics(row["diagnostics"]),
        robustness=tuple(
            MethodRow(
                method=str(r["method"]),
                is_primary=bool(r["is_primary"]),
                status=str(r["status"]),
                reason=r["reason"],
                effect=_f(r["effect"]),
                se=_f(r["se"]),
                ci_low=_f(r["ci_low"]),
                ci_high=_f(r["ci_high"]),
                p_value=_f(r["p_value"]),
                effect_pct=_f(r["effect_pct"]),
            )
            for r in robustness
        ),
        series=series,
        event_study=tuple(
            EventPoint(int(r["event_time"]), _f(r["att"]), _f(r["ci_low"]), _f(r["ci_high"])) for r in event_rows
        ),
        checks_in_words=_checks_in_words(row) if row["status"] == "ok" else (),
        treated_sites=sites[0],
        controls=sites[1],
        sources=tuple(source_files),
    )


def _checks_in_words(row: dict[str, Any]) -> tuple[Name, ...]:
    """The design and its checks as sentences in each language (the same wording as the dashboard's)."""
    diagnostics = diagnostics_of(row)
    by_lang = [
        [design_in_words(row, lang, diagnostics), *checks_in_words(row, lang, diagnostics)]
        for lang in ("ru", "kk", "en")
    ]
    return tuple(Name(ru, kk, en) for ru, kk, en in zip(*by_lang, strict=True))


def _pilot_section(
    pilot: dict[str, Any],
    year: int,
    annuity: float,
    design: _Design,
    result_rows: list[dict[str, Any]],
    robustness: dict[tuple[str, str], list[dict[str, Any]]],
    series: dict[tuple[str, str], list[dict[str, Any]]],
    events: dict[tuple[str, str], list[dict[str, Any]]],
    sources: dict[tuple[str, str], list[SourceFile]],
) -> PilotSection:
    code = str(pilot["code"])
    first_go_live = design.first_go_live
    metrics = tuple(
        _metric_result(
            r,
            year,
            first_go_live,
            design.metric_sites(str(r["metric_code"])),
            robustness.get((code, r["metric_code"]), []),
            series.get((code, r["metric_code"]), []),
            events.get((code, r["metric_code"]), []),
            sources.get((code, r["metric_code"]), []),
        )
        for r in result_rows
    )
    demonstrated = [m for m in metrics if m.grade == "demonstrated" and m.annual_gain is not None]
    gain = sum_amounts(m.annual_gain for m in demonstrated if m.annual_gain is not None)
    capex, opex = _run_costs(pilot, result_rows)
    npv = npv_of(gain.value, capex, opex, annuity)
    return PilotSection(
        code=code,
        name=_name(pilot),
        subsidiary_code=str(pilot["subsidiary_code"]),
        subsidiary_name=_name(pilot, "sub_name_"),
        use_case=str(pilot["use_case"]),
        treated_sites=design.treated,
        controls=design.controls,
        controls_default=design.controls_default,
        capex=capex,
        opex_per_year=opex,
        grade=pilot_grade([m.grade for m in metrics]),
        metrics=metrics,
        demonstrated_annual_gain=gain,
        realized_gain_year=float(sum(m.realized_gain_year or 0.0 for m in demonstrated)),
        npv=npv,
        roi=roi_of(npv, capex, opex, annuity),
        # nothing demonstrated: no gain to repay anything with, so not available (the metrics' own paybacks stand)
        payback_months=payback_of(gain.value, capex, opex) if demonstrated else None,
        sites_recorded=design.recorded,
    )


def _run_costs(pilot: dict[str, Any], result_rows: list[dict[str, Any]]) -> tuple[float, float]:
    """The pilot's capex and opex per year (KZT) as the run priced its metrics with them (every row of a pilot in
    one run has the same; run_results.sql gives rows stored before they were recorded the registry's); the
    registry's when the run has no row of the pilot."""
    for row in result_rows:
        if row["capex_kzt"] is not None and row["opex_kzt_per_year"] is not None:
            return float(row["capex_kzt"]), float(row["opex_kzt_per_year"])
    return float(pilot["capex_kzt"]), float(pilot["opex_kzt_per_year"])


def _gain_line(p: PilotSection, m: MetricResult) -> GainLine:
    return GainLine(
        pilot_code=p.code,
        pilot_name=p.name,
        metric_code=m.metric_code,
        metric_name=m.metric_name,
        grade=m.grade,
        effect_pct=m.effect_pct,
        annual_gain=m.annual_gain or Amount(0.0),
    )


def _summary(sections: Sequence[PilotSection], annuity: float) -> ExecutiveSummary:
    pairs = [(p, m) for p in sections for m in p.metrics]
    gain = sum_amounts(p.demonstrated_annual_gain for p in sections)
    capex = float(sum(p.capex for p in sections))
    opex = float(sum(p.opex_per_year for p in sections))
    npv = npv_of(gain.value, capex, opex, annuity)
    npv_amount = Amount(
        npv,
        None if gain.ci_low is None else npv_of(gain.ci_low, capex, opex, annuity),
        None if gain.ci_high is None else npv_of(gain.ci_high, capex, opex, annuity),
    )
    demonstrated = [(p, m) for p, m in pairs if m.grade == "demonstrated" and m.annual_gain is not None]
    demonstrated.sort(key=lambda pm: (-(pm[1].annual_gain.value if pm[1].annual_gain else 0.0), pm[0].code))
    adverse = [(p, m) for p, m in pairs if m.grade == "adverse"]
    return ExecutiveSummary(
        n_pilots=len(sections),
        n_estimates=len(pairs),
        demonstrated_annual_gain=gain,
        realized_gain_year=float(sum(p.realized_gain_year for p in sections)),
        investment_capex=capex,
        investment_opex_per_year=opex,
        portfolio_npv=npv_amount,
        portfolio_roi=roi_of(npv, capex, opex, annuity),
        by_grade=tuple(
            GradeCount(
                grade=g,
                pilots=sum(1 for p in sections if p.grade == g),
                estimates=sum(1 for _, m in pairs if m.grade == g),
            )
            for g in GRADES
        ),
        largest_gains=tuple(_gain_line(p, m) for p, m in demonstrated[:3]),
        adverse=tuple(_gain_line(p, m) for p, m in adverse),
    )


def _groups(sections: Sequence[PilotSection], annuity: float, key_of: Any) -> tuple[GroupRow, ...]:
    grouped: dict[str, list[PilotSection]] = defaultdict(list)
    names: dict[str, Name] = {}
    for s in sections:
        key, name = key_of(s)
        grouped[key].append(s)
        names[key] = name
    rows = []
    for key in sorted(grouped):
        members = grouped[key]
        capex = float(sum(p.capex for p in members))
        opex = float(sum(p.opex_per_year for p in members))
        gain = sum_amounts(p.demonstrated_annual_gain for p in members)
        npv = float(sum(p.npv for p in members))
        rows.append(
            GroupRow(
                key=key,
                name=names[key],
                n_pilots=len(members),
                n_demonstrated=sum(1 for p in members if p.grade == "demonstrated"),
                n_adverse=sum(1 for p in members if p.grade == "adverse"),
                demonstrated_annual_gain=gain,
                realized_gain_year=float(sum(p.realized_gain_year for p in members)),
                capex=capex,
                opex_per_year=opex,
                npv=npv,
                roi=roi_of(npv, capex, opex, annuity),
            )
        )
    return tuple(rows)
