"""A payback that never comes (+inf: the net annual flow is not positive) reads as "never pays back", not as "not
available" (None: no estimate): in the model, the frozen snapshot, the PDF and XLSX (in words, ru/kk/en) and the
CSV (`inf`, which Python and pandas read back as infinity)."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from report_fixtures import Built

from pilot_roi.i18n import t
from pilot_roi.reports import RENDERERS, YearReport, freeze_report, get_freeze, load_report, snapshot_json
from pilot_roi.reports.assemble import assemble_report, payback_of
from pilot_roi.reports.to_pdf import build_html
from pilot_roi.warehouse import connect

LANGS = ("ru", "kk", "en")


def test_a_net_flow_that_is_not_positive_never_pays_back() -> None:
    assert payback_of(6_000_000.0, 12_000_000.0, 1_000_000.0) == pytest.approx(12 * 12_000_000.0 / 5_000_000.0)
    assert payback_of(1_000_000.0, 12_000_000.0, 1_000_000.0) == math.inf  # gain equal to opex
    assert payback_of(0.0, 12_000_000.0, 1_000_000.0) == math.inf  # nothing demonstrated


@pytest.fixture(scope="module")
def never(tmp_path_factory: pytest.TempPathFactory) -> tuple[Built, tuple[str, str], tuple[str, str]]:
    """The fixture warehouse with one estimate that never pays back (+inf, as the runner stores it) and another
    whose payback is not available (NULL), the keys of each; and an opex that the demonstrated gains of the first
    pilot (P000, demonstrated) do not cover."""
    from report_fixtures import build_warehouse

    built = build_warehouse(tmp_path_factory.mktemp("never") / "wh.duckdb", 5, daily_every=4)
    con = connect(built.path)
    try:
        ok = con.execute(
            "SELECT pilot_code, metric_code FROM estimate_results WHERE run_id = ? AND status = 'ok' ORDER BY ALL",
            [built.run_id],
        ).fetchall()
        inf_key, null_key = ok[0], ok[1]
        for key, value in ((inf_key, "inf"), (null_key, None)):
            con.execute(
                "UPDATE estimate_results SET payback_months = CAST(? AS DOUBLE) "
                "WHERE run_id = ? AND pilot_code = ? AND metric_code = ?",
                [value, built.run_id, *key],
            )
        # the fixture's run recorded no costs (as before migration 0009): the report takes the registry's
        con.execute("UPDATE pilot_registry SET opex_kzt_per_year = 1e12 WHERE code = ?", [built.pilots[0]])
    finally:
        con.close()
    return built, (str(inf_key[0]), str(inf_key[1])), (str(null_key[0]), str(null_key[1]))


@pytest.fixture(scope="module")
def report(never: tuple[Built, tuple[str, str], tuple[str, str]]) -> YearReport:
    con = connect(never[0].path, read_only=True)
    try:
        return assemble_report(con, 2025)
    finally:
        con.close()


def _payback(report: YearReport, key: tuple[str, str]) -> float | None:
    pilot = next(p for p in report.pilots if p.code == key[0])
    return next(m for m in pilot.metrics if m.metric_code == key[1]).payback_months


def test_the_model_keeps_never_apart_from_not_available(report: YearReport, never: Any) -> None:
    _, inf_key, null_key = never
    assert _payback(report, inf_key) == math.inf
    assert _payback(report, null_key) is None
    for pilot in report.pilots:  # a pilot's own payback, of its demonstrated gains: never when they do not repay
        demonstrated = any(m.grade == "demonstrated" for m in pilot.metrics)
        net = pilot.demonstrated_annual_gain.value - pilot.opex_per_year
        if not demonstrated:  # no gain shown: nothing to repay with, not "never"
            assert pilot.payback_months is None, pilot.code
        else:
            assert (pilot.payback_months == math.inf) == (net <= 0), pilot.code
    assert report.pilots[0].grade == "demonstrated" and report.pilots[0].payback_months == math.inf


def test_the_frozen_snapshot_is_standard_json_and_keeps_never(report: YearReport, never: Any) -> None:
    text = snapshot_json(report)

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    json.loads(text, parse_constant=refuse)
    built, inf_key, null_key = never
    con = connect(built.path)
    try:
        freeze_report(con, 2025, username="reviewer", now=datetime(2026, 1, 31, 12, 0))
        row = get_freeze(con, 2025)
        frozen = load_report(con, 2025)
    finally:
        con.close()
    assert row is not None
    json.loads(row["snapshot"], parse_constant=refuse)
    assert _payback(frozen, inf_key) == math.inf and _payback(frozen, null_key) is None
    assert [p.payback_months for p in frozen.pilots] == [p.payback_months for p in report.pilots]


def _estimates_rows(report: YearReport, lang: str, tmp_path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    out = tmp_path / f"report_{lang}.xlsx"
    RENDERERS["xlsx"](report, lang, out)
    rows = list(openpyxl.load_workbook(out)[t("report.section.estimates", lang)[:31]].iter_rows(values_only=True))
    return [str(h) for h in rows[3]], rows[4:]


@pytest.mark.parametrize("lang", LANGS)
def test_xlsx_writes_never_in_words_and_leaves_not_available_blank(
    report: YearReport, never: Any, lang: str, tmp_path: Path
) -> None:
    _, inf_key, null_key = never
    header, rows = _estimates_rows(report, lang, tmp_path)
    col = {h: i for i, h in enumerate(header)}
    payback = col[t("report.col.payback", lang)]
    by_key = {(r[col[t("report.col.pilot_code", lang)]], r[col[t("report.col.metric_code", lang)]]): r for r in rows}
    assert by_key[inf_key][payback] == t("estimate.payback_never", lang)
    assert by_key[null_key][payback] is None
    finite = [r[payback] for k, r in by_key.items() if k not in (inf_key, null_key) and _payback(report, k)]
    assert finite and all(isinstance(v, float) for v in finite)


def test_csv_writes_inf_which_python_and_pandas_read_as_infinity(
    report: YearReport, never: Any, tmp_path: Path
) -> None:
    _, inf_key, null_key = never
    out = tmp_path / "report.csv"
    RENDERERS["csv"](report, "en", out)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    header = t("report.col.payback", "en")
    by_key = {(r[t("report.col.pilot_code", "en")], r[t("report.col.metric_code", "en")]): r[header] for r in rows}
    assert by_key[inf_key] == "inf" and float(by_key[inf_key]) == math.inf
    assert by_key[null_key] == ""
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert frame[header].dtype == "float64"
    assert frame[header].isin([math.inf]).sum() == 1 and frame[header].isna().sum() == sum(1 for v in by_key.values()
                                                                                          if v == "")  # fmt: skip


@pytest.mark.parametrize("lang", LANGS)
def test_pdf_writes_never_in_words_and_a_dash_for_not_available(report: YearReport, lang: str) -> None:
    html = build_html(report, lang)
    label = t("report.col.payback", lang)
    words = t("estimate.payback_never", lang)
    # each pilot-metric's key-value table: the payback row of the one that never pays back, of the one without
    assert html.count(f"<tr><td>{label}</td><td>{words}</td></tr>") == 1
    assert html.count(f"<tr><td>{label}</td><td>—</td></tr>") == sum(
        1 for p in report.pilots for m in p.metrics if m.payback_months is None
    )
    # the pilots' economics tables: one cell per pilot that never pays back
    assert html.count(f'<td class="n">{words}</td>') == sum(1 for p in report.pilots if p.payback_months == math.inf)
