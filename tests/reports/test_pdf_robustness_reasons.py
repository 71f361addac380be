"""The PDF's robustness table says why a method has no estimate in the reader's language, never its code."""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape

import pytest

from pilot_roi.i18n import t
from pilot_roi.reports import YearReport
from pilot_roi.reports.model import MethodRow
from pilot_roi.reports.tables import all_tables
from pilot_roi.reports.to_pdf import build_html

CODES = ("no_controls", "method_failed", "too_few_assignments", "too_few_controls")


def _method(method: str, status: str, reason: str | None) -> MethodRow:
    ok = status == "ok"
    value = 1.5 if ok else None
    return MethodRow(method, ok, status, reason, value, value, value, value, 0.01 if ok else None, value)


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_robustness_reasons_are_words_in_the_readers_language(report: YearReport, lang: str) -> None:
    pilot = report.pilots[0]
    rows = (_method("did", "ok", None), *(_method("its", "insufficient_data", code) for code in CODES))
    rows += (_method("synthetic_control", "insufficient_data", None),)
    metric = replace(pilot.metrics[0], robustness=rows)
    changed = replace(report, pilots=(replace(pilot, metrics=(metric, *pilot.metrics[1:])), *report.pilots[1:]))
    html = build_html(changed, lang)
    start = html.index(f'id="pilot-{pilot.code}"')
    part = html[start : html.find('<h2 class="pilot"', start + 1)]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", part)
    for code in CODES:
        assert escape(t(f"estimation.reason.{code}", lang)) in cells, code
        assert code not in part, code
    assert escape(t("dash.reason.insufficient_data", lang)) in cells  # no reason stored: the status in words
    assert "insufficient_data" not in part and ">ok<" not in part


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_xlsx_and_csv_tables_carry_reasons_in_words_beside_their_codes(report: YearReport, lang: str) -> None:
    # The codes stay (machines, checking against the warehouse); a reviewer reads the column beside them.
    pilot = report.pilots[0]
    rows = (_method("did", "ok", None), *(_method("its", "insufficient_data", code) for code in CODES))
    no_number = replace(pilot.metrics[0], status="insufficient_data", reason="degenerate_fit", robustness=rows)
    changed = replace(report, pilots=(replace(pilot, metrics=(no_number, *pilot.metrics[1:])), *report.pilots[1:]))
    tables = {table.key: table for table in all_tables(changed, lang)}
    for key in ("estimates", "robustness"):
        table = tables[key]
        ids = [c.id for c in table.columns]
        code_at, words_at = ids.index("reason"), ids.index("reason_text")
        pairs = {(row[code_at], row[words_at]) for row in table.rows}
        expected = {"degenerate_fit"} if key == "estimates" else set(CODES)
        for code in expected:
            assert (code, t(f"estimation.reason.{code}", lang)) in pairs, (key, code)
        assert all(bool(code) == bool(words) for code, words in pairs)  # no words without a code, and back
    grades = tables["estimates"]
    ids = [c.id for c in grades.columns]
    for row in grades.rows:
        code, words = row[ids.index("grade_reason")], row[ids.index("grade_reason_text")]
        assert (words == "") == (not code)
        if code and code.replace("_", "").replace(",", "").isalnum():  # a code (the fixture's free text stays)
            assert words != code
