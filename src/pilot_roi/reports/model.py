"""The year-end report as one typed structure: every number the renderers print, and nothing they compute.

Money is in tenge (KZT), effects in the metric's units per treated site and period, percentages in percent
(-4.2 means a 4.2% fall), ROI as a ratio (0.35 = 35%), payback in months. `None` means "not available",
with the reason next to it where there is one. A payback of `math.inf` means "never pays back" (the net annual
flow is not positive): a known answer, which renderers write in words (PDF, XLSX) or as `inf` (CSV).

The structure converts to and from plain JSON (`to_json` / `from_json`): that is the snapshot a freeze stores.
JSON has no infinity, so a non-finite number is stored as its Python text ("inf") and read back with `float`.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Literal, TypeVar, get_args, get_origin

Grade = Literal["demonstrated", "promising", "inconclusive", "adverse", "insufficient_data"]
GRADES: tuple[Grade, ...] = get_args(Grade)
SNAPSHOT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Name:
    """A name in the three languages."""

    ru: str
    kk: str
    en: str

    def get(self, lang: str) -> str:
        """The name in `lang`, falling back to English."""
        return str(getattr(self, lang, "") or self.en)


@dataclass(frozen=True, slots=True)
class Amount:
    """A tenge amount with its 95% interval (bounds are None when the interval is not known)."""

    value: float
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True, slots=True)
class GradeCount:
    """How many pilots (and pilot-metric estimates) carry one evidence grade."""

    grade: Grade
    pilots: int
    estimates: int


@dataclass(frozen=True, slots=True)
class GainLine:
    """One pilot-metric result as the executive summary lists it (largest gains, adverse results)."""

    pilot_code: str
    pilot_name: Name
    metric_code: str
    metric_name: Name
    grade: Grade
    effect_pct: float | None
    annual_gain: Amount


@dataclass(frozen=True, slots=True)
class ExecutiveSummary:
    """The portfolio in one page. Only `demonstrated` gains count in the totals.

    `demonstrated_annual_gain`: sum of demonstrated annual gains, KZT/year, 95% CI from the per-estimate
    intervals combined in quadrature (independent normal errors assumed).
    `realized_gain_year`: demonstrated (observed - counterfactual) x value over the year's post-go-live periods.
    `investment_capex`, `investment_opex_per_year`: every reported pilot's costs, gain or not.
    `portfolio_npv` / `portfolio_roi`: NPV over the horizon of demonstrated gains less all opex and capex;
    ROI = NPV / (capex + discounted opex).
    """

    n_pilots: int
    n_estimates: int
    demonstrated_annual_gain: Amount
    realized_gain_year: float
    investment_capex: float
    investment_opex_per_year: float
    portfolio_npv: Amount
    portfolio_roi: float | None
    by_grade: tuple[GradeCount, ...]
    largest_gains: tuple[GainLine, ...]
    adverse: tuple[GainLine, ...]


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One row of the by-subsidiary or by-use-case tables."""

    key: str
    name: Name
    n_pilots: int
    n_demonstrated: int
    n_adverse: int
    demonstrated_annual_gain: Amount
    realized_gain_year: float
    capex: float
    opex_per_year: float
    npv: float
    roi: float | None


@dataclass(frozen=True, slots=True)
class TreatedSiteRow:
    """A treated site of a pilot and its go-live date."""

    site_code: str
    site_name: Name
    go_live: date


@dataclass(frozen=True, slots=True)
class SiteRef:
    """A control site."""

    site_code: str
    site_name: Name


@dataclass(frozen=True, slots=True)
class MethodRow:
    """One estimation method's result for a pilot-metric (robustness table)."""

    method: str
    is_primary: bool
    status: str
    reason: str | None
    effect: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    effect_pct: float | None


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """Observed vs counterfactual mean per treated site for one period."""

    period: date
    observed: float | None
    counterfactual: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True, slots=True)
