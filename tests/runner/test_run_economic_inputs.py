"""A run records the economic inputs it priced each pilot-metric with (migration 0009), and a report of that run
reads them: a later registry change (tariff, direction, costs) never reprices an earlier run's report.

Rows stored before the run recorded its inputs (NULL) still report, with the current registry's inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pilot_roi.registry import load_registry_file
from pilot_roi.reports.assemble import assemble_report
from pilot_roi.reports.model import to_json
from pilot_roi.runner import RunOptions, run_portfolio
from pilot_roi.warehouse import connect

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")

YEAR = 2024
NOW = datetime(2025, 1, 15, 12, 0, 0)  # one assembly time for every report compared
INPUTS = ("value_kzt_per_unit", "higher_is_better", "frequency", "capex_kzt", "opex_kzt_per_year")
# What the registry said when the session's run was made (tests/runner/conftest.py).
FIRST_INPUTS = {
    "P-BROKEN": (4200.0, False, "daily", 10_000_000.0, 0.0),
    "P-GOOD": (4200.0, False, "daily", 50_000_000.0, 5_000_000.0),
    "P-NULL": (4200.0, False, "daily", 20_000_000.0, 1_000_000.0),
}
# A later registry: another tariff, the other direction, other costs of P-GOOD.
CHANGES = (
    ("higher_is_better: false, value_kzt_per_unit: 4200", "higher_is_better: true, value_kzt_per_unit: 9100"),
    ("capex_kzt: 50000000", "capex_kzt: 81000000"),
    ("opex_kzt_per_year: 5000000", "opex_kzt_per_year: 7300000"),
)
CHANGED_INPUTS = {
    "P-BROKEN": (9100.0, True, "daily", 10_000_000.0, 0.0),
    "P-GOOD": (9100.0, True, "daily", 81_000_000.0, 7_300_000.0),
    "P-NULL": (9100.0, True, "daily", 20_000_000.0, 1_000_000.0),
}


def _inputs(path: Path, run_id: int) -> dict[str, tuple[Any, ...]]:
    con = connect(path, read_only=True)
    try:
        rows = con.execute(
            f"SELECT pilot_code, {', '.join(INPUTS)} FROM estimate_results WHERE run_id = ? ORDER BY pilot_code",
            [run_id],
        ).fetchall()
    finally:
        con.close()
    return {r[0]: tuple(r[1:]) for r in rows}


def _report(path: Path, run_id: int) -> dict[str, Any]:
    """Every figure of the year's report of `run_id`, as the snapshot holds them."""
    con = connect(path, read_only=True)
    try:
        return dict(to_json(assemble_report(con, YEAR, run_id, now=NOW)))
    finally:
        con.close()


@pytest.fixture
def change_registry(portfolio_file: Path) -> Callable[[Path], None]:
    """Load the later registry into a warehouse (the portfolio's registry file with CHANGES made)."""
    text = portfolio_file.with_suffix(".yaml").read_text(encoding="utf-8")
    for old, new in CHANGES:
        assert text.count(old) == 1, old
        text = text.replace(old, new)

    def change(path: Path) -> None:
        registry = path.with_name("changed.yaml")
        registry.write_text(text, encoding="utf-8")
        _load(path, registry)

    return change


def _load(path: Path, registry: Path) -> None:
    con = connect(path)
    try:
        load_registry_file(con, registry)
    finally:
        con.close()


def _differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two snapshots differ (paths), [] when every figure and word is the same."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in _differences(a.get(k), b.get(k), f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def test_a_run_records_its_inputs_and_its_report_ignores_a_later_registry_change(
    estimated_file: tuple[Path, int], portfolio_copy: Callable[..., Path], change_registry: Callable[[Path], None]
) -> None:
    path = portfolio_copy()
    first = estimated_file[1]
    assert _inputs(path, first) == FIRST_INPUTS
    before = _report(path, first)

    change_registry(path)
    after = _report(path, first)
    assert _differences(before, after) == []
    good = next(p for p in after["pilots"] if p["code"] == "P-GOOD")
    assert (good["capex"], good["opex_per_year"]) == (50_000_000.0, 5_000_000.0)
    assert good["metrics"][0]["value_kzt_per_unit"] == 4200.0 and good["metrics"][0]["higher_is_better"] is False

    # the next run carries every estimate forward and prices it, and records it, with the registry of its day
    con = connect(path)
    try:
        second = run_portfolio(con, RunOptions(workers=1))
    finally:
        con.close()
    assert (second.n_estimated, second.n_reused) == (0, 3)
    assert _inputs(path, second.run_id) == CHANGED_INPUTS
    assert _inputs(path, first) == FIRST_INPUTS
    repriced = next(p for p in _report(path, second.run_id)["pilots"] if p["code"] == "P-GOOD")
    assert (repriced["capex"], repriced["opex_per_year"]) == (81_000_000.0, 7_300_000.0)
    metric, old = repriced["metrics"][0], good["metrics"][0]
    assert (metric["value_kzt_per_unit"], metric["higher_is_better"]) == (9100.0, True)
    # the same effect, now worth 9100 ₸ per GJ in the other direction
    assert metric["effect"] == old["effect"]
    assert metric["annual_gain"]["value"] == pytest.approx(-old["annual_gain"]["value"] * 9100 / 4200, rel=1e-12)
    assert metric["realized_gain_year"] == pytest.approx(-old["realized_gain_year"] * 9100 / 4200, rel=1e-12)
    assert _differences(_report(path, first), before) == []


def test_rows_stored_before_runs_recorded_their_inputs_still_report_with_the_registry(
    estimated_file: tuple[Path, int], portfolio_copy: Callable[..., Path], change_registry: Callable[[Path], None]
) -> None:
    path = portfolio_copy()
    first = estimated_file[1]
    before = _report(path, first)
    con = connect(path)
    try:  # a row of a warehouse estimated before migration 0009
        con.execute(f"UPDATE estimate_results SET {', '.join(f'{c} = NULL' for c in INPUTS)} WHERE run_id = ?",
                    [first])  # fmt: skip
    finally:
        con.close()
    assert set(_inputs(path, first).values()) == {(None,) * len(INPUTS)}
    assert _differences(_report(path, first), before) == []  # the registry has not changed: the same report

    change_registry(path)
    old_row = next(p for p in _report(path, first)["pilots"] if p["code"] == "P-GOOD")
    assert (old_row["capex"], old_row["opex_per_year"]) == (81_000_000.0, 7_300_000.0)
    assert (old_row["metrics"][0]["value_kzt_per_unit"], old_row["metrics"][0]["higher_is_better"]) == (9100.0, True)
