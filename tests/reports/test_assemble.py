"""Assembly: the report's numbers equal what the warehouse holds, totals follow the stated conventions."""

from __future__ import annotations

import json
import math

import duckdb
import pytest

from pilot_roi import economics
from pilot_roi.errors import InvalidInput
from pilot_roi.reports import YearReport, assemble_report, report_from_snapshot, snapshot_json
from pilot_roi.reports.assemble import pilot_grade, sum_amounts
from pilot_roi.reports.model import Amount, from_json, to_json

REL = 1e-9  # the report copies or sums the warehouse's doubles: only float summation order differs


def test_every_estimate_of_the_run_is_reported_with_its_numbers(report: YearReport, ro: duckdb.DuckDBPyConnection):
    rows = ro.execute(
        "SELECT pilot_code, metric_code, grade, effect, ci_low, ci_high, annual_gain_kzt, npv_kzt, roi "
        "FROM estimate_results WHERE run_id = ?",
        [report.reproducibility.run_id],
    ).fetchall()
    got = {(p.code, m.metric_code): m for p in report.pilots for m in p.metrics}
    assert set(got) == {(r[0], r[1]) for r in rows}
    for code, metric, grade, effect, lo, hi, gain, npv, roi in rows:
        m = got[(code, metric)]
        assert m.grade == grade
        assert m.effect == effect and m.ci_low == lo and m.ci_high == hi
        assert (m.annual_gain.value if m.annual_gain else None) == gain
        assert (m.npv.value if m.npv else None) == npv
        assert m.roi == roi


def test_headline_counts_only_demonstrated_gains(report: YearReport, ro: duckdb.DuckDBPyConnection):
    run = report.reproducibility.run_id
    (gain,) = ro.execute(
        "SELECT sum(annual_gain_kzt) FROM estimate_results WHERE run_id = ? AND grade = 'demonstrated'", [run]
    ).fetchone()
    (capex, opex) = ro.execute("SELECT sum(capex_kzt), sum(opex_kzt_per_year) FROM pilot_registry").fetchone()
    s = report.summary
    assert s.demonstrated_annual_gain.value == pytest.approx(gain, rel=REL)
    assert s.investment_capex == pytest.approx(capex, rel=REL)
    annuity = economics.annuity_factor(0.15, 5)
    assert s.portfolio_npv.value == pytest.approx((gain - opex) * annuity - capex, rel=REL)
    assert s.portfolio_roi == pytest.approx(s.portfolio_npv.value / (capex + opex * annuity), rel=REL)
    assert s.n_estimates == ro.execute("SELECT count(*) FROM estimate_results WHERE run_id = ?", [run]).fetchone()[0]
    assert [g.annual_gain.value for g in s.largest_gains] == sorted(
        (g.annual_gain.value for g in s.largest_gains), reverse=True
    )
    assert all(g.grade == "demonstrated" for g in s.largest_gains) and len(s.largest_gains) <= 3
    assert [a.grade for a in s.adverse] == ["adverse"] * len(s.adverse) and s.adverse
    assert sum(g.pilots for g in s.by_grade) == s.n_pilots == len(report.pilots)


def test_groups_add_up_to_the_portfolio(report: YearReport):
    for groups in (report.by_subsidiary, report.by_use_case):
        assert sum(g.n_pilots for g in groups) == report.summary.n_pilots
        assert sum(g.capex for g in groups) == pytest.approx(report.summary.investment_capex, rel=REL)
        assert sum(g.demonstrated_annual_gain.value for g in groups) == pytest.approx(
            report.summary.demonstrated_annual_gain.value, rel=REL
        )


def test_realized_gain_in_the_year_recomputed_from_the_series(report: YearReport, ro: duckdb.DuckDBPyConnection):
    run = report.reproducibility.run_id
    for p in report.pilots:
        first = min(s.go_live for s in p.treated_sites)
        for m in p.metrics:
            if m.status != "ok":
                assert m.realized_gain_year is None
                continue
            (gap,) = ro.execute(
                "SELECT sum(observed - counterfactual) FROM estimate_counterfactuals WHERE run_id = ? AND "
                "pilot_code = ? AND metric_code = ? AND period >= ? AND year(period) = 2025",
                [run, p.code, m.metric_code, first],
            ).fetchone()
            sign = 1.0 if m.higher_is_better else -1.0
            expected = gap * sign * m.value_kzt_per_unit * len(p.treated_sites)
            assert m.realized_gain_year == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_quadrature_interval_of_a_sum():
    total = sum_amounts([Amount(10.0, 7.0, 13.0), Amount(5.0, 1.0, 9.0), Amount(2.0)])
    assert total.value == 17.0
    assert total.ci_low == pytest.approx(17.0 - 5.0) and total.ci_high == pytest.approx(17.0 + 5.0)
    assert sum_amounts([]) == Amount(0.0)


