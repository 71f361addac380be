"""Reference data and pilots as frozen values, exactly as a registry file names them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "yearly")
AGGREGATIONS = ("sum", "mean")
USE_CASES = (
    "predictive_maintenance",
    "process_optimization",
    "quality_vision",
    "energy_optimization",
    "logistics_routing",
    "demand_forecasting",
    "safety_monitoring",
    "document_automation",
    "other",
)


@dataclass(frozen=True, slots=True)
class Name:
    """A name in the three languages of the product."""

    ru: str
    kk: str
    en: str


@dataclass(frozen=True, slots=True)
class Subsidiary:
    """A company of the holding."""

    code: str
    name: Name
    sector: str | None


@dataclass(frozen=True, slots=True)
class Site:
    """A plant, mine, depot or substation of one subsidiary: the unit of analysis."""

    code: str
    subsidiary: str
    name: Name
    region: str | None


@dataclass(frozen=True, slots=True)
class Metric:
    """A production measure; `value_kzt_per_unit` turns one unit of change into tenge."""

    code: str
    name: Name
    unit: str
    frequency: str
    aggregation: str
    higher_is_better: bool
    value_kzt_per_unit: float
    min_value: float | None
    max_value: float | None


@dataclass(frozen=True, slots=True)
class TreatedSite:
    """A site where the pilot went live, and when."""

    site: str
    go_live: date


@dataclass(frozen=True, slots=True)
class Pilot:
    """An AI deployment: treated sites with go-lives, optional controls, metrics and costs (KZT)."""

    code: str
    name: Name
    subsidiary: str
    use_case: str
    sites: tuple[TreatedSite, ...]
    controls: tuple[str, ...]
    metrics: tuple[str, ...]
    capex_kzt: float
    opex_kzt_per_year: float


@dataclass(frozen=True, slots=True)
class Registry:
    """Everything one registry file names (it may name only part of the warehouse's reference data)."""

    subsidiaries: tuple[Subsidiary, ...] = ()
    sites: tuple[Site, ...] = ()
    metrics: tuple[Metric, ...] = ()
    pilots: tuple[Pilot, ...] = ()
