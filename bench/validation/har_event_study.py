"""The event study of DiD pilots with one or two controls: are its leads' and lags' 95% intervals honest?

Those pilots take the HAR inference on the treated-minus-control series (`pilot_roi.estimation.har`); until
2026-11-28 their event study had points without intervals. Each bin's interval now comes from `har_event_study`.
Bins are relative to the pre-period's mean: the truth of a bin is the mean true effect over its periods (0 for
a lead).
Reported per design: pointwise coverage of the leads and of the lags (the share of bin intervals that hold
their truth, over every bin of every panel), the share of null panels in which at least one lead's interval
misses zero (what a reader scanning the chart would call a pre-trend; with 13 leads about half by
construction: pointwise intervals are not a joint test, the pre-trend test is), and the lags' mean width.

Designs: the daily panels of `dgp.py` (1-2 treated sites, 1-2 controls, weekly and annual seasons, AR(1) site
noise; an effect of 5 ramps up over 14 days), one with 10% of site-days missing, one short enough for weekly
bins, and a monthly design: the daily panel averaged over calendar months (36 months before go-live, 12 after;
the last day, alone in its month, left out); two more monthly designs from `har_monthly.py` (monthly AR(1) site
noise, a constant effect).

Run: `python bench/validation/har_event_study.py --reps 1000 --out bench/validation/har_event_study.md`.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dgp import START, Scenario, simulate
from har_monthly import Design
from har_monthly import simulate as simulate_monthly

from pilot_roi.estimation import limit_blas_threads
from pilot_roi.estimation.api import estimate_panel
from pilot_roi.estimation.did import event_time_bins
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.panel import PanelData, from_arrays

OPTS = EstimationOptions(diagnostics=False, robustness=False)
RAMP = 14

DESIGNS: list[tuple[str, Scenario | Design, bool]] = [
    ("1 treated, 2 controls, ρ 0.6, null", Scenario("a", 1, 2), False),
    ("1 treated, 2 controls, ρ 0.6, effect 5", Scenario("b", 1, 2, effect=5.0), False),
    ("1 treated, 1 control, ρ 0.6, null", Scenario("c", 1, 1), False),
    ("2 treated, 2 controls, ρ 0.9, null", Scenario("d", 2, 2, rho=0.9), False),
    ("1 treated, 2 controls, 10% of days missing, effect 5", Scenario("e", 1, 2, effect=5.0, missing=0.1), False),
    ("1 treated, 2 controls, 120 + 90 days (weekly bins), effect 5", Scenario("f", 1, 2, 120, 90, 5.0), False),
    ("monthly: 1 treated, 2 controls, 36 + 12 months, effect 5", Scenario("g", 1, 2, 1096, 365, 5.0), True),
    (
        "monthly AR(1): 1 treated, 2 controls, 36 + 12 months, ρ 0.7, null",
        Design("h", 1, 2, 36, 12, 0.7),
        False,
    ),
    (
        "monthly AR(1): 1 treated, 2 controls, 24 + 12 months, ρ 0.3, effect 1",
        Design("i", 1, 2, 24, 12, 0.3, 1.0),
        False,
    ),
]


def monthly(panel: PanelData, go_day: int) -> tuple[PanelData, np.ndarray]:
    """The daily panel as calendar-month means (months labelled on the 1st), and each day's month index."""
    days = panel.time_labels.astype("datetime64[D]")
    month = days.astype("datetime64[M]")
    months, day_month = np.unique(month, return_inverse=True)
    y = panel.wide()
    sums = np.zeros((panel.n_units, months.size))
    counts = np.zeros_like(sums)
    for j in range(months.size):
        cols = y[:, day_month == j]
        sums[:, j] = np.nansum(cols, axis=1)
        counts[:, j] = np.isfinite(cols).sum(axis=1)
    values = sums / np.maximum(counts, 1)
    # the daily panel ends a day into its last month: a one-day "month" is not what a plant reports
    whole = np.bincount(day_month) >= 28
    values, months = values[:, whole], months[whole]
    day_month = np.where(whole[day_month], np.cumsum(whole)[day_month] - 1, -1)
    go_month = int(day_month[go_day])
    first = np.where(panel.first_treated >= 0, go_month, -1)
    units, times = np.meshgrid(np.arange(panel.n_units), np.arange(months.size), indexing="ij")
    ordinal = (months.astype("datetime64[D]") - np.datetime64(START, "D")).astype(np.int64)
    out = from_arrays(units.ravel(), times.ravel(), values.ravel(), first, time_ordinal=ordinal, start_date=START)
    return out, day_month


