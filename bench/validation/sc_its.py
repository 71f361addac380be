"""Simulation study of the synthetic control and ITS estimators (>= 500 replications per design).

Panels shaped like ours (daily data, a few treated sites, weekly + annual seasonality, AR(1) noise,
common random-walk shocks; monthly series for the segmented regression), known constant effects.
For each design: bias, RMSE, mean reported SE vs the estimates' spread, 95% CI coverage, the share of
replications that reject "no effect" at 5% (the false-positive rate when the true effect is 0, the
power otherwise) and the median time per estimate. The naive before/after comparison (treated mean
after minus before, with an iid standard error) runs on the same panels to show what we replace.

Run:  .venv/bin/python -m bench.validation.sc_its [--reps 500] [--processes 2] [--only sc|its]
      (or .venv/bin/python bench/validation/sc_its.py). Writes bench/validation/sc_its_results.md.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from pilot_roi.estimation._sc_its_simulate import (
    simulate_its_panel,
    simulate_monthly_panel,
    simulate_monthly_staggered_panel,
    simulate_sc_panel,
    staggered_true_att,
)
from pilot_roi.estimation.its import estimate_its
from pilot_roi.estimation.panel import prepare_panel
from pilot_roi.estimation.synthetic_control import estimate_synthetic_control

OUT = Path(__file__).resolve().parent / "sc_its_results.md"


@dataclass(frozen=True)
class Design:
    name: str
    family: str  # sc | its | monthly | staggered
    simulate: dict[str, Any]
    estimate: dict[str, Any]
    description: str


DESIGNS: list[Design] = [
    Design(
        "sc_20_donors",
        "sc",
        {"n_units": 21, "n_treated": 1, "n_pre": 180, "n_post": 60},
        {},
        "SC, 1 treated + 20 donors, 180 pre / 60 post days; auto inference = placebo rank test",
    ),
    Design(
        "sc_10_donors_3_treated",
        "sc",
        {"n_units": 13, "n_treated": 3, "n_pre": 180, "n_post": 60},
        {},
        "SC, 3 treated + 10 donors; auto inference = placebo_t (too few placebos for a 5% rank test)",
    ),
    Design(
        "sc_10_donors_conformal",
        "sc",
        {"n_units": 11, "n_treated": 1, "n_pre": 180, "n_post": 60},
        {"inference": "conformal"},
        "SC, 1 treated + 10 donors, conformal time-permutation inference (opt-in, not the default)",
    ),
    Design(
        "its_structural_daily",
        "its",
        {"n_treated": 1, "n_pre": 450, "n_post": 90},
        {},
        "ITS, 1 site, 450 pre / 90 post days, drift + random-walk level + weekly + annual + AR(1); "
        "auto model = structural (UnobservedComponents)",
    ),
    Design(
        "its_segmented_monthly",
        "monthly",
        {"n_treated": 1, "n_pre": 36, "n_post": 24},
        {},
        "ITS, 1 site, 36 pre / 24 post months, trend + annual + AR(1) (rho 0.3); auto model = segmented "
        "regression with AR(1) GLS",
    ),
    Design(
        "its_segmented_on_daily",
        "its",
        {"n_treated": 1, "n_pre": 450, "n_post": 90},
        {"model": "segmented"},
        "ITS segmented regression forced onto the daily design above (misspecified: no random-walk level)",
    ),
    Design(
        "its_short_noisy_monthly",
        "monthly",
        {"n_treated": 1, "n_pre": 18, "n_post": 14, "rho": 0.15, "sigma": 3.0},
        {},
        "ITS, 1 site, 18 pre / 14 post months, noise sd 3 against trend + annual season, rho 0.15 (the "
        "residual autocorrelation of such short fits is about -0.15 on average); auto model = segmented",
    ),
    Design(
        "its_staggered_common_shock",
        "staggered",
        {"n_treated": 6},
        {},
        "ITS, 6 sites all treated in 3 cohorts (13, 17, 21 pre months; 20 post months after the last), a "
        "shared AR(1) factor (sd as large as the sites' own noise), effect ramping up over 2 months "
        "(truth = the ramped ATT over the post cells); auto model = segmented per site",
    ),
]


def _simulate(design: Design, rng: np.random.Generator, effect: float) -> pl.DataFrame:
    if design.family == "sc":
        return simulate_sc_panel(rng, effect=effect, **design.simulate)
    if design.family == "its":
        return simulate_its_panel(rng, effect=effect, **design.simulate)
    if design.family == "staggered":
        return simulate_monthly_staggered_panel(rng, effect=effect, **design.simulate)
    return simulate_monthly_panel(rng, effect=effect, **design.simulate)


def _truth(design: Design, effect: float) -> float:
    """The ATT the design's panels carry (the ramp makes it smaller than `effect` for staggered)."""
    if design.family == "staggered":
        return staggered_true_att(effect, **design.simulate)
    return effect


