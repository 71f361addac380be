"""Metamorphic relations of `estimate_effect`: what must hold whatever the data (an auditor's checks).

Each case is a random panel (seed fixed) of one design, run through one method; each test transforms the
panel and compares every number of the result (headline, event study, counterfactual path, robustness
methods and the placebo / leave-one-out diagnostics) with what the relation predicts.

Relations and how exact they are:
- Location/scale: y -> a + b·y (b > 0) gives att -> b·att, se and the interval -> b·(...), p-values, status,
  method and labels unchanged; b < 0 flips the sign and swaps the interval's ends. Closed forms agree to
  1e-6 of b·se, plus the rounding of the transformed input itself (a + b·y loses |a|·eps, so a shift of 1e5 on
  a metric scaled by 1e-3 leaves about 1e-8 of its standard deviation). The structural ITS model is fitted by
  an optimizer: to 5e-3 of b·se (`OPTIMIZER_TOL`; seen up to 1.3e-3 over 320 random panels, a bug would be
  1e-2 or more; before the fix it differed by up to 40 se). Poisson ITS is
  exempt from shifts and sign flips (a count model: only b > 0 applies); `att_pct` is only scale-free.
- Relabelling: renaming sites in an order-preserving way and shuffling the rows change nothing (bit for bit up
  to 1e-12 of se). An arbitrary renaming reorders the sites: closed forms agree to 1e-9 (summation order);
  Monte Carlo numbers (wild and multiplier bootstraps, sampled randomization and placebo draws) are drawn per
  site in label order and change within their Monte Carlo error, so they are left out of that comparison.
- Irrelevant additions: a site live from the first period (no pre-period), or one going live after the panel
  (when the comparison is with never-treated sites), changes nothing; a constant added to one control's series
  changes no difference-in-differences number (site fixed effects), gaps or not.
- Time shifts: moving every date and go-live by whole weeks (daily, weekly) or months (monthly), or integers by
  any amount, is exact (monthly annual harmonics take their phase from the calendar month, not the day count).
- Determinism: the same panel and seed give the same result bit for bit, twice in one process and in another
  process with another hash seed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import subprocess
import sys
import warnings
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import pytest

from pilot_roi import estimate_effect

EPS = np.finfo(float).eps


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: one cache entry per case
class Case:
    """One design and method; `mc` lists fields whose numbers are Monte Carlo draws in site order."""

    name: str
    seed: int
    kind: str  # daily | weekly | monthly | int
    n_times: int
    n_treated: int
    n_controls: int
    cohorts: int = 1
    gaps: bool = False
    method: str = "auto"
    method_options: dict[str, dict[str, Any]] | None = None
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    poisson: bool = False
    optimizer: bool = False  # structural ITS somewhere in the result
    mc: tuple[str, ...] = ()
    not_yet_treated: bool = False  # late sites are controls
    did_family: bool = True  # a constant on one control changes nothing


QUIET = {"diagnostics": False, "robustness": False}
CASES = (
    Case("did_placebo_variance_daily_gaps", 11, "daily", 120, 3, 6, gaps=True, method="did", options=QUIET),
    Case("did_har_monthly_gaps", 12, "monthly", 30, 2, 2, gaps=True, method="did"),
    Case("did_wild_bootstrap_weekly", 13, "weekly", 40, 7, 5, method="did", options=QUIET, mc=("ci_", "p_value")),
    Case(
        "did_auto_with_diagnostics_and_robustness",
        14,
        "daily",
        100,
        2,
        4,
        gaps=True,
        optimizer=True,
        mc=("randomization_p_value",),
    ),
    Case("staggered_never_treated_daily_gaps", 15, "daily", 90, 4, 5, cohorts=2, gaps=True, method="staggered_did"),
    Case(
        "staggered_influence_function_int",
        16,
        "int",
        40,
        10,
        11,
        cohorts=3,
        method="staggered_did",
        options=QUIET,
        mc=("uniform_critical_value",),
    ),
    Case("staggered_all_treated_weekly", 17, "weekly", 40, 7, 0, cohorts=3, not_yet_treated=True, options=QUIET),
    Case("synthetic_control_one_treated_daily", 18, "daily", 90, 1, 8, method="synthetic_control", did_family=False),
    Case(
        "synthetic_control_two_treated_intercept",
        19,
        "monthly",
        36,
        2,
        7,
        method="synthetic_control",
        method_options={"synthetic_control": {"intercept": True}},
        did_family=False,
        mc=("ci_", "p_value", "se", "es.", "cf.ci", "mde"),
    ),
    Case(
        "synthetic_control_conformal",
        20,
        "weekly",
        40,
        1,
        6,
        method="synthetic_control",
        method_options={"synthetic_control": {"inference": "conformal"}},
        did_family=False,
    ),
    Case("its_segmented_monthly", 21, "monthly", 40, 1, 0, method="its"),
    Case("its_structural_weekly", 22, "weekly", 60, 1, 0, method="its", optimizer=True),
    Case("its_structural_daily_pooled", 23, "daily", 120, 2, 0, gaps=False, method="its", optimizer=True),
    Case(
        "its_poisson_monthly",
        24,
        "monthly",
        40,
        1,
        0,
        method="its",
        method_options={"its": {"model": "segmented", "family": "poisson"}},
        poisson=True,
    ),
)
# The structural ITS fit stops where its optimizer's tolerance says: rescaled or reordered input moves it by
# up to ~1e-3 of the standard error (320 random panels); 1e-2 would be a bug (PRODUCT: metrics from 0.01 to 1e7).
OPTIMIZER_TOL = 5e-3
SCALES = ((0.0, 7.0), (1e5, 1e-3), (-1e5, 1e4), (0.0, 1e6), (1e5, -7.0))


def _dates(kind: str, ks: list[int | None]) -> list[Any]:
    if kind == "int":
        return ks
    start = dt.date(2023, 1, 2)
    if kind == "monthly":
        return [None if k is None else dt.date(2023 + k // 12, 1 + k % 12, 1) for k in ks]
    step = 1 if kind == "daily" else 7
    return [None if k is None else start + dt.timedelta(days=step * k) for k in ks]


@cache
def panel(case: Case) -> pl.DataFrame:
    """A panel of `case`'s design: site levels, a shared random walk, AR(1) noise, a weekday profile for daily
    data, a small trend and an effect per treated site from its go-live on (counts for Poisson)."""
    rng = np.random.default_rng(case.seed)
    n_units, n_times = case.n_treated + case.n_controls, case.n_times
    lo, hi = int(0.5 * n_times), int(0.8 * n_times)
    go = np.sort(rng.choice(np.arange(lo, hi), size=case.cohorts, replace=False))
    common = np.cumsum(rng.normal(0, 0.3, n_times))
    weekday = rng.normal(0, 2, 7)
    rows = []
    for i in range(n_units):
        g = int(go[i % case.cohorts]) if i < case.n_treated else None
        level, loading, rho, effect = rng.normal(100, 15), rng.normal(1, 0.2), rng.uniform(0, 0.6), rng.normal(3, 2)
        e = 0.0
        for k in range(n_times):
            e = rho * e + rng.normal(0, 2)
            if case.gaps and rng.random() < 0.04 and not (g is not None and abs(k - g) < 2):
                continue
            v = level + loading * common[k] + e + (weekday[k % 7] if case.kind == "daily" else 0.0) + 0.02 * k
            v += effect if g is not None and k >= g else 0.0
            rows.append((f"s{i:02d}", k, float(rng.poisson(max(v / 10, 0.5))) if case.poisson else v, g))
    df = pl.DataFrame(rows, schema={"site": pl.String, "t": pl.Int64, "value": pl.Float64, "g": pl.Int64}, orient="row")
    if case.kind == "int":
        return df
    mapping = dict(zip(range(n_times), _dates(case.kind, list(range(n_times))), strict=True))
    return df.with_columns(
        pl.col("t").replace_strict(mapping, return_dtype=pl.Date),
        pl.col("g").replace_strict(mapping, default=None, return_dtype=pl.Date),
    )


def run(case: Case, df: pl.DataFrame) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimate_effect(
            df, "site", "t", "value", "g", method=case.method, seed=case.seed, n_boot=199,
            method_options=case.method_options, **case.options,
        )  # fmt: skip


@cache
def base(case: Case) -> dict[str, Any]:
    return flat(run(case, panel(case)))


def flat(res: Any, prefix: str = "") -> dict[str, Any]:
    """Every number and label of a result (and of its robustness results), by a dotted name."""
    out: dict[str, Any] = {}
    for name in ("status", "reason", "method", "inference", "n_treated", "n_controls", "n_pre_periods"):
        out[prefix + name] = getattr(res, name)
    for name in ("att", "se", "ci_low", "ci_high", "p_value", "att_pct", "pre_trend_p", "mde"):
        out[prefix + name] = getattr(res, name)
    diag = res.diagnostics
    for name in ("randomization_p_value", "cluster_se", "analytic_se", "dynamic_att", "dynamic_se", "pre_rmse"):
        if name in diag:
            out[prefix + "diag." + name] = diag[name]
    for block in ("placebo_in_time", "leave_one_out"):
        for key, value in (diag.get(block) or {}).items():
            if key != "fake_go_live":
                out[f"{prefix}diag.{block}.{key}"] = value
    if res.event_study is not None:
        for col in ("att", "se", "ci_low", "ci_high"):
            out[prefix + "es." + col] = res.event_study[col].to_numpy()
    if res.counterfactual is not None:
        for col in ("observed", "counterfactual", "ci_low", "ci_high"):
            out[prefix + "cf." + col] = res.counterfactual[col].to_numpy()
    for r in res.robustness:
        out.update(flat(r, f"rob[{r.method}]."))
    return out


# How a number moves under y -> a + b·y: effects by b, spreads by |b|, interval ends swap when b < 0, levels
# (the counterfactual path) by a + b·y, probabilities and counts not at all.
_EFFECT = {"att", "dynamic_att", "max_change"}
_SPREAD = {"se", "mde", "cluster_se", "analytic_se", "dynamic_se", "pre_rmse"}
_ENDS = {"ci_low": "ci_high", "ci_high": "ci_low", "att_min": "att_max", "att_max": "att_min"}
_LEVEL = {"observed", "counterfactual"}


def _expected(r0: dict[str, Any], key: str, a: float, b: float) -> tuple[np.ndarray, bool] | None:
    """(expected value, scales with b) of `key` after y -> a + b·y; None when the relation says nothing."""
    last = key.rsplit(".", 1)[-1]
    x = np.atleast_1d(np.asarray(r0[key], float))
    level_path = ".cf." in "." + key and last in ("ci_low", "ci_high")
    if last in _ENDS and b < 0:
        x = np.atleast_1d(np.asarray(r0[key[: -len(last)] + _ENDS[last]], float))
    if last in _LEVEL or level_path:
        return a + b * x, True
    if last in _EFFECT or last in _ENDS:
        return b * x, True
    if last in _SPREAD:
        return abs(b) * x, True
    if last == "att_pct":
        return (np.sign(b) * x, False) if a == 0 else None
    return x, False


def _scale_of(r0: dict[str, Any], key: str) -> float:
    """The standard error of the result `key` belongs to (the unit errors are measured in)."""
    prefix = key[: key.index("].") + 2] if key.startswith("rob[") else ""
    se = r0.get(prefix + "se")
    return float(se) if isinstance(se, float) and math.isfinite(se) and se > 0 else 1.0


def compare(
    r0: dict[str, Any],
    r1: dict[str, Any],
    tol: float,
    *,
    a: float = 0.0,
    b: float = 1.0,
    rename: dict[str, str] | None = None,
    skip: tuple[str, ...] = (),
) -> list[str]:
    """What differs between r1 and the relation's prediction from r0: numbers beyond `tol` (in b·se of their
    result; probabilities and shares absolutely), labels and statuses at all."""
    problems = []
    for key in sorted(set(r0) | set(r1)):
        if any(s in key for s in skip):
            continue
        if key not in r0 or key not in r1:
            problems.append(f"{key}: only in {'before' if key in r0 else 'after'}")
            continue
        x, y = r0[key], r1[key]
        if x is None or y is None or isinstance(x, str) or isinstance(y, str):
            if rename and isinstance(x, str):
                x = rename.get(x, x)
            if x != y:
                problems.append(f"{key}: {x!r} -> {y!r}")
            continue
        got = _expected(r0, key, a, b)
        if got is None:
            continue
        want, scaled = got
        have = np.atleast_1d(np.asarray(y, float))
        if want.shape != have.shape:
            problems.append(f"{key}: shape {want.shape} -> {have.shape}")
            continue
        unit = abs(b) * _scale_of(r0, key) if scaled else max(1.0, float(np.nanmax(np.abs(want), initial=0.0)))
        finite = np.isfinite(want) & np.isfinite(have)
        special = ~np.isfinite(want) | ~np.isfinite(have)
        if np.any(special & ~((np.isnan(want) & np.isnan(have)) | (want == have))):
            problems.append(f"{key}: {want[special][:3]} expected, got {have[special][:3]}")
            continue
        err = float(np.max(np.abs(have[finite] - want[finite]), initial=0.0)) / unit
        allowed = tol if scaled else max(tol, 1e-9)
        if err > allowed:
            i = int(np.argmax(np.where(finite, np.abs(have - want), -1.0)))
            problems.append(f"{key}: expected {want[i]!r}, got {have[i]!r} ({err:.2g} of its unit > {allowed:.0e})")
    return problems


def _fail(case: Case, relation: str, problems: list[str]) -> None:
    if problems:
        shown = "\n  ".join(problems[:12])
        pytest.fail(f"seed {case.seed} ({case.name}), relation {relation}: {len(problems)} difference(s)\n  {shown}")


def _id(case: Case) -> str:
    return case.name


# --- 1. location and scale ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_location_and_scale_move_the_numbers_with_the_outcome(case: Case) -> None:
    df = panel(case)
    r0 = base(case)
    for a, b in SCALES:
        if case.poisson and (a != 0 or b < 0):
            a, b = 0.0, abs(b)  # counts: a rescaled count is still a rate, a shifted or negated one is not
        r1 = flat(run(case, df.with_columns((a + b * pl.col("value")).alias("value"))))
        se = _scale_of(r0, "att")
        rounding = 100 * EPS * abs(a) / (abs(b) * se)  # what rounding a + b·y itself costs, in se
        tol = (OPTIMIZER_TOL if case.optimizer else 1e-6) + rounding
        _fail(case, f"y -> {a:g} + {b:g}·y", compare(r0, r1, tol, a=a, b=b))


# --- 2. relabelling and row order ---------------------------------------------------------------------


def _renamed(df: pl.DataFrame, names: dict[str, str], seed: int) -> pl.DataFrame:
    return df.with_columns(pl.col("site").replace_strict(names)).sample(fraction=1.0, shuffle=True, seed=seed)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_renaming_sites_in_order_and_shuffling_rows_change_nothing(case: Case) -> None:
    df = panel(case)
    sites = sorted(df["site"].unique().to_list())
    names = {s: f"Филиал {i:03d} қала «{s}»" for i, s in enumerate(sites)}  # sorts as the old names did
    r1 = flat(run(case, _renamed(df, names, case.seed)))
    _fail(case, "order-preserving rename + row shuffle", compare(base(case), r1, 1e-12, rename=names))


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_any_renaming_of_sites_keeps_every_closed_form_number(case: Case) -> None:
    df = panel(case)
    sites = sorted(df["site"].unique().to_list())
    rng = np.random.default_rng(case.seed)
    new = [f"{rng.integers(10**6)}-{s}" if i % 2 else f"Z{s}" for i, s in enumerate(rng.permutation(sites))]
    names = dict(zip(rng.permutation(sites).tolist(), new, strict=True))
    r1 = flat(run(case, _renamed(df, names, case.seed + 1)))
    # summation order; the structural fit of a pooled series amplifies it
    tol = OPTIMIZER_TOL if case.optimizer else 1e-9
    _fail(case, "arbitrary rename (Monte Carlo fields aside)", compare(base(case), r1, tol, rename=names, skip=case.mc))


# --- 3. irrelevant additions --------------------------------------------------------------------------


def _extra_site(df: pl.DataFrame, name: str, go_live: Any) -> pl.DataFrame:
    first = df["site"].min()
    extra = df.filter(pl.col("site") == first).with_columns(
        pl.lit(name).alias("site"),
        (1.1 * pl.col("value") + 5).alias("value"),
        pl.lit(go_live).cast(df.schema["g"]).alias("g"),
    )
    return pl.concat([df, extra])


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_a_site_live_from_the_first_period_changes_nothing(case: Case) -> None:
    df = panel(case)
    r1 = flat(run(case, _extra_site(df, "zz always live", df["t"].min())))
    _fail(case, "add an always-treated site", compare(base(case), r1, 1e-9))


@pytest.mark.parametrize("case", [c for c in CASES if not c.not_yet_treated], ids=_id)
def test_a_site_going_live_after_the_panel_changes_nothing_beside_never_treated_controls(case: Case) -> None:
    df = panel(case)
    last = df["t"].max()
    late = last + 1 if case.kind == "int" else dt.date(last.year + 1, 1, 1)
    r1 = flat(run(case, _extra_site(df, "zz live next year", late)))
    _fail(case, "add a site going live after the panel", compare(base(case), r1, 1e-9))


@pytest.mark.parametrize("case", [c for c in CASES if c.did_family and c.n_controls and not c.poisson], ids=_id)
def test_a_constant_on_one_control_changes_no_difference_in_differences(case: Case) -> None:
    df = panel(case)
    control = sorted(df.filter(pl.col("g").is_null())["site"].unique().to_list())[-1]
    shift = 3.0 * float(df["value"].std())
    moved = df.with_columns(
        pl.when(pl.col("site") == control).then(pl.col("value") + shift).otherwise(pl.col("value")).alias("value")
    )
    r1 = flat(run(case, moved))
    skip = ("rob[synthetic_control]",)  # a synthesis of levels is not a difference in differences
    _fail(case, f"+{shift:.3g} on control {control}", compare(base(case), r1, 1e-9, skip=skip))


# --- 4. time shifts -----------------------------------------------------------------------------------


def _shifted(df: pl.DataFrame, kind: str, k: int) -> pl.DataFrame:
    if kind == "int":
        return df.with_columns(pl.col("t") + k, pl.col("g") + k)
    if kind == "monthly":
        return df.with_columns(pl.col("t").dt.offset_by(f"{k}mo"), pl.col("g").dt.offset_by(f"{k}mo"))
    return df.with_columns(pl.col("t") + pl.duration(days=7 * k), pl.col("g") + pl.duration(days=7 * k))


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_moving_the_calendar_by_whole_weeks_or_months_changes_nothing(case: Case) -> None:
    df = panel(case)
    for k in (-53, 5, 61) if case.kind != "int" else (-1000, 7):
        r1 = flat(run(case, _shifted(df, case.kind, k)))
        # exact for monthly dates too: their annual harmonics take the phase from the calendar month
        tol = OPTIMIZER_TOL if case.optimizer else 1e-9
        unit = "periods" if case.kind == "int" else "weeks" if case.kind in ("daily", "weekly") else "months"
        _fail(case, f"time shifted by {k} {unit}", compare(base(case), r1, tol))


# --- 5. determinism -----------------------------------------------------------------------------------


def _digest(case: Case) -> str:
    """The result's numbers as exact text (float.hex), for bit-for-bit comparisons."""

    def enc(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return [float(x).hex() for x in v]
        if isinstance(v, float):
            return v.hex()
        return repr(v)

    return json.dumps({k: enc(v) for k, v in sorted(flat(run(case, panel(case))).items())})


_BIT_FOR_BIT = (
    "did_auto_with_diagnostics_and_robustness",
    "did_wild_bootstrap_weekly",
    "staggered_all_treated_weekly",
    "its_structural_weekly",
)
DETERMINISM = tuple(c for c in CASES if c.name in _BIT_FOR_BIT)


@pytest.mark.parametrize("case", DETERMINISM, ids=_id)
def test_the_same_panel_and_seed_give_the_same_bits_twice(case: Case) -> None:
    assert _digest(case) == _digest(case), f"seed {case.seed} ({case.name}), relation determinism in one process"


def test_the_same_panel_and_seed_give_the_same_bits_in_another_process() -> None:
    here = {c.name: _digest(c) for c in DETERMINISM}
    here_dir = os.path.dirname(__file__)
    code = (
        f"import json, sys; sys.path.insert(0, {here_dir!r}); import test_metamorphic as m; "
        "print(json.dumps({c.name: m._digest(c) for c in m.DETERMINISM}))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    there = json.loads(out.stdout.strip().splitlines()[-1])
    for c in DETERMINISM:
        assert here[c.name] == there[c.name], f"seed {c.seed} ({c.name}), relation determinism across processes"
