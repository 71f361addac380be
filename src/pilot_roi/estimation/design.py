"""The design of a pilot's panel, and the method `method="auto"` picks from it, stated in words.

`describe_design` reads the facts once (treated and control sites, common or staggered go-live, pre- and
post-period lengths, frequency, gaps); `choose_method` turns them into a primary method, the robustness
methods that also apply, and the reason as a sentence. The rules (in order):

1. Every site goes live, at different dates, and the dates can be reassigned among the sites in at least
   `randomization.MIN_ASSIGNMENTS` distinct ways → staggered DiD against the sites not yet live, with
   randomization inference over the go-live dates (the few not-yet-live controls rule out the analytic
   interval; the same inference serves staggered pilots with few never-treated controls: see
   `randomization.uses_randomization`). No control sites otherwise (no never-treated site, and no later
   adopter to compare with under `not_yet_treated`) → interrupted time series (the only method that needs
   no controls).
2. Treated sites go live at different dates → staggered DiD (Callaway & Sant'Anna); never plain TWFE.
3. One common go-live with controls → DiD with site and period fixed effects.
Robustness: synthetic control when there are 1-5 treated sites and at least 2 donors; interrupted time
series always; the staggered estimator beside a common-timing DiD (it is heterogeneity-robust).
Inference follows the number of treated sites (see `inference.choose_inference`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pilot_roi.estimation.method_words import describe_method_choice
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.panel import PanelData
from pilot_roi.estimation.randomization import MIN_ASSIGNMENTS, count_assignments, uses_randomization

_FREQUENCIES = {1: "daily", 7: "weekly"}
# a stated frequency's period: days for daily and weekly, months for the coarser ones (calendar months vary)
_STEP_DAYS = {"daily": 1, "weekly": 7}
_STEP_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
# quarters and years ask as little as any other coarse period (two before go-live, one after): they are named
# only so that the method's reason counts them in their own words ("21 quarters", not "21 periods")
_THRESHOLDS = {"daily": (28, 7), "weekly": (8, 2), "monthly": (6, 1), "quarterly": (2, 1), "yearly": (2, 1),
               "periods": (2, 1)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Design:
    """Facts about a panel's design. Masks are bool (n_units,); periods are counts of observed periods.

    `treated` go live inside the panel (at least one period before and one after) and report on both sides of
    their own go-live, `idle_treated` those that go live inside it but report only on one side (left out: their
    own level absorbs what they report, so they measure nothing); `never` are the control
    sites that report on both sides of the earliest go-live, `idle_controls` the never-treated sites that do
    not (left out: they compare nothing); `always_treated` are
    live from the first period (no pre-period: excluded); `late` go live after the last period (no
    post-period: excluded as treated; never used as controls either). `cohorts` are the go-live period
    indices; `n_pre`/`n_post` count periods before the earliest go-live and from the latest one on
    (per cohort in `cohort_pre`/`cohort_post`). `missing_periods` counts calendar periods absent for every
    site (a date panel with a gap in its days); `gap_share` is the share of site-period cells missing
    among the sites used, over the calendar grid.

    `frequency` is the panel's stated one (`PanelData.frequency`, `frequency_stated` True) or, when none was
    stated, the one read from the most common spacing of the labels (`step_days` that spacing; "periods" for
    integer times or a spacing no frequency has). With a stated frequency `step_days` is the period's length
    in days (1 or 7; None for months, quarters and years) and the calendar grid is that frequency's: a daily
    metric reported only on Mondays misses six days in seven, a monthly one without March misses March.
    """

    n_units: int
    n_times: int
    frequency: str
    step_days: int | None
    treated: np.ndarray
    never: np.ndarray
    idle_controls: np.ndarray
    idle_treated: np.ndarray
    always_treated: np.ndarray
    late: np.ndarray
    cohorts: tuple[int, ...]
    cohort_sizes: tuple[int, ...]
    cohort_pre: tuple[int, ...]
    cohort_post: tuple[int, ...]
    n_pre: int
    n_post: int
    missing_periods: int
    gap_share: float
    min_pre: int
    min_post: int
    frequency_stated: bool = False

    @property
    def n_treated(self) -> int:
        """Number of treated sites with both a pre- and a post-period."""
        return int(self.treated.sum())

    @property
    def n_never(self) -> int:
        """Number of never-treated sites."""
        return int(self.never.sum())

    @property
    def staggered(self) -> bool:
        """Treated sites go live at more than one date."""
        return len(self.cohorts) > 1

    def n_controls(self, control_group: str) -> int:
        """Control sites available: never-treated, plus later adopters under `not_yet_treated`."""
        if control_group == "not_yet_treated" and len(self.cohorts) > 1:
            return self.n_never + sum(self.cohort_sizes[1:])
        return self.n_never


def _frequency(panel: PanelData) -> tuple[str, int | None]:
    if panel.frequency is not None:  # the registry knows it: the labels' spacing only shows what was reported
        return panel.frequency, _STEP_DAYS.get(panel.frequency)
    if panel.time_kind != "date" or panel.n_times < 2:
        return "periods", None
    diffs = np.diff(panel.time_ordinal)
    values, counts = np.unique(diffs, return_counts=True)
    step = int(values[np.argmax(counts)])
    if 28 <= step <= 31:
        return "monthly", step
    if 89 <= step <= 92:
        return "quarterly", step
    if 365 <= step <= 366:
        return "yearly", step
    return _FREQUENCIES.get(step, "periods"), step


def describe_design(panel: PanelData, opts: EstimationOptions) -> Design:
    """The design facts of `panel` (see `Design`)."""
    frequency, step = _frequency(panel)
    ft = panel.first_treated
    treated = (ft >= 1) & (ft < panel.n_times)
    has_rows = np.bincount(panel.unit_idx, minlength=panel.n_units) > 0
    treated &= has_rows
    seen = panel.observed()
    # a treated site whose export starts at its go-live (or stops before it) has nothing to compare its own after
    # with its own before: left out, as a control that reports on one side only is
    live = np.arange(panel.n_times)[None, :] >= ft[:, None]
    idle_treated = treated & ~((seen & ~live).any(axis=1) & (seen & live).any(axis=1))
    treated &= ~idle_treated
    cohorts, sizes = np.unique(ft[treated], return_counts=True)
    never = (ft < 0) & has_rows
    if cohorts.size:
        # a control is a comparison only where it reports on both sides of go-live: one whose export stops
        # before it (or starts after it) is left out, and a pilot with no other control falls back to ITS
        first = int(cohorts.min())
        idle = never & ~(seen[:, :first].any(axis=1) & seen[:, first:].any(axis=1))
    else:
        idle = np.zeros(panel.n_units, dtype=bool)
    never &= ~idle
    if panel.time_kind == "date" and step is not None and frequency in ("daily", "weekly"):
        expected = int((panel.time_ordinal[-1] - panel.time_ordinal[0]) // step) + 1
    elif panel.frequency in _STEP_MONTHS:  # labels at period starts (prepare_panel checked): whole periods apart
        months = panel.time_labels[[0, -1]].astype("datetime64[M]").astype(np.int64)
        expected = int(months[1] - months[0]) // _STEP_MONTHS[panel.frequency] + 1
    else:
        expected = panel.n_times
    missing_periods = max(expected - panel.n_times, 0)
    used = treated | never
    n_used = int(used.sum())
    observed = int(np.sum(used[panel.unit_idx]))
    gap_share = 1.0 - observed / (n_used * expected) if n_used else 0.0
    default_pre, default_post = _THRESHOLDS[frequency]
    return Design(
        n_units=panel.n_units,
        n_times=panel.n_times,
        frequency=frequency,
        step_days=step,
        treated=treated,
        never=never,
        idle_controls=idle,
        idle_treated=idle_treated,
        always_treated=(ft == 0) & has_rows,
        late=(ft >= panel.n_times) & has_rows,
        cohorts=tuple(int(c) for c in cohorts),
        cohort_sizes=tuple(int(s) for s in sizes),
        cohort_pre=tuple(int(c) for c in cohorts),
        cohort_post=tuple(int(panel.n_times - c) for c in cohorts),
        n_pre=int(cohorts.min()) if cohorts.size else 0,
        n_post=int(panel.n_times - cohorts.max()) if cohorts.size else 0,
        missing_periods=missing_periods,
        gap_share=float(gap_share),
        min_pre=opts.min_pre_periods if opts.min_pre_periods is not None else default_pre,
        min_post=opts.min_post_periods if opts.min_post_periods is not None else default_post,
        frequency_stated=panel.frequency is not None,
    )


@dataclass(frozen=True, slots=True)
class MethodChoice:
    """The primary method, the robustness methods run beside it, and why: the facts behind the choice
    (`facts`, rendered in any language by `method_words.describe_method_choice`) and the English sentence."""

    primary: str
    robustness: tuple[str, ...]
    reason: str
    facts: dict[str, object] = field(default_factory=dict)
    options: dict[str, object] = field(default_factory=dict)


def _choice(
    primary: str, robustness: tuple[str, ...], facts: dict[str, object], options: dict[str, object] | None = None
) -> MethodChoice:
    facts = {**facts, "robustness": list(robustness)}
    return MethodChoice(primary, robustness, describe_method_choice(facts, "en"), facts, options or {})


def go_live_assignments(design: Design) -> int:
    """Distinct reassignments of the go-live dates (never-treated and late included) among the sites."""
    others = [int(design.late.sum()), design.n_never]
    return count_assignments(list(design.cohort_sizes) + [n for n in others if n])


def few_control_randomization(design: Design, opts: EstimationOptions) -> bool:
    """A staggered design whose intervals come from reassigning the go-live dates (`uses_randomization`),
    when the dates can be reassigned in enough ways."""
    if not design.staggered or go_live_assignments(design) < MIN_ASSIGNMENTS:
        return False
    return uses_randomization(design.n_treated, design.n_never, opts.few_treated)


def choose_method(design: Design, opts: EstimationOptions) -> MethodChoice:
    """`method="auto"`: the primary method and robustness checks for this design (rules in the module doc)."""
    n_t = design.n_treated
    n_c = design.n_controls(opts.control_group)
    few = n_t <= opts.few_treated
    if few_control_randomization(design, opts):
        inference = "randomization"
    elif few and n_c >= 3:
        inference = "placebo_variance"
    elif few and design.staggered:
        inference = "placebo_variance"  # the staggered estimator has no HAR: 2 controls give t with 1 df
    elif few:
        inference = "har"
    elif design.staggered:
        inference = "influence_function"
    else:
        inference = "wild_bootstrap"
    facts: dict[str, object] = {
        "n_treated": n_t,
        "n_controls": n_c,
        "n_cohorts": len(design.cohorts),
        "n_pre": design.n_pre,
        "frequency": design.frequency,
        "few_treated": opts.few_treated,
    }
    if n_t == 0:
        return _choice("did", (), {**facts, "case": "no_treated"})
    if inference == "randomization":  # the staggered estimator's own "auto" inference picks it too
        facts["n_assignments"] = go_live_assignments(design)
    if design.staggered and design.n_never == 0 and inference == "randomization":
        facts = {**facts, "n_controls": 0, "case": "all_treated_staggered", "inference": inference}
        return _choice("staggered_did", ("its",), facts, {"control_group": "not_yet_treated"})
    if n_c == 0:
        return _choice("its", (), {**facts, "case": "no_controls", "inference": "own_forecast"})
    robustness: list[str] = []
    if design.staggered:
        primary, case = "staggered_did", "staggered"
    else:
        primary, case = "did", "same_date"
        robustness.append("staggered_did")
    if few and design.n_never >= 2:
        robustness.append("synthetic_control")
    robustness.append("its")
    return _choice(primary, tuple(robustness), {**facts, "case": case, "inference": inference})
