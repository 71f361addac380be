"""The shipped demo registry: valid, loadable, and with the designs the demo must show."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import yaml

from pilot_roi.demo.generate import REGISTRY_PATH, load_demo_registry, load_scenario, treatments
from pilot_roi.registry import load_registry_file, parse_registry

KAZAKH_LETTERS = set("әғқңөұүһі")
FIVE_USE_CASES = {
    "predictive_maintenance", "process_optimization", "quality_vision", "energy_optimization", "logistics_routing",
}  # fmt: skip


def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def test_registry_validates_and_has_the_required_breadth() -> None:
    registry = parse_registry(yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8")))
    assert len(registry.subsidiaries) >= 7
    assert {"KMG", "KAP", "KTZ", "KEGOC", "SE", "QG", "KZP"} <= {s.code for s in registry.subsidiaries}
    assert len(registry.sites) >= 40
    assert all(site.region for site in registry.sites)
    assert len(registry.pilots) >= 15
    assert {p.use_case for p in registry.pilots} >= FIVE_USE_CASES
    assert {m.frequency for m in registry.metrics} == {"daily", "monthly"}
    for pilot in registry.pilots:
        assert pilot.capex_kzt > 0 and pilot.opex_kzt_per_year > 0
        assert 1e8 <= pilot.capex_kzt <= 1e10  # hundreds of millions to billions of tenge


def test_names_are_in_three_languages_with_kazakh_letters() -> None:
    registry = load_demo_registry()
    named = [*registry.subsidiaries, *registry.sites, *registry.metrics, *registry.pilots]
    for item in named:
        assert item.name.ru and item.name.kk and item.name.en, item.code
    kazakh = " ".join(item.name.kk for item in named).lower()
    assert set(kazakh) | {"һ"} >= KAZAKH_LETTERS  # һ is rare in place names; every other letter appears
    assert sum(1 for item in named if KAZAKH_LETTERS & set(item.name.kk.lower())) > len(named) / 3


def test_go_lives_leave_enough_pre_and_post_data() -> None:
    scenario = load_scenario()
    registry = load_demo_registry()
    go_lives = [s.go_live for p in registry.pilots for s in p.sites]
    assert all(_months_between(scenario.start, d) >= 6 for d in go_lives)
    assert all(_months_between(d, scenario.end) >= 3 for d in go_lives)
    assert sum(d.year in (2024, 2025) for d in go_lives) == len(go_lives)


def test_designs_the_demo_must_show() -> None:
    scenario = load_scenario()
    registry = load_demo_registry()
    series = set(scenario.levels)
    treated_by: dict[str, list[str]] = {}
    for pilot in registry.pilots:
        for s in pilot.sites:
            treated_by.setdefault(s.site, []).append(pilot.code)
    # no site is treated by two pilots: each pilot's effect and controls stay clean
    assert all(len(codes) == 1 for codes in treated_by.values()), treated_by

    # staggered go-lives
    staggered = [p.code for p in registry.pilots if len({s.go_live for s in p.sites}) >= 2]
    assert len(staggered) >= 3

    # usable controls: listed ones (or, if none, the subsidiary's other sites) never treated by a pilot
    # and with data for the metric
    sites_of = {sub.code: [s.code for s in registry.sites if s.subsidiary == sub.code] for sub in registry.subsidiaries}
    no_controls = []
    for pilot in registry.pilots:
        candidates = list(pilot.controls) or [c for c in sites_of[pilot.subsidiary] if c not in treated_by]
        usable = [c for c in candidates if c not in treated_by and all((c, m) in series for m in pilot.metrics)]
        if not usable:
            no_controls.append(pilot.code)
    assert len(no_controls) >= 3, no_controls
    single_site_subsidiaries = {code for code, sites in sites_of.items() if len(sites) == 1}
    assert any(p.subsidiary in single_site_subsidiaries for p in registry.pilots if p.code in no_controls)
    all_treated = [p.code for p in registry.pilots if {s.site for s in p.sites} == set(sites_of[p.subsidiary])]
    assert all_treated and set(all_treated) <= set(no_controls)
    # Controls of about the treated sites' size: trends and seasons are proportional to level, so only then
    # are they parallel in metric units (the scale of the estimates).
    for pilot in registry.pilots:
        if pilot.code in no_controls:
            continue
        candidates = list(pilot.controls) or [c for c in sites_of[pilot.subsidiary] if c not in treated_by]
        for metric in pilot.metrics:
            treated_mean = sum(scenario.levels[(s.site, metric)] for s in pilot.sites) / len(pilot.sites)
            usable = [scenario.levels[(c, metric)] for c in candidates if (c, metric) in scenario.levels]
            control_mean = sum(usable) / len(usable)
            assert abs(treated_mean - control_mean) <= 0.15 * treated_mean, (pilot.code, metric)

    # kinds of truth: a few nulls, exactly one harmful, the rest real
    kinds = Counter(e.kind for e in scenario.effects.values())
    assert kinds["harmful"] == 1 and kinds["null"] >= 2 and kinds["real"] >= 10
    assert set(scenario.effects) == {p.code for p in registry.pilots}
    treatments(scenario, registry)  # raises if scenario and registry disagree


def test_registry_loads_into_a_warehouse_and_reloading_changes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    first = load_registry_file(con, REGISTRY_PATH, username="test")
    assert first.changed
    second = load_registry_file(con, Path(REGISTRY_PATH), username="test")
    assert not second.changed
    row = con.execute("SELECT value FROM warehouse_info WHERE key = 'data_start'").fetchone()
    assert row == ("2023-01-01",)
    counts = con.execute("SELECT (SELECT count(*) FROM sites), (SELECT count(*) FROM pilots)").fetchone()
    registry = load_demo_registry()
    assert counts == (len(registry.sites), len(registry.pilots))
