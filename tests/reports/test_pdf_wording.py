"""The PDF reads right in every language: chart ticks alike, money that never breaks, diagnostics in words (the
full record in the XLSX), and what a pilot without control sites is compared with."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from html import escape
from pathlib import Path

import openpyxl
import pytest
from report_fixtures import Built, build_warehouse

from pilot_roi.i18n import t
from pilot_roi.reports import RENDERERS, YearReport, assemble_report, report_from_snapshot
from pilot_roi.reports.freeze import snapshot_json
from pilot_roi.reports.model import SeriesPoint
from pilot_roi.reports.to_pdf import build_html
from pilot_roi.warehouse import connect, transaction

LANGS = ("ru", "kk", "en")
# One staggered all-treated estimate's diagnostics as the runner stores them (the demo's KEGOC-PM-02 shape).
ALL_TREATED = {
    "method_choice": {
        "case": "all_treated_staggered",
        "n_treated": 6,
        "n_controls": 0,
        "n_cohorts": 3,
        "frequency": "monthly",
        "inference": "randomization",
        "n_assignments": 90,
    },
    "leave_one_out": {"status": "insufficient_data", "reason": "no_controls"},
    "placebo_in_time": {"status": "ok", "fake_go_live": "2023-05-01", "att": 1.5, "p_value": 0.4},
    "excluded_sites": 0,
    "control_rule": "not_yet_treated",
}
RAW_KEYS = ("method_choice", "leave_one_out", "placebo_in_time", "all_treated_staggered", "no_controls", "control_rule")


def _with_series(report: YearReport, values: list[float]) -> YearReport:
    """The report with its first pilot's first metric observed at `values` (monthly from 2024-01)."""
    pilot = report.pilots[0]
    series = tuple(SeriesPoint(date(2024, 1 + i, 1), v, v, None, None) for i, v in enumerate(values))
    metric = replace(pilot.metrics[0], series=series)
    return replace(report, pilots=(replace(pilot, metrics=(metric, *pilot.metrics[1:])), *report.pilots[1:]))


def _y_ticks(html: str) -> list[str]:
    """The first chart's y-axis labels (right-anchored texts at the plot's left edge)."""
    svg = html[html.index('<figure><svg xmlns="http://www.w3.org/2000/svg" width="500" height="190"') :]
    svg = svg[: svg.index("</svg>")]
    return re.findall(r'text-anchor="end" fill="#333">([^<]*)</text>', svg)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([30.0, 80.0, 140.0], {"ru": ["25", "50", "75", "100", "125", "150"], "en": ["25", "50", "75", "100", "125"]}),
        ([0.3, 0.7, 1.1], {"ru": ["0,2", "0,4", "0,6", "0,8", "1,0", "1,2"], "en": ["0.2", "0.4", "0.6", "0.8"]}),
        ([1.0, 1.2], {"ru": ["1,00", "1,05", "1,10", "1,15", "1,20"], "en": ["1.00", "1.05"]}),
    ],
)
def test_chart_ticks_of_one_axis_share_their_decimals_in_the_readers_locale(
    report: YearReport, values: list[float], expected: dict[str, list[str]]
) -> None:
    chart_report = _with_series(report, values)
    for lang, wanted in expected.items():
        ticks = _y_ticks(build_html(chart_report, lang))
        assert set(wanted) <= set(ticks), (lang, ticks)
        decimals = {len(x.split("," if lang == "ru" else ".")[1]) if re.search(r"[,.]", x) else 0 for x in ticks}
        assert len(decimals) == 1, (lang, ticks)


@pytest.mark.parametrize("lang", LANGS)
def test_money_is_written_alike_and_never_breaks_across_lines(report: YearReport, lang: str) -> None:
    html = build_html(report, lang)
    amounts = re.findall(r"-?\d[\d\u00a0.,]*[ \u00a0](?:[^\s\u00a0<>\d]+[ \u00a0])?₸", html)
    assert any(a.startswith("0") for a in amounts)  # the zero gains of the pilots without demonstrated ones
    assert [a for a in amounts if " " in a] == []


