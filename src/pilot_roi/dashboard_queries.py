"""Typed, read-only queries behind the dashboard, over precomputed estimates and the registry.

Every function takes a DuckDB connection (the dashboard passes a per-request cursor) and runs one SQL
model of `pipelines/marts/dashboard_*.sql` with bound parameters. Nothing here re-estimates, and the
portfolio queries never touch raw observations: they read `estimate_results` and
`estimate_counterfactuals` of the latest finished run. Frames are polars; the headline is a dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from pilot_roi.economics import EconomicsParams, sum_with_intervals
from pilot_roi.numbers import finite_or_none
from pilot_roi.resources import read_sql

GRADES: tuple[str, ...] = ("demonstrated", "promising", "inconclusive", "adverse", "insufficient_data")


@dataclass(frozen=True, slots=True)
class PortfolioFilters:
    """The portfolio page's filters; an empty tuple means "all"."""

    subsidiaries: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    grades: tuple[str, ...] = ()

    def params(self) -> dict[str, Any]:
        """Bound parameters of the portfolio SQL models (NULL for an unused filter)."""
        return {
            "subsidiaries": list(self.subsidiaries) or None,
            "use_cases": list(self.use_cases) or None,
            "years": [int(y) for y in self.years] or None,
            "grades": list(self.grades) or None,
        }


@dataclass(frozen=True, slots=True)
class Headline:
    """The portfolio's headline numbers.

    `demonstrated_gain_kzt` sums the annual gain (KZT per year) of the demonstrated pilot-metrics only; its
    95% interval treats the estimates as independent and adds each side's distance from the point estimate in
    quadrature (`economics.sum_with_intervals`, the year-end report's rule too: an annual gain's
    interval comes from the effect's sampling draws and need not be symmetric). `total_invested_kzt` is the
    capex of the distinct pilots shown; `median_roi` is the median over pilot-metrics with an ROI (a ratio: 0.5
    means 50%).
    """

    demonstrated_gain_kzt: float
    demonstrated_gain_ci_low: float
    demonstrated_gain_ci_high: float
    n_demonstrated: int
    n_estimates: int
    n_pilots: int
    by_grade: dict[str, int] = field(default_factory=dict)
    total_invested_kzt: float = 0.0
    total_opex_kzt_per_year: float = 0.0
    median_roi: float | None = None
    best_pilot_code: str | None = None


def _frame(con: duckdb.DuckDBPyConnection, model: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    cursor = con.execute(read_sql(f"marts/{model}.sql"), params or {})
    names = [d[0] for d in cursor.description] if cursor.description else []
    rows = cursor.fetchall()
    if not rows:
        return pl.DataFrame(schema=dict.fromkeys(names, pl.Null))
    return pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)


