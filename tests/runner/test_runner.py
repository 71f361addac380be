"""The portfolio runner on a real DuckDB file with data loaded through ingestion."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pilot_roi.cli import main
from pilot_roi.errors import InvalidInput
from pilot_roi.grading import GradeInput, grade
from pilot_roi.ingest import load_observations
from pilot_roi.runner import RunOptions, run_portfolio
from pilot_roi.runner.read import read_panel, read_portfolio, read_site_roles
from pilot_roi.warehouse import connect

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")

# Columns that name the run rather than its numbers.
RUN_COLUMNS = ("run_id", "reused_from_run")


def _results(path: Path, run_id: int) -> list[dict[str, Any]]:
    con = connect(path, read_only=True)
    try:
        sql = "SELECT * FROM estimate_results WHERE run_id = ? ORDER BY pilot_code, metric_code"
        cursor = con.execute(sql, [run_id])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def _numbers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in RUN_COLUMNS} for r in rows]


def _frames(path: Path, run_id: int) -> dict[str, list[tuple[Any, ...]]]:
    con = connect(path, read_only=True)
    try:
        out = {}
        for table, order in (
            ("estimate_counterfactuals", "pilot_code, metric_code, period"),
            ("estimate_event_study", "pilot_code, metric_code, event_time"),
            ("estimate_robustness", "pilot_code, metric_code, is_primary DESC, method"),
        ):
            out[table] = [
                row[1:]
                for row in con.execute(f"SELECT * FROM {table} WHERE run_id = ? ORDER BY {order}", [run_id]).fetchall()
            ]
        return out
    finally:
        con.close()


def _run(path: Path, **options: Any) -> Any:
    con = connect(path)
    try:
        return run_portfolio(con, RunOptions(**options))
    finally:
        con.close()


def test_controls_leave_out_sites_of_other_pilots(portfolio_copy: Callable[..., Path]) -> None:
    con = connect(portfolio_copy(estimated=False), read_only=True)
    try:
        roles = read_site_roles(con, "P-GOOD", "energy_gj")
        assert [s for s, _ in roles.treated] == ["S01", "S02"]
        assert roles.controls == ("S05", "S06", "S07", "S08", "S09", "S10")
        assert dict(roles.excluded) == {"S03": "P-NULL", "S04": "P-BROKEN"}
        listed = read_site_roles(con, "P-NULL", "energy_gj")
        assert listed.controls == ("S07", "S08", "S09", "S10")
        panel = read_panel(con, "energy_gj", roles)
        assert set(panel["site_code"].unique()) == {"S01", "S02", "S05", "S06", "S07", "S08", "S09", "S10"}
        assert panel.filter(pl.col("go_live").is_not_null())["site_code"].unique().sort().to_list() == ["S01", "S02"]
        assert [p.pilot_code for p in read_portfolio(con)] == ["P-BROKEN", "P-GOOD", "P-NULL"]
    finally:
        con.close()


def test_a_run_is_stored_whole(estimated_file: tuple[Path, int]) -> None:
    path, run_id = estimated_file
    con = connect(path, read_only=True)
    try:
        run = con.execute(
            "SELECT status, data_version, code_version, parameters, n_estimates, started_at <= finished_at "
            "FROM estimate_runs WHERE run_id = ?",
            [run_id],
        ).fetchone()
        view = con.execute("SELECT * FROM estimates ORDER BY pilot_code").fetchall()
        view_cols = [d[0] for d in con.description]
    finally:
        con.close()
    assert run is not None
    status, data_version, code_version, parameters, n_estimates, ordered = run
    assert (status, n_estimates, ordered) == ("finished", 3, True)
    assert len(data_version) == 64
    assert code_version.startswith("0.1.0+")
    params = json.loads(parameters)
    assert params["seed"] == RunOptions().seed and params["discount_rate"] == 0.15 and params["horizon_years"] == 5
    assert [r[view_cols.index("run_id")] for r in view] == [run_id] * 3
    assert view_cols[:4] == ["pilot_code", "metric_code", "method", "effect"]

    rows = {r["pilot_code"]: r for r in _results(path, run_id)}
    good, null, broken = rows["P-GOOD"], rows["P-NULL"], rows["P-BROKEN"]
    # the broken pilot (no data before go-live) says why; the others finish
    assert broken["status"] == "insufficient_data" and broken["reason"]
    assert broken["grade"] == "insufficient_data"
    assert broken["effect"] is None and broken["annual_gain_kzt"] is None
    for r in (good, null):
        assert r["status"] == "ok", r
        assert r["ci_low"] <= r["effect"] <= r["ci_high"]
        assert r["q_value"] >= r["p_value"]
        assert r["annual_gain_ci_low"] <= r["annual_gain_kzt"] <= r["annual_gain_ci_high"]
        assert r["method"] and r["method_reason"]
        # the stored grade is the grading rule applied to the stored numbers
        expected = grade(
            GradeInput(r["status"], r["effect"], r["ci_low"], r["ci_high"], r["q_value"], False, r["pre_trend_p"],
                       json.loads(r["diagnostics"]))
        )  # fmt: skip
        assert (r["grade"], r["grade_reason"]) == (expected.grade, expected.reason)
    # energy falls by 40 GJ a day at 2 sites: beneficial, CI excludes zero, q < 0.05
    assert good["ci_low"] < -20 and good["ci_high"] < 0 and good["q_value"] < 0.05
    assert good["grade"] in ("demonstrated", "promising")  # promising only if a diagnostic fails (5% by design)
    assert good["annual_gain_kzt"] > 0
    assert good["annual_gain_kzt"] == pytest.approx(-good["effect"] * 4200 * 365 * good["n_treated"], rel=1e-9)
    assert good["realized_gain_kzt"] > 0
    diagnostics = json.loads(good["diagnostics"])
    assert diagnostics["controls_excluded"] == {"S03": "P-NULL", "S04": "P-BROKEN"}
    assert null["grade"] != "demonstrated"
    frames = _frames(path, run_id)
    assert any(r[0] == "P-GOOD" for r in frames["estimate_counterfactuals"])
    assert {r[0] for r in frames["estimate_robustness"] if r[3]} == {"P-BROKEN", "P-GOOD", "P-NULL"}


def test_unchanged_data_is_carried_forward_bit_identical(
    estimated_file: tuple[Path, int], portfolio_copy: Callable[..., Path]
) -> None:
    base_path, first = estimated_file
    path = portfolio_copy()
    second = _run(path)
    assert second.run_id > first
    assert second.n_estimated == 0 and second.n_reused == 3
    again = _results(path, second.run_id)
    assert _numbers(again) == _numbers(_results(base_path, first))
    assert all(r["reused_from_run"] == first for r in again)
    assert _frames(path, second.run_id) == _frames(base_path, first)

    # a restated value at S03 re-estimates P-NULL only (S03 is in no other pilot's panel)
    con = connect(path)
    try:
        restated = pl.DataFrame(
            {"site_code": ["S03"], "metric_code": ["energy_gj"], "period": [date(2024, 9, 10)], "value": [1500.0]}
        )
        assert load_observations(con, restated, file_name="fix.parquet", uploaded_by="test").status == "loaded"
        third = run_portfolio(con, RunOptions())
    finally:
        con.close()
    assert third.n_estimated == 1 and third.n_reused == 2
    before = {r["pilot_code"]: r for r in again}
    changed = {r["pilot_code"]: r for r in _results(path, third.run_id)}
    assert changed["P-NULL"]["reused_from_run"] is None
    assert changed["P-NULL"]["effect"] != before["P-NULL"]["effect"]
    assert changed["P-GOOD"]["effect"] == before["P-GOOD"]["effect"]
    assert third.data_version != second.data_version


def test_same_data_and_seed_give_the_same_numbers_in_a_process_pool(
    estimated_file: tuple[Path, int], portfolio_copy: Callable[..., Path]
) -> None:
    base_path, first = estimated_file
    path = portfolio_copy()
    pooled = _run(path, pilot="P-NULL", force=True, workers=2, parallel_min_jobs=1)
    assert pooled.n_estimated == 1
    fresh = {r["pilot_code"]: r for r in _results(path, pooled.run_id)}["P-NULL"]
    serial = {r["pilot_code"]: r for r in _results(base_path, first)}["P-NULL"]
    assert fresh["reused_from_run"] is None
    assert _numbers([fresh]) == _numbers([serial])
    pool_frames = {k: [r for r in v if r[0] == "P-NULL"] for k, v in _frames(path, pooled.run_id).items()}
    base_frames = {k: [r for r in v if r[0] == "P-NULL"] for k, v in _frames(base_path, first).items()}
    assert pool_frames == base_frames


def test_one_pilot_and_settable_economics(
    estimated_file: tuple[Path, int], portfolio_copy: Callable[..., Path]
) -> None:
    base_path, first = estimated_file
    path = portfolio_copy()
    # a new discount rate and horizon re-price every row without re-estimating
    repriced = _run(path, discount_rate=0.05, horizon_years=10)
    assert repriced.n_estimated == 0
    before = {r["pilot_code"]: r for r in _results(base_path, first)}
    after = {r["pilot_code"]: r for r in _results(path, repriced.run_id)}
    assert after["P-GOOD"]["effect"] == before["P-GOOD"]["effect"]
    assert after["P-GOOD"]["npv_kzt"] > before["P-GOOD"]["npv_kzt"]
    # --pilot: only that pilot is re-examined, the run still names the whole portfolio
    scoped = _run(path, pilot="P-BROKEN", force=True)
    assert scoped.n_estimates == 3 and scoped.n_estimated == 1 and scoped.n_reused == 2
    with pytest.raises(InvalidInput):
        _run(path, pilot="NO-SUCH-PILOT")


def test_cli_estimate_json_and_text(portfolio_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    path = portfolio_copy()
    assert main(["estimate", "--warehouse", str(path), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "finished" and document["n_estimates"] == 3 and document["n_reused"] == 3
    by_pilot = {e["pilot_code"]: e for e in document["estimates"]}
    assert set(by_pilot) == {"P-BROKEN", "P-GOOD", "P-NULL"}
    assert by_pilot["P-GOOD"]["annual_gain_kzt"] > 0 and by_pilot["P-GOOD"]["grade"] in ("demonstrated", "promising")
    assert by_pilot["P-BROKEN"]["effect"] is None and by_pilot["P-BROKEN"]["reason"]
    assert by_pilot["P-BROKEN"]["grade"] == "insufficient_data"

    assert main(["estimate", "--warehouse", str(path), "--pilot", "P-NULL", "--lang", "ru"]) == 0
    text = capsys.readouterr().out
    assert "P-NULL" in text and "P-GOOD" not in text and "перенесено" in text

    assert main(["estimate", "--warehouse", str(path), "--pilot", "NOPE", "--format", "json"]) == 1
    refused = json.loads(capsys.readouterr().out)
    assert refused["status"] == "refused" and "NOPE" in refused["errors"][0]
    assert main(["estimate", "--warehouse", str(path), "--discount-rate", "nan"]) == 1
    assert "--discount-rate" in capsys.readouterr().err


OTHER_PILOT_YAML = """
metrics:
  - {code: output_t, name: {ru: "Выпуск", kk: "Өнім", en: "Output"}, unit: t, frequency: daily,
     aggregation: sum, higher_is_better: true, value_kzt_per_unit: 1000, min_value: 0}
