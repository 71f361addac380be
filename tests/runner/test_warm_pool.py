"""The runner with a warm process pool of the caller's (`run_portfolio(..., pool=...)`, `runner.pool`): real spawned
pools on a real DuckDB warehouse (the metamorphic portfolio: P-A on two daily metrics, P-B on one).

The numbers do not depend on where they are estimated: a warm pool stores what the in-process run stored, bit for
bit. A broken pool loses no work: one already broken or shut down before the run (nothing finishes in it) leaves
every estimate to this process and the run is whole; one whose worker dies while holding a job costs that job
(`worker_failed`) and the rest go on. Either way the summary says `pool_broken`, and `WarmPool` replaces it
(the dashboard's holder replacing a pool that broke while idle: tests/dashboard/test_refresh.py).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_metamorphic_e2e import differences, observations, registry_yaml, stored

from pilot_roi.ingest import load_observations
from pilot_roi.registry import load_registry_file
from pilot_roi.runner import RunOptions, RunSummary, run_portfolio
from pilot_roi.runner.pool import WarmPool, usable
from pilot_roi.warehouse import connect, migrate

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")

WAIT_S = 60.0


@pytest.fixture(scope="module")
def estimated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The metamorphic portfolio after one run in this process (the reference), and that run's id."""
    path = _loaded(tmp_path_factory.mktemp("warm_pool") / "wh.duckdb")
    con = connect(path)
    try:
        summary = run_portfolio(con, RunOptions(workers=1))
    finally:
        con.close()
    assert summary.n_estimated == 3 and summary.n_errors == 0
    return path, summary.run_id


def _loaded(path: Path) -> Path:
    """The metamorphic portfolio's registry and observations in a new warehouse at `path`, not yet estimated."""
    con = connect(path, create=True)
    try:
        migrate(con)
        registry = path.with_suffix(".yaml")
        registry.write_text(registry_yaml(), encoding="utf-8")
        load_registry_file(con, registry)
        assert load_observations(con, observations(), file_name="mta.parquet", uploaded_by="test").status == "loaded"
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def holder() -> Iterator[WarmPool]:
    """A warm-pool holder of two workers, as the dashboard has, shared by this module's tests (closed after)."""
    pools = WarmPool(2)
    try:
        yield pools
    finally:
        pools.close()


def _held(holder: WarmPool) -> cf.Executor:
    pool = holder.get()
    assert pool is not None, "the warm pool did not start"
    return pool


def _rerun(source: Path, tmp_path: Path, pool: cf.Executor, **options: Any) -> tuple[Path, RunSummary]:
    """A copy of `source` re-estimated (forced) with `pool`; the copy and the run's summary."""
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(source, path)
    con = connect(path)
    try:
        return path, run_portfolio(con, RunOptions(workers=1, force=True, **options), pool=pool)
    finally:
        con.close()


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _signal(pids: frozenset[int], signum: int) -> None:
    for pid in pids:
        os.kill(pid, signum)


def test_a_warm_pool_stores_the_in_process_numbers_bit_for_bit(
    estimated: tuple[Path, int], holder: WarmPool, tmp_path: Path
) -> None:
    source, first = estimated
    pool = _held(holder)
    before = sum(_cpu_ticks(pid) for pid in holder.pids)
    path, summary = _rerun(source, tmp_path, pool, pilot="P-A")
    assert summary.n_estimated == 2 and summary.n_reused == 1 and not summary.pool_broken
    assert sum(_cpu_ticks(pid) for pid in holder.pids) > before, "the estimates did not run in the pool"
    assert differences(stored(path, summary.run_id), stored(source, first)) == []
    assert usable(pool)  # the run leaves the caller's pool open


def _shut_down() -> cf.Executor:
    pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    pool.shutdown()
    return pool


def _worker_killed() -> cf.Executor:
    pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    _signal(frozenset({pool.submit(os.getpid).result(timeout=WAIT_S)}), signal.SIGKILL)
    return pool


@pytest.mark.parametrize("broken_pool", [_shut_down, _worker_killed], ids=["shut_down", "worker_killed"])
def test_a_pool_broken_before_the_run_leaves_every_estimate_to_this_process(
    estimated: tuple[Path, int], tmp_path: Path, broken_pool: Callable[[], cf.Executor]
) -> None:
    source, first = estimated
    pool = broken_pool()
    path, summary = _rerun(source, tmp_path, pool)
    assert summary.pool_broken and summary.n_estimated == 3 and summary.n_errors == 0
    assert differences(stored(path, summary.run_id), stored(source, first)) == []
    pool.shutdown(wait=False)