def warehouse_info(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Warehouse facts (e.g. demo = true) plus latest_run_id and latest_run_finished_at when a run finished."""
    rows = con.execute(read_sql("marts/dashboard_warehouse_info.sql")).fetchall()
    return {str(k): str(v) for k, v in rows if v is not None}


@dataclass(frozen=True, slots=True)
class NpvTerms:
    """The discount rate (per year) and horizon (years) the latest run computed NPV and ROI with."""

    discount_rate: float
    horizon_years: int


def npv_terms(info: dict[str, str]) -> NpvTerms:
    """The latest run's NPV terms from `warehouse_info` (the product's defaults when no run recorded them)."""
    default = EconomicsParams()
    try:
        rate = float(info.get("latest_run_discount_rate", default.discount_rate))
        years = int(float(info.get("latest_run_horizon_years", default.horizon_years)))
    except ValueError:
        return NpvTerms(default.discount_rate, default.horizon_years)
    return NpvTerms(rate, years)


def results_version(info: dict[str, str]) -> str:
    """What the shown results depend on: the latest finished run and the registry's last change.

    Estimates of a run never change, so a view computed for one version can be reused until it changes.
    """
    keys = ("latest_run_id", "latest_run_finished_at", "registry_updated_at")
    return "|".join(info.get(k, "") for k in keys)


def is_demo(info: dict[str, str]) -> bool:
    """True when the warehouse holds synthetic demo data."""
    return info.get("demo", "").strip().lower() in ("true", "1", "yes")


def latest_run_id(con: duckdb.DuckDBPyConnection) -> int | None:
    """The id of the latest finished estimate run, or None."""
    value = warehouse_info(con).get("latest_run_id")
    return int(value) if value else None


def filter_options(con: duckdb.DuckDBPyConnection, lang: str) -> dict[str, list[tuple[str, str]]]:
    """Values offered by the portfolio filters: {kind: [(value, label), ...]}; kinds subsidiary, use_case, year."""
    options: dict[str, list[tuple[str, str]]] = {"subsidiary": [], "use_case": [], "year": []}
    for kind, value, label in con.execute(read_sql("marts/dashboard_filter_options.sql"), {"lang": lang}).fetchall():
        if value is not None:
            options.setdefault(str(kind), []).append((str(value), str(label)))
    return options


def portfolio(con: duckdb.DuckDBPyConnection, lang: str, filters: PortfolioFilters | None = None) -> pl.DataFrame:
    """One row per pilot-metric estimate of the latest finished run (see dashboard_portfolio.sql)."""
    params = {"lang": lang, **(filters or PortfolioFilters()).params()}
    return _frame(con, "dashboard_portfolio", params)


def realized_gain(con: duckdb.DuckDBPyConnection, filters: PortfolioFilters | None = None) -> pl.DataFrame:
    """Monthly realized gain (KZT) of demonstrated pilot-metrics, with its running total `cumulative_kzt`."""
    frame = _frame(con, "dashboard_realized_gain", (filters or PortfolioFilters()).params())
    if frame.height == 0:
        return pl.DataFrame(schema={"month": pl.Date, "gain_kzt": pl.Float64, "cumulative_kzt": pl.Float64})
    return frame.with_columns(pl.col("gain_kzt").cast(pl.Float64).cum_sum().alias("cumulative_kzt"))


def portfolio_headline(frame: pl.DataFrame) -> Headline:
    """The headline numbers of a portfolio frame (pure; see `Headline` for what each number means)."""
    by_grade = dict.fromkeys(GRADES, 0)
    demonstrated: list[tuple[float, float | None, float | None]] = []
    rois: list[float] = []
    best: tuple[float, str] | None = None
    capex: dict[str, float] = {}
    opex: dict[str, float] = {}
    for row in frame.iter_rows(named=True) if frame.height else []:
        grade = str(row.get("grade") or "insufficient_data")
        by_grade[grade] = by_grade.get(grade, 0) + 1
        capex[str(row["pilot_code"])] = finite_or_none(row.get("capex_kzt")) or 0.0
        opex[str(row["pilot_code"])] = finite_or_none(row.get("opex_kzt_per_year")) or 0.0
        roi = finite_or_none(row.get("roi"))
        if roi is not None and row.get("status") == "ok":
            rois.append(roi)
        annual = finite_or_none(row.get("annual_gain_kzt"))
        if grade == "demonstrated" and annual is not None:
            low = finite_or_none(row.get("annual_gain_ci_low"))
            high = finite_or_none(row.get("annual_gain_ci_high"))
            # an interval counts only whole, as before: one side alone would widen the total on that side only
            demonstrated.append((annual, low, high) if low is not None and high is not None else (annual, None, None))
            if best is None or annual > best[0]:
                best = (annual, str(row["pilot_code"]))
    gain, gain_low, gain_high = sum_with_intervals(demonstrated)
    rois.sort()
    median_roi: float | None = None
    if rois:
        mid = len(rois) // 2
        median_roi = rois[mid] if len(rois) % 2 else (rois[mid - 1] + rois[mid]) / 2
    return Headline(
        demonstrated_gain_kzt=gain,
        demonstrated_gain_ci_low=gain if gain_low is None else gain_low,
        demonstrated_gain_ci_high=gain if gain_high is None else gain_high,
        n_demonstrated=len(demonstrated),
        n_estimates=frame.height,
        n_pilots=len(capex),
        by_grade=by_grade,
        total_invested_kzt=sum(capex.values()),
        total_opex_kzt_per_year=sum(opex.values()),
        median_roi=median_roi,
        best_pilot_code=best[1] if best else None,
    )


def gains_by(frame: pl.DataFrame, key: str, label: str) -> pl.DataFrame:
    """Demonstrated annual gain (KZT) summed by `key` (e.g. subsidiary_code), with `label` and pilot count."""
    schema = {key: pl.String, label: pl.String, "annual_gain_kzt": pl.Float64, "n_pilots": pl.UInt32}
    if frame.height == 0:
        return pl.DataFrame(schema=schema)
    demonstrated = frame.filter(pl.col("grade") == "demonstrated")
    if demonstrated.height == 0:
        return pl.DataFrame(schema=schema)
    extra = [] if label == key else [pl.col(label).first()]
    return (
        demonstrated.group_by(key)
        .agg(
            *extra,
            pl.col("annual_gain_kzt").cast(pl.Float64).sum(),
            pl.col("pilot_code").n_unique().alias("n_pilots"),
        )
        .sort("annual_gain_kzt", descending=True)
    )


def pilot_list(con: duckdb.DuckDBPyConnection, lang: str) -> pl.DataFrame:
    """Every registered pilot: pilot_code, pilot_name."""
    return _frame(con, "dashboard_pilot_list", {"lang": lang})


def pilot(con: duckdb.DuckDBPyConnection, pilot_code: str, lang: str) -> dict[str, Any] | None:
    """One pilot's registry entry (names in `lang`), or None when the code is unknown."""
    frame = _frame(con, "dashboard_pilot", {"pilot_code": pilot_code, "lang": lang})
    return frame.row(0, named=True) if frame.height else None


