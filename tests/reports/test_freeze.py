"""Freezing: a frozen year's report never moves after new data, restatements or re-estimates."""

from __future__ import annotations

from datetime import datetime

import pytest
from report_fixtures import Built, restate, write_run

from pilot_roi.errors import InvalidInput
from pilot_roi.i18n import t
from pilot_roi.reports import assemble_report, freeze_report, get_freeze, load_report, snapshot_json
from pilot_roi.reports.to_pdf import build_html
from pilot_roi.warehouse import connect


def test_frozen_report_is_unchanged_after_new_data_and_re_estimation(fresh: Built):
    con = connect(fresh.path)
    try:
        frozen = freeze_report(con, 2025, username="reviewer.aigerim", now=datetime(2026, 1, 31, 12, 0))
        assert frozen.reproducibility.frozen and frozen.reproducibility.frozen_by == "reviewer.aigerim"
        assert frozen.reproducibility.run_id == fresh.run_id
        before = snapshot_json(load_report(con, 2025))
        assert before == snapshot_json(frozen)
        row = get_freeze(con, 2025)
        assert row is not None and row["run_id"] == fresh.run_id
    finally:
        con.close()

    restate(fresh.path, "P000-S0", "energy_gj", 1.2)  # later data: a restatement through ingestion
    con = connect(fresh.path)
    try:
        new_run = write_run(con, seed=8, scale=2.0)  # and a re-estimate with other numbers
        con.execute("UPDATE pilot_registry SET capex_kzt = capex_kzt * 3")  # and a registry edit
        assert new_run > fresh.run_id
        after = load_report(con, 2025)
        assert snapshot_json(after) == before  # byte-identical numbers and texts
        # frozen at 12:00 UTC: 17:00 on Kazakhstan's clock, which the report says it uses
        frozen_text = "Official result: frozen by reviewer.aigerim on 2026-01-31 17:00 (UTC+5)"
        assert frozen_text in build_html(after, "en")
        assert t("report.status_draft", "en") in build_html(assemble_report(con, 2025), "en")
        live = assemble_report(con, 2025)
        assert live.reproducibility.run_id == new_run and not live.reproducibility.frozen
        assert live.summary.demonstrated_annual_gain.value != pytest.approx(
            after.summary.demonstrated_annual_gain.value
        )
        # asking for the frozen run explicitly gives the frozen snapshot; another run gives a draft
        assert snapshot_json(load_report(con, 2025, fresh.run_id)) == before
        draft = load_report(con, 2025, new_run)
        assert not draft.reproducibility.frozen and draft.reproducibility.run_id == new_run
        # lineage of the new run names the restating upload
        assert any(u.file_name == "restated.csv" for u in draft.lineage.uploads)
        assert any(r.superseded_by_file == "restated.csv" for r in draft.lineage.restatements)
        assert not any(u.file_name == "restated.csv" for u in after.lineage.uploads)
    finally:
        con.close()


def test_a_freeze_is_never_replaced_and_is_audited(fresh: Built):
    con = connect(fresh.path)
    try:
        freeze_report(con, 2025, username="reviewer.a")
        with pytest.raises(InvalidInput, match="already frozen"):
            freeze_report(con, 2025, username="reviewer.b")
        events = con.execute("SELECT username, action, target FROM audit_log WHERE action = 'report_freeze'").fetchall()
        assert events == [("reviewer.a", "report_freeze", "report:2025")]
    finally:
        con.close()


def test_freezing_an_unknown_run_changes_nothing(fresh: Built):
    con = connect(fresh.path)
    try:
        with pytest.raises(InvalidInput):
            freeze_report(con, 2025, 12345, username="reviewer.a")
        assert get_freeze(con, 2025) is None
    finally:
        con.close()
