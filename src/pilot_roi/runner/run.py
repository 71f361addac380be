"""Estimate the whole portfolio: read panels, estimate what changed, grade, price, store one run.

Flow (one call of `run_portfolio`):

1. read every pilot-metric (pipelines/estimates/portfolio.sql) and the last finished run's results;
2. for each pilot-metric read its sites (treated with go-live; listed or default controls, minus sites
   another pilot touches in the window) and its panel, and hash them (`inputs_hash`); when the hash
   equals the last run's, carry that result forward (`reused_from_run`) instead of estimating again.
   With `pilot=CODE` only that pilot's metrics are re-examined; the others are carried forward as they
   are, so the run still names the complete portfolio;
3. estimate the rest (in the caller's warm pool when given, else in a process pool of `workers` when there are
   many), each failure isolated;
4. Benjamini–Hochberg q-values across every pilot-metric with a p-value, then grades, then economics
   (recomputed every run: they depend on the portfolio, the tenge values and the discount rate), each row
   recording the tenge value, direction, frequency and costs it was priced with, and the treated sites (with
   go-lives) and control sites it was estimated with: the controls its estimate reports it used (none for an
   interrupted time series), or those it was offered when there is no estimate to say (a carried-forward result
   keeps those of its estimate);
5. write the run and all its rows in one transaction.

Determinism: every random choice is seeded from the run's seed and the pilot-metric's codes, so the
same data and seed give the same numbers bit for bit, in any order and in any process.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from pilot_roi import __version__
from pilot_roi.clock import today as local_today
from pilot_roi.economics import EffectEstimate, evaluate, realized_gain_kzt, realized_gain_start
from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.grading import GradeInput, benjamini_hochberg, grade
from pilot_roi.runner import read
from pilot_roi.runner.model import Estimate, EstimateJob, PilotMetric, RunOptions, RunSites, derive_seed
from pilot_roi.runner.pool import start_pool
from pilot_roi.runner.store import store_run
from pilot_roi.runner.worker import dumps, run_job

log = logging.getLogger(__name__)

_CODE_FILES = ("estimation", "runner/worker.py", "runner/read.py")


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run did: its id, how many pilot-metrics were estimated, reused or failed, and how long it took.

    Every pilot-metric is exactly one of `n_estimated`, `n_reused` and `n_not_estimated` (decided without
    estimating, e.g. no treated site has data); `n_errors` and `n_insufficient` count statuses across all three.

    `seconds_by_item` is each estimate's wall time in its worker, `cpu_seconds_by_item` its CPU time
    (the honest measure on a shared machine). Neither is stored: timings would break bit-identical runs.
    `pool_broken`: the pool the caller gave broke or was shut down during the run (replace it; the run is whole).
    """

    run_id: int
    data_version: str
    code_version: str
    n_estimates: int
    n_estimated: int
    n_reused: int
    n_not_estimated: int
    n_errors: int
    n_insufficient: int
    seconds: float
    seconds_by_item: dict[str, float] = field(default_factory=dict)
    cpu_seconds_by_item: dict[str, float] = field(default_factory=dict)
    pool_broken: bool = False