def _naive(df: pl.DataFrame) -> tuple[float, float]:
    """Treated mean after go-live minus before, with an iid standard error."""
    treated = df.filter(pl.col("go_live").is_not_null())
    post = treated.filter(pl.col("date") >= pl.col("go_live"))["value"].to_numpy()
    pre = treated.filter(pl.col("date") < pl.col("go_live"))["value"].to_numpy()
    att = float(post.mean() - pre.mean())
    se = math.sqrt(post.var(ddof=1) / post.size + pre.var(ddof=1) / pre.size)
    return att, se


def _one(args: tuple[Design, int, float]) -> tuple[float, ...]:
    design, rep, effect = args
    warnings.simplefilter("ignore")
    rng = np.random.default_rng([7, rep, int(effect * 1000)])
    df = _simulate(design, rng, effect)
    panel = prepare_panel(df, "site", "date", "value", "go_live")
    estimator: Callable[..., Any] = estimate_synthetic_control if design.family == "sc" else estimate_its
    t0 = time.perf_counter()
    res = estimator(panel, seed=rep, **design.estimate)
    elapsed = time.perf_counter() - t0
    naive_att, naive_se = _naive(df)
    return (res.att, res.se, res.ci_low, res.ci_high, res.p_value, elapsed, naive_att, naive_se)


def _summarise(design: Design, effect: float, rows: np.ndarray) -> list[dict[str, Any]]:
    att, se, lo, hi, p, elapsed, n_att, n_se = rows.T
    ok = np.isfinite(att)
    truth = _truth(design, effect)
    out = [
        {
            "design": design.name,
            "estimator": design.estimate.get("inference", design.estimate.get("model", "default")),
            "effect": effect,
            "reps": int(ok.sum()),
            "bias": float(np.mean(att[ok]) - truth),
            "rmse": float(np.sqrt(np.mean((att[ok] - truth) ** 2))),
            "sd_att": float(np.std(att[ok], ddof=1)),
            "mean_se": float(np.nanmean(se[ok])),
            "coverage": float(np.mean((lo[ok] <= truth) & (truth <= hi[ok]))),
            "reject_0": float(np.mean(p[ok] <= 0.05)),
            "median_s": float(np.median(elapsed[ok])),
        }
    ]
    z = 1.959964
    out.append(
        {
            "design": design.name,
            "estimator": "naive before/after",
            "effect": effect,
            "reps": int(n_att.size),
            "bias": float(np.mean(n_att) - truth),
            "rmse": float(np.sqrt(np.mean((n_att - truth) ** 2))),
            "sd_att": float(np.std(n_att, ddof=1)),
            "mean_se": float(np.mean(n_se)),
            "coverage": float(np.mean(np.abs(n_att - truth) <= z * n_se)),
            "reject_0": float(np.mean(np.abs(n_att) > z * n_se)),
            "median_s": math.nan,
        }
    )
    return out


def _kept_rows(out: Path, run: list[Design]) -> list[str]:
    """Table rows of `out` for designs not in `run` (a partial run keeps the other estimators' rows)."""
    if not out.exists():
        return []
    names = {d.name for d in run}
    rows = []
    for line in out.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0] not in names and cells[0] in {d.name for d in DESIGNS}:
            rows.append(line)
    return rows