def pilot_sites(con: duckdb.DuckDBPyConnection, pilot_code: str, lang: str) -> pl.DataFrame:
    """The pilot's treated sites (with go_live) and named controls: site_code, site_name, role, go_live."""
    return _frame(con, "dashboard_pilot_sites", {"pilot_code": pilot_code, "lang": lang})


def pilot_sites_used(
    con: duckdb.DuckDBPyConnection, run_id: int, pilot_code: str, metric_code: str, lang: str
) -> pl.DataFrame:
    """The sites run `run_id` recorded for one pilot-metric's estimate (not the registry's listing): the treated sites
    it estimated and the control sites it compared them with, as the year-end report lists them: site_code,
    site_name, role ("treated" or "control"), go_live (treated only). No rows when the run did not record them."""
    params = {"run_id": run_id, "pilot_code": pilot_code, "metric_code": metric_code, "lang": lang}
    return _frame(con, "dashboard_pilot_sites_used", params)


def pilot_estimates(con: duckdb.DuckDBPyConnection, pilot_code: str, lang: str) -> pl.DataFrame:
    """The pilot's estimates in the latest finished run, one row per metric."""
    return _frame(con, "dashboard_pilot_estimates", {"pilot_code": pilot_code, "lang": lang})


def _series(con: duckdb.DuckDBPyConnection, model: str, run_id: int, pilot_code: str, metric_code: str) -> pl.DataFrame:
    return _frame(con, model, {"run_id": run_id, "pilot_code": pilot_code, "metric_code": metric_code})


def robustness(con: duckdb.DuckDBPyConnection, run_id: int, pilot_code: str, metric_code: str) -> pl.DataFrame:
    """Every method's estimate for one pilot-metric (primary first)."""
    return _series(con, "dashboard_robustness", run_id, pilot_code, metric_code)


def counterfactual(con: duckdb.DuckDBPyConnection, run_id: int, pilot_code: str, metric_code: str) -> pl.DataFrame:
    """Observed vs counterfactual mean per treated site: period, observed, counterfactual, ci_low, ci_high."""
    return _series(con, "dashboard_counterfactual", run_id, pilot_code, metric_code)


def observed_series(
    con: duckdb.DuckDBPyConnection, metric_code: str, treated: list[str], controls: list[str]
) -> pl.DataFrame:
    """The current values of one metric, mean per period over `treated` and over `controls`: period, treated,
    controls (shown for a pilot-metric without an estimate, so the reader sees what the estimate could not use)."""
    params = {"metric_code": metric_code, "treated": list(treated), "controls": list(controls)}
    return _frame(con, "dashboard_observed_series", params)


def event_study(con: duckdb.DuckDBPyConnection, run_id: int, pilot_code: str, metric_code: str) -> pl.DataFrame:
    """Event-study coefficients: event_time, att, se, ci_low, ci_high."""
    return _series(con, "dashboard_event_study", run_id, pilot_code, metric_code)


def uploads(con: duckdb.DuckDBPyConnection, username: str | None = None, limit: int = 50) -> pl.DataFrame:
    """The most recent uploads of `username` (None: everyone's), newest first."""
    return _frame(con, "dashboard_uploads", {"username": username, "limit": limit})


def last_upload(con: duckdb.DuckDBPyConnection, subsidiary: str | None = None) -> dict[str, Any] | None:
    """The latest upload behind `subsidiary`'s current values (None: the latest upload of all, whatever its
    status): upload_id, file_name, uploaded_by, uploaded_at, status; None when there is none."""
    frame = _frame(con, "dashboard_quality_last_upload", {"subsidiary_code": subsidiary})
    return frame.row(0, named=True) if frame.height else None


@dataclass(frozen=True, slots=True)
class QualityViews:
    """The quality page's frames, read from the precomputed quality summary (`pilot_roi.warehouse.quality_summary`).

    coverage: site_code, month, coverage (0..1: observed / expected periods in the month, mean over the site's
        metrics; only months inside a metric's first..last observed period count).
    missing: site-metrics with gaps between their first and last value, most gaps first (at most `limit`):
        site_code, metric_code, first_period, last_period, n_present, n_missing.
    outliers: values flagged by their robust z (|robust z| > QUALITY_PAGE_Z; values outside a metric's bounds are
        refused at upload, and a registry load that tightens them names those already stored), at most `limit`:
        site_code, metric_code, period, value, median, robust_z, reason ("robust_z").
    """

    coverage: pl.DataFrame
    missing: pl.DataFrame
    outliers: pl.DataFrame