@cache
def code_version() -> str:
    """The package version plus a hash of the estimation code: a result is reused only by the code that made it."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in _CODE_FILES:
        path = root / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode("utf-8"))
            digest.update(file.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _estimation_params(options: RunOptions) -> dict[str, Any]:
    return {"seed": options.seed, "method": options.method, "control_group": options.control_group}


def _stored_estimate(row: dict[str, Any], from_run: int, counterfactual: Any) -> Estimate:
    """A result of run `from_run` carried forward: estimation numbers as stored, frames copied later."""

    def num(key: str) -> float:
        value = row.get(key)
        return math.nan if value is None else float(value)

    def opt(key: str) -> float | None:
        value = row.get(key)
        return None if value is None else float(value)

    diagnostics = row.get("diagnostics")
    return Estimate(
        pilot_code=row["pilot_code"],
        metric_code=row["metric_code"],
        inputs_hash=row["inputs_hash"],
        status=row["status"],
        reason=row.get("reason"),
        method=row.get("method"),
        method_reason=row.get("method_reason"),
        effect=num("effect"),
        se=num("se"),
        effect_pct=num("effect_pct"),
        ci_low=num("ci_low"),
        ci_high=num("ci_high"),
        p_value=num("p_value"),
        pre_trend_p=opt("pre_trend_p"),
        mde=opt("mde"),
        n_treated=int(row.get("n_treated") or 0),
        n_controls=int(row.get("n_controls") or 0),
        n_pre_periods=int(row.get("n_pre_periods") or 0),
        n_post_periods=int(row.get("n_post_periods") or 0),
        diagnostics=json.loads(diagnostics) if isinstance(diagnostics, str) else dict(diagnostics or {}),
        summary=row.get("summary"),
        reused_from_run=int(row.get("reused_from_run") or from_run),
        frames_from_run=from_run,
        counterfactual=counterfactual,
        sites=_recorded_sites(row),
    )


def _recorded_sites(row: dict[str, Any]) -> RunSites | None:
    """The sites a stored result was estimated with (migration 0010), None when its run did not record them."""
    treated = row.get("treated_sites")
    if treated is None:
        return None
    return RunSites(
        tuple((str(t["site_code"]), t["go_live"]) for t in treated),
        tuple(str(c) for c in row.get("control_sites") or ()),
        str(row.get("control_rule") or ""),
    )


def _prepare(
    con: duckdb.DuckDBPyConnection, item: PilotMetric, options: RunOptions, version: str
) -> EstimateJob | Estimate:
    """The job that estimates `item`, or at once the result that says why it cannot be estimated."""
    roles = read.read_site_roles(con, item.pilot_code, item.metric_code, contamination=options.contamination)
    sites = RunSites.of(roles, item.n_listed_controls)
    if item.metric_value is None:
        return Estimate(item.pilot_code, item.metric_code, "", status="error", reason="unknown_metric", sites=sites)
    as_of = options.as_of or local_today()
    loaded = read.read_panel(con, item.metric_code, roles, load_times=True)
    early = read.loaded_before_period_end(loaded, item, as_of)
    # the hash covers the rows estimated: when a period ends its values enter and the pilot-metric re-estimates
    panel, open_periods = read.split_open_periods(loaded.drop("loaded_at"), item, as_of)
    digest = read.inputs_hash(item, roles, panel, estimation=_estimation_params(options), code_version=version)
    context: dict[str, Any] = {
        "control_rule": "listed" if item.n_listed_controls else "subsidiary_never_treated",
        "controls": list(roles.controls),
        "controls_excluded": {site: by for site, by in roles.excluded},
    }
    if open_periods:
        context["periods_not_ended"] = open_periods
    if early:
        context["loaded_before_period_end"] = early
    if roles.treated_touched_by:
        context["treated_also_in"] = {site: by for site, by in roles.treated_touched_by}
    # Listed sites without a single value of the metric never reach the estimator's design: name them here, so
    # that the diagnostics in words can say which of the pilot's sites the estimate could not use.
    reported = set(panel["site_code"].to_list())
    silent_treated = [site for site, _ in roles.treated if site not in reported]
    silent_controls = [site for site in roles.controls if site not in reported] if item.n_listed_controls else []
    if silent_treated:
        context["treated_without_data"] = silent_treated
    if silent_controls:
        context["controls_without_data"] = silent_controls
    if not roles.treated:
        return Estimate(item.pilot_code, item.metric_code, digest, "insufficient_data", "no_treated_sites",
                        diagnostics=context, sites=sites)  # fmt: skip
    treated_sites = {site for site, _ in roles.treated}
    if panel.filter(panel["site_code"].is_in(list(treated_sites))).height == 0:
        return Estimate(item.pilot_code, item.metric_code, digest, "insufficient_data", "no_treated_data",
                        diagnostics=context, sites=sites)  # fmt: skip
    return EstimateJob(
        pilot_code=item.pilot_code,
        metric_code=item.metric_code,
        inputs_hash=digest,
        panel=panel,
        seed=derive_seed(options.seed, "estimate", item.pilot_code, item.metric_code),
        method=options.method,
        control_group=options.control_group,
        context=context,
        sites=sites,
        frequency=item.frequency,
    )


def _estimate_all(
    jobs: list[EstimateJob], options: RunOptions, pool: cf.Executor | None = None
) -> tuple[list[Estimate], bool]:
    """Run the jobs; the results and whether the caller's `pool` broke (or was shut down) on the way.

    With the caller's `pool` (warm: no start-up to pay) every job goes to it, even one (the caller, a web server,
    keeps its GIL for its requests); else, in pools of
    `options.workers` processes when at least `options.parallel_min_jobs` jobs need them; else in this process.
    A pool that breaks (a worker killed, e.g. out of memory) costs only the pilot-metrics it was estimating at
    that moment (error rows: `worker_failed`); jobs not yet handed to it go on as if there were no pool given
    (in a new pool of ours, or in this process). A pool in which no job ever finished hands every job to this
    process instead.
    """
    pending = deque(jobs)
    if pool is None or not pending:
        return _in_own_pools(pending, options), False
    results: list[Estimate] = []
    in_flight: dict[cf.Future[Estimate], EstimateJob] = {}
    try:
        _feed(pool, pending, in_flight, results, limit=len(pending))
        return results, False
    except cf.BrokenExecutor:
        if _after_break(in_flight, results, pending, finished_before=0):
            return [run_job(job) for job in pending], True
        return results + _in_own_pools(pending, options), True


def _in_own_pools(pending: deque[EstimateJob], options: RunOptions) -> list[Estimate]:
    """Run the jobs in pools this function starts (and replaces when one breaks), or here when they are few."""
    if options.workers <= 1 or len(pending) < options.parallel_min_jobs:
        return [run_job(job) for job in pending]
    results: list[Estimate] = []
    while pending:
        in_flight: dict[cf.Future[Estimate], EstimateJob] = {}
        finished_before = len(results)
        try:
            with start_pool(options.workers) as pool:  # spawned, not forked; its workers die with this process
                # bounded, so that a broken pool loses few jobs and the rest go on in the next
                _feed(pool, pending, in_flight, results, limit=2 * options.workers + 2)
        except cf.BrokenExecutor:
            if _after_break(in_flight, results, pending, finished_before):
                return results + [run_job(job) for job in pending]
    return results


def _after_break(
    in_flight: dict[cf.Future[Estimate], EstimateJob],
    results: list[Estimate],
    pending: deque[EstimateJob],
    finished_before: int,
) -> bool:
    """After a pool broke: its lost jobs become `worker_failed` rows; but when no job finished in it (there are
    still `finished_before` results: it could not start, or was broken or shut down before this run) they go
    back to the front of `pending` and this returns True: run everything pending in this process."""
    _harvest(in_flight, results)
    lost = list(in_flight.values())
    in_flight.clear()
    if len(results) == finished_before:
        log.warning("the estimation pool could not start or was broken; estimating in this process instead")
        pending.extendleft(reversed(lost))
        return True
    log.warning("an estimation worker died; %d pilot-metric(s) lost, the rest continue", len(lost))
    results.extend(_lost(job) for job in lost)
    return False


def _feed(
    pool: cf.Executor,
    pending: deque[EstimateJob],
    in_flight: dict[cf.Future[Estimate], EstimateJob],
    results: list[Estimate],
    limit: int,
) -> None:
    """Hand the pending jobs to `pool`, at most `limit` in flight, until every result is in `results`.

    A job leaves `pending` only once the pool took it; raises `concurrent.futures.BrokenExecutor` when the pool
    breaks or refuses work (shut down), with the jobs it held still in `in_flight`.
    """
    while pending:
        try:
            future = pool.submit(run_job, pending[0])
        except RuntimeError as exc:  # broken (a BrokenExecutor) or shut down: this job never started
            raise cf.BrokenExecutor(str(exc)) from exc
        in_flight[future] = pending.popleft()
        if len(in_flight) >= limit:
            _collect(in_flight, results)
    while in_flight:
        _collect(in_flight, results)


def _lost(job: EstimateJob) -> Estimate:
    return Estimate(job.pilot_code, job.metric_code, job.inputs_hash, "error", "worker_failed",
                    diagnostics=dict(job.context))  # fmt: skip


def _collect(in_flight: dict[cf.Future[Estimate], EstimateJob], results: list[Estimate]) -> None:
    """Wait for a job to end and move the finished ones into `results`; then raise a broken pool for the caller."""
    cf.wait(list(in_flight), return_when=cf.FIRST_COMPLETED)
    _harvest(in_flight, results)
    broken = next((future.exception() for future in in_flight if future.done()), None)
    if broken is not None:
        raise broken


def _harvest(in_flight: dict[cf.Future[Estimate], EstimateJob], results: list[Estimate]) -> None:
    """Move every job that ended into `results` (one that raised: `worker_failed`), except those a broken pool
    failed: they stay in flight, for the caller to count as lost."""
    for future in [f for f in in_flight if f.done()]:
        exc = future.exception()
        if not isinstance(exc, cf.BrokenExecutor):
            job = in_flight.pop(future)
            results.append(future.result() if exc is None else _lost(job))


def _realized(item: PilotMetric, est: Estimate) -> float:
    metric = item.metric_value
    frame = est.counterfactual
    if metric is None or frame is None or frame.height == 0 or item.first_go_live is None or est.n_treated <= 0:
        return math.nan
    return realized_gain_kzt(
        frame["period"].to_numpy(),
        frame["observed"].to_numpy(),
        frame["counterfactual"].to_numpy(),
        realized_gain_start(est.diagnostics, item.first_go_live, metric.frequency),
        metric,
        est.n_treated,
    )


def assemble_rows(
    items: list[PilotMetric], estimates: dict[tuple[str, str], Estimate], options: RunOptions
) -> list[dict[str, Any]]:
    """The result rows of a run: q-values across the portfolio, grades and economics for every pilot-metric."""
    ordered = [estimates[item.key] for item in items]
    p_values = np.array(
        [e.p_value if e.status == "ok" and math.isfinite(e.effect) else math.nan for e in ordered], dtype=np.float64
    )
    q_values = benjamini_hochberg(p_values)
    rows = []
    for item, est, q in zip(items, ordered, q_values, strict=True):
        metric = item.metric_value
        graded = grade(
            GradeInput(
                status=est.status,
                effect=est.effect,
                ci_low=est.ci_low,
                ci_high=est.ci_high,
                q_value=float(q),
                higher_is_better=bool(metric.higher_is_better) if metric else True,
                pre_trend_p=est.pre_trend_p,
                diagnostics=est.diagnostics,
                reason=est.reason,
            ),
            alpha=options.alpha,
        )
        money: dict[str, float] = {}
        if metric is not None and est.status == "ok":
            econ = evaluate(
                EffectEstimate(est.effect, est.se, est.ci_low, est.ci_high),
                metric,
                item.costs,
                est.n_treated,
                options.economics(derive_seed(options.seed, "economics", item.pilot_code, item.metric_code)),
                realized_gain=_realized(item, est),
            )
            money = {
                "annual_gain_kzt": econ.annual_gain_kzt,
                "annual_gain_ci_low": econ.annual_gain_ci_low,
                "annual_gain_ci_high": econ.annual_gain_ci_high,
                "npv_kzt": econ.npv_kzt,
                "npv_ci_low": econ.npv_ci_low,
                "npv_ci_high": econ.npv_ci_high,
                "roi": econ.roi,
                "roi_ci_low": econ.roi_ci_low,
                "roi_ci_high": econ.roi_ci_high,
                "payback_months": econ.payback_months,
                "realized_gain_kzt": econ.realized_gain_kzt,
            }
        diagnostics = dict(est.diagnostics)
        rows.append(
            {
                "pilot_code": item.pilot_code,
                "metric_code": item.metric_code,
                "inputs_hash": est.inputs_hash,
                "reused_from_run": est.reused_from_run,
                "status": est.status,
                "reason": est.reason,
                "method": est.method,
                "method_reason": est.method_reason,
                "effect": est.effect,
                "se": est.se,
                "effect_pct": est.effect_pct,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "p_value": est.p_value,
                "q_value": float(q),
                "pre_trend_p": est.pre_trend_p,
                "mde": est.mde,
                "grade": graded.grade,
                "grade_reason": graded.reason,
                "n_treated": est.n_treated,
                "n_controls": est.n_controls,
                "n_pre_periods": est.n_pre_periods,
                "n_post_periods": est.n_post_periods,
                **money,
                "diagnostics": dumps(diagnostics),
                "summary": est.summary,
                **_economic_inputs(item),
                **_site_columns(est.sites),
            }
        )
    return rows


def _economic_inputs(item: PilotMetric) -> dict[str, Any]:
    """The registry facts this run prices `item` with, stored on every row (fresh or carried forward alike, since
    economics are recomputed each run) so that a report of the run never reprices it with a later registry."""
    return {
        "value_kzt_per_unit": item.value_kzt_per_unit,
        "higher_is_better": item.higher_is_better,
        "frequency": item.frequency,
        "capex_kzt": item.capex_kzt,
        "opex_kzt_per_year": item.opex_kzt_per_year,
    }


def used_sites(sites: RunSites | None, diagnostics: dict[str, Any]) -> RunSites | None:
    """`sites` with the control sites the estimate reports it used (`diagnostics["control_sites"]`): an interrupted
    time series none (unless it adds control series), a DiD the offered ones that report on both sides of go-live, a
    synthetic control its donor pool; and with the treated sites it reports it estimated (`diagnostics
    ["treated_sites"]`, each keeping its go-live): not one it left out (too little history, too many gaps, no post
    period). Without that report (no estimate was made: the design stopped it first, or it failed) the sites keep
    those the pilot-metric was offered, on either side."""
    if sites is None:
        return None
    controls, treated = diagnostics.get("control_sites"), diagnostics.get("treated_sites")
    if isinstance(controls, list):
        sites = replace(sites, controls=tuple(sorted(str(site) for site in controls)))
    if isinstance(treated, list):
        kept = {str(site) for site in treated}
        sites = replace(sites, treated=tuple((site, go_live) for site, go_live in sites.treated if site in kept))
    return sites


def _site_columns(sites: RunSites | None) -> dict[str, Any]:
    """The sites the estimate of a row was made with, stored on the row (migration 0010) so that a report of the run
    lists them, not a later registry's; NULL when not known (carried forward from a run that did not record them)."""
    if sites is None:
        return {"treated_sites": None, "control_sites": None, "control_rule": None}
    return {
        "treated_sites": [{"site_code": site, "go_live": go_live} for site, go_live in sites.treated],
        "control_sites": list(sites.controls),
        "control_rule": sites.control_rule,
    }


