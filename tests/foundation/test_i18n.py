from __future__ import annotations

import re

import pytest

from pilot_roi.i18n import catalog, format_money, format_number, format_percent, t

KAZAKH_LETTERS = set("әғқңөұүһі")


def test_every_message_has_all_three_languages_with_the_same_placeholders() -> None:
    placeholder = re.compile(r"{(\w+)}")
    for key, texts in catalog().items():
        assert set(texts) >= {"ru", "kk", "en"}, key
        names = {lang: set(placeholder.findall(texts[lang])) for lang in ("ru", "kk", "en")}
        assert names["ru"] == names["kk"] == names["en"], key


def test_kazakh_texts_use_kazakh_letters() -> None:
    kazakh = " ".join(texts["kk"] for texts in catalog().values())
    assert KAZAKH_LETTERS & set(kazakh.lower())


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (1_234_567_890, "ru", "1,2 млрд ₸"),
        (1_234_567_890, "kk", "1,2 млрд ₸"),
        (1_234_567_890, "en", "1.2 bn ₸"),
        (310_000_000, "en", "310.0 M ₸"),
        (-45_500, "ru", "-45,5 тыс. ₸"),
        (950, "en", "950 ₸"),
    ],
)
def test_money_is_formatted_for_the_locale(value: float, lang: str, expected: str) -> None:
    assert format_money(value, lang) == expected


def test_numbers_and_percentages() -> None:
    assert format_number(1234567.891, "ru", 2) == "1\u00a0234\u00a0567,89"
    assert format_number(1234567.891, "en", 2) == "1,234,567.89"
    assert format_percent(-4.25, "en") == "-4.2%" or format_percent(-4.25, "en") == "-4.3%"
    assert format_percent(float("nan"), "kk") == "—"


def test_unknown_keys_and_languages_degrade_gracefully() -> None:
    assert t("no.such.key", "ru") == "no.such.key"
    assert t("warehouse.busy", "fr", path="x").startswith("The warehouse x")


def test_every_reason_an_estimator_gives_has_words() -> None:
    # The reason codes written in the estimators' sources (`insufficient(method, "code", ...)`), read from
    # the files so that a new code without words fails here, not in front of a user.
    from pathlib import Path

    import pilot_roi.estimation as estimation

    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(estimation.__file__).parent.glob("*.py"))
    codes = set(re.findall(r'insufficient\(\s*[\w"]+,\s*"([a-z_]+)"', source))
    assert {"insufficient_post_periods_with_controls", "too_few_controls", "degenerate_fit"} <= codes
    missing = sorted(code for code in codes if f"estimation.reason.{code}" not in catalog())
    assert not missing, missing
