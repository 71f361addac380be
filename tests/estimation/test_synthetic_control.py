"""Synthetic control: the solver, the design checks, calibration by small simulation, published results."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pilot_roi.estimation import _sc_core as core
from pilot_roi.estimation._sc_its_simulate import simulate_sc_panel
from pilot_roi.estimation.panel import from_arrays, prepare_panel
from pilot_roi.estimation.synthetic_control import estimate_synthetic_control

ROOT = Path(__file__).resolve().parents[2]
REFDATA = ROOT / ".." / "shared" / "refdata"
REFERENCE = ROOT / "tests" / "data" / "reference"
needs_refdata = pytest.mark.skipif(not REFDATA.is_dir(), reason="../shared/refdata is absent")


def _panel(y: np.ndarray, go_live: np.ndarray):
    n_units, n_times = y.shape
    unit = np.repeat(np.arange(n_units), n_times)
    time = np.tile(np.arange(n_times), n_units)
    return from_arrays(unit, time, y.ravel(), go_live)


# --- the solver -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_active_set_matches_or_beats_slsqp(seed: int) -> None:
    # SLSQP is the reference implementation; ours is exact, so it may only be better (1e-9 relative:
    # SLSQP's own stopping tolerance is ~1e-14 on the scaled objective)
    rng = np.random.default_rng(seed)
    n_rows, n_donors = int(rng.integers(4, 50)), int(rng.integers(2, 30))
    a = rng.normal(size=(n_rows, n_donors)).cumsum(axis=0) + rng.normal(size=n_donors) * 3
    b = a[:, : min(3, n_donors)].mean(axis=1) + rng.normal(size=n_rows) * rng.uniform(0, 2) + rng.normal()
    w, solver = core.simplex_weights(a, b)
    w_ref, _ = core.simplex_weights(a, b, method="slsqp")
    assert solver == "active_set"
    assert np.all(w >= 0) and math.isclose(w.sum(), 1.0, abs_tol=1e-12)
    obj = float(np.sum((a @ w - b) ** 2))
    obj_ref = float(np.sum((a @ w_ref - b) ** 2))
    assert obj <= obj_ref * (1 + 1e-9) + 1e-12


def test_exact_convex_combination_is_recovered() -> None:
    # a treated path that *is* a convex combination of donors: weights and effect recovered to 1e-8
    rng = np.random.default_rng(1)
    donors = rng.normal(size=(6, 40)).cumsum(axis=1) + rng.normal(size=(6, 1)) * 5
    w_true = np.array([0.5, 0.3, 0.2, 0.0, 0.0, 0.0])
    treated = w_true @ donors
    treated[25:] += 2.5
    res = estimate_synthetic_control(_panel(np.vstack([treated, donors]), np.array([25, -1, -1, -1, -1, -1, -1])))
    assert res.ok
    weights = res.diagnostics["weights"]["0"]
    for k, w in enumerate(w_true):
        assert weights.get(str(k + 1), 0.0) == pytest.approx(w, abs=1e-8)
    assert res.att == pytest.approx(2.5, abs=1e-8)
    assert res.diagnostics["pre_fit"]["0"]["pre_rmspe"] < 1e-8


def test_intercept_variant_absorbs_a_level_shift() -> None:
    rng = np.random.default_rng(2)
    donors = rng.normal(size=(5, 30)).cumsum(axis=1)
    treated = 0.6 * donors[0] + 0.4 * donors[1] + 10.0
    plain = estimate_synthetic_control(_panel(np.vstack([treated, donors]), np.array([20, -1, -1, -1, -1, -1])))
    demeaned = estimate_synthetic_control(
        _panel(np.vstack([treated, donors]), np.array([20, -1, -1, -1, -1, -1])), intercept=True
    )
    assert demeaned.att == pytest.approx(0.0, abs=1e-8)
    assert demeaned.diagnostics["pre_fit"]["0"]["intercept"] == pytest.approx(10.0, abs=1e-8)
    assert abs(plain.att) > 1.0  # without the intercept the level gap cannot be matched


# --- the design checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("go_live", "n_donors", "options", "reason"),
    [
        (np.array([10]), 0, {}, "no_controls"),
        (np.array([10]), 1, {}, "too_few_controls"),
        (np.array([3]), 5, {}, "insufficient_pre_periods"),
        (np.array([30]), 5, {}, "insufficient_post_periods"),
        (np.array([-1]), 5, {}, "no_treated"),
        (np.array([10]), 3, {"min_donors": 4}, "too_few_controls"),
        # four treated sites, three donors: no placebo can draw four distinct donors (it used to crash)
        (np.array([10, 10, 10, 10]), 3, {}, "too_few_controls"),
        (np.array([10, 10, 10, 10]), 3, {"target": "pooled"}, "too_few_controls"),
        # conformal inference needs one go-live; on staggered ones it falls back to placebos, which cannot draw
        (np.array([10, 12, 14, 16]), 3, {"inference": "conformal"}, "too_few_controls"),
    ],
)
def test_degenerate_designs_say_why(go_live: np.ndarray, n_donors: int, options: dict, reason: str) -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=(go_live.size + n_donors, 30)).cumsum(axis=1)
    res = estimate_synthetic_control(_panel(y, np.concatenate([go_live, -np.ones(n_donors, np.int64)])), **options)
    assert res.status == "insufficient_data"
    assert res.reason == reason
    assert math.isnan(res.att)


def test_donor_with_a_gap_is_dropped_and_listed() -> None:
    rng = np.random.default_rng(3)
    df = simulate_sc_panel(rng, n_units=8, n_pre=60, n_post=20)
    donors = df.filter(pl.col("go_live").is_null())["site"].unique().sort().to_list()
    holed = df.filter(~((pl.col("site") == donors[0]) & (pl.col("date") == pl.col("date").min())))
    res = estimate_synthetic_control(prepare_panel(holed, "site", "date", "value", "go_live"))
    assert res.ok
    assert res.diagnostics["dropped_donors"] == [donors[0]]
    assert res.n_controls == 6


def test_unknown_option_lists_the_allowed() -> None:
    panel = _panel(np.random.default_rng(0).normal(size=(4, 20)), np.array([10, -1, -1, -1]))
    with pytest.raises(ValueError, match="allowed"):
        estimate_synthetic_control(panel, weights="nope")
    with pytest.raises(ValueError, match="choose one of"):
        estimate_synthetic_control(panel, inference="bayes")


def test_same_seed_same_numbers_and_row_order_is_irrelevant() -> None:
    rng = np.random.default_rng(4)
    df = simulate_sc_panel(rng, n_units=9, n_treated=2, n_pre=60, n_post=20, effect=1.0)
    a = estimate_synthetic_control(prepare_panel(df, "site", "date", "value", "go_live"), seed=7)
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=11).to_pandas()
    b = estimate_synthetic_control(prepare_panel(shuffled, "site", "date", "value", "go_live"), seed=7)
    for field in ("att", "se", "ci_low", "ci_high", "p_value", "att_pct"):
        assert getattr(a, field) == getattr(b, field)
    assert a.counterfactual is not None and b.counterfactual is not None
    assert a.counterfactual.equals(b.counterfactual)


def test_frames_have_the_contract_columns() -> None:
    df = simulate_sc_panel(np.random.default_rng(5), n_units=12, n_pre=60, n_post=20, effect=2.0)
    res = estimate_synthetic_control(prepare_panel(df, "site", "date", "value", "go_live"))
    assert res.counterfactual is not None
    assert res.counterfactual.columns == ["time", "observed", "counterfactual", "ci_low", "ci_high"]
    assert res.counterfactual.schema["time"] == pl.Date
    assert res.counterfactual.height == 80
    assert res.event_study.columns == ["event_time", "att", "se", "ci_low", "ci_high"]
    post = res.counterfactual.filter(pl.col("time") >= df["go_live"].drop_nulls().min())
    gap = (post["observed"] - post["counterfactual"]).mean()
    assert gap == pytest.approx(res.att, abs=1e-9)
    assert res.att_pct == pytest.approx(100 * res.att / post["counterfactual"].mean(), rel=1e-9)


# --- calibration by simulation ---------------------------------------------------------------------
# Exchangeable factor-model panels (treated sites drawn at random), daily, weekly + annual seasonality,
# AR(1) noise. 80 replications per design keep this under a few seconds; tolerances are wide enough
# for that size (binomial sd of a 5% rate over 80 draws is 2.4 points) and tight enough to catch a
# broken test: the full study (>= 500 replications) is bench/validation/sc_its.py.


def _replicate(n: int, effect: float, **design: int) -> np.ndarray:
    out = []
    for s in range(n):
        df = simulate_sc_panel(np.random.default_rng(10_000 + s), effect=effect, n_pre=90, n_post=30, **design)
        r = estimate_synthetic_control(prepare_panel(df, "site", "date", "value", "go_live"), seed=s)
        out.append((r.att, r.ci_low, r.ci_high, r.p_value))
    return np.asarray(out)


@pytest.mark.slow
def test_placebo_inference_is_calibrated_with_20_donors() -> None:
    res = _replicate(80, effect=0.0, n_units=21)
    att, lo, hi, p = res.T
    # rank test: exact level under exchangeability; 0.125 = 5% + 3 binomial sd
    assert np.mean(p <= 0.05) <= 0.125
    assert np.mean((lo <= 0) & (hi >= 0)) >= 0.85
    # no bias by symmetry: |mean| within 3 standard errors of the mean
    assert abs(att.mean()) <= 3 * att.std(ddof=1) / math.sqrt(att.size)


@pytest.mark.slow
def test_placebo_t_inference_covers_with_few_donors_and_two_treated() -> None:
    effect = 1.0
    res = _replicate(60, effect=effect, n_units=10, n_treated=2)
    att, lo, hi, _ = res.T
    # the t interval is conservative for few donors (measured ~97-100%); 0.85 catches a broken one
    assert np.mean((lo <= effect) & (effect <= hi)) >= 0.85
    assert abs(att.mean() - effect) <= 3 * att.std(ddof=1) / math.sqrt(att.size)


# --- published results -----------------------------------------------------------------------------


def _load(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


@pytest.mark.reference
@needs_refdata
def test_prop99_matches_synthdid() -> None:
    ref = _load("sc_prop99.json")
    df = pl.read_csv(REFDATA / "prop99.csv").with_columns(
        pl.when(pl.col("state") == "California").then(1989).otherwise(None).alias("go_live")
    )
    panel = prepare_panel(df, "state", "year", "cigsale", "go_live")
    res = estimate_synthetic_control(panel)
    pub = ref["published"]
    tol = ref["tolerances"]
    assert res.att == pytest.approx(pub["sc_att"], abs=tol["att"]["value"])
    weights = res.diagnostics["weights"]["California"]
    for state, w in pub["sc_weights"].items():
        assert weights.get(state, 0.0) == pytest.approx(w, abs=tol["weight"]["value"]), state
    assert sum(w for s, w in weights.items() if s not in pub["sc_weights"]) < tol["weight"]["value"]
    assert res.diagnostics["pre_fit"]["California"]["pre_r2"] > 0.95
    demeaned = estimate_synthetic_control(panel, intercept=True)
    assert demeaned.att == pytest.approx(pub["difp_att"], abs=tol["att"]["value"])
    assert res.diagnostics["inference"] == "placebo" and res.diagnostics["inference_n_placebos"] == 38


@pytest.mark.reference
@needs_refdata
def test_basque_outcome_only_synthesis_against_published_weights() -> None:
    ref = _load("sc_basque.json")
    raw = pl.read_csv(REFDATA / "basque.csv")
    df = raw.filter(pl.col("regionno") != 1).with_columns(
        pl.when(pl.col("regionname").str.starts_with("Basque")).then(1970).otherwise(None).alias("go_live")
    )
    res = estimate_synthetic_control(prepare_panel(df, "regionname", "year", "gdpcap", "go_live"))
    assert res.ok
    wide = raw.pivot(on="regionname", index="year", values="gdpcap").sort("year")
    years = wide["year"].to_numpy()
    basque = wide["Basque Country (Pais Vasco)"].to_numpy()
    published = sum(w * wide[r].to_numpy() for r, w in ref["published"]["weights_with_predictors"].items())
    pre, post = years < 1970, years >= 1970
    rmspe_published = float(np.sqrt(np.mean((basque - published)[pre] ** 2)))
    tol = ref["tolerances"]
    assert res.diagnostics["pre_rmspe"] <= rmspe_published + tol["rmspe_optimality"]["value"]
    att_published = float(np.mean((basque - published)[post]))
    assert res.att < 0
    assert res.att == pytest.approx(att_published, abs=tol["att_vs_published_weights"]["value"])


@pytest.mark.reference
@needs_refdata
@pytest.mark.parametrize(
    ("case", "unit", "outcome", "drop_region"),
    [("prop99", "state", "cigsale", False), ("basque", "regionname", "gdpcap", True)],
)
def test_outcome_only_weights_match_pysyncon(case: str, unit: str, outcome: str, drop_region: bool) -> None:
    # pysyncon 1.7.0 (R Synth's Python port) solving Synth's problem with V = I on every pre-period outcome,
    # which is our outcome-only synthetic control (tests/data/reference/make_sc_pysyncon_reference.py). Its
    # SLSQP stops close to the optimum: our exact active-set weights must reach at least its pre-period fit
    # (never a worse optimum) and agree with its weights and ATT to what its solver resolves.
    ref = _load("sc_pysyncon.json")[case]
    raw = pl.read_csv(REFDATA / ("basque.csv" if case == "basque" else "prop99.csv"))
    df = raw.filter(pl.col("regionno") != 1) if drop_region else raw
    df = df.with_columns(
        pl.when(pl.col(unit) == ref["treated"]).then(ref["first_treated_year"]).otherwise(None).alias("go_live")
    )
    res = estimate_synthetic_control(prepare_panel(df, unit, "year", outcome, "go_live"))
    ours = res.diagnostics["weights"][ref["treated"]]
    wide = df.pivot(on=unit, index="year", values=outcome).sort("year")
    pre = wide["year"].to_numpy() < ref["first_treated_year"]
    treated = wide[ref["treated"]].to_numpy()[pre]
    loss = float(np.sum((treated - sum(w * wide[d].to_numpy()[pre] for d, w in ours.items())) ** 2))
    assert loss <= ref["pre_loss"] * (1 + 1e-12)
    assert max(abs(ours.get(d, 0.0) - w) for d, w in ref["weights"].items()) < 2e-5
    assert res.att == pytest.approx(ref["att"], abs=5e-5)


def test_staggered_go_lives_and_pooled_target() -> None:
    rng = np.random.default_rng(12)
    df = simulate_sc_panel(rng, n_units=15, n_treated=2, n_pre=80, n_post=40, effect=3.0)
    treated = sorted(df.filter(pl.col("go_live").is_not_null())["site"].unique().to_list())
    later = df.with_columns(
        pl.when(pl.col("site") == treated[1])
        .then(pl.col("go_live") + pl.duration(days=10))
        .otherwise(pl.col("go_live"))
        .alias("go_live")
    )
    # the second site's own go-live moves 10 days later; its first 10 "treated" days become pre-period
    staggered = estimate_synthetic_control(prepare_panel(later, "site", "date", "value", "go_live"), seed=1)
    assert staggered.ok and staggered.n_treated == 2
    assert set(staggered.diagnostics["weights"]) == set(treated)
    assert staggered.event_study["event_time"].min() == -90
    pooled = estimate_synthetic_control(prepare_panel(later, "site", "date", "value", "go_live"), target="pooled")
    assert pooled.diagnostics["target"] == "separate"  # one go-live needed: said in the notes
    assert pooled.diagnostics["notes"]
    same_day = estimate_synthetic_control(prepare_panel(df, "site", "date", "value", "go_live"), target="pooled")
    assert same_day.diagnostics["target"] == "pooled"
    assert list(same_day.diagnostics["weights"]) == ["treated_mean"]
    assert abs(same_day.att - 3.0) < 4 * same_day.se


@pytest.mark.parametrize(("n_pool", "k"), [(10, 1), (10, 3), (7, 5), (20, 4)])
def test_finite_pool_factor_turns_subset_means_into_independent_units(n_pool: int, k: int) -> None:
    # Every k-subset of a pool of N values: the spread of their means, scaled by the factor, is the spread
    # the mean of k independent units drawn from the values' distribution would have (s / sqrt(k)).
    values = np.random.default_rng(n_pool + k).normal(size=n_pool)
    means = np.asarray([values[list(c)].mean() for c in itertools.combinations(range(n_pool), k)])
    scaled = float(np.std(means)) * core.finite_pool_factor(n_pool, k)
    assert scaled == pytest.approx(float(np.std(values, ddof=1)) / math.sqrt(k), rel=1e-12)
    assert math.isnan(core.finite_pool_factor(k, k))
