"""Design-based randomization inference for staggered go-lives (Athey & Imbens 2022).

When every site of a pilot goes live, only at different dates, the Callaway & Sant'Anna estimate compares
each cohort with the sites not yet live, and at the end only the last cohort is left as controls: the
influence-function interval is far too short with so few sites (10.3% false positives at 5% with 6 sites
in 3 cohorts, bench/validation). Here the go-live dates are taken as assigned at random among the sites:
every distinct reassignment of the same dates (the same cohort sizes) to the sites gives a placebo
estimate. The test of a constant effect τ compares the actual estimate on y - τ·D with the placebo
estimates on the same y - τ·D; the interval is every τ the test does not reject, found exactly (each
comparison changes only at the roots of a quadratic in τ). Staggered pilots with too few never-treated
controls for the placebo variance or the influence function take it too (`uses_randomization`); the
never-treated sites then join the reassignment as one more "go-live" value.

Speed: on a balanced outcome matrix the cells (g, t) of the estimator and their weights depend only on the
cohort sizes, not on which site is in which cohort, so every aggregate is Σ_i V[i, cohort of i] with V
computed once (`site_cohort_weights`); an assignment then costs one gather. Missing cells are filled by a
linear two-way rule (`fill_missing`) before V is built, so the statistic stays linear in the outcome and the
same for every assignment, which is all the test's validity needs; on a balanced panel it is exactly the
reported estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np

# Fewer distinct assignments than this and a 5% test cannot reject often enough to give an interval.
MIN_ASSIGNMENTS = 40
# Above this many, assignments are drawn at random (with the actual one kept first).
MAX_ASSIGNMENTS = 999
# With more treated sites than `few_treated`, the influence-function interval needs many never-treated
# controls: with 3 and 5 of them it rejected 10.3% and 7.8% of null staggered panels (8 and 10 treated
# sites, 2,000 panels each; bench/validation), with 10 about 6.5% (400 panels); with 40, 5% or less.
MIN_CONTROLS_FOR_INFLUENCE = 10


def uses_randomization(n_treated: int, n_never: int, few_treated: int) -> bool:
    """Whether a staggered design's intervals come from reassigning the go-live dates (given enough
    assignments): every site goes live; 1-`few_treated` treated sites have fewer than 3 never-treated
    controls (a placebo variance with 0-1 degrees of freedom); or more treated sites have fewer than
    `MIN_CONTROLS_FOR_INFLUENCE` controls."""
    if n_never == 0:
        return True
    return n_never < 3 if n_treated <= few_treated else n_never < MIN_CONTROLS_FOR_INFLUENCE


@dataclass(frozen=True, slots=True)
class Reassignments:
    """Assignments of the go-live values to the sites: cohort_index (n_assign, n_units) indexes `values`.

    Row 0 is the actual assignment. `exhaustive` says whether the rows are every distinct assignment
    (`total` of them) or a random draw of them.
    """

    cohort_index: np.ndarray
    values: np.ndarray
    exhaustive: bool
    total: int

    @property
    def n(self) -> int:
        """Number of assignments used, the actual one included."""
        return int(self.cohort_index.shape[0])


def count_assignments(cohort_sizes: np.ndarray | tuple[int, ...] | list[int]) -> int:
    """Distinct ways to give the sites go-live values with these cohort sizes (a multinomial coefficient)."""
    total, left = 1, int(np.sum(cohort_sizes))
    for size in cohort_sizes:
        total *= math.comb(left, int(size))
        left -= int(size)
    return total


def _all_assignments(actual: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Every distinct assignment with these cohort sizes, the actual one first."""
    n_units = actual.size
    rows: list[np.ndarray] = []

    def fill(row: np.ndarray, free: tuple[int, ...], h: int) -> None:
        if h == sizes.size - 1:
            row[list(free)] = h
            rows.append(row.copy())
            return
        for chosen in combinations(free, int(sizes[h])):
            row[list(chosen)] = h
            fill(row, tuple(u for u in free if u not in chosen), h + 1)

    fill(np.empty(n_units, np.int64), tuple(range(n_units)), 0)
    out = np.array(rows)
    first = int(np.flatnonzero((out == actual[None, :]).all(axis=1))[0])
    return np.vstack([out[first : first + 1], np.delete(out, first, axis=0)])


def reassignments(
    unit_group: np.ndarray, rng: np.random.Generator, max_assignments: int = MAX_ASSIGNMENTS
) -> Reassignments:
    """The assignments of the sites' go-live values (unit_group codes) that the test compares."""
    values, actual, sizes = np.unique(unit_group, return_inverse=True, return_counts=True)
    actual = actual.astype(np.int64)
    total = count_assignments(sizes)
    if total <= max_assignments:
        return Reassignments(_all_assignments(actual, sizes), values, True, total)
    draws = np.array([rng.permutation(actual) for _ in range(max_assignments - 1)])
    return Reassignments(np.vstack([actual[None, :], draws]), values, False, total)