class EventPoint:
    """One event-study coefficient (periods relative to go-live)."""

    event_time: int
    att: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One diagnostic of an estimate, as the runner stored it (name and value as text)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One upload behind one pilot-metric estimate: its values at the sites the run estimated the metric with (treated
    and control), in force when the run started."""

    upload_id: int
    file_name: str
    sha256: str
    n_values: int


@dataclass(frozen=True, slots=True)
class MetricResult:
    """One pilot-metric estimate of the run with its economics, diagnostics and series."""

    metric_code: str
    metric_name: Name
    unit: str
    frequency: str
    higher_is_better: bool
    value_kzt_per_unit: float
    status: str
    reason: str | None
    method: str | None
    method_reason: Name | None  # why the method was chosen, in each language
    effect: float | None
    se: float | None
    effect_pct: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    q_value: float | None
    pre_trend_p: float | None
    mde: float | None
    grade: Grade
    grade_reason: str | None
    n_treated: int | None
    n_controls: int | None
    n_pre_periods: int | None
    n_post_periods: int | None
    annual_gain: Amount | None
    npv: Amount | None
    roi: float | None
    roi_ci_low: float | None
    roi_ci_high: float | None
    payback_months: float | None  # math.inf: never pays back; None: not available
    realized_gain_to_date: float | None
    realized_gain_year: float | None
    reused_from_run: int | None
    diagnostics: tuple[Diagnostic, ...]
    robustness: tuple[MethodRow, ...]
    series: tuple[SeriesPoint, ...]
    event_study: tuple[EventPoint, ...]
    # The design and the checks a reviewer weighs it by, one sentence per line in each language (empty in
    # snapshots frozen before the sentences were kept; those show the raw diagnostics instead).
    checks_in_words: tuple[Name, ...] = ()
    # The treated sites (with go-lives) and control sites the run estimated this metric with (as the pilot's, from the
    # registry, when the run did not record them; empty in snapshots frozen before they were kept).
    treated_sites: tuple[TreatedSiteRow, ...] = ()
    controls: tuple[SiteRef, ...] = ()
    # The uploads whose values the estimate rests on, with how many (empty in snapshots frozen before they were kept:
    # the report's lineage lists the uploads of all its pilots together).
    sources: tuple[SourceFile, ...] = ()


@dataclass(frozen=True, slots=True)
class PilotSection:
    """One pilot: design, per-metric results and the pilot's own economics (demonstrated gains only).

    `treated_sites` and `controls` are the sites the run estimated the pilot's metrics with (all of them, over its
    metrics); when the run did not record them (`sites_recorded` false: estimated before runs recorded their sites,
    or a snapshot frozen before), the registry's as the report was assembled.
    """

    code: str
    name: Name
    subsidiary_code: str
    subsidiary_name: Name
    use_case: str
    treated_sites: tuple[TreatedSiteRow, ...]
    controls: tuple[SiteRef, ...]
    controls_default: bool
    capex: float
    opex_per_year: float
    grade: Grade
    metrics: tuple[MetricResult, ...]
    demonstrated_annual_gain: Amount
    realized_gain_year: float
    npv: float
    roi: float | None
    payback_months: float | None  # of the demonstrated gains; math.inf: they never repay; None: none demonstrated
    sites_recorded: bool = False


@dataclass(frozen=True, slots=True)
class UploadRow:
    """One upload whose values are behind the year's numbers."""

    upload_id: int
    file_name: str
    sha256: str
    size_bytes: int
    uploaded_by: str
    uploaded_at: datetime
    status: str
    rows_read: int
    rows_inserted: int
    rows_updated: int
    rows_current: int


@dataclass(frozen=True, slots=True)
class RestatementRow:
    """Values of one earlier upload replaced by a later one (before the run started)."""

    upload_id: int
    file_name: str
    superseded_by_upload_id: int
    superseded_by_file: str
    restated_at: datetime
    n_values: int


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One audit-log event of the year up to the run's start (any action), or an earlier data or registry change."""

    event_id: int
    occurred_at: datetime
    username: str
    action: str
    target: str | None
    details: str | None


@dataclass(frozen=True, slots=True)
class Lineage:
    """Every upload and restatement behind the year's numbers."""

    uploads: tuple[UploadRow, ...]
    restatements: tuple[RestatementRow, ...]
    audit_events: tuple[AuditRow, ...]


@dataclass(frozen=True, slots=True)
class Reproducibility:
    """What is needed to reproduce the numbers: data and code versions, the run and its parameters."""

    run_id: int
    run_started_at: datetime
    run_finished_at: datetime | None
    run_started_by: str
    data_version: str
    code_version: str
    parameters: str
    discount_rate: float
    horizon_years: int
    frozen: bool
    frozen_by: str | None
    frozen_at: datetime | None
    assembled_at: datetime
    report_code_version: str


@dataclass(frozen=True, slots=True)
class YearReport:
    """The year-end report's numbers for one year and one estimate run."""

    snapshot_version: int
    year: int
    demo: bool
    summary: ExecutiveSummary
    by_subsidiary: tuple[GroupRow, ...]
    by_use_case: tuple[GroupRow, ...]
    pilots: tuple[PilotSection, ...]
    lineage: Lineage
    reproducibility: Reproducibility


# --- JSON snapshot ------------------------------------------------------------------------------------------

T = TypeVar("T")


def to_json(value: Any) -> Any:
    """Plain JSON data (dicts, lists, numbers, strings) for a report dataclass; dates as ISO strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # "inf": JSON has no infinity; `_decode` reads it back with float()
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, data: Any) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        inner = [a for a in get_args(tp) if a is not type(None)]
        return _decode(inner[0], data)
    if origin is Literal:
        return data
    if origin is tuple:
        (item_tp, _ellipsis) = get_args(tp)
        return tuple(_decode(item_tp, v) for v in data)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        factory: Any = tp
        # A field missing from an older snapshot takes its default.
        fields = [f for f in dataclasses.fields(tp) if f.name in data]
        return factory(**{f.name: _decode(hints[f.name], data[f.name]) for f in fields})
    if tp is datetime:
        return datetime.fromisoformat(data)
    if tp is date:
        return date.fromisoformat(data)
    if tp is float:
        return None if data is None else float(data)
    if tp is int:
        return int(data)
    return data


def from_json(cls: type[T], data: Any) -> T:
    """The dataclass `cls` rebuilt from `to_json` output."""
    return typing.cast(T, _decode(cls, data))
