"""One frozen Settings object, read once from flags and the environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar, cast

from pilot_roi.errors import InvalidInput, Problem

Lang = Literal["ru", "kk", "en"]
N = TypeVar("N", int, float)
LANGS: tuple[Lang, ...] = ("ru", "kk", "en")

DEFAULT_WAREHOUSE = Path("warehouse") / "pilot_roi.duckdb"
DEMO_WAREHOUSE = Path("warehouse") / "demo.duckdb"


def default_lang() -> Lang:
    """The user's language: PILOT_ROI_LANG, else the locale of messages (LC_ALL, LC_MESSAGES, LANG: the first
    set, as POSIX orders them), else English."""
    explicit = os.environ.get("PILOT_ROI_LANG", "").strip().lower()
    if explicit in LANGS:
        return cast(Lang, explicit)
    locale = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    prefix = locale[:2].lower()
    if prefix in ("ru", "kk"):
        return cast(Lang, prefix)
    return "en"


def default_warehouse() -> Path:
    """PILOT_ROI_WAREHOUSE if set, else warehouse/pilot_roi.duckdb relative to the working directory."""
    env = os.environ.get("PILOT_ROI_WAREHOUSE")
    return Path(env) if env else DEFAULT_WAREHOUSE


@dataclass(frozen=True, slots=True)
class Settings:
    """What every command needs to know about where it runs and for whom."""

    warehouse: Path
    lang: Lang = "en"
    user: str = "cli"
    discount_rate: float = 0.15
    horizon_years: int = 5
    seed: int = 20250811

    @classmethod
    def from_env(cls, warehouse: str | Path | None = None, lang: str | None = None) -> Settings:
        """Settings from explicit values where given, else from the environment.

        Raises InvalidInput when PILOT_ROI_DISCOUNT_RATE or PILOT_ROI_HORIZON_YEARS is not a number.
        """
        chosen_lang = lang if lang in LANGS else default_lang()
        problems: list[Problem] = []
        discount_rate = _env_number("PILOT_ROI_DISCOUNT_RATE", "0.15", float, "estimate.bad_discount_rate", problems)
        horizon_years = _env_number("PILOT_ROI_HORIZON_YEARS", "5", int, "estimate.bad_horizon", problems)
        if problems:
            raise InvalidInput(problems)
        return cls(
            warehouse=Path(warehouse) if warehouse else default_warehouse(),
            lang=cast(Lang, chosen_lang),
            user=os.environ.get("PILOT_ROI_USER", "cli"),
            discount_rate=discount_rate,
            horizon_years=horizon_years,
        )


def _env_number(name: str, default: str, read: Callable[[str], N], key: str, problems: list[Problem]) -> N:
    """The environment variable `name` read as a number; a text that is not one adds a problem (and the
    default stands in, so every bad variable is reported at once)."""
    text = os.environ.get(name, default)
    try:
        return read(text)
    except ValueError:
        problems.append(Problem(key, where=name, params={"value": text}))
        return read(default)
