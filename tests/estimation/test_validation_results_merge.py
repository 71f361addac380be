"""bench/validation/run.py merges a partial run (--only) into its results file instead of rewriting it.

Pure text in, text out: a tiny results file with real design names, no simulation.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

RUN_PY = Path(__file__).resolve().parents[2] / "bench" / "validation" / "run.py"
_spec = importlib.util.spec_from_file_location("validation_run", RUN_PY)
assert _spec is not None and _spec.loader is not None
run = importlib.util.module_from_spec(_spec)
sys.modules["validation_run"] = run  # dataclasses look their module up while the class is built
_spec.loader.exec_module(run)

NULL_1 = run.SCENARIOS[0][0].name  # "1 treated, 20 controls, null"
HAR = next(s.name for s, _ in run.SCENARIOS if "(HAR)" in s.name)
assert sum("(HAR)" in s.name for s, _ in run.SCENARIOS) == 1  # `--only "(HAR)"` re-runs that design alone
STAGGERED = run.ROW_NOTE_DESIGN
PRE_1 = run.PRETREND[0][0].name


def _row(name: str, method: str, bias: str) -> str:
    return f"| {name} | {method} | {bias} | 1.000 | 95.0% | 5.0% FPR | 6.00 |"


def _existing(pretrend_row: str | None = None) -> str:
    """A results file as a full 2000-replication run plus the hand-written sections wrote it."""
    rows = [
        _row(NULL_1, "did", "-0.030"),
        _row(NULL_1, "naive", "+6.487"),
        _row(HAR, "did", "-0.043"),
        _row(HAR, "naive", "+6.466"),
        _row(STAGGERED, "staggered_did", "+0.001"),
    ]
    fresh = run.RunInfo(None, 2000, 300, 509.0, 2)
    pre = {PRE_1: [pretrend_row or f"| {PRE_1} | did | 4.0% | 0 |"]}
    text = run.build_document(None, fresh, {}, pre)
    header = "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
    text = text.replace(header, header + "\n".join(rows) + "\n", 1)
    # The 10,000-replication row note is in a file only while the hand-merged row is.
    return text.replace("z = 1.4).\n", "z = 1.4).\n" + run.ROW_NOTE + "\n", 1)


def _table(text: str, heading: str = "") -> list[str]:
    return next(rows for h, rows in run._tables(text) if h.startswith(heading))[2:]


def test_partial_run_replaces_only_its_designs_rows_and_keeps_the_written_sections() -> None:
    old = _existing()
    new_har = [_row(HAR, "did", "+0.006"), _row(HAR, "naive", "+7.093")]
    new = run.build_document(run.read_results(old), run.RunInfo("(HAR)", 20, 300, 2.0, 1), {HAR: new_har}, {})

    assert _table(new) == [
        _row(NULL_1, "did", "-0.030"),
        _row(NULL_1, "naive", "+6.487"),
        *new_har,
        _row(STAGGERED, "staggered_did", "+0.001"),
    ]
    assert _table(new, run.PRETREND_HEADING) == _table(old, run.PRETREND_HEADING)
    # Only the new rows and one provenance line differ; the full run's line and every note stay.
    old_lines, new_lines = old.splitlines(), new.splitlines()
    assert [x for x in new_lines if x not in old_lines] == [
        run.RERUN_PREFIX
        + '`--only "(HAR)" --reps 20` (the designs whose name contains that text), 2 s on 1 processes.',
        *new_har,
    ]
    assert [x for x in old_lines if x not in new_lines] == [_row(HAR, "did", "-0.043"), _row(HAR, "naive", "+6.466")]
    assert "2000 replications per scenario" in new and "at 2000 replications (2 se)" in new
    for note in (run.HAR_NOTES, run.STAGGERED_NOTES, run.ROW_NOTE, "## Null designs at 10,000 replications"):
        assert note in new


def test_rerun_lines_and_the_row_note_last_only_while_their_rows_do() -> None:
    first = run.build_document(
        run.read_results(_existing()), run.RunInfo("(HAR)", 20, 300, 2.0, 1), {HAR: [_row(HAR, "did", "+0")]}, {}
    )
    new_staggered = [_row(STAGGERED, "staggered_did", "-0.009")]
    second = run.build_document(
        run.read_results(first),
        run.RunInfo("5 treated in 3 cohorts", 40, 30, 5.0, 2),
        {STAGGERED: new_staggered},
        {},
    )
    reruns = [x for x in second.splitlines() if x.startswith(run.RERUN_PREFIX)]
    assert [x.split("`")[1] for x in reruns] == [
        '--only "(HAR)" --reps 20',
        '--only "5 treated in 3 cohorts" --reps 40',
    ]
    assert run.ROW_NOTE not in second  # the hand-merged row is gone
    assert _table(second)[-1] == new_staggered[0]

    again = run.build_document(
        run.read_results(second), run.RunInfo("(HAR)", 50, 300, 3.0, 1), {HAR: [_row(HAR, "did", "+1")]}, {}
    )
    reruns = [x.split("`")[1] for x in again.splitlines() if x.startswith(run.RERUN_PREFIX)]
    assert reruns == ['--only "5 treated in 3 cohorts" --reps 40', '--only "(HAR)" --reps 50']

    full = run.build_document(run.read_results(again), run.RunInfo(None, 500, 300, 100.0, 2), {NULL_1: []}, {})
    assert not any(x.startswith(run.RERUN_PREFIX) for x in full.splitlines())
    assert full.splitlines()[2].startswith("500 replications per scenario")
    assert run.HAR_NOTES in full and run.STAGGERED_NOTES in full


def test_a_partial_run_replaces_the_pretrend_row_of_its_design() -> None:
    new = run.build_document(
        run.read_results(_existing()),
        run.RunInfo("1 treated, 20 controls, null", 20, 30, 1.0, 1),
        {NULL_1: [_row(NULL_1, "did", "+0.100")]},
        {PRE_1: [f"| {PRE_1} | did | 3.3% | 0 |"]},
    )
    assert _table(new, run.PRETREND_HEADING) == [f"| {PRE_1} | did | 3.3% | 0 |"]
    assert "(300 replications per design" in new  # the heading describes the full run's rows
    assert "pre-trend test 30 replications" in new


def test_a_row_pasted_into_the_wrong_table_stops_the_run() -> None:
    broken = _existing(pretrend_row=_row(PRE_1, "did", "+0.001"))
    with pytest.raises(ValueError, match="malformed row"):
        run.read_results(broken)
