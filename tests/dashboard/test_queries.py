"""The dashboard's read-only queries on a real DuckDB warehouse: registry loaded by the real loader, estimate
rows written as a run would (input rows in, expected output rows out)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pilot_roi import dashboard_queries as q
from pilot_roi.registry import load_registry_file

Z95 = 1.959963984540054  # standard normal 97.5th percentile

REGISTRY = """
subsidiaries:
  - {code: KMG, name: {ru: "КазМунайГаз", kk: "ҚазМұнайГаз", en: "KazMunayGas"}, sector: oil_gas}
  - {code: KTZ, name: {ru: "КТЖ", kk: "ҚТЖ", en: "KTZ"}, sector: rail}
sites:
  - {code: KMG-A, subsidiary: KMG, name: {ru: "А", kk: "Ә", en: "A"}}
  - {code: KMG-B, subsidiary: KMG, name: {ru: "Б", kk: "Б", en: "B"}}
  - {code: KTZ-A, subsidiary: KTZ, name: {ru: "В", kk: "В", en: "C"}}
  - {code: KTZ-B, subsidiary: KTZ, name: {ru: "Г", kk: "Ғ", en: "D"}}
metrics:
  - {code: energy_gj, name: {ru: "Энергия", kk: "Энергия", en: "Energy"}, unit: GJ, frequency: monthly,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: 1000, min_value: 0}
  - {code: wagons, name: {ru: "Вагоны", kk: "Вагондар", en: "Wagons"}, unit: wagon, frequency: monthly,
     aggregation: sum, higher_is_better: true, value_kzt_per_unit: 500}
pilots:
  - {code: KMG-EN-1, name: {ru: "Э", kk: "Э", en: "Energy AI"}, subsidiary: KMG, use_case: energy_optimization,
     sites: [{site: KMG-A, go_live: 2024-03-01}], controls: [KMG-B], metrics: [energy_gj],
     capex_kzt: 100000000, opex_kzt_per_year: 10000000}
  - {code: KTZ-LR-1, name: {ru: "Л", kk: "Л", en: "Routing AI"}, subsidiary: KTZ, use_case: logistics_routing,
     sites: [{site: KTZ-A, go_live: 2025-01-01}], metrics: [wagons],
     capex_kzt: 50000000, opex_kzt_per_year: 0}
