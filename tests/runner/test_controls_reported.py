"""Each estimator says which control sites its estimate used (`diagnostics["control_sites"]`), and the runner records
those beside the result instead of every control the pilot-metric was offered (tests/reports/test_controls_used.py
follows them through a real run into the report).

The panel: two treated sites live on one date, four control sites that report throughout, and a fifth that stopped
reporting before go-live (it compares nothing: a DiD, a staggered DiD and a synthetic control leave it out).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from pilot_roi.estimation.api import estimate_effect
from pilot_roi.runner.model import RunSites

START = date(2024, 1, 1)
N_DAYS = 120
GO_LIVE = date(2024, 3, 1)
TREATED = ("T1", "T2")
CONTROLS = ("C1", "C2", "C3", "C4")
IDLE = "C5"  # stopped reporting in February


def panel(seed: int = 3) -> pl.DataFrame:
    """Daily values: a shared random walk, a level per site, noise, and a fall of 20 at the treated sites."""
    rng = np.random.default_rng(seed)
    days = [START + timedelta(days=i) for i in range(N_DAYS)]
    common = np.cumsum(rng.normal(0, 1.0, N_DAYS))
    frames = []
    for k, site in enumerate((*TREATED, *CONTROLS, IDLE)):
        value = 500.0 + 10.0 * k + common + rng.normal(0, 4.0, N_DAYS)
        live = GO_LIVE if site in TREATED else None
        if live is not None:
            value = value - 20.0 * np.array([d >= live for d in days])
        frame = pl.DataFrame({"site_code": site, "period": days, "value": value, "go_live": live},
                             schema_overrides={"go_live": pl.Date})  # fmt: skip
        frames.append(frame.filter(pl.col("period") < date(2024, 2, 15)) if site == IDLE else frame)
    return pl.concat(frames)


def estimate(method: str, **extra: Any) -> Any:
    return estimate_effect(panel(), unit="site_code", time="period", outcome="value", first_treated="go_live",
                           method=method, frequency="daily", seed=5, **extra)  # fmt: skip


@pytest.mark.parametrize(
    ("method", "extra", "expected"),
    [
        ("did", {}, list(CONTROLS)),
        ("staggered_did", {}, list(CONTROLS)),
        # the whole donor pool the weights were fitted on (a donor with a gap is dropped from it), whatever its weight
        ("synthetic_control", {}, list(CONTROLS)),
        # the treated sites' own history: no control site at all
        ("its", {}, []),
        # with control series: the mean of every never-treated site with a value (C5's before February included)
        ("its", {"method_options": {"its": {"use_controls": True}}}, [*CONTROLS, IDLE]),
    ],
)
def test_every_estimator_says_which_control_sites_it_used(method: str, extra: dict[str, Any], expected: list[str]):
    result = estimate(method, **extra)
    assert result.status == "ok", result.reason
    assert result.diagnostics["control_sites"] == expected
    if method in ("did", "staggered_did", "synthetic_control"):
        assert result.n_controls == len(expected)


def test_an_its_without_an_estimate_still_says_it_uses_no_control_site():
    short = panel().filter(pl.col("period") >= GO_LIVE - timedelta(days=3))  # three days of history: too few
    result = estimate_effect(short, unit="site_code", time="period", outcome="value", first_treated="go_live",
                             method="its", frequency="daily")  # fmt: skip
    assert result.status == "insufficient_data"
    assert result.diagnostics["control_sites"] == []


OFFERED = RunSites((("T1", GO_LIVE), ("T2", GO_LIVE)), ("C1", "C2", "C3", "C4", "C5"), "subsidiary_never_treated")


@pytest.mark.parametrize(
    ("diagnostics", "controls"),
    [
        ({"control_sites": ["C2", "C1"]}, ("C1", "C2")),  # what the estimate reports, by code
        ({"control_sites": []}, ()),  # an interrupted time series: none
        # no estimate to say (the design stopped it first, or it failed): the controls it was offered
        ({"controls": list(OFFERED.controls)}, OFFERED.controls),
        ({}, OFFERED.controls),
    ],
)
def test_the_runner_records_the_controls_the_estimate_reports(diagnostics: dict[str, Any], controls: tuple[str, ...]):
    from pilot_roi.runner.run import used_sites

    sites = used_sites(OFFERED, diagnostics)
    assert sites == RunSites(OFFERED.treated, controls, OFFERED.control_rule)
    assert used_sites(None, diagnostics) is None  # a result carried forward from before runs recorded sites
