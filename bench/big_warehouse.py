"""The 10M-row benchmark warehouse: the synthetic portfolio of `portfolio_bench`, scaled up and estimated.

    .venv/bin/python bench/big_warehouse.py [--sites 5000] [--days 1000] [--pilots 500] [--rebuild]

5,000 sites (100 subsidiaries of 50) x 1,000 days x 2 metrics = 10,000,000 current observations, loaded
through the real ingestion path (`load_observations`, one upload per subsidiary), then one real estimate run
of the whole portfolio (`run_portfolio`, 2 processes) and the demo executive's account so that
`bench/dashboard_load.py --big` can sign in. `--pilots` counts pilot-metrics (two metrics per pilot).

The file is cached as warehouse/bench_big_<parameters>.duckdb (git-ignored): a re-run with the same
parameters reuses it; it is built under a temporary name and renamed only when complete.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(REPO))

from bench.portfolio_bench import build_synthetic  # noqa: E402
from pilot_roi.auth import add_user  # noqa: E402
from pilot_roi.runner import RunOptions, run_portfolio  # noqa: E402
from pilot_roi.warehouse import connect  # noqa: E402

CACHE = REPO / "warehouse"
EXECUTIVE = ("demo.executive", "executive-demo-2025")
"""The account `dashboard_load.py` signs in with (the demo's executive)."""


def warehouse_path(sites: int, days: int, pilot_metrics: int, seed: int) -> Path:
    """Where the warehouse of these parameters is cached."""
    return CACHE / f"bench_big_s{sites}_d{days}_pm{pilot_metrics}_seed{seed}.duckdb"


def sizes(path: Path) -> dict[str, int]:
    """Current observations, registered pilot-metrics and estimates (with an effect) of the latest finished run."""
    con = connect(path, read_only=True)
    try:
        row = con.execute(
            """
            SELECT (SELECT count(*) FROM observation_current),
                   (SELECT count(*) FROM pilot_metrics),
                   (SELECT count(*) FROM estimate_results
                    WHERE run_id = (SELECT max(run_id) FROM estimate_runs WHERE status = 'finished')),
                   (SELECT count(*) FROM estimate_results
                    WHERE run_id = (SELECT max(run_id) FROM estimate_runs WHERE status = 'finished')
                      AND effect IS NOT NULL)
            """
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return dict(
        zip(("observations", "pilot_metrics", "estimates", "estimates_with_effect"), map(int, row), strict=True)
    )


def build_big_warehouse(
    sites: int = 5000,
    days: int = 1000,
    pilot_metrics: int = 500,
    seed: int = 7,
    workers: int = 2,
    rebuild: bool = False,
) -> Path:
    """The cached warehouse for these parameters, built first when missing (or when `rebuild`)."""
    path = warehouse_path(sites, days, pilot_metrics, seed)
    if path.exists() and not rebuild:
        return path
    partial = path.with_name(path.stem + ".partial.duckdb")
    for stale in (partial, Path(f"{partial}.wal")):
        stale.unlink(missing_ok=True)
    print(f"building {path.name}: {sites} sites x {days} days x 2 metrics, {pilot_metrics} pilot-metrics", flush=True)
    started = time.perf_counter()
    setup = build_synthetic(partial, sites, pilot_metrics, days, seed)
    print(f"  generated {setup['generate_s']:.0f} s, ingested {int(setup['rows']):,} rows {setup['ingest_s']:.0f} s")
    con = connect(partial)
    try:
        add_user(con, *EXECUTIVE, "executive", language="ru", actor="bench")
        t0 = time.perf_counter()
        summary = run_portfolio(con, RunOptions(seed=seed, workers=workers, started_by="bench"))
        print(
            f"  estimated {summary.n_estimates} pilot-metrics in {time.perf_counter() - t0:.0f} s "
            f"({summary.n_estimated} estimated, {summary.n_errors} errors, {summary.n_insufficient} insufficient)",
            flush=True,
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    for old in (path, Path(f"{path}.wal")):
        old.unlink(missing_ok=True)
    partial.rename(path)
    print(f"  built in {time.perf_counter() - started:.0f} s: {path}", flush=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=5000, help="sites (subsidiaries of 50)")
    parser.add_argument("--days", type=int, default=1000, help="daily periods per site and metric")
    parser.add_argument("--pilots", type=int, default=500, help="pilot-metrics (two metrics per pilot)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="estimation processes")
    parser.add_argument("--rebuild", action="store_true", help="build again even if cached")
    args = parser.parse_args(argv)
    path = build_big_warehouse(args.sites, args.days, args.pilots, args.seed, args.workers, args.rebuild)
    print(json.dumps({"warehouse": str(path), **sizes(path)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
