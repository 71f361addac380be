"""Build the demo warehouse: registry, synthetic uploads, true effects, demo users, estimates.

The warehouse is built in a temporary file beside the target and renamed over it only when complete, so a
reader never sees half a demo and a failed build leaves the old file as it was. A failing estimation run
does not sink the demo: the step is reported as failed and the data stay, without estimates.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl

from pilot_roi.auth import add_user
from pilot_roi.demo.generate import REGISTRY_PATH, DemoData, generate, load_demo_registry, load_scenario
from pilot_roi.demo.truth import write_truths
from pilot_roi.errors import InvalidInput, Problem, WarehouseBusy
from pilot_roi.ingest import load_observations
from pilot_roi.registry import load_registry_file
from pilot_roi.resources import read_sql
from pilot_roi.warehouse import connect, migrate, transaction
from pilot_roi.warehouse.connection import is_lock_error

DEMO_ACTOR = "demo-generator"
log = logging.getLogger("pilot_roi.demo")
StepStatus = Literal["done", "failed"]
#: Called with a message key of i18n/messages/demo.yaml and its parameters as the build advances.
ProgressCallback = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo account: its password is printed, because the whole warehouse is synthetic."""

    username: str
    password: str
    role: str
    subsidiary_code: str | None
    language: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("demo.admin", "admin-demo-2025", "admin", None, "en"),
    DemoUser("demo.executive", "executive-demo-2025", "executive", None, "ru"),
    DemoUser("demo.reviewer", "reviewer-demo-2025", "reviewer", None, "kk"),
    DemoUser("demo.engineer", "engineer-demo-2025", "engineer", "KMG", "ru"),
)


@dataclass(frozen=True, slots=True)
class Step:
    """What became of one step that may fail without sinking the demo: done or failed (with why)."""

    name: str
    status: StepStatus
    detail: str = ""


@dataclass(frozen=True, slots=True)
class BuildSummary:
    """The outcome of one demo build: counts of what the warehouse holds, optional steps, wall time (s)."""

    path: Path
    seed: int
    subsidiaries: int
    sites: int
    metrics: int
    pilots: int
    observations: int
    uploads: int
    truths: int
    users: tuple[DemoUser, ...]
    steps: tuple[Step, ...] = field(default_factory=tuple)
    coverage: tuple[int, int, int] | None = None  # truth_coverage() after the estimation run, if it ran
    seconds: float = 0.0

    def step(self, name: str) -> Step | None:
        """The named optional step, if it was attempted."""
        return next((s for s in self.steps if s.name == name), None)


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + ".wal")]


def _remove(path: Path) -> None:
    for candidate in (path, *_sidecars(path)):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


def check_replaceable(path: Path) -> None:
    """Refuse to replace `path` unless it is absent or a demo warehouse (warehouse_info demo = true).

    `pilot-roi demo` must never overwrite a real warehouse, whatever --warehouse says.
    """
    if not path.exists():
        return
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        if is_lock_error(exc, path):
            raise WarehouseBusy(str(path)) from exc
        raise InvalidInput([Problem("demo.not_demo_warehouse", params={"path": str(path)})]) from exc
    try:
        row = con.execute(read_sql("demo/is_demo.sql")).fetchone()
    except duckdb.Error:
        row = None
    finally:
        con.close()
    if not (row and row[0]):
        raise InvalidInput([Problem("demo.not_demo_warehouse", params={"path": str(path)})])


def upload_batches(data: DemoData, site_subsidiary: dict[str, str]) -> list[tuple[str, str, pl.DataFrame]]:
    """The observations as engineers would upload them: one file per subsidiary and calendar year.

    Returns (subsidiary, file name, frame) in a fixed order.
    """
    frame = data.observations.with_columns(
        pl.col("site_code").replace_strict(site_subsidiary, return_dtype=pl.String).alias("_sub"),
        pl.col("period").dt.year().alias("_year"),
    )
    batches: list[tuple[str, str, pl.DataFrame]] = []
    for (sub, year), part in sorted(frame.group_by("_sub", "_year"), key=lambda kv: (str(kv[0][0]), int(kv[0][1]))):
        name = f"synthetic_demo_{str(sub).lower()}_{year}.parquet"
        batches.append((str(sub), name, part.drop("_sub", "_year").sort("site_code", "metric_code", "period")))
    return batches


def _create_users(con: duckdb.DuckDBPyConnection) -> Step:
    for user in DEMO_USERS:
        add_user(con, user.username, user.password, user.role, user.subsidiary_code,
                 language=user.language, actor=DEMO_ACTOR)  # fmt: skip
    return Step("users", "done", str(len(DEMO_USERS)))