pilots:
  - code: P-OTHER
    name: {ru: "Другой", kk: "Басқа", en: "Other"}
    subsidiary: TST
    use_case: quality_vision
    sites: [{site: S05, go_live: 2024-06-01}]
    metrics: [output_t]
    capex_kzt: 1000000
    opex_kzt_per_year: 0
"""


def test_contamination_by_a_pilot_on_another_metric(portfolio_copy: Callable[..., Path], tmp_path: Path) -> None:
    from pilot_roi.registry import load_registry_file

    path = portfolio_copy(estimated=False)
    registry = tmp_path / "other.yaml"
    registry.write_text(OTHER_PILOT_YAML, encoding="utf-8")
    con = connect(path)
    try:
        load_registry_file(con, registry)
        strict = read_site_roles(con, "P-GOOD", "energy_gj")
        lenient = read_site_roles(con, "P-GOOD", "energy_gj", contamination="same_metric")
    finally:
        con.close()
    assert "S05" not in strict.controls and dict(strict.excluded)["S05"] == "P-OTHER"
    assert "S05" in lenient.controls and "S05" not in dict(lenient.excluded)
    assert dict(lenient.excluded) == {"S03": "P-NULL", "S04": "P-BROKEN"}


def test_realized_gain_counts_from_the_earliest_go_live_the_estimate_used(staggered_portfolio_file: Path) -> None:
    # S01 goes live on the first day of data, so no estimate can use it: the effect is S02's (ITS, no control
    # reports), from July. The realized gain used to count from S01's January go-live, adding S02's six
    # months of pre-period residuals.
    path = staggered_portfolio_file
    run = _run(path)
    (row,) = _results(path, run.run_id)
    assert row["status"] == "ok" and row["n_treated"] == 1
    assert json.loads(row["diagnostics"])["design"]["first_go_live_used"] == "2024-07-01"
    frame = pl.DataFrame(
        _frames(path, run.run_id)["estimate_counterfactuals"],
        schema=["pilot_code", "metric_code", "period", "observed", "counterfactual", "ci_low", "ci_high"],
        orient="row",
    )
    gap = (pl.col("counterfactual") - pl.col("observed")) * 4200.0  # lower is better: a fall is a gain
    after = frame.filter(pl.col("period") >= date(2024, 7, 1)).select(gap.sum()).item()
    before = frame.filter(pl.col("period") < date(2024, 7, 1)).select(gap.sum()).item()
    assert row["realized_gain_kzt"] == pytest.approx(after, rel=1e-9)
    assert abs(before) > 1e-3 * abs(after)  # counting from January would have changed the figure
    # the year report says the same (all the data are in 2024)
    from pilot_roi.reports.assemble import assemble_report

    con = connect(path, read_only=True)
    try:
        (metric,) = assemble_report(con, 2024).pilots[0].metrics
    finally:
        con.close()
    assert metric.realized_gain_year == pytest.approx(after, rel=1e-9)