QUALITY_PAGE_Z = 5.0
"""The quality page flags values more than 5 robust SDs out (the ingestion report's default, 3.5, flags more)."""


def quality(con: duckdb.DuckDBPyConnection, subsidiary: str | None = None, limit: int = 200) -> QualityViews:
    """Coverage per site and month, gaps and flagged values for one subsidiary (None: all).

    Reads only the quality summary tables the loads keep current: no observation is scanned here.
    """
    params: dict[str, Any] = {"subsidiary_code": subsidiary}
    coverage = con.sql(read_sql("marts/dashboard_quality_coverage.sql"), params=params).pl()
    missing = con.sql(read_sql("marts/dashboard_quality_missing.sql"), params=params | {"limit": limit}).pl()
    outliers = con.sql(
        read_sql("marts/dashboard_quality_outliers.sql"),
        params=params | {"limit": limit, "z_threshold": QUALITY_PAGE_Z},
    ).pl()
    return QualityViews(coverage=coverage, missing=missing, outliers=outliers)


def registry_pilots(con: duckdb.DuckDBPyConnection, lang: str) -> pl.DataFrame:
    """Registered pilots with their sites, controls and metrics as text."""
    return _frame(con, "dashboard_registry_pilots", {"lang": lang})


def registry_sites(con: duckdb.DuckDBPyConnection, lang: str) -> pl.DataFrame:
    """Registered sites."""
    return _frame(con, "dashboard_registry_sites", {"lang": lang})


def registry_metrics(con: duckdb.DuckDBPyConnection, lang: str) -> pl.DataFrame:
    """Registered metrics with their KZT value per unit."""
    return _frame(con, "dashboard_registry_metrics", {"lang": lang})


def users(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Accounts (no password hashes)."""
    return _frame(con, "dashboard_users")


def set_user_language(con: duckdb.DuckDBPyConnection, username: str, lang: str) -> None:
    """Remember `lang` as `username`'s language (a write: the caller's cursor, its own transaction)."""
    if lang not in ("ru", "kk", "en"):
        raise ValueError(f"lang={lang!r} is not one of ru, kk, en")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(read_sql("marts/dashboard_set_user_language.sql"), {"lang": lang, "username": username})
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def template_rows(con: duckdb.DuckDBPyConnection, subsidiary: str | None) -> pl.DataFrame:
    """Site and metric pairs an engineer of `subsidiary` (None: any) reports: site_code, metric_code, unit."""
    return _frame(con, "dashboard_subsidiary_sites", {"subsidiary": subsidiary})


AUDIT_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """Filters of the audit page: one user, one action, a date range (ISO dates on the product's clock, inclusive);
    None = any.

    ValueError if a date is not an ISO date (YYYY-MM-DD).
    """

    username: str | None = None
    action: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def __post_init__(self) -> None:
        """Check the dates before they reach SQL."""
        import datetime as dt

        for value in (self.date_from, self.date_to):
            if value is not None:
                dt.date.fromisoformat(value)

    def params(self) -> dict[str, Any]:
        """The bound parameters of marts/dashboard_audit_log.sql (without limit and offset): the dates are days on
        the product's clock (`clock`), bound as the UTC moments they begin and end."""
        import datetime as dt

        from pilot_roi import clock

        start = clock.day_start_utc(dt.date.fromisoformat(self.date_from)) if self.date_from else None
        end = clock.day_start_utc(dt.date.fromisoformat(self.date_to) + dt.timedelta(days=1)) if self.date_to else None
        return {"username": self.username, "action": self.action, "from_utc": start, "to_utc": end}


def audit_log(
    con: duckdb.DuckDBPyConnection,
    filters: AuditFilters | None = None,
    *,
    limit: int = AUDIT_PAGE_SIZE,
    offset: int = 0,
) -> pl.DataFrame:
    """One page of audit events, newest first: event_id, occurred_at, username, action, target, details,
    remote_addr and n_total (how many events match the filters)."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit={limit} and offset={offset} must not be negative")
    params = {**(filters or AuditFilters()).params(), "limit": limit, "offset": offset}
    return _frame(con, "dashboard_audit_log", params)


def audit_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The users and actions present in the audit log, sorted: {"user": [...], "action": [...]}."""
    out: dict[str, list[str]] = {"user": [], "action": []}
    for row in _frame(con, "dashboard_audit_options").iter_rows(named=True):
        out[str(row["kind"])].append(str(row["value"]))
    return out


def results_state(con: duckdb.DuckDBPyConnection) -> tuple[str, int | None]:
    """The results version (see `results_version`) and the latest finished run's id, in one cheap query.

    Pages poll it to notice a new finished run (e.g. a background re-estimation after an upload).
    """
    info = warehouse_info(con)
    run = info.get("latest_run_id")
    return results_version(info), int(run) if run else None