"""


def _result(run_id: int, pilot: str, metric: str, grade: str, gain: float, low: float, high: float, roi: float) -> dict:
    return {"run_id": run_id, "pilot_code": pilot, "metric_code": metric, "inputs_hash": "h", "status": "ok",
            "method": "did", "effect": -10.0, "effect_pct": -5.0, "ci_low": -14.0, "ci_high": -6.0, "p_value": 0.01,
            "q_value": 0.02, "grade": grade, "n_treated": 1, "annual_gain_kzt": gain, "annual_gain_ci_low": low,
            "annual_gain_ci_high": high, "roi": roi, "diagnostics": json.dumps({"pre_trend_p": 0.4})}  # fmt: skip


def _insert(con: duckdb.DuckDBPyConnection, table: str, row: dict) -> None:
    cols = ", ".join(row)
    con.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


@pytest.fixture
def filled(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY, encoding="utf-8")
    load_registry_file(con, registry)
    for run_id, status in ((1, "finished"), (2, "finished"), (3, "running")):
        _insert(con, "estimate_runs", {"run_id": run_id, "status": status, "data_version": "d", "code_version": "c",
                                       "parameters": "{}", "started_by": "test"})  # fmt: skip
    # run 1 is superseded by run 2; run 3 is still running: only run 2 may be shown
    _insert(con, "estimate_results", _result(1, "KMG-EN-1", "energy_gj", "demonstrated", 9e9, 8e9, 10e9, 9.0))
    _insert(con, "estimate_results", _result(2, "KMG-EN-1", "energy_gj", "demonstrated", 120e6, 80e6, 160e6, 0.5))
    _insert(con, "estimate_results", _result(2, "KTZ-LR-1", "wagons", "promising", 30e6, -10e6, 70e6, -0.1))
    _insert(con, "estimate_results", _result(3, "KTZ-LR-1", "wagons", "demonstrated", 7e9, 6e9, 8e9, 3.0))
    for month, observed, counterfactual in ((2, 100.0, 100.0), (3, 90.0, 100.0), (4, 95.0, 100.0)):
        _insert(con, "estimate_counterfactuals", {"run_id": 2, "pilot_code": "KMG-EN-1", "metric_code": "energy_gj",
                                                  "period": date(2024, month, 1), "observed": observed,
                                                  "counterfactual": counterfactual})  # fmt: skip
    return con


def test_portfolio_reads_only_the_latest_finished_run(filled: duckdb.DuckDBPyConnection) -> None:
    frame = q.portfolio(filled, "kk")
    assert frame["run_id"].unique().to_list() == [2]
    assert sorted(frame["pilot_code"].to_list()) == ["KMG-EN-1", "KTZ-LR-1"]
    kmg = frame.filter(frame["pilot_code"] == "KMG-EN-1").row(0, named=True)
    assert kmg["subsidiary_name"] == "ҚазМұнайГаз"
    assert kmg["go_live_year"] == 2024
    assert kmg["ci_low_pct"] == pytest.approx(-14.0 * -5.0 / -10.0)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (q.PortfolioFilters(), ["KMG-EN-1", "KTZ-LR-1"]),
        (q.PortfolioFilters(subsidiaries=("KTZ",)), ["KTZ-LR-1"]),
        (q.PortfolioFilters(use_cases=("energy_optimization",)), ["KMG-EN-1"]),
        (q.PortfolioFilters(years=(2025,)), ["KTZ-LR-1"]),
        (q.PortfolioFilters(grades=("demonstrated",)), ["KMG-EN-1"]),
        (q.PortfolioFilters(subsidiaries=("KTZ",), grades=("demonstrated",)), []),
    ],
)
def test_portfolio_filters(filled: duckdb.DuckDBPyConnection, filters: q.PortfolioFilters, expected: list[str]) -> None:
    assert sorted(q.portfolio(filled, "en", filters)["pilot_code"].to_list()) == expected


def test_headline_counts_only_demonstrated_gains(filled: duckdb.DuckDBPyConnection) -> None:
    head = q.portfolio_headline(q.portfolio(filled, "en"))
    assert head.demonstrated_gain_kzt == pytest.approx(120e6)
    assert head.demonstrated_gain_ci_low == pytest.approx(80e6, rel=1e-9)
    assert head.demonstrated_gain_ci_high == pytest.approx(160e6, rel=1e-9)
    assert head.by_grade["demonstrated"] == 1 and head.by_grade["promising"] == 1
    assert head.total_invested_kzt == pytest.approx(150e6)
    assert head.median_roi == pytest.approx((0.5 - 0.1) / 2)
    assert head.best_pilot_code == "KMG-EN-1"


def test_headline_interval_adds_standard_errors_in_quadrature() -> None:
    import polars as pl

    gains, ses = [10.0, 20.0], [3.0, 4.0]
    frame = pl.DataFrame(
        {
            "pilot_code": ["A", "B"],
            "grade": ["demonstrated"] * 2,
            "status": ["ok"] * 2,
            "annual_gain_kzt": gains,
            "annual_gain_ci_low": [g - Z95 * s for g, s in zip(gains, ses, strict=True)],
            "annual_gain_ci_high": [g + Z95 * s for g, s in zip(gains, ses, strict=True)],
            "roi": [None, None],
            "capex_kzt": [1.0, 1.0],
            "opex_kzt_per_year": [0.0, 0.0],
        }
    )
    head = q.portfolio_headline(frame)
    assert head.demonstrated_gain_ci_high - head.demonstrated_gain_kzt == pytest.approx(Z95 * 5.0)


def test_realized_gain_is_signed_by_direction_and_counts_post_go_live(filled: duckdb.DuckDBPyConnection) -> None:
    frame = q.realized_gain(filled)
    # energy: lower is better, go-live March: (100-90)*1000 in March, (100-95)*1000 in April; February is before
    assert frame["month"].to_list() == [date(2024, 3, 1), date(2024, 4, 1)]
    assert frame["gain_kzt"].to_list() == pytest.approx([10_000.0, 5_000.0])
    assert frame["cumulative_kzt"].to_list() == pytest.approx([10_000.0, 15_000.0])
    assert q.realized_gain(filled, q.PortfolioFilters(subsidiaries=("KTZ",))).height == 0


def test_realized_gain_starts_at_the_earliest_go_live_the_estimate_used(filled: duckdb.DuckDBPyConnection) -> None:
    # the estimate left out the site going live in March (its diagnostics say the sites it used go live in
    # April): March's gap is a pre-period residual, not gain; an unreadable date keeps the registry's March
    for used, months in (("2024-04-01", [date(2024, 4, 1)]), ("not a date", [date(2024, 3, 1), date(2024, 4, 1)])):
        filled.execute(
            "UPDATE estimate_results SET diagnostics = ? WHERE run_id = 2 AND pilot_code = 'KMG-EN-1'",
            [json.dumps({"design": {"first_go_live_used": used}})],
        )
        assert q.realized_gain(filled)["month"].to_list() == months, used
    filled.execute(
        "UPDATE estimate_results SET diagnostics = ? WHERE run_id = 2 AND pilot_code = 'KMG-EN-1'",
        [json.dumps({"design": {"first_go_live_used": "2024-04-01"}})],
    )
    assert q.realized_gain(filled)["gain_kzt"].to_list() == pytest.approx([5_000.0])


def test_realized_gain_and_the_pilot_page_price_with_what_the_run_recorded(filled: duckdb.DuckDBPyConnection) -> None:
    # run 2 priced energy at 3,000 KZT a GJ with lower better (migration 0009's columns); the registry now says
    # 1,000: the realized gain beside run 2's annual gain must not move with a tariff the run never saw
    filled.execute(
        "UPDATE estimate_results SET value_kzt_per_unit = 3000, higher_is_better = false, frequency = 'monthly', "
        "capex_kzt = 100000000, opex_kzt_per_year = 10000000 WHERE run_id = 2 AND pilot_code = 'KMG-EN-1'"
    )
    assert q.realized_gain(filled)["gain_kzt"].to_list() == pytest.approx([30_000.0, 15_000.0])
    row = q.pilot_estimates(filled, "KMG-EN-1", "en").row(0, named=True)
    assert (row["value_kzt_per_unit"], row["higher_is_better"]) == (3000, False)
    # a row stored before 0009 recorded nothing (capex_kzt NULL): the registry's price, as before
    filled.execute("UPDATE estimate_results SET capex_kzt = NULL WHERE run_id = 2 AND pilot_code = 'KMG-EN-1'")
    assert q.realized_gain(filled)["gain_kzt"].to_list() == pytest.approx([10_000.0, 5_000.0])
    assert q.pilot_estimates(filled, "KMG-EN-1", "en")["value_kzt_per_unit"].to_list() == [1000]


def test_npv_terms_are_the_latest_finished_runs(filled: duckdb.DuckDBPyConnection) -> None:
    # runs 1 and 2 recorded no terms ("{}"): the product's defaults; run 3 is still running and never counts
    assert q.npv_terms(q.warehouse_info(filled)) == q.NpvTerms(0.15, 5)
    filled.execute("UPDATE estimate_runs SET parameters = ? WHERE run_id = 2",
                   [json.dumps({"discount_rate": 0.085, "horizon_years": 3})])  # fmt: skip
    filled.execute("UPDATE estimate_runs SET parameters = ? WHERE run_id = 3",
                   [json.dumps({"discount_rate": 0.5, "horizon_years": 9})])  # fmt: skip
    assert q.npv_terms(q.warehouse_info(filled)) == q.NpvTerms(0.085, 3)


def test_pilot_queries(filled: duckdb.DuckDBPyConnection) -> None:
    pilot = q.pilot(filled, "KMG-EN-1", "en")
    assert pilot is not None and pilot["first_go_live"] == date(2024, 3, 1)
    assert q.pilot(filled, "NOPE", "en") is None
    sites = q.pilot_sites(filled, "KMG-EN-1", "en")
    assert sorted(zip(sites["site_code"].to_list(), sites["role"].to_list(), strict=True)) == [
        ("KMG-A", "treated"),
        ("KMG-B", "control"),
    ]
    estimates = q.pilot_estimates(filled, "KMG-EN-1", "en")
    assert estimates["run_id"].to_list() == [2]
    assert q.counterfactual(filled, 2, "KMG-EN-1", "energy_gj").height == 3
    assert q.event_study(filled, 2, "KMG-EN-1", "energy_gj").height == 0


def test_warehouse_info_and_empty_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    info = q.warehouse_info(con)
    assert "latest_run_id" not in info and not q.is_demo(info)
    assert q.portfolio(con, "ru").height == 0
    assert q.portfolio_headline(q.portfolio(con, "ru")).n_estimates == 0
    assert q.realized_gain(con).height == 0
    assert q.quality(con).coverage.height == 0 and q.uploads(con).height == 0


def test_set_user_language_changes_only_the_language(con: duckdb.DuckDBPyConnection) -> None:
    from pilot_roi.auth import add_user, session_fingerprint

    add_user(con, "eng", "a-long-password", "executive", language="ru")
    fingerprint = session_fingerprint(con, "eng")
    q.set_user_language(con, "eng", "kk")
    assert con.execute("SELECT language FROM users WHERE username = 'eng'").fetchone() == ("kk",)
    assert session_fingerprint(con, "eng") == fingerprint  # open sessions survive
    with pytest.raises(ValueError, match="not one of"):
        q.set_user_language(con, "eng", "de")


def test_results_version_changes_with_a_new_run_or_a_registry_edit(filled: duckdb.DuckDBPyConnection) -> None:
    first = q.results_version(q.warehouse_info(filled))
    assert first == q.results_version(q.warehouse_info(filled))
    filled.execute("UPDATE estimate_runs SET status = 'finished', finished_at = now() WHERE run_id = 3")
    second = q.results_version(q.warehouse_info(filled))
    assert second != first
    filled.execute("UPDATE pilot_registry SET capex_kzt = 1, updated_at = now() + INTERVAL 1 SECOND")
    assert q.results_version(q.warehouse_info(filled)) != second
