"""Evidence grades of daily ITS null panels whose level wanders strongly, through the public API.

What the strong-walk design's false positives mean for users: each panel (1 site, 450 + 90 days, a
random-walk level with step sd 0.15 against noise sd 1, no effect) runs through `estimate_effect`
(method "auto", diagnostics included) and `grading.grade` (one pilot-metric: its q-value is its p-value,
higher is better). Prints the share of each grade; README "Known limits" quotes it.

Run:  .venv/bin/python bench/validation/its_grades.py [--panels 300] [--first-seed 50000]
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from pilot_roi.estimation._sc_its_simulate import simulate_its_panel
from pilot_roi.estimation.api import estimate_effect
from pilot_roi.grading import GradeInput, grade


def grades(panels: int, first_seed: int, level_sd: float = 0.15) -> Counter[str]:
    """Grade counts over `panels` null panels (seeds first_seed, first_seed + 1, ...)."""
    counts: Counter[str] = Counter()
    for seed in range(first_seed, first_seed + panels):
        df = simulate_its_panel(np.random.default_rng(seed), level_sd=level_sd)
        res = estimate_effect(df, "site", "date", "value", "go_live")
        item = GradeInput(
            status=res.status,
            effect=res.att,
            ci_low=res.ci_low,
            ci_high=res.ci_high,
            q_value=res.p_value,
            higher_is_better=True,
            pre_trend_p=res.pre_trend_p,
            diagnostics=res.diagnostics,
        )
        counts[grade(item).grade] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", type=int, default=300)
    parser.add_argument("--first-seed", type=int, default=50_000)
    args = parser.parse_args()
    counts = grades(args.panels, args.first_seed)
    for name, n in sorted(counts.items()):
        print(f"{name}: {n} of {args.panels} ({100 * n / args.panels:.1f}%)")


if __name__ == "__main__":
    main()