Row = tuple[int, list[float], list[float], list[bool], list[bool], list[float], bool, float, int]


def one_panel(args: tuple[int, int]) -> Row:
    """(design, lead truths, lag truths, lead covered, lag covered, lag widths, the overall interval covers its
    truth, its width, its degrees of freedom) for one replication."""
    limit_blas_threads(1)
    warnings.simplefilter("ignore")
    idx, rep = args
    name, scenario, by_month = DESIGNS[idx]
    go = scenario.n_pre
    if isinstance(scenario, Design):
        panel, _ = simulate_monthly(scenario, np.random.default_rng([606, idx, rep]))
        tau = np.where(np.arange(panel.n_times) >= go, scenario.effect, 0.0)
    else:
        panel, _ = simulate(scenario, np.random.default_rng([606, idx, rep]))
        days = np.arange(panel.n_times)
        tau = np.where(days >= go, scenario.effect * np.minimum(1.0, (days - go + 1) / RAMP), 0.0)
    if by_month:
        panel, day_month = monthly(panel, go)
        kept = day_month >= 0
        tau = np.bincount(day_month[kept], tau[kept]) / np.bincount(day_month[kept])
        go = int(day_month[go])
    res = estimate_panel(panel, "did", OPTS)
    overall = float(tau[go:].mean())
    es = res.event_study
    if es.height == 0 or not np.isfinite(es["se"].to_numpy()).all():
        raise RuntimeError(f"{name}: no event-study intervals")
    et = es["event_time"].to_numpy()
    width = int(np.min(np.diff(et))) if et.size > 1 else 1
    periods = np.arange(tau.size) - go
    period_bin = event_time_bins(periods, width, int(et.min() // width), int(et.max() // width))
    truth = np.array([tau[period_bin == k // width].mean() for k in et])
    covered = (es["ci_low"].to_numpy() <= truth) & (truth <= es["ci_high"].to_numpy())
    lead = et < 0
    widths = (es["ci_high"].to_numpy() - es["ci_low"].to_numpy())[~lead]
    return (
        idx,
        truth[lead].tolist(),
        truth[~lead].tolist(),
        covered[lead].tolist(),
        covered[~lead].tolist(),
        widths.tolist(),
        bool(res.ci_low <= overall <= res.ci_high),
        res.ci_high - res.ci_low,
        round(float(res.diagnostics["inference_dof"])),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("har_event_study.md"))
    args = parser.parse_args()
    started = time.time()
    jobs = [(i, r) for i in range(len(DESIGNS)) for r in range(args.reps)]
    with Pool(args.processes) as pool:
        results = pool.map(one_panel, jobs, chunksize=20)
    lines = [
        "# Event-study intervals of DiD pilots with one or two controls",
        "",
        f"`python bench/validation/har_event_study.py --reps {args.reps}`, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {time.time() - started:.0f} s. "
        "Pointwise 95% intervals; see the script's docstring for the designs.",
        "",
        "| design | bins (leads + lags) | lead coverage | lag coverage | null panels with a lead missing 0 "
        "| lag CI width | overall effect: coverage, CI width, HAR df |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for idx, (name, scenario, _) in enumerate(DESIGNS):
        rows = [r for r in results if r[0] == idx]
        lead_cov = np.concatenate([r[3] for r in rows])
        lag_cov = np.concatenate([r[4] for r in rows])
        any_miss = np.mean([not all(r[3]) for r in rows]) if scenario.effect == 0 else np.nan
        widths = np.concatenate([r[5] for r in rows])
        shown = "—" if np.isnan(any_miss) else f"{100 * any_miss:.1f}%"
        lines.append(
            f"| {name} | {len(rows[0][1])} + {len(rows[0][2])} | {100 * lead_cov.mean():.1f}% | "
            f"{100 * lag_cov.mean():.1f}% | {shown} | {widths.mean():.2f} | "
            f"{100 * np.mean([r[6] for r in rows]):.1f}%, {np.mean([r[7] for r in rows]):.2f}, "
            f"{int(np.median([r[8] for r in rows]))} |"
        )
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
