"""The assembled numbers match the golden JSON files (tests/data/golden/; regenerate with make_report_golden.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_fixtures import Built, assert_close, golden_numbers

from pilot_roi.reports import YearReport, assemble_report
from pilot_roi.warehouse import connect

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"


def test_fixture_report_matches_golden(report: YearReport):
    expected = json.loads((GOLDEN / "report_fixture_2025.json").read_text(encoding="utf-8"))
    # Same code path, same seeds: only float summation order could differ, hence the tight relative tolerance.
    assert_close(json.loads(json.dumps(golden_numbers(report))), expected, rel=1e-9, abs_=1e-6)


@pytest.mark.slow
def test_demo_report_matches_golden(tmp_path: Path):
    """`pilot-roi demo` (generator, ingestion, runner, estimators) then the report: the headline numbers, every
    pilot-metric's effect, interval, grade and economics as pinned in report_demo_2025.json.
    """
    golden = GOLDEN / "report_demo_2025.json"
    from pilot_roi.demo.build import build_demo

    path = tmp_path / "demo.duckdb"
    summary = build_demo(path, estimates=True)
    assert summary is not None
    con = connect(path, read_only=True)
    try:
        report = assemble_report(con, 2025)
    finally:
        con.close()
    expected = json.loads(golden.read_text(encoding="utf-8"))
    # Seeded generator and seeded estimators, but ITS and synthetic control come out of iterative optimizers
    # (MLE, constrained least squares) whose last digits move with BLAS and solver versions: rel 1e-4 still
    # catches any change of a result a reader would see (figures are printed to 3-4 significant digits).
    assert_close(json.loads(json.dumps(golden_numbers(report))), expected, rel=1e-4, abs_=1e-3)


def test_golden_helper_detects_a_changed_number(built: Built):
    con = connect(built.path, read_only=True)
    try:
        numbers = json.loads(json.dumps(golden_numbers(assemble_report(con, 2025))))
    finally:
        con.close()
    changed = json.loads(json.dumps(numbers))
    changed["summary"]["investment_capex"] *= 1.001
    with pytest.raises(AssertionError, match="investment_capex"):
        assert_close(changed, numbers, rel=1e-9, abs_=1e-6)