class _DiesOnSecondJob(cf.Executor):
    """A real pool whose workers die holding the second job, after the first job finished.

    The workers are stopped before the second job is handed over and killed after, so the job cannot run: it is
    lost for certain, and the pool is known broken before the third job is offered.
    """

    def __init__(self, pool: cf.Executor, pids: frozenset[int]) -> None:
        self.pool, self.pids = pool, pids
        self.futures: list[cf.Future[Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        if len(self.futures) == 1:
            cf.wait(self.futures, timeout=WAIT_S)
            _signal(self.pids, signal.SIGSTOP)
        future = self.pool.submit(fn, *args, **kwargs)
        self.futures.append(future)
        if len(self.futures) == 2:
            _signal(self.pids, signal.SIGKILL)
            cf.wait([future], timeout=WAIT_S)
        return future


def test_workers_dying_mid_run_cost_only_their_job_and_the_holder_replaces_the_pool(
    estimated: tuple[Path, int], holder: WarmPool, tmp_path: Path
) -> None:
    source, first = estimated
    pool = _held(holder)
    path, summary = _rerun(source, tmp_path, _DiesOnSecondJob(pool, holder.pids))
    assert summary.pool_broken and summary.n_estimated == 3 and summary.n_errors == 1
    now, then = stored(path, summary.run_id), stored(source, first)
    failed = now.results.filter(now.results["status"] == "error")
    assert failed["reason"].to_list() == ["worker_failed"]
    key = (failed["pilot_code"][0], failed["metric_code"][0])
    # jobs go biggest panel first, then by code: P-A's two metrics (five sites), then P-B's (four)
    assert key == ("P-A", "output_t")
    # the others: one estimated in the pool, one in this process (q-values move: the lost one has no p-value)
    numbers = ("status", "effect", "se", "p_value", "ci_low", "ci_high", "pre_trend_p", "diagnostics")
    for other in (("P-A", "energy_gj"), ("P-B", "energy_gj")):
        assert {k: now.row(other)[k] for k in numbers} == {k: then.row(other)[k] for k in numbers}

    holder.replace(pool)  # what the dashboard does when a run says the pool broke
    assert _held(holder) is not pool and usable(_held(holder))


def test_a_closed_holder_starts_no_pool() -> None:
    closed = WarmPool(1)
    closed.close()
    assert closed.get() is None  # at exit: estimates run in this process, no new pool is spawned


def test_the_pools_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    # gunicorn's arbiter kills a stuck worker with SIGKILL: its pool is never shut down, and without the
    # initializer's watch its idle workers would wait for work forever. A real parent process starts and warms a
    # pool, reports its workers, and is killed outright; the workers must be gone within a few polls.
    script = (
        "import sys\n"
        "from pilot_roi.runner.pool import start_pool, warm\n"
        "pool = start_pool(1)\n"  # one worker: what is tested is each worker's own watch
        "print(' '.join(map(str, sorted(warm(pool, 1)))), flush=True)\n"
        "sys.stdin.read()\n"  # wait to be killed
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 1 and all(_alive(pid) for pid in workers)
    finally:
        parent.kill()
        parent.wait(timeout=WAIT_S)
    left = _still_alive(workers)
    _kill(left)  # do not leave them to the rest of the session
    assert not left, "the pool's workers outlived their killed parent"


_KILLED_MID_RUN = """
import multiprocessing, os, signal, sys, threading, time
from pilot_roi.runner import RunOptions, run_portfolio
from pilot_roi.warehouse import connect


def report_workers_then_die():
    while len(multiprocessing.active_children()) < 2:  # the run's own pool: its two workers
        time.sleep(0.01)
    time.sleep(0.5)  # they have read what spawn sends them; from here on they need their parent for nothing
    print(" ".join(str(child.pid) for child in multiprocessing.active_children()), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":  # spawned workers import this file too
    threading.Thread(target=report_workers_then_die, daemon=True).start()
    con = connect(sys.argv[1])
    run_portfolio(con, RunOptions(workers=2, parallel_min_jobs=1))
"""


def test_a_runs_own_pool_ends_its_workers_when_the_run_is_killed(tmp_path: Path) -> None:
    # `pilot-roi estimate` starts pools of its own (no warm pool: `run_portfolio` without `pool=`). Killed outright
    # (kill -9, an out-of-memory kill), it never shuts them down; its workers, which waited for the next job, must
    # end by themselves, as the warm pool's do.
    path = _loaded(tmp_path / "wh.duckdb")
    script = tmp_path / "killed_mid_run.py"
    script.write_text(_KILLED_MID_RUN, encoding="utf-8")
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:  # files, not pipes: orphans would hold a pipe open
        run = subprocess.run([sys.executable, str(script), str(path)], stdout=stdout, stderr=stderr, cwd=tmp_path)
    assert run.returncode == -signal.SIGKILL, err.read_text()[-2000:]
    workers = [int(pid) for pid in out.read_text().split()]
    assert len(workers) == 2
    left = _still_alive(workers)
    _kill(left)
    assert not left, "the run's workers outlived the killed run"


def _still_alive(pids: Collection[int], within: float = 20.0) -> list[int]:
    """Those of `pids` still running after up to `within` seconds (a worker's watch polls every 2 s)."""
    deadline = time.monotonic() + within
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [pid for pid in pids if _alive(pid)]


def _kill(pids: Collection[int]) -> None:
    _signal(frozenset(pids), signal.SIGKILL)


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, reaped by nobody yet, counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the SystemExit raised below
def test_a_pool_whose_manager_thread_was_stopped_is_replaced_and_its_workers_end() -> None:
    # Dash's test runner stops every thread started during a test by raising SystemExit in it, the pool's manager
    # thread included. Such a pool still takes jobs and never runs them: a re-estimation would wait forever. The
    # holder must see it is dead, start a new pool and end the old one's idle workers.
    import ctypes
    import threading

    holder = WarmPool(1, probe_timeout=2.0)  # one worker is enough, and half the start-up
    try:
        before = set(threading.enumerate())
        pool = _held(holder)
        old_workers = holder.pids
        managers = [thread for thread in threading.enumerate() if thread not in before]  # manager and queue feeder
        assert managers, "the pool started no thread of its own"
        for thread in managers:
            assert thread.ident is not None
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(SystemExit))
        pool.submit(int)  # wakes the manager, which then meets its SystemExit (the queue's feeder sleeps on)
        deadline = time.monotonic() + WAIT_S
        while all(thread.is_alive() for thread in managers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not all(thread.is_alive() for thread in managers), "no thread of the pool stopped"
        fresh = holder.get()
        assert fresh is not None and fresh is not pool and usable(fresh)
        assert holder.pids.isdisjoint(old_workers)
        assert _still_alive(old_workers) == [], "the dead pool's workers were left waiting"
    finally:
        holder.close()
