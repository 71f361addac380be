"""One pilot-metric's estimate never raises: bad panels become result rows that say why."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import polars as pl
import pytest

from pilot_roi.runner import EstimateJob, derive_seed
from pilot_roi.runner.worker import dumps, jsonable, run_job

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")


def _job(panel: pl.DataFrame) -> EstimateJob:
    return EstimateJob("P", "m", "hash", panel, seed=1, method="auto", control_group="never_treated",
                       context={"controls": ["B"]})  # fmt: skip


def test_a_panel_with_duplicate_rows_becomes_an_error_row() -> None:
    day = dt.date(2024, 1, 1)
    panel = pl.DataFrame(
        {"site_code": ["A", "A"], "period": [day, day], "value": [1.0, 2.0], "go_live": [day, day]},
        schema={"site_code": pl.String, "period": pl.Date, "value": pl.Float64, "go_live": pl.Date},
    )
    result = run_job(_job(panel))
    assert result.status == "error"
    assert result.reason is not None and result.reason.startswith("invalid_panel")
    assert result.diagnostics == {"controls": ["B"]}
    assert math.isnan(result.effect)


def test_a_panel_of_the_wrong_shape_becomes_an_error_row() -> None:
    result = run_job(_job(pl.DataFrame({"site_code": ["A"], "when": ["yesterday"]})))
    assert result.status == "error" and result.reason


def test_too_little_data_is_insufficient_not_an_exception() -> None:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(5)]
    panel = pl.DataFrame(
        {
            "site_code": ["A"] * 5 + ["B"] * 5,
            "period": days * 2,
            "value": np.arange(10, dtype=float),
            "go_live": [days[3]] * 5 + [None] * 5,
        },
        schema={"site_code": pl.String, "period": pl.Date, "value": pl.Float64, "go_live": pl.Date},
    )
    result = run_job(_job(panel))
    assert result.status in ("insufficient_data", "error")
    assert result.reason


def test_seeds_and_json_are_canonical() -> None:
    assert derive_seed(1, "P", "m") == derive_seed(1, "P", "m")
    assert derive_seed(1, "P", "m") != derive_seed(1, "m", "P")
    assert 0 <= derive_seed(2**40, "x") < 2**63
    value = {"b": np.float64(1.5), "a": [math.nan, np.int32(2), dt.date(2024, 1, 2)], "c": {"z", "y"}}
    assert jsonable(value) == {"b": 1.5, "a": [None, 2, "2024-01-02"], "c": ["y", "z"]}
    assert dumps(value) == dumps(dict(reversed(value.items())))
    assert json.loads(dumps({"inf": math.inf})) == {"inf": None}


def test_run_options_are_checked_at_the_boundary() -> None:
    from pilot_roi.runner import RunOptions

    with pytest.raises(ValueError, match="any_pilot, same_metric"):
        RunOptions(contamination="nearby")
    with pytest.raises(ValueError, match="method"):
        RunOptions(method="magic")
    with pytest.raises(ValueError, match="horizon_years"):
        RunOptions(horizon_years=0)
    assert RunOptions(contamination="same_metric").parameters()["contamination"] == "same_metric"
