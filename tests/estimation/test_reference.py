"""Agreement with established implementations on public panels (../shared/refdata, skipped when absent).

- mpdta (Callaway & Sant'Anna 2021) against R `did` as published in its README (4 decimals; the pre-test
  p-value to 5) and against csdid 0.4.3 with analytic standard errors (full precision; the script that
  made tests/data/reference/*_csdid_analytic.json is beside it). Published R standard errors are
  multiplier-bootstrap draws (random: two renderings of the same README differ by up to 10%), so ours
  (analytic) are compared with them at 12% and with csdid's analytic ones at 1e-6.
- castle (Cheng & Hoekstra 2013): Callaway & Sant'Anna against csdid (never- and not-yet-treated), and
  TWFE β and clustered SE against pyfixest (β to 1e-6; SE to 1e-6 under both named dof conventions:
  our default "nested" = pyfixest's default, "full" = pyfixest ssc(k_fixef="full")).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pilot_roi import estimate_effect
from pilot_roi.estimation.did import fit_twfe, treatment_dummy
from pilot_roi.estimation.panel import prepare_panel
from pilot_roi.estimation.staggered import aggregate, group_time_effects

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
pytestmark = pytest.mark.reference


def _load(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


def _gt(refdata: Path, name: str, control_group: str = "never_treated"):
    if name == "mpdta":
        p = prepare_panel(
            pl.read_csv(refdata / "mpdta.csv"), "county", "year", "lemp", "first_treat", never_treated_value=0
        )
    else:
        p = prepare_panel(pl.read_csv(refdata / "castle.csv"), "state", "year", "l_homicide", "effyear")
    cohorts = np.unique(p.first_treated[p.first_treated > 0])
    return p, group_time_effects(p.wide(), p.first_treated, cohorts, base="varying", control_group=control_group)


def _se(infl: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(infl**2, axis=0))


def test_mpdta_matches_published_r_did(refdata: Path) -> None:
    ref = _load("mpdta_did_published.json")
    p, gt = _gt(refdata, "mpdta")
    labels = p.time_labels
    assert [int(labels[g]) for g in gt.group] == ref["att_gt"]["group"]
    assert [int(labels[t]) for t in gt.time] == ref["att_gt"]["time"]
    np.testing.assert_allclose(gt.att, ref["att_gt"]["att"], atol=5e-5)  # published to 4 decimals
    np.testing.assert_allclose(_se(gt.infl), ref["att_gt"]["se_bootstrap"], rtol=0.12)
    pre = gt.time < gt.group
    from pilot_roi.estimation.inference import wald_test

    v = gt.infl[:, pre].T @ gt.infl[:, pre]
    assert wald_test(gt.att[pre], v, math.inf) == pytest.approx(ref["pretest_p"], abs=5e-6)
    for kind in ("dynamic", "group"):
        agg = aggregate(gt, kind)
        assert agg.estimate[-1] == pytest.approx(ref[kind]["overall_att"], abs=5e-4 if kind == "group" else 5e-5)
        np.testing.assert_allclose(agg.estimate[:-1], ref[kind]["att_egt"], atol=5e-5)
        np.testing.assert_allclose(
            _se(agg.infl), [*ref[kind]["se_egt_bootstrap"], ref[kind]["overall_se_bootstrap"]], rtol=0.12
        )


@pytest.mark.parametrize(
    ("name", "control_group"), [("mpdta", "nevertreated"), ("castle", "nevertreated"), ("castle", "notyettreated")]
)
def test_callaway_santanna_matches_csdid_analytic(refdata: Path, name: str, control_group: str) -> None:
    ref = _load(f"{name}_csdid_analytic.json")[control_group]
    ours = "never_treated" if control_group == "nevertreated" else "not_yet_treated"
    _, gt = _gt(refdata, name, ours)
    np.testing.assert_allclose(gt.att, ref["att_gt"]["att"], atol=1e-6)
    np.testing.assert_allclose(_se(gt.infl), ref["att_gt"]["se"], rtol=1e-6)
    for kind in ("simple", "dynamic", "group"):
        agg = aggregate(gt, kind)
        se = _se(agg.infl)
        assert agg.estimate[-1] == pytest.approx(ref[kind]["overall_att"], abs=1e-6)
        assert se[-1] == pytest.approx(ref[kind]["overall_se"], rel=1e-6)
        if "att_egt" in ref[kind]:
            np.testing.assert_allclose(agg.estimate[:-1], ref[kind]["att_egt"], atol=1e-6)
            np.testing.assert_allclose(se[:-1], ref[kind]["se_egt"], rtol=1e-6)


def test_mpdta_through_the_public_api(refdata: Path) -> None:
    ref = _load("mpdta_csdid_analytic.json")["nevertreated"]
    res = estimate_effect(
        pl.read_csv(refdata / "mpdta.csv"),
        "county",
        "year",
        "lemp",
        "first_treat",
        never_treated_value=0,
        method="staggered_did",
        base_period="varying",
        min_pre_periods=1,
        inference="influence_function",
        diagnostics=False,
    )
    assert res.att == pytest.approx(ref["simple"]["overall_att"], abs=1e-6)
    assert res.se == pytest.approx(ref["simple"]["overall_se"], rel=1e-6)
    assert res.pre_trend_p == pytest.approx(0.16812, abs=5e-6)
    assert res.group_time.height == 12


@pytest.mark.parametrize("weighted", [False, True])
def test_castle_twfe_matches_pyfixest(refdata: Path, weighted: bool) -> None:
    pf = pytest.importorskip("pyfixest")
    df = pl.read_csv(refdata / "castle.csv")
    p = prepare_panel(df, "state", "year", "l_homicide", "effyear")
    w = None
    if weighted:
        pop = df.select("state", "popwt").unique().sort("state")["popwt"].to_numpy()
        w = pop[p.unit_idx]
    fit = fit_twfe(p.y, treatment_dummy(p), p.unit_idx, p.time_idx, p.n_units, p.n_times, weights=w)
    fit_full = fit_twfe(p.y, treatment_dummy(p), p.unit_idx, p.time_idx, p.n_units, p.n_times, weights=w, ssc="full")
    pdf = df.to_pandas()
    pdf["post"] = ((pdf["effyear"].notna()) & (pdf["year"] >= pdf["effyear"])).astype(float)
    kw = {"weights": "popwt"} if weighted else {}
    full = pf.feols(
        "l_homicide ~ post | state + year", data=pdf, vcov={"CRV1": "state"}, ssc=pf.ssc(k_fixef="full"), **kw
    )
    default = pf.feols("l_homicide ~ post | state + year", data=pdf, vcov={"CRV1": "state"}, **kw)
    assert fit.coef[0] == pytest.approx(float(default.coef().iloc[0]), abs=1e-6)
    assert fit.se[0] == pytest.approx(float(default.se().iloc[0]), rel=1e-6)
    assert fit_full.se[0] == pytest.approx(float(full.se().iloc[0]), rel=1e-6)