def _markdown(results: list[dict[str, Any]], reps: int, seconds: float, kept: list[str] | None = None) -> str:
    lines = [
        "# Synthetic control and ITS: simulation study",
        "",
        f"Generated by `bench/validation/sc_its.py` ({reps} replications per design and effect, "
        f"{seconds:.0f} s wall clock on {platform.machine()} with 2 processes; Python {sys.version.split()[0]}).",
        "Goal (issue 4): 95% CI coverage within 93-97%, false-positive rate (reject at effect 0) <= 5%.",
        "`reject_0` is the false-positive rate when effect = 0 and the power when effect = 1 (outcome",
        "units; the noise innovation sd is 1). `median_s` is the time per estimate (other tenants share",
        "the machine: compare rows of one run, not runs).",
        "",
        "| design | estimator | effect | reps | bias | RMSE | sd(ATT) | mean SE | coverage | reject_0 | median s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(kept or []),
    ]
    for r in results:
        t = "" if math.isnan(r["median_s"]) else f"{r['median_s']:.3f}"
        lines.append(
            f"| {r['design']} | {r['estimator']} | {r['effect']:g} | {r['reps']} | {r['bias']:+.3f} | "
            f"{r['rmse']:.3f} | {r['sd_att']:.3f} | {r['mean_se']:.3f} | {r['coverage']:.3f} | "
            f"{r['reject_0']:.3f} | {t} |"
        )
    lines += ["", "Designs:", ""]
    lines += [f"- `{d.name}`: {d.description}" for d in DESIGNS]
    lines += ["", *ITS_NOTES.splitlines()]
    lines.append("")
    return "\n".join(lines)


ITS_NOTES = """ITS inference (what the ITS rows measure):

- structural: the simulated forecast paths carry the variance parameters' uncertainty (10 parameter
  vectors drawn from the estimates' asymptotic normal distribution, variances censored at their floor,
  each simulating 100 of the 1000 paths); the standard error is the paths' sd. Before, the fitted
  variances were taken as known and the same design covered 0.914 (effect 0) / 0.922 (effect 1) with a
  false-positive rate of 0.086. Now it errs on the safe side (with 20 draws: coverage 0.972 / 0.976,
  power 0.184 against 0.360): the Hessian-based spread of a variance estimated at its floor is wider than
  its true sampling spread.
  (Taking the half-width of the paths' central 95% range instead of 1.96 sd covered 0.980 at effect 0:
  the mixture over parameters is not heavy-tailed here, so that is no remedy.)
- segmented (AR(1) feasible GLS): rho corrected for its small-sample bias ((k + 3 rho) / n for a
  k-column fit on n points), floored at 0, and its sampling uncertainty integrated out (3-point
  Gauss-Hermite, law of total variance); t intervals on the residual degrees of freedom. Before, the raw
  FGLS rho (about half the true 0.3 here) covered 0.890 / 0.880 with a false-positive rate of 0.110.
  Default effect shape: a level step (slope_change=False); the pre-period linear trend stays.
- several treated units: their forecast errors are taken to be as correlated as their pre-period
  residuals (floored at 0), not independent. On `its_staggered_common_shock` the independent
  computation covered about 0.74.
- `its_segmented_on_daily` forces a model without a random-walk level onto series that have one: it
  stays mis-calibrated on purpose (the auto model for daily data is the structural one)."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--only", choices=("sc", "its"), default=None)
    parser.add_argument("--effects", type=float, nargs="+", default=[0.0, 1.0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--design", nargs="+", default=None, help="run only these designs (by name)")
    args = parser.parse_args(argv)
    designs = [d for d in DESIGNS if args.only is None or (d.family == "sc") == (args.only == "sc")]
    if args.design:
        designs = [d for d in designs if d.name in args.design]
    kept = _kept_rows(args.out, designs) if args.only or args.design else []
    start = time.perf_counter()
    results: list[dict[str, Any]] = []
    with Pool(args.processes) as pool:
        for design in designs:
            for effect in args.effects:
                t0 = time.perf_counter()
                rows = np.asarray(pool.map(_one, [(design, rep, effect) for rep in range(args.reps)], chunksize=4))
                summary = _summarise(design, effect, rows)
                results.extend(summary)
                print(
                    f"{design.name} effect={effect:g}: coverage {summary[0]['coverage']:.3f} "
                    f"reject {summary[0]['reject_0']:.3f} bias {summary[0]['bias']:+.3f} "
                    f"({time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
                args.out.write_text(_markdown(results, args.reps, time.perf_counter() - start, kept), encoding="utf-8")
    args.out.write_text(_markdown(results, args.reps, time.perf_counter() - start, kept), encoding="utf-8")


if __name__ == "__main__":
    main()