@pytest.mark.parametrize(
    ("grades", "expected"),
    [
        (["demonstrated", "adverse"], "adverse"),
        (["inconclusive", "demonstrated"], "demonstrated"),
        (["insufficient_data", "promising"], "promising"),
        ([], "insufficient_data"),
    ],
)
def test_pilot_grade(grades: list[str], expected: str):
    assert pilot_grade(grades) == expected


def test_design_and_lineage(report: YearReport, ro: duckdb.DuckDBPyConnection):
    p0 = next(p for p in report.pilots if p.code == "P000")
    p1 = next(p for p in report.pilots if p.code == "P001")
    assert [s.site_code for s in p0.controls] == ["KMG-CTRL0", "KMG-CTRL1"] and not p0.controls_default
    assert p1.controls_default and {s.site_code for s in p1.controls} == {"KTZ-CTRL0", "KTZ-CTRL1", "KTZ-CTRL2"}
    uploads = ro.execute(
        "SELECT upload_id, sha256, file_name, uploaded_by FROM upload_log ORDER BY upload_id"
    ).fetchall()
    assert [(u.upload_id, u.sha256, u.file_name, u.uploaded_by) for u in report.lineage.uploads] == uploads
    # the values behind the figures: each estimate's metric at the sites it used (KMG-CTRL2 is no pilot's control),
    # not every metric the listed sites report (every fixture site reports every metric: 12 045 values, not 4 447)
    listed = sorted({s.site_code for p in report.pilots for s in (*p.treated_sites, *p.controls)})
    assert "KMG-CTRL2" not in listed
    pairs = sorted(
        {
            (m.metric_code, s.site_code)
            for p in report.pilots
            for m in p.metrics
            for s in (*m.treated_sites, *m.controls)
        }
    )
    used = ro.execute(
        "SELECT count(*) FROM observations AS o JOIN (SELECT unnest(?) AS m, unnest(?) AS s) AS u "
        "ON u.m = o.metric_code AND u.s = o.site_code",
        [[m for m, _ in pairs], [s for _, s in pairs]],
    ).fetchone()[0]
    everything = ro.execute("SELECT count(*) FROM observations WHERE list_contains(?, site_code)", [listed]).fetchone()
    assert sum(u.rows_current for u in report.lineage.uploads) == used < everything[0]
    assert report.demo is True
    assert json.loads(report.reproducibility.parameters)["discount_rate"] == 0.15


def test_snapshot_round_trip_is_exact(report: YearReport):
    text = snapshot_json(report)
    again = report_from_snapshot(text)
    assert again == report
    assert from_json(YearReport, to_json(report)) == report
    assert snapshot_json(again) == text


def test_refusals(ro: duckdb.DuckDBPyConnection):
    with pytest.raises(InvalidInput, match="2019"):
        assemble_report(ro, 2019)
    with pytest.raises(InvalidInput, match="999"):
        assemble_report(ro, 2025, 999)


def test_unfinished_run_is_refused(fresh, tmp_path):
    from pilot_roi.warehouse import connect

    con = connect(fresh.path)
    try:
        con.execute(
            "INSERT INTO estimate_runs (status, data_version, code_version, parameters, started_by) "
            "VALUES ('running', 'x', 'y', '{}', 'z')"
        )
        (rid,) = con.execute("SELECT max(run_id) FROM estimate_runs").fetchone()
        with pytest.raises(InvalidInput, match="not finished"):
            assemble_report(con, 2025, rid)
        assert assemble_report(con, 2025).reproducibility.run_id == fresh.run_id  # latest *finished* run
    finally:
        con.close()
    assert math.isfinite(1.0)
