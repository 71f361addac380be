"""Registry units in the reader's language: known units translated, anything else shown as the registry has it."""

from __future__ import annotations

import pytest

from pilot_roi.i18n import unit_key, unit_label

DEMO_UNITS = ("%", "1000 m3", "mln m3", "GJ", "MWh", "g/kWh", "h", "items", "kgU", "min", "t", "wagons")


@pytest.mark.parametrize(
    ("unit", "ru", "kk", "en"),
    [
        ("t", "т", "т", "t"),
        ("min", "мин", "мин", "min"),
        ("h", "ч", "сағ", "h"),
        ("GJ", "ГДж", "ГДж", "GJ"),
        ("MWh", "МВт·ч", "МВт·сағ", "MWh"),
        ("g/kWh", "г/кВт·ч", "г/кВт·сағ", "g/kWh"),
        ("1000 m3", "тыс. м³", "мың м³", "thousand m³"),
        ("mln m3", "млн м³", "млн м³", "million m³"),
        ("items", "шт.", "дана", "items"),
        ("wagons", "ваг.", "вагон", "wagons"),
        ("kgU", "кг U", "кг U", "kg U"),
        ("%", "%", "%", "%"),
    ],
)
def test_known_units_read_in_each_language(unit: str, ru: str, kk: str, en: str) -> None:
    assert (unit_label(unit, "ru"), unit_label(unit, "kk"), unit_label(unit, "en")) == (ru, kk, en)


def test_every_demo_unit_has_a_translation() -> None:
    for unit in DEMO_UNITS:
        assert unit_label(unit, "ru") != unit or unit == "%", unit


def test_spacing_and_case_do_not_matter() -> None:
    assert unit_label("  MIN ", "ru") == "мин"
    assert unit_label("1000  M3", "kk") == "мың м³"
    assert unit_label("m³", "ru") == unit_label("m3", "ru") == "м³"
    assert unit_key("1000 m3") == "unit.1000_m3" and unit_key("g/kWh") == "unit.g_per_kwh"
    assert unit_key("%") == "unit.percent"


@pytest.mark.parametrize("unit", ["furlongs", "тыс. м³", "т", "кВт·ч", "", "  ", "-", "bbl/d"])
def test_unknown_or_already_local_units_are_shown_as_entered(unit: str) -> None:
    for lang in ("ru", "kk", "en"):
        assert unit_label(unit, lang) == unit
