"""Messy panels through `estimate_effect`: whatever an analyst brings, the answer is a coherent result.

Random panels (daily, weekly, monthly or integer time; 1-15 sites; gaps, NaNs, constant and all-missing
sites, counts near zero, 1e12 outliers, go-lives before, at and after the edges) through every method and
a few option variants. A panel may be refused as a whole (`InvalidPanel`, in words); otherwise nothing
raises, an `ok` result has a finite effect, a positive finite standard error and an interval that holds
it, and any other result says why with a reason that has words. Runs of this generator over thousands of
seeds found four crashes, two intervals that missed their own estimate and one with unknown bounds; the
seeds that found them stay (`FOUND`), beside a small fixed sample.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import polars as pl
import pytest

from pilot_roi import estimate_effect
from pilot_roi.estimation.panel import InvalidPanel
from pilot_roi.i18n import t

METHODS = ("auto", "did", "staggered_did", "synthetic_control", "its")
VARIANTS: tuple[tuple[str, dict, dict], ...] = (
    ("its", {"its": {"model": "segmented"}}, {}),
    ("its", {"its": {"model": "segmented", "family": "poisson"}}, {}),
    ("its", {"its": {"model": "segmented", "slope_change": True, "onset_periods": 2}}, {}),
    ("its", {"its": {"use_controls": True}}, {}),
    ("synthetic_control", {"synthetic_control": {"intercept": True, "target": "pooled"}}, {}),
    ("synthetic_control", {"synthetic_control": {"inference": "conformal"}}, {}),
    ("staggered_did", {}, {"control_group": "not_yet_treated"}),
    ("staggered_did", {}, {"inference": "randomization"}),
    ("did", {}, {"inference": "wild_cluster_bootstrap"}),
    ("did", {}, {"inference": "hac"}),
    ("auto", {}, {"control_group": "not_yet_treated", "base_period": "varying"}),
)
# seeds that crashed or gave an incoherent interval before the fixes of 2026-11-27
FOUND = (20477, 40614, 101135, 301675)


def messy_panel(rng: np.random.Generator) -> pl.DataFrame:
    kind = rng.choice(["daily", "monthly", "int", "weekly"])
    big = rng.random() < 0.5
    n_units = int(rng.integers(1, 9)) if not big else int(rng.integers(5, 16))
    if big:
        n_times = int(rng.integers(20, 60 if kind != "daily" else 300))
    else:
        n_times = int(rng.integers(2, 120 if kind != "daily" else 400))
    n_treated = int(rng.integers(0, n_units + 1)) if not big else int(rng.integers(1, 4))
    rows = []
    previous = None
    for i in range(n_units):
        go_live = None
        if i < n_treated:
            if rng.random() < 0.3:
                go_live = int(rng.integers(-2, n_times + 2))
            else:
                go_live = int(rng.integers(max(1, n_times // 3), max(2, n_times - 1)))
            if rng.random() < 0.5 and i > 0:
                go_live = previous
            previous = go_live
        base = rng.normal(100, 10)
        constant = rng.random() < 0.1
        if rng.random() < 0.05:
            base = math.nan  # a site with no usable value
        if rng.random() < 0.1:
            base = rng.choice([0.0, 3.0])  # counts near zero
        for k in range(n_times):
            if rng.random() < (rng.choice([0, 0.05, 0.4]) if not big else 0.01):
                continue
            if constant:
                value = base
            else:
                value = base + rng.normal(0, rng.choice([1e-9, 1, 50])) + (0 if go_live is None or k < go_live else 3)
            if rng.random() < 0.02:
                value = math.nan
            if rng.random() < 0.005:
                value = float(rng.choice([1e12, -1e12, 0.0]))
            rows.append((f"s{i}", k, value, go_live))
    if not rows:
        rows.append(("s0", 0, 1.0, None))
    schema = {"site": pl.String, "t": pl.Int64, "value": pl.Float64, "g": pl.Int64}
    df = pl.DataFrame(rows, schema=schema, orient="row")
    if kind == "int":
        return df
    if kind == "monthly":
        to_date = lambda k: dt.date(2020 + k // 12, 1 + k % 12, 1)  # noqa: E731
    else:
        step = 1 if kind == "daily" else 7
        to_date = lambda k: dt.date(2024, 1, 1) + dt.timedelta(days=step * k)  # noqa: E731
    return df.with_columns(
        pl.col("t").map_elements(to_date, return_dtype=pl.Date), pl.col("g").map_elements(to_date, return_dtype=pl.Date)
    )


def _problems(res) -> list[str]:
    out = []
    for r in (res, *res.robustness):
        if r.status == "ok":
            if not (math.isfinite(r.att) and 0.0 < r.se < math.inf):
                out.append(f"{r.method}: att {r.att}, se {r.se}")
            elif math.isnan(r.ci_low) or math.isnan(r.ci_high) or not r.ci_low <= r.att <= r.ci_high:
                out.append(f"{r.method}: att {r.att} and its interval {r.ci_low} to {r.ci_high}")
            if not 0.0 <= r.p_value <= 1.0:
                out.append(f"{r.method}: p {r.p_value}")
        elif r.status == "insufficient_data":
            key = f"estimation.reason.{r.reason}"
            if not math.isnan(r.att) or t(key, "ru") == key:
                out.append(f"{r.method}: insufficient_data with att {r.att}, reason {r.reason!r} without words")
    return out


@pytest.mark.parametrize("seed", [*FOUND, *range(30)])
def test_a_messy_panel_gets_a_coherent_answer_from_every_method(seed: int) -> None:
    rng = np.random.default_rng(seed)
    df = messy_panel(rng)
    variants = [(m, {}, {}) for m in METHODS] + [VARIANTS[int(k)] for k in rng.choice(len(VARIANTS), 3, replace=False)]
    problems = []
    for method, method_options, options in variants:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = estimate_effect(
                    df, "site", "t", "value", "g", method=method, seed=seed, n_boot=99,
                    method_options=method_options or None, **options,
                )  # fmt: skip
        except InvalidPanel as exc:
            assert str(exc).strip()
            continue
        problems += [f"{method} {method_options} {options}: {p}" for p in _problems(res)]
    assert not problems, problems
