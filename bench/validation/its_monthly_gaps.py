"""Monthly ITS with months missing inside the series: the AR(1) errors across a gap.

The segmented regression's GLS whitens each month by the one before it. Until 2026-11-28 the observed months were
taken as consecutive, so the two months around a gap counted as neighbours and the errors' correlation was read
over one month where two had passed; now a gap of d months is whitened by rho^d (`ar1_regression`'s `periods`).
This script measures the product on monthly series with months missing at random; run it on an older checkout
(`--json`) and pass that file as `--before` to put both side by side.

Panels: `simulate_monthly_panel` (level, trend, annual season, AR(1) noise, sd 1), then each month but the first and
the last dropped with the stated probability. The truth is the effect.

Run: `python bench/validation/its_monthly_gaps.py --reps 2000 [--before old.json] [--json now.json]`.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import polars as pl

from pilot_roi.estimation import limit_blas_threads
from pilot_roi.estimation._sc_its_simulate import simulate_monthly_panel
from pilot_roi.estimation.its import estimate_its
from pilot_roi.estimation.panel import prepare_panel


@dataclass(frozen=True, slots=True)
class Design:
    name: str
    n_pre: int
    n_post: int
    rho: float
    missing: float
    effect: float = 0.0


DESIGNS = [
    Design("36 + 24 months, ρ 0.3, 10% missing, null", 36, 24, 0.3, 0.1),
    Design("36 + 24 months, ρ 0.3, 10% missing, effect 1", 36, 24, 0.3, 0.1, 1.0),
    Design("36 + 24 months, ρ 0.7, 10% missing, null", 36, 24, 0.7, 0.1),
    Design("36 + 24 months, ρ 0.7, 20% missing, null", 36, 24, 0.7, 0.2),
    Design("24 + 24 months, ρ 0.85, 15% missing, null", 24, 24, 0.85, 0.15),
    Design("18 + 20 months, ρ 0.5, 10% missing, null", 18, 20, 0.5, 0.1),
]


def one_panel(args: tuple[int, int]) -> tuple[int, float, float, float, float]:
    """(design, estimate, low, high, p) for one replication; NaNs where the series is refused."""
    limit_blas_threads(1)
    warnings.simplefilter("ignore")
    idx, rep = args
    d = DESIGNS[idx]
    rng = np.random.default_rng([911, idx, rep])
    df = simulate_monthly_panel(rng, n_pre=d.n_pre, n_post=d.n_post, effect=d.effect, rho=d.rho)
    keep = rng.random(df.height) >= d.missing
    keep[0] = keep[-1] = True
    df = df.filter(pl.Series(keep))
    res = estimate_its(prepare_panel(df, "site", "date", "value", "go_live"))
    return idx, res.att, res.ci_low, res.ci_high, res.p_value


def summarise(results: list[tuple[int, float, float, float, float]]) -> list[dict[str, float | str]]:
    rows: list[dict[str, float | str]] = []
    for idx, d in enumerate(DESIGNS):
        fits = np.array([r[1:] for r in results if r[0] == idx], float)
        ok = np.isfinite(fits[:, 0])
        est, low, high, p = fits[ok].T
        rows.append(
            {
                "design": d.name,
                "reps": int(ok.size),
                "refused": int((~ok).sum()),
                "bias": float(est.mean() - d.effect),
                "coverage": float(np.mean((low <= d.effect) & (d.effect <= high))),
                "rejects": float(np.mean(p < 0.05)),
                "width": float(np.mean(high - low)),
            }
        )
    return rows


def _cells(row: dict[str, float | str] | None) -> str:
    if row is None:
        return "— | — | — | —"
    refused = f" ({row['refused']} refused)" if row["refused"] else ""
    return (
        f"{float(row['bias']):+.3f} | {100 * float(row['coverage']):.1f}%{refused} | "
        f"{100 * float(row['rejects']):.1f}% | {float(row['width']):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--before", type=Path, help="a --json file written by the code to compare against")
    parser.add_argument("--json", type=Path, help="write this run's rows here")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("its_monthly_gaps.md"))
    parser.add_argument("--stored", type=Path, help="render this --json file instead of simulating again")
    args = parser.parse_args()
    started = time.time()
    if args.stored:
        rows = json.loads(args.stored.read_text(encoding="utf-8"))
    else:
        with Pool(args.processes) as pool:
            jobs = [(i, r) for i in range(len(DESIGNS)) for r in range(args.reps)]
            rows = summarise(pool.map(one_panel, jobs, chunksize=25))
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    before = {r["design"]: r for r in json.loads(args.before.read_text(encoding="utf-8"))} if args.before else {}
    lines = [
        "# Monthly ITS with months missing inside the series",
        "",
        f"`python bench/validation/its_monthly_gaps.py --reps {rows[0]['reps']}`, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{'rendered from a stored run' if args.stored else f'{time.time() - started:.0f} s'}; 1 site, "
        "`estimate_its` on `auto` (segmented regression, AR(1) GLS). Rejects: p < 0.05 (false positives on null "
        "designs, power otherwise). Before: the observed months taken as consecutive (the code before 2026-11-28 "
        "11:00, same panels). See the script's docstring for the designs.",
        "",
        "| design | now: bias | coverage | rejects | CI width | before: bias | coverage | rejects | CI width |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['design']} | {_cells(r)} | {_cells(before.get(str(r['design'])))} |" for r in rows]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
