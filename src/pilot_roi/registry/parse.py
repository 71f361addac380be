"""Validate a registry document whole and turn it into a `Registry`, or refuse it with every problem.

Pure: the warehouse's existing codes come in as `KnownCodes`; nothing is read or written here.
Each problem names its place in the file, e.g. `pilots[3].sites[0].go_live`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.ingest.units import conversion_factor
from pilot_roi.registry.model import (
    AGGREGATIONS,
    FREQUENCIES,
    USE_CASES,
    Metric,
    Name,
    Pilot,
    Registry,
    Site,
    Subsidiary,
    TreatedSite,
)

DEFAULT_DATA_START = date(2015, 1, 1)
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SECTIONS = ("data_start", "subsidiaries", "sites", "metrics", "pilots")
_FIELDS = {
    "subsidiaries": ("code", "name", "sector"),
    "sites": ("code", "subsidiary", "name", "region"),
    "metrics": (
        "code", "name", "unit", "frequency", "aggregation", "higher_is_better",
        "value_kzt_per_unit", "min_value", "max_value",
    ),
    "pilots": (
        "code", "name", "subsidiary", "use_case", "sites", "controls", "metrics", "capex_kzt", "opex_kzt_per_year",
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoredValues:
    """The current observations a registered metric already has: the unit and frequency they were stored in."""

    unit: str
    frequency: str
    n_values: int
    n_sites: int
    first_period: date
    last_period: date
    pilots: tuple[str, ...] = ()  # pilots measured on the metric


@dataclass(frozen=True, slots=True)
class SiteInUse:
    """What already refers to a registered site: its current values and the pilots that name it."""

    n_values: int
    pilots: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredPilot:
    """A registered pilot's design as far as its estimates go: treated sites with go-lives, and metrics."""

    treated: frozenset[tuple[str, date]]
    metrics: frozenset[str]


@dataclass(frozen=True, slots=True)
class KnownCodes:
    """What the warehouse already holds: subsidiary codes, each site's subsidiary, metric codes.

    `stored_values`: metrics with observations (a file may not reinterpret them); `pilots`: each pilot's design
    (a file may not register the same deployment twice under two codes); `sites_in_use`: sites with values or
    pilots (a file may move only another site to a new subsidiary).
    """

    subsidiaries: frozenset[str] = frozenset()
    site_subsidiary: dict[str, str] = field(default_factory=dict)
    metrics: frozenset[str] = frozenset()
    data_start: date = DEFAULT_DATA_START
    stored_values: dict[str, StoredValues] = field(default_factory=dict)
    pilots: dict[str, StoredPilot] = field(default_factory=dict)
    sites_in_use: dict[str, SiteInUse] = field(default_factory=dict)


