"""The Admin page's pure form builders: a form's raw values become a partial registry document that the real
validator (`parse_registry`) reads like a registry file, and a stored item goes back into the form unchanged."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from dashboards.components.registry_documents import (
    FORMS,
    MAX_FIELD_CHARS,
    MAX_LIST_ITEMS,
    codes,
    empty_fields,
    metric_document,
    number,
    pilot_document,
    pilot_fields,
    site_document,
    site_lines,
)

from pilot_roi.errors import InvalidInput
from pilot_roi.registry import KnownCodes, parse_registry
from pilot_roi.registry.model import Metric, Name, Pilot, Site, TreatedSite
from pilot_roi.registry.parse import SiteInUse

KNOWN = KnownCodes(
    subsidiaries=frozenset({"KMG", "KAP"}),
    site_subsidiary={"KMG-ANPZ": "KMG", "KMG-PNHZ": "KMG", "KMG-PKOP": "KMG", "KAP-IRK": "KAP"},
    metrics=frozenset({"energy_gj", "steam_t"}),
    data_start=date(2023, 1, 1),
    sites_in_use={"KMG-PNHZ": SiteInUse(730, ("KMG-PM-01",))},
)


def _problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidInput) as refused:
        parse_registry(doc, KNOWN)
    return [f"{p.where} {p.key}" for p in refused.value.problems]


def test_site_form_is_a_one_site_registry_document() -> None:
    fields = {"code": " KMG-NEW ", "subsidiary": "KMG", "name_ru": "Новый завод", "name_en": "New plant", "region": ""}
    doc = site_document(fields)
    assert doc == {
        "sites": [{"code": "KMG-NEW", "subsidiary": "KMG", "name": {"ru": "Новый завод", "en": "New plant"}}]
    }
    registry = parse_registry(doc, KNOWN)
    # Kazakh left empty falls back to Russian, exactly as in a registry file.
    assert registry.sites == (Site("KMG-NEW", "KMG", Name("Новый завод", "Новый завод", "New plant"), None),)


def test_metric_form_reads_numbers_as_people_type_them() -> None:
    fields = {
        "code": "energy_gj", "name_en": "Energy use", "unit": "GJ", "frequency": "daily", "aggregation": "sum",
        "higher_is_better": "false", "value_kzt_per_unit": "4 200,5", "min_value": "0", "max_value": "",
    }  # fmt: skip
    doc = metric_document(fields)
    assert doc["metrics"][0]["value_kzt_per_unit"] == 4200.5
    assert "max_value" not in doc["metrics"][0]
    metric = parse_registry(doc, KNOWN).metrics[0]
    assert metric == Metric("energy_gj", Name("Energy use", "Energy use", "Energy use"), "GJ", "daily", "sum",
                            False, 4200.5, 0.0, None)  # fmt: skip


def test_pilot_form_reads_site_lines_controls_and_metrics() -> None:
    fields = {
        "code": "KMG-APC-09", "name_en": "APC", "subsidiary": "KMG", "use_case": "process_optimization",
        "sites": "KMG-ANPZ, 2025-03-01\n\n  KMG-PNHZ; 15.04.2025  \n", "controls": ["KMG-PKOP"],
        "metrics": ["energy_gj"], "capex_kzt": "850 000 000", "opex_kzt_per_year": 120000000,
    }  # fmt: skip
    pilot = parse_registry(pilot_document(fields), KNOWN).pilots[0]
    assert pilot == Pilot(
        "KMG-APC-09", Name("APC", "APC", "APC"), "KMG", "process_optimization",
        (TreatedSite("KMG-ANPZ", date(2025, 3, 1)), TreatedSite("KMG-PNHZ", date(2025, 4, 15))),
        ("KMG-PKOP",), ("energy_gj",), 850_000_000.0, 120_000_000.0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("4200", 4200),
        ("4200.5", 4200.5),
        ("4200,5", 4200.5),
        ("1 200 000,5", 1_200_000.5),
        ("1\u00a0200\u00a0000", 1_200_000),
        ("1,200,000.5", 1_200_000.5),
        ("1,200,000", 1_200_000.0),
        ("\u22125", -5),
        ("-0.25", -0.25),
        ("", None),
        ("   ", None),
        (None, None),
        (7, 7),
        (2.5, 2.5),
        ("1,500", "1,500"),  # 1.5 or 1500: never guessed, the validator refuses it with the value
        ("twelve", "twelve"),
        (True, None),  # a bool is not a number: nothing is left of it
    ],
)
def test_numbers(typed: object, expected: object) -> None:
    assert number(typed) == expected


def test_site_lines_keep_what_is_missing_for_the_validator_to_name() -> None:
    assert site_lines("A, 2025-01-02\nB\n\nC 31.12.2024\nD, 2025/01/02") == [
        {"site": "A", "go_live": "2025-01-02"},
        {"site": "B"},
        {"site": "C", "go_live": "2024-12-31"},
        {"site": "D", "go_live": "2025/01/02"},
    ]
    doc = pilot_document({"code": "P", "name_en": "P", "subsidiary": "KMG", "use_case": "other",
                          "sites": "KMG-ANPZ\nKMG-PNHZ, 2022-06-01\nKMG-PKOP, 2025/01/02", "metrics": ["energy_gj"],
                          "capex_kzt": "1", "opex_kzt_per_year": "1"})  # fmt: skip
    assert _problems(doc) == [
        "pilots[0].sites[0].go_live registry.required",
        "pilots[0].sites[1].go_live registry.go_live_too_early",
        "pilots[0].sites[2].go_live registry.not_date",
    ]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (site_document({"code": "KMG-X", "subsidiary": "NOPE", "name_en": "X"}),
         ["sites[0].subsidiary registry.unknown_subsidiary"]),
        (site_document({"code": "KMG-PNHZ", "subsidiary": "KAP", "name_en": "X"}),
         ["sites[0].subsidiary registry.site_moved"]),
        (site_document({}), ["sites[0].code registry.required", "sites[0].subsidiary registry.required",
                             "sites[0].name registry.no_name"]),
        (metric_document({"code": "m", "name_en": "m", "unit": "t", "frequency": "daily", "aggregation": "sum",
                          "higher_is_better": "true", "value_kzt_per_unit": "-5"}),
         ["metrics[0].value_kzt_per_unit registry.negative"]),
        (metric_document({"code": "m", "name_en": "m", "unit": "t", "frequency": "hourly", "aggregation": "sum",
                          "higher_is_better": "maybe", "value_kzt_per_unit": "1,500", "min_value": "5",
                          "max_value": "1"}),
         ["metrics[0].frequency registry.bad_choice", "metrics[0].higher_is_better registry.not_bool",
          "metrics[0].value_kzt_per_unit registry.not_number", "metrics[0].min_value registry.bounds_order"]),
        (pilot_document({"code": "P", "name_en": "P", "subsidiary": "KMG", "use_case": "other",
                         "sites": "KMG-ANPZ, 2025-03-01", "controls": ["KMG-ANPZ"], "metrics": ["nope"],
                         "capex_kzt": "1", "opex_kzt_per_year": "-1"}),
         ["pilots[0].controls[0] registry.control_is_treated", "pilots[0].metrics[0] registry.unknown_metric",
          "pilots[0].opex_kzt_per_year registry.negative"]),
    ],
)  # fmt: skip
def test_invalid_forms_are_refused_by_the_registry_validator_with_paths(doc: dict, expected: list[str]) -> None:
    assert _problems(doc) == expected


def test_client_values_are_bounded_and_odd_types_ignored() -> None:
    doc = site_document({"code": ["KMG-X"], "subsidiary": {"x": 1}, "name_en": "n" * 5000, "region": 12})
    item = doc["sites"][0]
    assert item == {"name": {"en": "n" * MAX_FIELD_CHARS}}
    assert codes([f"S{i}" for i in range(MAX_LIST_ITEMS + 50)]) == [f"S{i}" for i in range(MAX_LIST_ITEMS)]
    assert codes("KMG-ANPZ") == ["KMG-ANPZ"]
    assert codes({"a": 1}) == []
    assert codes(["", 5, "A"]) == ["A"]


def test_a_stored_pilot_goes_into_the_form_and_back_unchanged() -> None:
    item = {
        "code": "KMG-APC-01", "name": {"ru": "АРС", "kk": "АРС", "en": "APC"}, "subsidiary": "KMG",
        "use_case": "process_optimization",
        "sites": [{"site": "KMG-ANPZ", "go_live": date(2025, 3, 1)}, {"site": "KMG-PNHZ", "go_live": date(2025, 4, 1)}],
        "controls": ["KMG-PKOP"], "metrics": ["energy_gj", "steam_t"], "capex_kzt": 850000000.0,
        "opex_kzt_per_year": 1.5,
    }  # fmt: skip
    fields = pilot_fields(item)
    assert fields["sites"] == "KMG-ANPZ, 2025-03-01\nKMG-PNHZ, 2025-04-01"
    assert fields["capex_kzt"] == "850000000"
    assert parse_registry(pilot_document(fields), KNOWN) == parse_registry({"pilots": [item]}, KNOWN)


def test_every_form_has_a_blank_state_for_a_new_code() -> None:
    for form in FORMS.values():
        blank = empty_fields(form.fields)
        assert set(blank) == set(form.fields)
        assert form.document(blank)[form.section] == [{"name": {}}]
