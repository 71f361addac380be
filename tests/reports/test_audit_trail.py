"""The year-end report carries the audit log: every event of the year up to the run's start (sign-ins, user
changes, uploads, registry loads, exports, estimate runs, ...), as an XLSX sheet and a PDF appendix."""

from __future__ import annotations

import time
from pathlib import Path

import openpyxl
from report_fixtures import Built, write_run

from pilot_roi import audit, auth
from pilot_roi.i18n import t
from pilot_roi.reports import RENDERERS, assemble_report
from pilot_roi.reports.to_pdf import build_html
from pilot_roi.warehouse import connect, transaction


def test_xlsx_sheet_and_pdf_appendix_list_the_years_audit_events(fresh: Built, tmp_path: Path):
    con = connect(fresh.path)
    try:
        auth.add_user(con, "reviewer.aigerim", "Correct-Horse-42", "reviewer", language="kk", actor="admin.serik")
        auth.authenticate(con, "reviewer.aigerim", "Correct-Horse-42", "10.0.0.7")  # a real sign_in event
        with transaction(con):
            audit.record(con, "reviewer.aigerim", "export", "report:2024", {"format": "pdf"}, "10.0.0.7")
        time.sleep(0.01)  # the run starts strictly after these events
        run_id = write_run(con, 8, started_by="analyst.run")
        time.sleep(0.01)
        with transaction(con):  # after the run started: not in this run's report
            audit.record(con, "reviewer.aigerim", "export", "after-the-run", {}, "10.0.0.7")
        report = assemble_report(con, 2025)
    finally:
        con.close()
    assert report.reproducibility.run_id == run_id

    out = tmp_path / "report.xlsx"
    RENDERERS["xlsx"](report, "en", out)
    ws = openpyxl.load_workbook(out)[t("report.section.audit", "en")[:31]]
    rows = list(ws.iter_rows(values_only=True))
    header_at = next(i for i, row in enumerate(rows) if row and row[0] == "#")
    header = list(rows[header_at])
    col = {name: header.index(t(key, "en")) for name, key in
           (("user", "report.col.user"), ("event", "report.col.event"), ("target", "report.col.target"))}  # fmt: skip
    events = {(r[col["user"]], r[col["event"]], r[col["target"]]) for r in rows[header_at + 1 :] if r[0] is not None}
    assert ("analyst", "registry_load") in {(u, a) for u, a, _t in events}
    assert {a for _u, a, _t in events} >= {"registry_load", "upload", "user_added", "sign_in", "export"}
    assert ("admin.serik", "user_added", "reviewer.aigerim") in events
    assert ("reviewer.aigerim", "sign_in", "reviewer.aigerim") in events
    assert ("reviewer.aigerim", "export", "report:2024") in events
    assert not [e for e in events if e[2] == "after-the-run"]
    uploads = [e for e in events if e[1] == "upload"]
    assert {u for u, _a, _t in uploads} == {"engineer.kmg", "engineer.ktz"}

    html = build_html(report, "en")
    appendix = html[html.index('id="audit"') :]
    # actions in the reader's words (the XLSX keeps the codes)
    signed_in = t("dash.audit.action.sign_in", "en")
    assert "reviewer.aigerim" in appendix and f"<td>{signed_in}</td>" in appendix and "report:2024" in appendix
    assert "format: pdf" in appendix  # details read as key: value, not as the stored JSON
    assert "{&quot;format&quot;" not in appendix
    assert "after-the-run" not in html
