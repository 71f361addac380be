"""Regenerate the report golden files (the assembled numbers, not PDF bytes).

    .venv/bin/python tests/data/golden/make_report_golden.py         # fixture -> report_fixture_2025.json
    .venv/bin/python tests/data/golden/make_report_golden.py --demo  # demo + runner -> report_demo_2025.json

Review the diff of the JSON before committing a regenerated golden: every changed number is a changed result.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "reports"))

from report_fixtures import build_warehouse, golden_numbers  # noqa: E402

from pilot_roi.reports import assemble_report  # noqa: E402
from pilot_roi.warehouse import connect  # noqa: E402

YEAR = 2025


def fixture_numbers(workdir: Path) -> dict[str, object]:
    """Golden numbers of the report-test fixture warehouse (5 pilots, seed 7)."""
    built = build_warehouse(workdir / "fixture.duckdb", 5, seed=7, daily_every=4)
    con = connect(built.path, read_only=True)
    try:
        return golden_numbers(assemble_report(con, YEAR))
    finally:
        con.close()


def demo_numbers(workdir: Path) -> dict[str, object]:
    """Golden numbers of the demo warehouse (`pilot-roi demo` build with its estimate run)."""
    from pilot_roi.demo.build import build_demo

    path = workdir / "demo.duckdb"
    build_demo(path, estimates=True)
    con = connect(path, read_only=True)
    try:
        return golden_numbers(assemble_report(con, YEAR))
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", action="store_true", help="the demo warehouse instead of the test fixture")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        numbers = demo_numbers(Path(tmp)) if args.demo else fixture_numbers(Path(tmp))
    target = HERE / (f"report_demo_{YEAR}.json" if args.demo else f"report_fixture_{YEAR}.json")
    target.write_text(json.dumps(numbers, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
