"""The PDF's robustness table says why a method has no estimate in the reader's language, never its code."""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape

import pytest

from pilot_roi.i18n import t
from pilot_roi.reports import YearReport
from pilot_roi.reports.model import MethodRow
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
