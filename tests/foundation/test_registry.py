from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from pilot_roi.errors import InvalidInput
from pilot_roi.registry import load_registry_file, parse_registry
from pilot_roi.registry.parse import KnownCodes, SiteInUse
from registry_sample import sample_registry

BASE: dict[str, Any] = {
    **sample_registry("KMG-ANPZ", "KMG-PNHZ", "KMG-SHNOS", "KTZ-AST"),
    "pilots": [
        {"code": "KMG-APC-01", "name": {"en": "APC"}, "subsidiary": "KMG", "use_case": "process_optimization",
         "sites": [{"site": "KMG-ANPZ", "go_live": "2025-03-01"}], "controls": ["KMG-PNHZ", "KMG-SHNOS"],
         "metrics": ["energy_gj"], "capex_kzt": 850_000_000, "opex_kzt_per_year": 120_000_000},
    ],
}  # fmt: skip


def _write(tmp_path: Path, doc: dict[str, Any], name: str = "registry.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _problems(doc: dict[str, Any], known: KnownCodes | None = None) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        parse_registry(doc, known)
    return {p.where: p.key for p in info.value.problems}


def _mutate(path: str, value: Any) -> dict[str, Any]:
    """BASE with the value at a dotted path (list indexes as numbers) replaced."""
    doc = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return doc


def test_the_base_registry_is_valid() -> None:
    registry = parse_registry(BASE)
    assert [p.code for p in registry.pilots] == ["KMG-APC-01"]
    assert registry.sites[1].name.ru == "Pavlodar refinery"  # missing languages fall back


@pytest.mark.parametrize(
    ("path", "value", "where", "key"),
    [
        ("sites.0.subsidiary", "XYZ", "sites[0].subsidiary", "registry.unknown_subsidiary"),
        ("sites.1.code", "KMG-ANPZ", "sites[1].code", "registry.duplicate_code"),
        ("sites.0.code", "bad code!", "sites[0].code", "registry.bad_code"),
        ("metrics.0.frequency", "hourly", "metrics[0].frequency", "registry.bad_choice"),
        ("metrics.0.higher_is_better", "no", "metrics[0].higher_is_better", "registry.not_bool"),
        ("metrics.0.value_kzt_per_unit", "много", "metrics[0].value_kzt_per_unit", "registry.not_number"),
        ("metrics.0.max_value", -1, "metrics[0].min_value", "registry.bounds_order"),
        ("pilots.0.capex_kzt", -5, "pilots[0].capex_kzt", "registry.negative"),
        ("pilots.0.opex_kzt_per_year", None, "pilots[0].opex_kzt_per_year", "registry.required"),
        ("pilots.0.use_case", "magic", "pilots[0].use_case", "registry.bad_choice"),
        ("pilots.0.sites.0.go_live", "2014-06-01", "pilots[0].sites[0].go_live", "registry.go_live_too_early"),
        ("pilots.0.sites.0.go_live", "2025-02-30", "pilots[0].sites[0].go_live", "registry.not_date"),
        ("pilots.0.sites.0.site", "KTZ-AST", "pilots[0].sites[0].site", "registry.site_other_subsidiary"),
        ("pilots.0.sites.0.site", "NOPE", "pilots[0].sites[0].site", "registry.unknown_site"),
        ("pilots.0.controls.0", "KMG-ANPZ", "pilots[0].controls[0]", "registry.control_is_treated"),
        ("pilots.0.metrics.0", "water_m3", "pilots[0].metrics[0]", "registry.unknown_metric"),
        ("pilots.0.metrics", [], "pilots[0].metrics", "registry.empty_list"),
        ("pilots.0.name", {}, "pilots[0].name", "registry.no_name"),
        ("pilots.0.sites", "KMG-ANPZ", "pilots[0].sites", "registry.not_list"),
    ],
)
def test_each_error_class_names_its_path(path: str, value: Any, where: str, key: str) -> None:
    assert _problems(_mutate(path, value)).get(where) == key


def test_every_problem_is_reported_at_once() -> None:
    doc = _mutate("pilots.0.capex_kzt", -1)
    doc["pilots"][0]["metrics"] = ["nope"]
    doc["sites"][0]["subsidiary"] = "XYZ"
    problems = _problems(doc)
    assert {"pilots[0].capex_kzt", "pilots[0].metrics[0]", "sites[0].subsidiary"} <= set(problems)


def test_unknown_sections_and_fields_are_named() -> None:
    doc = copy.deepcopy(BASE)
    doc["pilot"] = []
    doc["sites"][0]["regoin"] = "typo"
    problems = _problems(doc)
    assert problems["pilot"] == "registry.unknown_section"
    assert problems["sites[0].regoin"] == "registry.unknown_field"


def test_a_site_with_values_or_pilots_cannot_move_to_another_subsidiary() -> None:
    for in_use in (SiteInUse(12), SiteInUse(0, ("P-1",))):
        known = KnownCodes(subsidiaries=frozenset({"KMG", "KTZ"}), site_subsidiary={"KMG-ANPZ": "KTZ"},
                           sites_in_use={"KMG-ANPZ": in_use})  # fmt: skip
        assert _problems(BASE, known)["sites[0].subsidiary"] == "registry.site_moved"


def test_a_site_nothing_refers_to_yet_moves_to_another_subsidiary() -> None:
    known = KnownCodes(subsidiaries=frozenset({"KMG", "KTZ"}), site_subsidiary={"KMG-ANPZ": "KTZ"},
                       sites_in_use={"KTZ-OTHER": SiteInUse(5)})  # fmt: skip
    moved = parse_registry(BASE, known)
    assert moved.sites[0].code == "KMG-ANPZ" and moved.sites[0].subsidiary == "KMG"


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_messages_are_in_the_users_language(lang: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_registry(_mutate("pilots.0.capex_kzt", -5))
    text = info.value.render(lang)[0]
    assert text.startswith("pilots[0].capex_kzt: ")
    marker = {"ru": "отрицательным", "kk": "теріс", "en": "negative"}[lang]
    assert marker in text


def _snapshot(con) -> dict[str, list[tuple]]:
    tables = ["subsidiaries", "sites", "metrics", "pilot_registry", "pilot_treated_sites", "pilot_control_sites",
              "pilot_metrics"]  # fmt: skip
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def test_loading_twice_changes_nothing(tmp_path: Path, con) -> None:
    path = _write(tmp_path, BASE)
    first = load_registry_file(con, path)
    assert first.as_dict()["sites"] == {"created": 4, "updated": 0, "unchanged": 0}
    before = _snapshot(con)
    second = load_registry_file(con, path)
    assert not second.changed
    assert second.as_dict()["pilots"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert _snapshot(con) == before
    assert con.execute("SELECT count(*) FROM audit_log WHERE action = 'registry_load'").fetchone() == (1,)


def test_a_changed_file_updates_in_place(tmp_path: Path, con) -> None:
    load_registry_file(con, _write(tmp_path, BASE))
    doc = copy.deepcopy(BASE)
    doc["pilots"][0]["sites"] = [{"site": "KMG-ANPZ", "go_live": "2025-04-01"}]
    doc["pilots"][0]["controls"] = ["KMG-PNHZ"]
    doc["metrics"][0]["value_kzt_per_unit"] = 4500
    summary = load_registry_file(con, _write(tmp_path, doc, "v2.yaml"))
    assert summary.as_dict()["pilots"]["updated"] == 1
    assert summary.as_dict()["metrics"]["updated"] == 1
    assert con.execute("SELECT count(*) FROM pilot_registry").fetchone() == (1,)
    assert con.execute("SELECT go_live::VARCHAR FROM pilot_treated_sites").fetchall() == [("2025-04-01",)]
    assert con.execute("SELECT site_code FROM pilot_control_sites").fetchall() == [("KMG-PNHZ",)]
    assert con.execute("SELECT value_kzt_per_unit FROM metrics").fetchall() == [(4500.0,)]


def test_a_partial_file_is_validated_against_the_warehouse(tmp_path: Path, con) -> None:
    load_registry_file(con, _write(tmp_path, BASE))
    # another deployment at the same site (a later go-live): the very same design would be a twin, refused
    later = [{"site": "KMG-ANPZ", "go_live": "2025-06-01"}]
    pilot_only = {"pilots": [dict(BASE["pilots"][0], code="KMG-APC-02", sites=later)]}
    summary = load_registry_file(con, _write(tmp_path, pilot_only, "p.yaml"))
    assert summary.as_dict()["pilots"] == {"created": 1, "updated": 0, "unchanged": 0}


def test_an_invalid_file_changes_nothing(tmp_path: Path, con) -> None:
    load_registry_file(con, _write(tmp_path, BASE))
    before = _snapshot(con)
    doc = copy.deepcopy(BASE)
    doc["sites"].append({"code": "KMG-NEW", "subsidiary": "KMG", "name": {"en": "New"}})
    doc["pilots"][0]["capex_kzt"] = -1
    with pytest.raises(InvalidInput):
        load_registry_file(con, _write(tmp_path, doc, "bad.yaml"))
    assert _snapshot(con) == before


def test_broken_yaml_names_the_line(tmp_path: Path, con) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("sites:\n  - {code: A\n  - code: B\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        load_registry_file(con, path)
    assert "line" in info.value.render("en")[0]


@pytest.mark.parametrize("text", ["", "# the pilots go here\n", "{}\n"])
def test_an_empty_file_is_refused_not_loaded_as_nothing(tmp_path: Path, con, text: str) -> None:
    # before: "0 created, 0 updated, 0 unchanged" and exit 0, as if a load had worked
    load_registry_file(con, _write(tmp_path, BASE))
    before = (_snapshot(con), con.execute("SELECT count(*) FROM audit_log").fetchall())
    path = tmp_path / "empty.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        load_registry_file(con, path)
    assert [p.key for p in info.value.problems] == ["registry.empty_file"]
    assert "empty.yaml" in info.value.render("ru")[0]
    assert (_snapshot(con), con.execute("SELECT count(*) FROM audit_log").fetchall()) == before
