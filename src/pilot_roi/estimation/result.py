"""The one result type every estimation method returns (see PRODUCT.md, "Python estimation API")."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pilot_roi.estimation.options import Status

_EMPTY_GROUP_TIME = pl.DataFrame(
    schema={
        "group": pl.Int64,
        "time": pl.Int64,
        "att": pl.Float64,
        "se": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
    }
)
#: Columns of every method's `event_study` frame.
EVENT_STUDY_SCHEMA = {
    "event_time": pl.Int64,
    "att": pl.Float64,
    "se": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
}
_EMPTY_EVENT_STUDY = pl.DataFrame(schema=EVENT_STUDY_SCHEMA)


@dataclass(frozen=True, slots=True)
class EffectResult:
    """The effect of a treatment on one outcome, as estimated by one method.

    Units: `att`, `se`, `ci_low`, `ci_high` are in the outcome's units per treated unit and period
    (average effect on the treated over the post period); `att_pct` is in percent of the counterfactual
    mean over the post period (-4.2 means a 4.2% fall). `p_value` is two-sided for H0: att = 0.

    Frames (polars):
    - `group_time`: group, time, att, se, ci_low, ci_high (staggered designs; empty otherwise)
    - `event_study`: event_time, att, se, ci_low, ci_high (event_time 0 = first treated period)
    - `counterfactual`: time, observed, counterfactual, ci_low, ci_high (mean over treated units)

    A design that cannot support an estimate returns `status="insufficient_data"` with a `reason`
    code (e.g. `insufficient_pre_periods`, `no_controls`) and NaN numbers, never an exception.
    """

    method: str
    status: Status = "ok"
    reason: str | None = None
    method_reason: str = ""
    att: float = math.nan
    se: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    p_value: float = math.nan
    att_pct: float = math.nan
    inference: str = ""
    pre_trend_p: float | None = None
    mde: float | None = None
    n_treated: int = 0
    n_controls: int = 0
    n_pre_periods: int = 0
    n_post_periods: int = 0
    group_time: pl.DataFrame = field(default_factory=lambda: _EMPTY_GROUP_TIME.clone())
    event_study: pl.DataFrame = field(default_factory=lambda: _EMPTY_EVENT_STUDY.clone())
    counterfactual: pl.DataFrame | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    robustness: tuple[EffectResult, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the result carries a number."""
        return self.status == "ok" and math.isfinite(self.att)

    def summary(self, lang: str = "en") -> str:
        """A plain-language paragraph and a table (text, in ru, kk or en); defined in `estimation.summary`."""
        from pilot_roi.estimation.summary import summarize

        return summarize(self, lang)


def insufficient(method: str, reason: str, **diagnostics: Any) -> EffectResult:
    """A result that says why no number can be given."""
    return EffectResult(method=method, status="insufficient_data", reason=reason, diagnostics=dict(diagnostics))
