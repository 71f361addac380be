"""The product's clock: moments stored in UTC, read and dated in Kazakhstan (UTC+5 since 1 March 2024)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from pilot_roi import clock


@pytest.fixture(autouse=True)
def _kazakhstan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PILOT_ROI_TIMEZONE", raising=False)


def test_kazakhstan_is_utc_plus_5_and_was_plus_6_before_march_2024() -> None:
    assert clock.zone_name() == "Asia/Almaty"
    assert clock.offset_label(datetime(2026, 11, 27, 20, 0)) == "UTC+5"
    assert clock.offset_label(datetime(2024, 1, 15, 12, 0)) == "UTC+6"


def test_a_late_utc_evening_is_the_next_day_in_astana() -> None:
    evening = datetime(2026, 11, 27, 20, 0)
    assert clock.local(evening) == datetime(2026, 11, 28, 1, 0)
    assert clock.today(evening) == date(2026, 11, 28)
    assert clock.today(datetime(2026, 11, 27, 18, 59, 59)) == date(2026, 11, 27)
    assert clock.day_start_utc(date(2026, 11, 28)) == datetime(2026, 11, 27, 19, 0)
    assert clock.local_moment_text(evening) == "2026-11-28 01:00" and clock.local_moment_text(None) == ""
    frame = pl.DataFrame({"at": [evening, None]})
    assert frame.select(clock.local_text("at")).to_series().to_list() == ["2026-11-28 01:00", None]


def test_another_zone_where_it_is_set_and_almaty_where_the_name_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PILOT_ROI_TIMEZONE", "Asia/Kolkata")
    assert clock.offset_label(datetime(2026, 11, 27, 20, 0)) == "UTC+5:30"
    assert clock.local(datetime(2026, 11, 27, 20, 0)) == datetime(2026, 11, 28, 1, 30)
    monkeypatch.setenv("PILOT_ROI_TIMEZONE", "America/New_York")
    assert clock.offset_label(datetime(2026, 11, 27, 20, 0)) == "UTC−5"
    monkeypatch.setenv("PILOT_ROI_TIMEZONE", "Mars/Olympus")
    assert clock.zone_name() == "Asia/Almaty"