@pytest.fixture(scope="module")
def all_treated_report(tmp_path_factory: pytest.TempPathFactory) -> YearReport:
    """The fixture warehouse with one estimate's diagnostics those of an all-treated staggered pilot."""
    built: Built = build_warehouse(tmp_path_factory.mktemp("all-treated") / "wh.duckdb", 5, daily_every=4)
    con = connect(built.path)
    try:
        with transaction(con):
            con.execute(
                "UPDATE estimate_results SET diagnostics = ?, n_controls = 4 "
                "WHERE pilot_code = ? AND run_id = ? AND status = 'ok'",
                [json.dumps(ALL_TREATED), built.pilots[0], built.run_id],
            )
        return assemble_report(con, 2025)
    finally:
        con.close()


def _pilot_part(html: str, code: str) -> str:
    start = html.index(f'id="pilot-{code}"')
    end = html.find('<h2 class="pilot"', start)
    return html[start : end if end > 0 else len(html)]


@pytest.mark.parametrize("lang", LANGS)
def test_diagnostics_are_sentences_in_the_readers_language(all_treated_report: YearReport, lang: str) -> None:
    pilot = all_treated_report.pilots[0]
    part = _pilot_part(build_html(all_treated_report, lang), pilot.code)
    for raw in (*RAW_KEYS, "pre_trend_test", "placebo_p:", "n_sites"):
        assert raw not in part, raw
    # the design says there are no controls (not the 4 not-yet-live comparison sites), then the checks in words
    design = t("dash.diag.design_all_treated", lang, method="¤", treated="¤", controls="¤", pre="¤", post="¤")
    assert escape(design.split("¤")[2]) in part
    assert escape(t("dash.diag.loo_no_controls", lang)) in part
    assert "2023-05-01" in part
    assert escape(t("dash.diag.excluded_sites", lang, value="0")) in part
    record = t("report.pilot.diagnostics_record", lang, sheet=t("report.section.diagnostics", lang))
    assert escape(record) in part
    other = _pilot_part(build_html(all_treated_report, lang), all_treated_report.pilots[1].code)
    value = "0,410" if lang != "en" else "0.410"
    assert escape(t("dash.diag.placebo_p", lang, value=value)) in other and "placebo_p" not in other


def test_the_full_diagnostics_record_is_in_the_xlsx(all_treated_report: YearReport, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    RENDERERS["xlsx"](all_treated_report, "ru", out)
    sheet = openpyxl.load_workbook(out)[t("report.section.diagnostics", "ru")]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[3]) == [
        t("report.col.pilot_code", "ru"),
        t("report.col.metric_code", "ru"),
        t("report.col.diagnostic", "ru"),
        t("report.col.value", "ru"),
    ]
    record = {(r[0], r[2]): r[3] for r in rows[4:]}
    first, second = all_treated_report.pilots[0].code, all_treated_report.pilots[1].code
    assert record[(first, "method_choice.case")] == "all_treated_staggered"
    assert record[(first, "leave_one_out.reason")] == "no_controls"
    assert record[(second, "placebo_p")] == "0.41"


@pytest.mark.parametrize("lang", LANGS)
def test_a_pilot_without_control_sites_says_so_and_what_it_is_compared_with(
    all_treated_report: YearReport, lang: str
) -> None:
    staggered, own = (replace(p, controls=(), controls_default=True) for p in all_treated_report.pilots[:2])
    report = replace(all_treated_report, pilots=(staggered, own))
    html = build_html(report, lang)
    default = escape(t("report.pilot.controls_default", lang))
    row = re.compile(re.escape(t("report.pilot.controls", lang)) + r"</td><td>([^<]*)</td>")
    shown = [row.search(_pilot_part(html, p.code)).group(1) for p in (staggered, own)]  # type: ignore[union-attr]
    assert shown[0] == escape(t("report.pilot.controls_none_staggered", lang))
    assert shown[1] == escape(t("report.pilot.controls_none_own_history", lang))
    assert default not in shown[0] and default not in shown[1]


def test_older_snapshots_without_the_sentences_still_render(all_treated_report: YearReport) -> None:
    data = json.loads(snapshot_json(all_treated_report))
    for pilot in data["pilots"]:
        for metric in pilot["metrics"]:
            del metric["checks_in_words"]
    old = report_from_snapshot(json.dumps(data))
    assert old.pilots[0].metrics[0].checks_in_words == ()
    html = build_html(old, "kk")
    assert t("report.col.pre_trend_p", "kk") in _pilot_part(html, old.pilots[0].code)