def fill_missing(y_wide: np.ndarray) -> np.ndarray:
    """y with NaN cells filled by site mean + period effect (the mean deviation of the sites observed then).

    Linear in the observed values, so fill(y - τ·D) = fill(y) - τ·fill(D) on the same missing cells.
    """
    observed = np.isfinite(y_wide)
    if observed.all():
        return y_wide
    y0 = np.where(observed, y_wide, 0.0)
    site_mean = y0.sum(axis=1) / np.maximum(observed.sum(axis=1), 1)
    dev = np.where(observed, y0 - site_mean[:, None], 0.0)
    period = dev.sum(axis=0) / np.maximum(observed.sum(axis=0), 1)
    return np.where(observed, y_wide, site_mean[:, None] + period[None, :])


def treatment_matrix(unit_group: np.ndarray, n_times: int, observed: np.ndarray) -> np.ndarray:
    """D (n_units, n_times): 1 from a site's go-live on, NaN where the outcome is missing."""
    live = (unit_group[:, None] >= 0) & (np.arange(n_times)[None, :] >= unit_group[:, None])
    return np.where(observed, live.astype(float), np.nan)


def gather(v: np.ndarray, r: Reassignments) -> np.ndarray:
    """(k, n_assign): Σ_i V[k, i, cohort of i] for every assignment."""
    k, n_units, n_values = v.shape
    onehot = np.zeros((r.n, n_units * n_values))
    onehot[np.arange(r.n)[:, None], np.arange(n_units)[None, :] * n_values + r.cohort_index] = 1.0
    return v.reshape(k, n_units * n_values) @ onehot.T


def _accepts(a: np.ndarray, c: np.ndarray, taus: np.ndarray, alpha: float) -> np.ndarray:
    """Bool (len(taus),): the test of effect τ does not reject at `alpha` (p > alpha)."""
    out = np.empty(taus.size, bool)
    for lo in range(0, taus.size, 256):
        t = taus[lo : lo + 256]
        stat = np.abs(a[:, None] - t[None, :] * c[:, None])
        actual = stat[0]
        tol = 1e-10 * np.maximum(1.0, np.abs(actual))
        out[lo : lo + 256] = (stat >= actual[None, :] - tol[None, :]).mean(axis=0) > alpha
    return out


def p_value(a: np.ndarray, c: np.ndarray, tau: float) -> float:
    """Randomization p-value of the constant effect τ: share of assignments with |a - τc| ≥ the actual's."""
    stat = np.abs(a - tau * c)
    return float(np.mean(stat >= stat[0] - 1e-10 * max(1.0, stat[0])))


def invert_test(a: np.ndarray, c: np.ndarray, alpha: float) -> tuple[float, float]:
    """The (1 - alpha) interval of a constant effect: the hull of every τ the randomization test keeps.

    a (n_assign,) the statistic on y and c on D for each assignment (row 0 actual), so the statistic on
    y - τ·D is a - τc. |a_π - τc_π| ≥ |a_0 - τc_0| changes truth only at the roots of a quadratic in τ, so
    the p-value is constant between consecutive roots: checking each root and one point between each
    pair (and beyond the ends) finds the interval exactly. An unbounded side is ±inf.
    """
    qa = c**2 - c[0] ** 2
    qb = -2.0 * (a * c - a[0] * c[0])
    qc = a**2 - a[0] ** 2
    roots: list[np.ndarray] = []
    quad = np.abs(qa) > 1e-14
    disc = qb[quad] ** 2 - 4 * qa[quad] * qc[quad]
    ok = disc >= 0
    sq = np.sqrt(disc[ok])
    roots += [(-qb[quad][ok] - sq) / (2 * qa[quad][ok]), (-qb[quad][ok] + sq) / (2 * qa[quad][ok])]
    lin = ~quad & (np.abs(qb) > 1e-14)
    roots.append(-qc[lin] / qb[lin])
    r = np.unique(np.concatenate(roots)) if roots else np.zeros(0)
    r = r[np.isfinite(r)]
    if r.size == 0:
        r = np.array([a[0] / c[0] if c[0] else a[0]])
    span = max(1.0, float(np.ptp(r)))
    mids = (r[:-1] + r[1:]) / 2
    taus = np.concatenate([[r[0] - span], r, mids, [r[-1] + span]])
    taus.sort()
    keep = _accepts(a, c, taus, alpha)
    if not keep.any():
        return math.nan, math.nan
    inside = taus[keep]
    low = -math.inf if keep[0] else float(inside.min())
    high = math.inf if keep[-1] else float(inside.max())
    return low, high


def joint_pvalue(stats: np.ndarray, max_q: int = 12) -> float:
    """Randomization p-value of a joint test: stats (q, n_assign), column 0 the actual assignment.

    The statistic is the sum of squared standardized rows, each row first averaged with its neighbours into
    at most `max_q` groups (a valid test of a coarser null). Not the Wald form s' Σ⁻¹ s: over every
    reassignment of go-live dates a linear statistic spans a space in which that form is the same for
    every assignment (the permutations act transitively on it), so its p-value would always be 1.
    """
    q, n = stats.shape
    if q == 0 or n < 8:
        return math.nan
    if q > max_q:
        stats = np.array([stats[g].mean(axis=0) for g in np.array_split(np.arange(q), max_q)])
    sd = stats.std(axis=1)
    rows = sd > 1e-12 * max(1.0, float(sd.max()))
    if not rows.any():
        return math.nan
    form = np.sum((stats[rows] / sd[rows, None]) ** 2, axis=0)
    return float(np.mean(form >= form[0] - 1e-10 * max(1.0, form[0])))
