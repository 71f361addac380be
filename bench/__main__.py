"""`make bench`: run every benchmark in turn; each writes its results under bench/results/ for the README.

`python -m bench NAME ...` runs only the named ones.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = {
    "ingest": HERE / "ingest_bench.py",
    "estimation_speed": HERE / "estimation_speed.py",
    "portfolio": HERE / "portfolio_bench.py",
    "report": HERE / "report_bench.py",
    "big_warehouse": HERE / "big_warehouse.py",
    "dashboard": HERE / "dashboard_load.py",
    "dashboard_demo": HERE / "dashboard_load.py",
    "validation": HERE / "validation" / "run.py",
    "validation_sc_its": HERE / "validation" / "sc_its.py",
    "validation_go_live": HERE / "validation" / "go_live_mid_period.py",
}
ARGUMENTS = {
    # the load on the 10M-row warehouse (built first and cached under warehouse/), then on the demo's, appended
    "dashboard": ["--big", "--quality"],
    "dashboard_demo": ["--append"],
    "validation_go_live": ["--reps", "2000"],
}


def main(names: list[str]) -> int:
    """Run the chosen benchmarks (all by default); a failing one is reported and the rest still run."""
    chosen = names or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in chosen:
        script = BENCHMARKS[name]
        if not script.exists():
            print(f"== {name}: {script.name} is missing, skipped")
            continue
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(script), *ARGUMENTS.get(name, [])], cwd=HERE.parent)
        print(f"== {name}: exit {done.returncode} after {time.perf_counter() - started:.0f} s", flush=True)
        if done.returncode:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
