"""A go-live in the middle of a month: the month that holds it as the first treated month, against the next month.

The warehouse stores monthly values on the 1st (PRODUCT.md). Until 2026-11-28 a go-live on the 17th mapped to the
next month (the first label at or after it), so the half-treated go-live month sat in the pre-period; now it is
the first treated month (`estimation.panel.first_treated_period`). This measures both rules on the same panels.

Panels: months labelled on the 1st; the go-live on a day drawn uniformly from the 2nd to the 28th of month 37
(January 2025); the pilot's effect `effect` (in noise sds) from that day on, so the go-live month carries the
share of its days after go-live. The truth of each rule is the mean effect over the months it counts as post:
`effect` for the next-month rule (its post months are all fully treated), and the go-live month's share averaged
in for the holding-month rule.
- `its`: one site, 36 months before, 24 from go-live, AR(1) errors (rho 0.3, sd 1), a level of 100 and an annual
  cycle of amplitude 1: interrupted time series (the default segmented model, the go-live month with an effect
  of its own);
- `did`: 3 treated sites and 10 controls, the same months, site levels, a common AR(0.5) monthly shock (sd 1)
  and AR(1) site noise (rho 0.3, sd 1): difference-in-differences.

Run: `python bench/validation/go_live_mid_period.py --reps 500 --out bench/validation/go_live_mid_period.md`.
"""

from __future__ import annotations

import argparse
import calendar
import time
import warnings
from datetime import date, timedelta
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import polars as pl

from pilot_roi import estimate_effect

N_PRE, N_POST = 36, 24
MONTHS = [date(2022 + i // 12, i % 12 + 1, 1) for i in range(N_PRE + N_POST)]
GO_MONTH = MONTHS[N_PRE]
NEXT_MONTH = MONTHS[N_PRE + 1]
DAYS_IN_GO_MONTH = calendar.monthrange(GO_MONTH.year, GO_MONTH.month)[1]
OUT = Path(__file__).with_name("go_live_mid_period.md")


def _ar1(rng: np.random.Generator, shape: tuple[int, int], rho: float, sd: float) -> np.ndarray:
    out = np.empty(shape)
    out[:, 0] = rng.normal(0.0, sd, shape[0])
    for j in range(1, shape[1]):
        out[:, j] = rho * out[:, j - 1] + rng.normal(0.0, sd * np.sqrt(1 - rho**2), shape[0])
    return out


def panel(design: str, rep: int, effect: float) -> tuple[pl.DataFrame, date, float]:
    """One panel, its go-live date and the share of the go-live month that is live."""
    rng = np.random.default_rng([20261128, rep, 0 if design == "its" else 1])
    day = int(rng.integers(2, 29))
    share = (DAYS_IN_GO_MONTH - day + 1) / DAYS_IN_GO_MONTH
    n_treated, n_sites = (1, 1) if design == "its" else (3, 13)
    t = len(MONTHS)
    cycle = np.sin(2 * np.pi * np.arange(t) / 12)
    y = 100.0 + cycle[None, :] + _ar1(rng, (n_sites, t), 0.3, 1.0)
    if design == "did":
        y += rng.normal(0.0, 5.0, (n_sites, 1)) + _ar1(rng, (1, t), 0.5, 1.0)
    dose = np.zeros(t)
    dose[N_PRE] = share
    dose[N_PRE + 1 :] = 1.0
    y[:n_treated] += effect * dose[None, :]
    go_live = GO_MONTH + timedelta(days=day - 1)
    sites = [f"S{i:02d}" for i in range(n_sites)]
    frame = pl.DataFrame(
        {
            "site": np.repeat(sites, t),
            "month": MONTHS * n_sites,
            "value": y.ravel(),
            "go_live": [go_live if i < n_treated else None for i in range(n_sites) for _ in range(t)],
        },
        schema={"site": pl.String, "month": pl.Date, "value": pl.Float64, "go_live": pl.Date},
    )
    return frame, go_live, share


def _one(args: tuple[str, int, float]) -> tuple[float, ...]:
    design, rep, effect = args
    frame, _, share = panel(design, rep, effect)
    out: list[float] = []
    next_month = frame.with_columns(pl.when(pl.col("go_live").is_not_null()).then(NEXT_MONTH).alias("go_live"))
    rules = {"holding": (frame, effect * (share + N_POST - 1) / N_POST), "next": (next_month, effect)}
    for given, truth in rules.values():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = estimate_effect(
                given, unit="site", time="month", outcome="value", first_treated="go_live",
                method=design, seed=rep, diagnostics=False, robustness=False,
            )  # fmt: skip
        out += [res.att, res.ci_low, res.ci_high, truth]
    return tuple(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--effects", type=float, nargs="+", default=[0.0, 2.0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    lines = [
        "# A go-live in mid-month: the month that holds it (now) against the next month (before)",
        "",
        f"{args.reps} panels per row (`bench/validation/go_live_mid_period.py`; design in its docstring). Bias and",
        "coverage against each rule's own truth; bias vs `effect`: against the full effect.",
        "",
        "| design | effect | rule | bias | bias vs effect | RMSE | coverage | rejects 0 |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    start = time.perf_counter()
    with Pool(args.processes) as pool:
        for design in ("its", "did"):
            for effect in args.effects:
                rows = np.asarray(pool.map(_one, [(design, r, effect) for r in range(args.reps)], chunksize=4))
                for k, rule in enumerate(("holding month", "next month")):
                    att, lo, hi, truth = rows[:, 4 * k : 4 * k + 4].T
                    ok = np.isfinite(att) & np.isfinite(lo) & np.isfinite(hi)
                    bias = float(np.mean(att[ok] - truth[ok]))
                    line = (
                        f"| {design} | {effect:g} | {rule} | {bias:+.3f} | {float(np.mean(att[ok]) - effect):+.3f} | "
                        f"{float(np.sqrt(np.mean((att[ok] - truth[ok]) ** 2))):.3f} | "
                        f"{float(np.mean((lo[ok] <= truth[ok]) & (truth[ok] <= hi[ok]))):.1%} | "
                        f"{float(np.mean((lo[ok] > 0) | (hi[ok] < 0))):.1%} |"
                    )
                    lines.append(line)
                    print(line, flush=True)
    lines += ["", f"{time.perf_counter() - start:.0f} s on 2 processes."]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