def run_portfolio(
    con: duckdb.DuckDBPyConnection, options: RunOptions | None = None, *, pool: cf.Executor | None = None
) -> RunSummary:
    """Estimate every pilot-metric, grade and price them, and store the run in one transaction.

    `pool`: a warm process pool of the caller's (`runner.pool`), used for every pilot-metric that needs
    estimating; the numbers do not depend on it. It is never shut down here: when it broke during the run the
    summary says so (`pool_broken`) and the caller replaces it.
    """
    options = options or RunOptions()
    if options.as_of is None:  # one day for the whole run, recorded with it, even if the run crosses midnight
        options = replace(options, as_of=local_today())
    clock = time.perf_counter()
    started_at = _utcnow()
    version = code_version()

    items = read.read_portfolio(con)
    if options.pilot is not None and not any(i.pilot_code == options.pilot for i in items):
        key = "estimate.pilot_has_no_metrics" if read.pilot_exists(con, options.pilot) else "estimate.unknown_pilot"
        raise InvalidInput([Problem(key, params={"pilot": options.pilot})])
    if not items:
        raise InvalidInput([Problem("estimate.no_pilots")])

    prev_run = read.last_finished_run(con)
    prev_rows = {(r["pilot_code"], r["metric_code"]): r for r in read.run_results(con, prev_run)} if prev_run else {}
    prev_cf = read.run_counterfactuals(con, prev_run) if prev_run else {}

    estimates: dict[tuple[str, str], Estimate] = {}
    pending: list[PilotMetric] = []
    for item in items:
        old = prev_rows.get(item.key)
        if options.pilot is not None and item.pilot_code != options.pilot and old is not None and prev_run:
            estimates[item.key] = _stored_estimate(old, prev_run, prev_cf.get(item.key))
        else:
            pending.append(item)

    jobs: list[EstimateJob] = []
    not_estimated = 0
    for item in pending:
        prepared = _prepare(con, item, options, version)
        old = prev_rows.get(item.key)
        if isinstance(prepared, Estimate):
            estimates[item.key] = prepared
            not_estimated += 1
        elif (
            not options.force
            and old is not None
            and prev_run is not None
            and old["inputs_hash"] == prepared.inputs_hash
            and old["status"] != "error"
        ):
            # the same inputs hash: the same sites, so this run's reading of them is the estimate's (and fills in
            # the sites of a result from before runs recorded them)
            carried = _stored_estimate(old, prev_run, prev_cf.get(item.key))
            estimates[item.key] = replace(carried, sites=used_sites(prepared.sites, carried.diagnostics))
        else:
            jobs.append(prepared)

    # biggest panels first: the pool's last job is then a short one (results are keyed, order is free)
    jobs.sort(key=lambda job: (-job.panel.height, job.pilot_code, job.metric_code))
    job_sites = {(job.pilot_code, job.metric_code): job.sites for job in jobs}
    estimated, pool_broken = _estimate_all(jobs, options, pool)
    for est in estimated:
        # the worker does not carry the sites back
        estimates[est.key] = replace(est, sites=used_sites(job_sites[est.key], est.diagnostics))

    rows = assemble_rows(items, estimates, options)
    data_version = hashlib.sha256(
        "\n".join(f"{r['pilot_code']}|{r['metric_code']}|{r['inputs_hash']}" for r in rows).encode("utf-8")
    ).hexdigest()
    ordered = [estimates[item.key] for item in items]
    run_id = store_run(
        con,
        started_at=started_at,
        finished_at=_utcnow(),
        data_version=data_version,
        code_version=version,
        parameters=options.parameters(),
        started_by=options.started_by,
        rows=rows,
        estimates=ordered,
        reused_from=prev_run,
    )
    reused = sum(1 for e in ordered if e.frames_from_run is not None)
    return RunSummary(
        run_id=run_id,
        data_version=data_version,
        code_version=version,
        n_estimates=len(rows),
        n_estimated=len(jobs),
        n_reused=reused,
        n_not_estimated=not_estimated,
        n_errors=sum(1 for r in rows if r["status"] == "error"),
        n_insufficient=sum(1 for r in rows if r["status"] == "insufficient_data"),
        seconds=time.perf_counter() - clock,
        seconds_by_item={f"{e.pilot_code}/{e.metric_code}": e.seconds for e in ordered if e.seconds},
        cpu_seconds_by_item={f"{e.pilot_code}/{e.metric_code}": e.cpu_seconds for e in ordered if e.cpu_seconds},
        pool_broken=pool_broken,
    )