def _run_estimates(path: Path, seed: int) -> Step:
    """Estimate the whole portfolio with `pilot_roi.runner`.

    A failing run does not sink the demo: the step is reported as failed (details in the log) and the
    warehouse keeps its data without estimates.
    """
    from pilot_roi.runner import RunOptions, run_portfolio

    con = connect(path)
    try:
        result = run_portfolio(con, RunOptions(seed=seed, started_by=DEMO_ACTOR))
    except Exception as exc:  # a bug in estimation must not cost the user the demo data
        log.exception("demo: the estimation run failed")
        return Step("estimates", "failed", f"{type(exc).__name__}: {exc}")
    finally:
        con.close()
    n = int(getattr(result, "n_estimates", 0) or 0)
    errors = int(getattr(result, "n_errors", 0) or 0)
    if n and errors >= n:
        return Step("estimates", "failed", f"{errors}/{n} pilot-metrics failed")
    return Step("estimates", "done", f"{n}" if not errors else f"{n} ({errors} failed)")


def truth_coverage(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """(pilot-metrics, estimates with a finite 95% interval, intervals that hold the true effect)."""
    row = con.execute(read_sql("demo/truth_coverage.sql")).fetchall()[0]
    return int(row[0]), int(row[1]), int(row[2])


def build_demo(
    path: str | Path,
    *,
    seed: int | None = None,
    lang: str = "en",
    estimates: bool = True,
    progress: ProgressCallback | None = None,
) -> BuildSummary:
    """Build the demo warehouse at `path` from scratch, atomically; return what it holds.

    Refuses (InvalidInput) to replace an existing file that is not a demo warehouse. `seed` defaults to the
    scenario's; the observations depend only on it. `estimates=False` skips the estimation step.
    """
    started = time.perf_counter()
    say = progress or (lambda _key, _params: None)
    target = Path(path)
    check_replaceable(target)
    scenario = load_scenario()
    registry = load_demo_registry()
    seed = scenario.seed if seed is None else int(seed)

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.building")
    _remove(tmp)
    steps: list[Step] = []
    coverage: tuple[int, int, int] | None = None
    try:
        con = connect(tmp, create=True)
        try:
            migrate(con, path_label=str(tmp))
            with transaction(con):
                for key, value in (("demo", "true"), ("demo_seed", str(seed))):
                    con.execute(read_sql("registry/set_warehouse_info.sql"), {"key": key, "value": value})
            load_registry_file(con, REGISTRY_PATH, username=DEMO_ACTOR)
            say("demo.registry_loaded", {"subsidiaries": len(registry.subsidiaries), "sites": len(registry.sites),
                                         "metrics": len(registry.metrics), "pilots": len(registry.pilots)})  # fmt: skip

            data = generate(scenario, registry, seed=seed)
            say("demo.generated", {"rows": data.observations.height, "seed": seed})
            owner = {s.code: s.subsidiary for s in registry.sites}
            batches = upload_batches(data, owner)
            for subsidiary, file_name, frame in batches:
                report = load_observations(
                    con, frame, file_name=file_name, uploaded_by=DEMO_ACTOR,
                    allowed_subsidiaries=[subsidiary], lang=lang, source_format="parquet",
                )  # fmt: skip
                if report.status != "loaded":
                    raise RuntimeError(f"demo upload {file_name} was {report.status}: {report.errors[:3]}")
            say("demo.uploaded", {"uploads": len(batches), "rows": data.observations.height})

            with transaction(con):
                write_truths(con, data.truths)
            say("demo.truths", {"rows": data.truths.height})

            users = _create_users(con)
            steps.append(users)
            counts = con.execute(read_sql("demo/build_counts.sql")).fetchall()[0]
            con.execute("CHECKPOINT")
        finally:
            con.close()

        if estimates:
            say("demo.estimating", {})
            step = _run_estimates(tmp, seed)
            steps.append(step)
            if step.status == "done":
                con = connect(tmp, read_only=True)
                try:
                    coverage = truth_coverage(con)
                finally:
                    con.close()
        if any(sidecar.exists() for sidecar in _sidecars(tmp)):  # fold a leftover WAL into the file itself
            connect(tmp).execute("CHECKPOINT").close()
        for stale in _sidecars(target):  # a WAL beside the old file would be replayed into the new one
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    return BuildSummary(
        path=target,
        seed=seed,
        subsidiaries=int(counts[0]),
        sites=int(counts[1]),
        metrics=int(counts[2]),
        pilots=int(counts[3]),
        observations=int(counts[4]),
        uploads=int(counts[5]),
        truths=int(counts[6]),
        users=DEMO_USERS if users.status == "done" else (),
        steps=tuple(steps),
        coverage=coverage,
        seconds=time.perf_counter() - started,
    )
