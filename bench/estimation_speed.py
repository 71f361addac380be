"""Estimation speed: our demeaned TWFE against pyfixest on the same panel, and time per method by size.

Usage: python bench/estimation_speed.py [--out bench/results/estimation_speed.md] [--quick]

1. Two-way fixed-effects DiD with CR1 errors clustered by site on 200 sites × 730 days (balanced),
   ours (`fit_twfe`, numpy demeaning) and pyfixest `feols("y ~ d | site + day", vcov={"CRV1": "site"})`,
   same panel, same run, medians of repeated fits; β and SE must agree (β to 1e-8, SE to 1e-8 under the
   shared "nested" dof convention, pyfixest's default).
2. Time per method (detail on, diagnostics and robustness off) and for `estimate_effect(method="auto")`
   with diagnostics and robustness, over sites × days; 3 treated sites, daily data.
Other tenants on the machine can slow a run 2-8×: compare numbers from one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent / "validation"))

from dgp import Scenario, simulate

from pilot_roi.estimation import limit_blas_threads
from pilot_roi.estimation.api import estimate_panel, run_method
from pilot_roi.estimation.did import fit_twfe, treatment_dummy
from pilot_roi.estimation.options import EstimationOptions


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def twfe_vs_pyfixest(n_sites: int, n_days: int, repeats: int) -> list[str]:
    """Ours vs pyfixest on one panel: time, β, SE."""
    import pyfixest as pf

    panel, _ = simulate(
        Scenario("speed", 20, n_sites - 20, n_pre=n_days // 2, n_post=n_days - n_days // 2, effect=3.0),
        np.random.default_rng(0),
    )
    d = treatment_dummy(panel)
    df = pd.DataFrame({"y": panel.y, "d": d, "site": panel.unit_idx, "day": panel.time_idx})
    ours = fit_twfe(panel.y, d, panel.unit_idx, panel.time_idx, panel.n_units, panel.n_times)
    ref = pf.feols("y ~ d | site + day", data=df, vcov={"CRV1": "site"})
    t_ours = _median_time(
        lambda: fit_twfe(panel.y, d, panel.unit_idx, panel.time_idx, panel.n_units, panel.n_times), repeats
    )
    t_pf = _median_time(lambda: pf.feols("y ~ d | site + day", data=df, vcov={"CRV1": "site"}), repeats)
    b_ref, se_ref = float(ref.coef().iloc[0]), float(ref.se().iloc[0])
    return [
        f"Panel: {n_sites} sites × {n_days} days = {panel.n_obs:,} rows; median of {repeats} fits each.",
        "",
        "| implementation | time | β | SE (CR1 by site, nested dof) |",
        "| --- | ---: | ---: | ---: |",
        f"| ours (`fit_twfe`, numpy demeaning) | {1000 * t_ours:.1f} ms | {ours.coef[0]:.10f} | {ours.se[0]:.10f} |",
        f"| pyfixest 0.60 `feols` | {1000 * t_pf:.1f} ms | {b_ref:.10f} | {se_ref:.10f} |",
        "",
        f"|Δβ| = {abs(ours.coef[0] - b_ref):.1e}, relative ΔSE = {abs(ours.se[0] / se_ref - 1):.1e}; "
        f"speed-up {t_pf / t_ours:.1f}×.",
    ]


METHODS = ("did", "staggered_did", "synthetic_control", "its")


def per_method(sizes: list[tuple[int, int]], repeats: int) -> list[str]:
    """Time per method and per full `auto` run over panel sizes."""
    lines = [
        "| sites × days | rows | " + " | ".join(METHODS) + " | auto + diagnostics + robustness |",
        "| --- | ---: | " + " | ".join("---:" for _ in METHODS) + " | ---: |",
    ]
    opts = EstimationOptions(diagnostics=False, robustness=False)
    for n_sites, n_days in sizes:
        panel, _ = simulate(
            Scenario("speed", 3, n_sites - 3, n_pre=n_days // 2, n_post=n_days - n_days // 2, effect=3.0),
            np.random.default_rng(1),
        )
        cells = []
        for m in METHODS:
            run_method(m, panel, opts)  # warm-up (imports)
            cells.append(f"{_median_time(lambda m=m, p=panel: run_method(m, p, opts), repeats):.3f} s")
        full = _median_time(lambda p=panel: estimate_panel(p, "auto", EstimationOptions()), max(1, repeats // 2))
        lines.append(f"| {n_sites} × {n_days} | {panel.n_obs:,} | " + " | ".join(cells) + f" | {full:.2f} s |")
    return lines


def main() -> None:
    """Run both parts and write the markdown results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "estimation_speed.md"))
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats (smoke test)")
    args = parser.parse_args()
    limit_blas_threads(1)
    if args.quick:
        head = twfe_vs_pyfixest(40, 120, 3)
        body = per_method([(10, 90)], 1)
    else:
        head = twfe_vs_pyfixest(200, 730, 15)
        body = per_method([(20, 180), (20, 730), (50, 365), (200, 365), (200, 730)], 3)
    text = "\n".join(
        [
            "# Estimation speed",
            "",
            "Generated by `bench/estimation_speed.py` (BLAS single-threaded: "
            "`pilot_roi.estimation.limit_blas_threads`).",
            "",
            "## Two-way fixed-effects DiD: ours vs pyfixest (same panel, same run)",
            "",
            *head,
            "",
            "## Time per method (3 treated sites, daily data; detail on, diagnostics and robustness off)",
            "",
            *body,
            "",
            "Synthetic control and ITS are timed through the registry (their own modules).",
            "",
        ]
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
