"""Monthly DiD with one or two controls: the HAR interval (t with one or two df) against GLS with AR(1) errors.

With one or two controls the DiD is the treated-minus-control series (`pilot_roi.estimation.har`). Until
2026-11-28 every such series took the HAR variance, whose ν = floor(0.15 T^(2/3)) cosines are two on 48 months:
t(1) intervals, ±12.7 standard errors. Monthly and coarser series now take GLS with AR(1) errors, ρ integrated
out (`har.ar1_contrast`); daily and weekly ones keep HAR. Both are computed here on the same panels.

Panels: sites with a level, an annual cycle (amplitude 1, each site's scaled by 1 + 0.15 N(0,1)), a common AR(0.5)
shock (sd 1) every site feels, AR(1) site noise (sd 1, ρ as stated); the effect from the go-live period on, or
ramping up linearly over `ramp` periods. The truth is the mean effect over the post periods. Weekly and quarterly
designs use the same recipe on their own grids (the annual cycle in their periods).

Run: `python bench/validation/har_monthly.py --reps 2000 --out bench/validation/har_monthly.md`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import time
import warnings
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from pilot_roi.estimation import limit_blas_threads
from pilot_roi.estimation.api import estimate_panel
from pilot_roi.estimation.har import hac_contrast, hac_pre_trend
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.panel import PanelData, from_arrays

OPTS = EstimationOptions(diagnostics=False, robustness=False)
START = dt.date(2021, 1, 1)
PER_YEAR = {"weekly": 52, "monthly": 12, "quarterly": 4}


@dataclass(frozen=True, slots=True)
class Design:
    name: str
    n_treated: int
    n_controls: int
    n_pre: int
    n_post: int
    rho: float
    effect: float = 0.0
    ramp: int = 1
    frequency: str = "monthly"
    drift: float = 0.0  # per year, on the treated sites from the middle of the pre-period on
    missing: float = 0.0  # share of site-periods missing at random (not a site's first or last period)


DESIGNS = [
    Design("1 treated, 2 controls, 36 + 12 months, ρ 0.3, null", 1, 2, 36, 12, 0.3),
    Design("1 treated, 2 controls, 36 + 12 months, ρ 0.3, effect 1", 1, 2, 36, 12, 0.3, 1.0),
    Design("1 treated, 2 controls, 36 + 12 months, ρ 0.3, effect 1 over 2 months", 1, 2, 36, 12, 0.3, 1.0, 2),
    Design("1 treated, 2 controls, 36 + 12 months, ρ 0.7, null", 1, 2, 36, 12, 0.7),
    Design("1 treated, 2 controls, 24 + 12 months, ρ 0.5, null", 1, 2, 24, 12, 0.5),
    Design("1 treated, 1 control, 13 + 12 months, ρ 0.5, null", 1, 1, 13, 12, 0.5),
    Design("2 treated, 2 controls, 36 + 24 months, ρ 0.7, effect 1", 2, 2, 36, 24, 0.7, 1.0),
    Design("1 treated, 2 controls, 36 + 12 months, ρ 0.3, drift +1 a year from month 18", 1, 2, 36, 12, 0.3, drift=1.0),
    Design("1 treated, 2 controls, 36 + 12 months, ρ 0.3, drift +2 a year from month 18", 1, 2, 36, 12, 0.3, drift=2.0),
    Design("quarterly: 1 treated, 2 controls, 16 + 8 quarters, ρ 0.3, null", 1, 2, 16, 8, 0.3, frequency="quarterly"),
    Design(
        "weekly (HAR both): 1 treated, 2 controls, 104 + 52 weeks, ρ 0.5, null", 1, 2, 104, 52, 0.5, 0.0, 1, "weekly"
    ),
    # months missing inside the series: HAR (t with one df) was all these pilots had until the AR(1) GLS took gaps
    Design("1 treated, 2 controls, 36 + 12 months, ρ 0.3, 10% months missing, null", 1, 2, 36, 12, 0.3, missing=0.1),
    Design(
        "1 treated, 2 controls, 36 + 12 months, ρ 0.3, 10% months missing, effect 1",
        1,
        2,
        36,
        12,
        0.3,
        1.0,
        missing=0.1,
    ),
    Design("1 treated, 2 controls, 36 + 12 months, ρ 0.7, 10% months missing, null", 1, 2, 36, 12, 0.7, missing=0.1),
    Design("1 treated, 1 control, 24 + 12 months, ρ 0.5, 20% months missing, null", 1, 1, 24, 12, 0.5, missing=0.2),
]


def _labels(frequency: str, n: int) -> np.ndarray:
    if frequency == "weekly":
        first = np.datetime64("2021-01-04")  # a Monday
        return first + 7 * np.arange(n)
    months = 3 if frequency == "quarterly" else 1
    return np.array([np.datetime64(f"{2021 + (m * months) // 12}-{(m * months) % 12 + 1:02d}-01") for m in range(n)])


def simulate(d: Design, rng: np.random.Generator) -> tuple[PanelData, float]:
    """One panel of `d` and its true ATT (the mean effect over the post periods)."""
    n, t_total = d.n_treated + d.n_controls, d.n_pre + d.n_post
    per_year = PER_YEAR[d.frequency]
    cycle = np.sin(2 * np.pi * (np.arange(t_total) % per_year) / per_year + 0.3)
    amp = 1 + 0.15 * rng.normal(size=n)
    common = np.zeros(t_total)
    shock = rng.normal(size=t_total)
    for t in range(t_total):
        common[t] = (0.5 * common[t - 1] if t else 0.0) + shock[t]
    noise = np.zeros((n, t_total))
    innovations = rng.normal(0, math.sqrt(1 - d.rho**2), (n, t_total))
    noise[:, 0] = rng.normal(0, 1, n)
    for t in range(1, t_total):
        noise[:, t] = d.rho * noise[:, t - 1] + innovations[:, t]
    y = 10 + 3 * rng.normal(size=n)[:, None] + amp[:, None] * cycle[None, :] + common[None, :] + noise
    tau = d.effect * np.minimum(1.0, (np.arange(d.n_post) + 1) / d.ramp)
    y[: d.n_treated, d.n_pre :] += tau[None, :]
    start = d.n_pre // 2
    y[: d.n_treated, start:] += d.drift * (np.arange(t_total - start) / per_year)[None, :]
    go = np.full(n, -1)
    go[: d.n_treated] = d.n_pre
    ordinal = (_labels(d.frequency, t_total) - np.datetime64(START)).astype(np.int64)
    units, times = np.meshgrid(np.arange(n), np.arange(t_total), indexing="ij")
    kept = np.ones((n, t_total), dtype=bool)
    if d.missing:  # drawn last, so the designs without gaps keep their panels
        kept[:, 1:-1] = rng.random((n, t_total - 2)) >= d.missing
    panel = from_arrays(units[kept], times[kept], y[kept], go, time_ordinal=ordinal, start_date=START)
    return panel, float(tau.mean())


def one_panel(args: tuple[int, int]) -> tuple[int, float, tuple[float, ...], tuple[float, ...]]:
    """(design, truth, (estimate, low, high, p, pre-trend p) now, the same by HAR and its df) for one replication."""
    limit_blas_threads(1)
    warnings.simplefilter("ignore")
    idx, rep = args
    panel, truth = simulate(DESIGNS[idx], np.random.default_rng([707, idx, rep]))
    res = estimate_panel(panel, "did", OPTS)
    har = hac_contrast(panel, panel.treated, panel.never_treated, OPTS.alpha)
    har_pre = hac_pre_trend(panel, panel.treated, panel.never_treated)
    return (
        idx,
        truth,
        (res.att, res.ci_low, res.ci_high, res.p_value, _nan(res.pre_trend_p)),
        (
            float(har.estimate[0]),
            float(har.ci_low[0]),
            float(har.ci_high[0]),
            float(har.p_value[0]),
            _nan(har_pre),
            har.dof,
        ),
    )


def _nan(p: float | None) -> float:
    return math.nan if p is None else float(p)


def _summary(truth: np.ndarray, fits: np.ndarray, drifting: bool) -> str:
    estimated = np.isfinite(fits[:, 0])  # a panel with too many gaps is refused (insufficient_data)
    est, low, high, p, pre_p = (fits[estimated, j] for j in range(5))
    truth = truth[estimated]
    tested = pre_p[np.isfinite(pre_p)]
    pre = f"{100 * np.mean(tested < 0.05):.1f}%" if tested.size else "no test"
    if drifting:  # the drift biases the effect: only the pre-trend test's rejections say anything
        return f"— | — | — | — | {pre}"
    cover = np.mean((low <= truth) & (truth <= high))
    refused = f" ({np.count_nonzero(~estimated)} refused)" if not estimated.all() else ""
    return (
        f"{est.mean() - truth.mean():+.3f} | {100 * cover:.1f}%{refused} | {100 * np.mean(p < 0.05):.1f}% | "
        f"{np.mean(high - low):.2f} | {pre}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("har_monthly.md"))
    args = parser.parse_args()
    started = time.time()
    with Pool(args.processes) as pool:
        results = pool.map(one_panel, [(i, r) for i in range(len(DESIGNS)) for r in range(args.reps)], chunksize=25)
    lines = [
        "# DiD with one or two controls on monthly and coarser series: HAR against GLS with AR(1) errors",
        "",
        f"`python bench/validation/har_monthly.py --reps {args.reps}`, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {time.time() - started:.0f} s. Rejects: p < 0.05 "
        "(false positives on null designs, power otherwise); the pre-trend test at 5%. "
        "See the script's docstring for the designs.",
        "",
        "| design | product now: bias | coverage | rejects | CI width | pre-trend test rejects "
        "| HAR: bias | coverage | rejects | CI width | pre-trend test rejects | HAR df |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for idx, design in enumerate(DESIGNS):
        rows = [r for r in results if r[0] == idx]
        truth = np.array([r[1] for r in rows])
        now = np.array([r[2] for r in rows], float)
        har = np.array([r[3] for r in rows], float)
        lines.append(
            f"| {design.name} | {_summary(truth, now, design.drift != 0)} | "
            f"{_summary(truth, har[:, :5], design.drift != 0)} | {np.median(har[:, 5]):.1f} |"
        )
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
