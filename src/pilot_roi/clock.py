"""Time as the product's readers live it: moments stored in UTC, shown and dated in Kazakhstan's zone.

The warehouse keeps every moment (uploads, audit events, runs, freezes) as a naive UTC timestamp. People read
them on their own clock: Kazakhstan has one zone, UTC+5, since 1 March 2024 (before it Astana and Almaty were
UTC+6; tzdata's Asia/Almaty knows both). `PILOT_ROI_TIMEZONE` (an IANA name) sets another zone. "Today", the day
after which a period is in the future, is the day in that zone: a server on UTC would otherwise refuse, from
midnight to 5 a.m. in Astana, data for the day that has begun there.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

DEFAULT_ZONE = "Asia/Almaty"


def zone_name() -> str:
    """PILOT_ROI_TIMEZONE when it names a zone tzdata knows, else Asia/Almaty."""
    name = os.environ.get("PILOT_ROI_TIMEZONE", "").strip() or DEFAULT_ZONE
    return name if _zone(name) is not None else DEFAULT_ZONE


def zone() -> ZoneInfo:
    """The product's time zone (see `zone_name`)."""
    found = _zone(zone_name())
    assert found is not None  # Asia/Almaty ships with tzdata, a dependency
    return found


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def now_utc() -> datetime:
    """This moment as the warehouse stores moments: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


# A period's length in polars' duration language, by the registry's frequency: periods are labelled by their first day.
PERIOD_LENGTH: dict[str, str] = {"daily": "1d", "weekly": "1w", "monthly": "1mo", "quarterly": "1q", "yearly": "1y"}


def not_ended(period: pl.Expr, frequency: str, day: date) -> pl.Expr:
    """True where the period labelled `period` (its first day) has not ended by the end of `day`: its last day is
    `day` or later."""
    return period.dt.offset_by(PERIOD_LENGTH[frequency]) > day


def today(now: datetime | None = None) -> date:
    """The date in the product's zone at `now` (naive UTC; default: this moment)."""
    return local(now or now_utc()).date()


def local(moment: datetime) -> datetime:
    """A stored moment (naive UTC) on the product's clock (naive local time)."""
    return moment.replace(tzinfo=UTC).astimezone(zone()).replace(tzinfo=None)


def day_start_utc(day: date) -> datetime:
    """The moment (naive UTC) the day `day` begins in the product's zone: where a day's filter starts."""
    return datetime.combine(day, time(), tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)


def offset_label(moment: datetime | None = None) -> str:
    """The zone's offset from UTC at `moment` (naive UTC; default now), as readers write it: "UTC+5", "UTC+5:30"."""
    offset = (moment or now_utc()).replace(tzinfo=UTC).astimezone(zone()).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_text(column: str | pl.Expr, fmt: str = "%Y-%m-%d %H:%M") -> pl.Expr:
    """A polars expression: naive UTC timestamps in `column` as text on the product's clock."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.cast(pl.Datetime("us")).dt.replace_time_zone("UTC").dt.convert_time_zone(zone_name()).dt.strftime(fmt)


def local_moment_text(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """One stored moment (naive UTC) as text on the product's clock; "" for None."""
    return local(moment).strftime(fmt) if moment is not None else ""


def zoned(text: str) -> str:
    """A header or a time with the zone it is read in: "When (UTC+5)"."""
    return f"{text} ({offset_label()})"


def stamp(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """One stored moment on the product's clock with its zone, for a sentence: "2026-11-28 09:10 (UTC+5)"; "" for
    None."""
    return zoned(local_moment_text(moment, fmt)) if moment is not None else ""
