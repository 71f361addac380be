"""Benchmark: the year-end report for 200 synthetic pilots. Targets: PDF < 60 s, XLSX < 10 s (this machine).

    .venv/bin/python bench/report_bench.py [--pilots 200] [--out bench/results/report.md]

Builds a warehouse with tests/reports/report_fixtures.py (registry loader, ingestion, an estimate run in the
runner's schema; every 4th pilot on a daily metric, so 730-point series), then times assembly, each renderer
and the CLI-equivalent path, and writes the table to bench/results/report.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reports"))

from report_fixtures import build_warehouse  # noqa: E402

from pilot_roi.reports import RENDERERS, assemble_report, freeze_report, load_report  # noqa: E402
from pilot_roi.reports.charts import MAX_POINTS  # noqa: E402
from pilot_roi.warehouse import connect  # noqa: E402

TARGETS = {"pdf": 60.0, "xlsx": 10.0}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pilots", type=int, default=200)
    parser.add_argument("--lang", default="kk")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "report.md"))
    args = parser.parse_args()
    rows: list[tuple[str, float, float, str]] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        t0, c0 = time.perf_counter(), time.process_time()
        built = build_warehouse(path, args.pilots, seed=11, daily_every=4)
        rows.append(("build warehouse (not a target)", time.perf_counter() - t0, time.process_time() - c0, ""))
        con = connect(path)
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            report = assemble_report(con, 2025)
            rows.append(("assemble (SQL + typed structure)", time.perf_counter() - t0, time.process_time() - c0, ""))
            n_est = report.summary.n_estimates
            n_points = sum(len(m.series) for p in report.pilots for m in p.metrics)
            t0, c0 = time.perf_counter(), time.process_time()
            freeze_report(con, 2025, username="bench")
            rows.append(
                ("freeze (assemble + snapshot JSON write)", time.perf_counter() - t0, time.process_time() - c0, "")
            )
            t0, c0 = time.perf_counter(), time.process_time()
            frozen = load_report(con, 2025)
            rows.append(("load frozen snapshot", time.perf_counter() - t0, time.process_time() - c0, ""))
        finally:
            con.close()
        sizes = {}
        for fmt in ("xlsx", "csv", "pdf"):
            out = Path(tmp) / f"report.{fmt}"
            t0, c0 = time.perf_counter(), time.process_time()
            RENDERERS[fmt](frozen, args.lang, out)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            sizes[fmt] = out.stat().st_size
            target = TARGETS.get(fmt)
            verdict = "" if target is None else ("PASS" if elapsed < target else "FAIL") + f" (< {target:.0f} s)"
            rows.append((f"render {fmt} ({sizes[fmt] / 1e6:.1f} MB)", elapsed, cpu, verdict))
            if fmt == "pdf":
                import subprocess

                pages = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
                page_line = next((ln for ln in pages.splitlines() if ln.startswith("Pages:")), "Pages: ?")
    lines = [
        "# Year-end report benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({platform.python_version()}), "
        f"`bench/report_bench.py --pilots {args.pilots} --lang {args.lang}`; one run, shared 2-core machine "
        f"(other tenants may slow it 2-8x); 1-minute load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after.",
        "",
        f"Portfolio: {args.pilots} pilots, {n_est} pilot-metric estimates, {n_points} series points "
        f"(every 4th pilot daily, 730 points; charts downsampled to <= {MAX_POINTS} points), run {built.run_id}; "
        f"PDF {page_line.split(':', 1)[1].strip()} pages.",
        "",
        "Wall seconds are what a user waits; CPU seconds (this process) show the work itself when other",
        "tenants share the cores. The verdict is on wall time.",
        "",
        "| step | wall s | CPU s | target |",
        "| --- | ---: | ---: | --- |",
        *[f"| {name} | {sec:.2f} | {cpu:.2f} | {verdict} |" for name, sec, cpu, verdict in rows],
        "",
    ]
    text = "\n".join(lines)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0 if all("FAIL" not in v for _n, _s, _c, v in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