class _Collector:
    """Gathers problems so the user sees all of them at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, where: str, key: str, **params: Any) -> None:
        self.problems.append(Problem(key, where, params))

    def mapping(self, value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(where, "registry.not_mapping")
            return None
        for key in value:
            if key not in allowed:
                self.add(f"{where}.{key}", "registry.unknown_field", name=key, allowed=", ".join(allowed))
        return value

    def items(self, doc: dict[str, Any], section: str) -> list[Any]:
        value = doc.get(section)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(section, "registry.not_list")
            return []
        return value

    def code(self, value: Any, where: str) -> str | None:
        if value is None or value == "":
            self.add(where, "registry.required")
            return None
        text = str(value)
        if not _CODE.match(text):
            self.add(where, "registry.bad_code", value=text)
            return None
        return text

    def name(self, value: Any, where: str) -> Name:
        texts: dict[str, str] = {}
        if isinstance(value, str):
            texts = {"ru": value, "kk": value, "en": value}
        elif isinstance(value, dict):
            for key in value:
                if key not in ("ru", "kk", "en"):
                    self.add(f"{where}.{key}", "registry.unknown_field", name=key, allowed="ru, kk, en")
            texts = {k: str(v).strip() for k, v in value.items() if k in ("ru", "kk", "en") and v}
        if not texts:
            self.add(where, "registry.no_name")
            return Name("", "", "")
        # A missing language falls back to the nearest one the users share: ru <-> kk, then en.
        ru = texts.get("ru") or texts.get("kk") or texts.get("en", "")
        kk = texts.get("kk") or ru
        en = texts.get("en") or ru
        return Name(ru=ru, kk=kk, en=en)

    def choice(self, value: Any, where: str, allowed: tuple[str, ...]) -> str:
        if value is None or value == "":
            self.add(where, "registry.required")
            return ""
        if value not in allowed:
            self.add(where, "registry.bad_choice", value=value, allowed=", ".join(allowed))
        return str(value)

    def number(self, value: Any, where: str, *, required: bool, minimum: float | None = None) -> float | None:
        if value is None or value == "":
            if required:
                self.add(where, "registry.required")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
            self.add(where, "registry.not_number", value=value)
            return None
        number = float(value)
        if minimum is not None and number < minimum:
            self.add(where, "registry.negative", value=value)
        return number

    def boolean(self, value: Any, where: str) -> bool:
        if value is None:
            self.add(where, "registry.required")
            return False
        if not isinstance(value, bool):
            self.add(where, "registry.not_bool", value=value)
            return False
        return value

    def day(self, value: Any, where: str) -> date | None:
        if value is None or value == "":
            self.add(where, "registry.required")
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.add(where, "registry.not_date", value=value)
            return None


def parse_registry(doc: Any, known: KnownCodes | None = None) -> Registry:
    """The validated `Registry` of a YAML document, or InvalidInput listing every problem with its path."""
    known = known or KnownCodes()
    check = _Collector()
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise InvalidInput([Problem("registry.not_mapping", "/")])
    for section in doc:
        if section not in _SECTIONS:
            check.add(str(section), "registry.unknown_section", name=section, allowed=", ".join(_SECTIONS))
    data_start = known.data_start
    if "data_start" in doc:
        data_start = check.day(doc["data_start"], "data_start") or data_start

    seen: dict[tuple[str, str], str] = {}

    def first_time(kind: str, code: str | None, where: str) -> bool:
        if code is None:
            return False
        if (kind, code) in seen:
            check.add(where, "registry.duplicate_code", value=code, first=seen[(kind, code)])
            return False
        seen[(kind, code)] = where
        return True

    subsidiaries: list[Subsidiary] = []
    for i, raw in enumerate(check.items(doc, "subsidiaries")):
        where = f"subsidiaries[{i}]"
        item = check.mapping(raw, where, _FIELDS["subsidiaries"])
        if item is None:
            continue
        code = check.code(item.get("code"), f"{where}.code")
        name = check.name(item.get("name"), f"{where}.name")
        if first_time("subsidiary", code, f"{where}.code") and code:
            sector = item.get("sector")
            subsidiaries.append(Subsidiary(code, name, str(sector) if sector else None))
    subsidiary_codes = known.subsidiaries | {s.code for s in subsidiaries}

    sites: list[Site] = []
    for i, raw in enumerate(check.items(doc, "sites")):
        where = f"sites[{i}]"
        item = check.mapping(raw, where, _FIELDS["sites"])
        if item is None:
            continue
        code = check.code(item.get("code"), f"{where}.code")
        owner = check.code(item.get("subsidiary"), f"{where}.subsidiary")
        name = check.name(item.get("name"), f"{where}.name")
        if owner and owner not in subsidiary_codes:
            check.add(f"{where}.subsidiary", "registry.unknown_subsidiary", value=owner)
        existing_owner = known.site_subsidiary.get(code or "")
        in_use = known.sites_in_use.get(code or "")
        if code and owner and existing_owner and existing_owner != owner and in_use:
            # its values were uploaded by, and are shown to, the old subsidiary, and its pilots belong to it; a site
            # nothing refers to yet was only registered in the wrong place, and moves
            check.add(f"{where}.subsidiary", "registry.site_moved", value=code, existing=existing_owner,
                      new=owner, n_values=in_use.n_values, pilots=", ".join(in_use.pilots) or "—")  # fmt: skip
        if first_time("site", code, f"{where}.code") and code and owner:
            region = item.get("region")
            sites.append(Site(code, owner, name, str(region) if region else None))
    site_owner = dict(known.site_subsidiary) | {s.code: s.subsidiary for s in sites}

    metrics: list[Metric] = []
    for i, raw in enumerate(check.items(doc, "metrics")):
        where = f"metrics[{i}]"
        item = check.mapping(raw, where, _FIELDS["metrics"])
        if item is None:
            continue
        code = check.code(item.get("code"), f"{where}.code")
        name = check.name(item.get("name"), f"{where}.name")
        unit = str(item.get("unit") or "").strip()
        if not unit:
            check.add(f"{where}.unit", "registry.required")
        frequency = check.choice(item.get("frequency"), f"{where}.frequency", FREQUENCIES)
        aggregation = check.choice(item.get("aggregation"), f"{where}.aggregation", AGGREGATIONS)
        higher = check.boolean(item.get("higher_is_better"), f"{where}.higher_is_better")
        value = check.number(item.get("value_kzt_per_unit"), f"{where}.value_kzt_per_unit", required=True, minimum=0)
        low = check.number(item.get("min_value"), f"{where}.min_value", required=False)
        high = check.number(item.get("max_value"), f"{where}.max_value", required=False)
        if low is not None and high is not None and low > high:
            check.add(f"{where}.min_value", "registry.bounds_order", min=low, max=high)
        if code in known.stored_values:
            _check_stored_values(check, where, code, unit, frequency, known.stored_values[code])
        if first_time("metric", code, f"{where}.code") and code:
            metrics.append(Metric(code, name, unit, frequency, aggregation, higher, value or 0.0, low, high))
    metric_codes = known.metrics | {m.code for m in metrics}

    pilots: list[Pilot] = []
    for i, raw in enumerate(check.items(doc, "pilots")):
        where = f"pilots[{i}]"
        item = check.mapping(raw, where, _FIELDS["pilots"])
        if item is None:
            continue
        pilot = _parse_pilot(check, item, where, subsidiary_codes, site_owner, metric_codes, data_start)
        if first_time("pilot", pilot.code if pilot else None, f"{where}.code") and pilot:
            pilots.append(pilot)

    _check_no_twin_pilots(check, pilots, known.pilots)
    if check.problems:
        raise InvalidInput(check.problems)
    return Registry(tuple(subsidiaries), tuple(sites), tuple(metrics), tuple(pilots))


def _check_stored_values(
    check: _Collector, where: str, code: str, unit: str, frequency: str, stored: StoredValues
) -> None:
    """Refuse a new unit or frequency for a metric whose stored values were uploaded in the old ones.

    The values stay as stored, so a new unit (t -> kt) or frequency (daily -> monthly) would silently read every
    one of them in it: gains 1,000 times too large, a year priced as 12 periods of daily effects. A unit spelled
    another way (t -> т) is the same unit and passes.
    """
    common = {
        "code": code, "n_values": stored.n_values, "n_sites": stored.n_sites,
        "first": stored.first_period.isoformat(), "last": stored.last_period.isoformat(),
        "pilots": ", ".join(stored.pilots) or "—",
    }  # fmt: skip
    if unit and conversion_factor(unit, stored.unit) != 1.0:
        check.add(f"{where}.unit", "registry.unit_in_use", old=stored.unit, new=unit, **common)
    if frequency in FREQUENCIES and frequency != stored.frequency:
        check.add(f"{where}.frequency", "registry.frequency_in_use", old=stored.frequency, new=frequency, **common)


def _check_no_twin_pilots(check: _Collector, pilots: list[Pilot], stored: dict[str, StoredPilot]) -> None:
    """Refuse a pilot with the very treated sites and go-lives of another pilot and a metric in common.

    Both would be estimated on the same data and both counted in the portfolio's totals: the same deployment twice.
    This is what a renamed code in a file does (the registry never deletes: the old code stays), so the message
    says to keep the old code and change the name.
    """
    designs = dict(stored) | {
        p.code: StoredPilot(frozenset((s.site, s.go_live) for s in p.sites), frozenset(p.metrics)) for p in pilots
    }
    position = {p.code: i for i, p in enumerate(pilots)}
    for i, pilot in enumerate(pilots):
        mine = designs[pilot.code]
        if not mine.treated:
            continue
        for other in sorted(designs):
            if other == pilot.code or position.get(other, -1) > i:
                continue  # of two twins in the file, the later one is named
            shared = sorted(designs[other].metrics & mine.metrics)
            if shared and designs[other].treated == mine.treated:
                check.add(f"pilots[{i}].code", "registry.pilot_twin", value=pilot.code, other=other,
                          metrics=", ".join(shared))  # fmt: skip
                break


def _parse_pilot(
    check: _Collector,
    item: dict[str, Any],
    where: str,
    subsidiary_codes: frozenset[str] | set[str],
    site_owner: dict[str, str],
    metric_codes: frozenset[str] | set[str],
    data_start: date,
) -> Pilot | None:
    code = check.code(item.get("code"), f"{where}.code")
    name = check.name(item.get("name"), f"{where}.name")
    subsidiary = check.code(item.get("subsidiary"), f"{where}.subsidiary")
    if subsidiary and subsidiary not in subsidiary_codes:
        check.add(f"{where}.subsidiary", "registry.unknown_subsidiary", value=subsidiary)
    use_case = check.choice(item.get("use_case"), f"{where}.use_case", USE_CASES)

    treated: list[TreatedSite] = []
    raw_sites = item.get("sites")
    if not isinstance(raw_sites, list):
        check.add(f"{where}.sites", "registry.not_list" if raw_sites is not None else "registry.required")
        raw_sites = []
    elif not raw_sites:
        check.add(f"{where}.sites", "registry.empty_list")
    seen_sites: dict[str, str] = {}
    for j, raw in enumerate(raw_sites):
        at = f"{where}.sites[{j}]"
        entry = check.mapping(raw, at, ("site", "go_live"))
        if entry is None:
            continue
        site = check.code(entry.get("site"), f"{at}.site")
        go_live = check.day(entry.get("go_live"), f"{at}.go_live")
        if site:
            owner = site_owner.get(site)
            if owner is None:
                check.add(f"{at}.site", "registry.unknown_site", value=site)
            elif subsidiary and owner != subsidiary:
                check.add(f"{at}.site", "registry.site_other_subsidiary", value=site, owner=owner,
                          pilot_subsidiary=subsidiary)  # fmt: skip
            if site in seen_sites:
                check.add(f"{at}.site", "registry.duplicate_code", value=site, first=seen_sites[site])
            seen_sites.setdefault(site, f"{at}.site")
        if go_live is not None and go_live <= data_start:
            check.add(f"{at}.go_live", "registry.go_live_too_early", value=go_live.isoformat(),
                      data_start=data_start.isoformat())  # fmt: skip
        if site and go_live:
            treated.append(TreatedSite(site, go_live))

    controls: list[str] = []
    raw_controls = item.get("controls") or []
    if not isinstance(raw_controls, list):
        check.add(f"{where}.controls", "registry.not_list")
        raw_controls = []
    for j, raw in enumerate(raw_controls):
        at = f"{where}.controls[{j}]"
        site = check.code(raw, at)
        if not site:
            continue
        if site not in site_owner:
            check.add(at, "registry.unknown_site", value=site)
        elif site in seen_sites:
            check.add(at, "registry.control_is_treated", value=site)
        elif site in controls:
            check.add(at, "registry.duplicate_code", value=site, first=f"{where}.controls")
        else:
            controls.append(site)

    metrics: list[str] = []
    raw_metrics = item.get("metrics")
    if not isinstance(raw_metrics, list):
        check.add(f"{where}.metrics", "registry.not_list" if raw_metrics is not None else "registry.required")
        raw_metrics = []
    elif not raw_metrics:
        check.add(f"{where}.metrics", "registry.empty_list")
    for j, raw in enumerate(raw_metrics):
        at = f"{where}.metrics[{j}]"
        metric = check.code(raw, at)
        if metric and metric not in metric_codes:
            check.add(at, "registry.unknown_metric", value=metric)
        elif metric and metric in metrics:
            check.add(at, "registry.duplicate_code", value=metric, first=f"{where}.metrics")
        elif metric:
            metrics.append(metric)

    capex = check.number(item.get("capex_kzt"), f"{where}.capex_kzt", required=True, minimum=0)
    opex = check.number(item.get("opex_kzt_per_year"), f"{where}.opex_kzt_per_year", required=True, minimum=0)
    if not (code and subsidiary):
        return None
    return Pilot(
        code=code,
        name=name,
        subsidiary=subsidiary,
        use_case=use_case,
        sites=tuple(sorted(treated, key=lambda s: s.site)),
        controls=tuple(sorted(controls)),
        metrics=tuple(sorted(metrics)),
        capex_kzt=capex or 0.0,
        opex_kzt_per_year=opex or 0.0,
    )
