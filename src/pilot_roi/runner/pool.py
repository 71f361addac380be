"""A warm estimation pool for a long-lived process (the dashboard's server): worker processes started once, with
the estimation stack already imported, so that re-estimating one pilot after an upload pays no start-up.

`run_portfolio(con, options, pool=...)` sends every estimate to such a pool (one too: the caller keeps its GIL).
`start_pool` makes one (a run without a warm pool, the CLI's, starts its own with it too); `warm` waits until
every worker has started and run the initializer; `WarmPool` holds one for a server: created on first use (or
warmed in the background by `start`), replaced when a run reports it broken, shut down by `close`.

Why spawn, not fork: the parent (the web server, the CLI) holds DuckDB's and polars' thread pools and their locks;
a forked child gets a copy of those locks in whatever state another thread left them, and can deadlock on its
first query or frame operation. A spawned child is a fresh interpreter that imports what it needs (the
initializer does that once, up front).
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import logging
import math
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger(__name__)

WARM_TIMEOUT_S = 60.0
"""How long warming may take before it gives up (spawn + imports take seconds; far more means something is wrong)."""
RETRY_AFTER_S = 600.0
"""After a pool could not start, how long `WarmPool` estimates in the caller's process before it tries again."""

PROBE_TIMEOUT_S = 10.0
"""How long an idle pool may take to answer a no-op before `usable` calls it dead (a warm one answers in ms)."""

_WARM_PROBE_S = 0.05
_ORPHAN_POLL_S = 2.0

ESTIMATION_STACK = (
    "scipy.optimize",
    "statsmodels.tsa.statespace.structural",
    "pilot_roi.estimation.api",  # also sets BLAS to one thread in the worker, as in the caller's process
    "pilot_roi.estimation.its",  # registered lazily: imported on the first estimate otherwise
    "pilot_roi.estimation.synthetic_control",
)
"""What an estimate imports, about 3 s on this machine: the pool's workers import it as they start."""


def import_estimation_stack(parent: int) -> None:
    """The pool's initializer: import `ESTIMATION_STACK`, so that the first job does not pay the imports (the
    runner's own `run_job` came with this module's package), and end this worker when its parent (process id
    `parent`, given by the parent: one that died before this ran is seen at once) dies."""
    threading.Thread(target=_exit_with_parent, args=(parent,), name="pilot-roi-orphan-watch", daemon=True).start()
    for module in ESTIMATION_STACK:
        importlib.import_module(module)


def _exit_with_parent(parent: int) -> None:
    # A parent killed outright (gunicorn's arbiter kills a stuck worker with SIGKILL) never shuts its pool down, and
    # an idle worker waits for work forever: without this, every such kill would leave the pool's processes behind.
    while os.getppid() == parent:
        time.sleep(_ORPHAN_POLL_S)
    os._exit(0)


def _worker_pid() -> int:
    time.sleep(_WARM_PROBE_S)  # long enough that one worker does not take every probe of a round
    return os.getpid()


def start_pool(workers: int = 2) -> ProcessPoolExecutor:
    """A process pool of `workers` spawned processes that import the estimation stack as they start and end when
    this process dies (the warm pool and a run's own pools alike)."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=import_estimation_stack,
        initargs=(os.getpid(),),
    )


def warm(pool: ProcessPoolExecutor, workers: int, timeout: float = WARM_TIMEOUT_S) -> set[int]:
    """Wait until `workers` distinct workers of `pool` have run a no-op (their initializer ran before it); their
    process ids.

    Raises `concurrent.futures.BrokenExecutor` when the pool breaks (a worker cannot start), `TimeoutError`
    after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    seen: set[int] = set()
    while len(seen) < workers:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the estimation pool did not warm within {timeout:.0f} s")
        # one no-op per worker still unseen: each submit starts a process while none is idle
        probes = [pool.submit(_worker_pid) for _ in range(workers - len(seen))]
        seen.update(future.result(timeout=left) for future in probes)
    return seen


def usable(pool: cf.Executor, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """False when `pool` refuses work (broken: a worker died; or shut down) or does not answer a no-op within
    `timeout` seconds. The last catches a pool whose manager thread is gone: it still takes jobs and never runs
    them, and a run would wait for them forever (Dash's test runner stops every thread started during a test, that
    one included). Costs one no-op job; `WarmPool` asks only between runs, when the workers are idle."""
    try:
        answer = pool.submit(int)
    except RuntimeError:  # BrokenExecutor is one
        return False
    try:
        answer.result(timeout=timeout)
    except (cf.TimeoutError, cf.BrokenExecutor, cf.CancelledError):
        return False
    return True


def _end(pids: frozenset[int]) -> None:
    """End those of this process's live children whose ids are `pids` (a dropped pool's workers). Only children:
    a pool found dead hours after it broke must not signal whatever process has reused one of its ids since."""
    for child in multiprocessing.active_children():
        if child.pid in pids:
            child.terminate()


class WarmPool:
    """One warm estimation pool for a server; thread-safe.

    `get()` is the pool (made and warmed on first use, or anew when it broke while idle; None when it cannot
    start: estimate in-process then, it tries again after `RETRY_AFTER_S`); `start()` warms it in a background
    thread; `replace(pool)` drops a pool a run reported broken and warms a new one; `close()` shuts it down (at
    exit) and starts no other.
    """

    def __init__(self, workers: int = 2, probe_timeout: float = PROBE_TIMEOUT_S) -> None:
        self.workers = workers
        self.probe_timeout = probe_timeout
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        self._failed_at = -math.inf
        self.pids: frozenset[int] = frozenset()
        """The process ids of the held pool's workers (for the log and for tests)."""

    def get(self) -> ProcessPoolExecutor | None:
        """The warm pool, started now if there is none or it broke while idle (this waits for it to warm); None if
        it cannot start."""
        with self._lock:
            if self._pool is not None and not usable(self._pool, self.probe_timeout):
                log.warning("the estimation pool broke while idle; starting a new one")
                self._pool.shutdown(wait=False, cancel_futures=True)
                _end(self.pids)  # a pool that lost its manager thread would leave its idle workers waiting
                self._pool = None
            if self._pool is None and not self._closed and time.monotonic() - self._failed_at >= RETRY_AFTER_S:
                self._pool = self._started()
            return self._pool

    def _started(self) -> ProcessPoolExecutor | None:
        started = time.perf_counter()
        pool = start_pool(self.workers)
        try:
            self.pids = frozenset(warm(pool, self.workers))
        except Exception:  # any failure to start: the caller estimates in its own process
            log.warning("the estimation pool could not start; estimating in the server's process", exc_info=True)
            pool.shutdown(wait=False, cancel_futures=True)
            self.pids, self._failed_at = frozenset(), time.monotonic()
            return None
        log.info("estimation pool warm in %.1f s: processes %s", time.perf_counter() - started, sorted(self.pids))
        return pool

    def start(self) -> threading.Thread:
        """Make and warm the pool in a daemon thread (at server start), so the first re-estimate finds it warm."""
        thread = threading.Thread(target=self.get, name="pilot-roi-warm-pool", daemon=True)
        thread.start()
        return thread

    def replace(self, pool: cf.Executor) -> None:
        """Drop `pool` (a run reported it broken) if it is the one held, and warm a new one in the background."""
        with self._lock:
            held = self._pool is pool
            if held:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)
        if held and not self._closed:
            log.warning("the estimation pool broke; starting a new one")
            self.start()

    def close(self) -> None:
        """Shut the pool down and start no other (at exit)."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
