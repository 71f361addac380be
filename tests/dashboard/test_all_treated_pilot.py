"""The demo's all-treated staggered pilot (KEGOC-PM-02: every site goes live, at three dates, no control sites) as
an executive and a reviewer read it, in every language: the metric section the browser asks for, over HTTP with
Flask's test client on the real demo warehouse and its finished run."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import (
    EXECUTIVE,
    RAW_I18N_KEY,
    REVIEWER,
    figures_in,
    post_callback,
    reader_texts,
    sign_in,
    triggered_by,
)
from dashboard_helpers import dash_app as _app

from pilot_roi.i18n import t

pytestmark = pytest.mark.slow

PILOT, METRIC = "KEGOC-PM-02", "outage_min"
ENGLISH = re.compile(r"\b(the|and|sites?|control|controls|go-live|interval|randomization|placebo)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def sections(demo_warehouse_master: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    """The KEGOC metric section for each role and language, as the browser receives it (signing in writes: a copy)."""
    warehouse = tmp_path_factory.mktemp("all-treated") / "demo.duckdb"
    shutil.copyfile(demo_warehouse_master, warehouse)
    app = _app(warehouse)
    shown = {}
    for role, account in (("executive", EXECUTIVE), ("reviewer", REVIEWER)):
        client = sign_in(app.server.test_client(), *account)
        section = triggered_by(client, "pilot-metric.value")
        for lang in ("ru", "kk", "en"):
            values = {"pilot-metric.value": METRIC, "pilot-code.data": PILOT, "pilot-lang.data": lang}
            response = post_callback(client, section, values)
            assert response.status_code == 200, (role, lang)
            shown[(role, lang)] = response.get_json()["response"]["pilot-section"]["children"]
    return shown


@pytest.mark.parametrize("role", ["executive", "reviewer"])
@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_all_treated_pilot_reads_right_in_every_language(
    sections: dict[tuple[str, str], Any], role: str, lang: str
) -> None:
    section = sections[(role, lang)]
    texts = [s for s in reader_texts(section) if s.strip()]
    joined = "\n".join(texts)
    assert "Traceback" not in joined and not RAW_I18N_KEY.search(joined), joined
    assert not re.search(r"\b(nan|none|inf)\b", joined, re.IGNORECASE), joined
    if lang != "en":
        english = [s for s in texts if ENGLISH.search(s)]
        assert english == [], english
    # no control sites: the design line says so instead of counting the not-yet-live comparison sites as controls
    design = t("dash.diag.design_all_treated", lang, method="§", treated=6, controls=0, pre=13, post=13)
    assert design.split("§")[1] in joined
    assert t("dash.diag.design", lang, method="§", treated=6, controls=4, pre=13, post=13).split("§")[1] not in joined
    # the counterfactual comes from the estimated effect, not from control sites
    assert t("dash.pilot.counterfactual_help_all_treated", lang) in texts
    assert t("dash.pilot.counterfactual_help", lang) not in texts
    # placebo in time (fake go-live inside the pre-period) and the leave-one-out check that has no controls
    assert any("2023-05-01" in s and t("dash.diag.placebo_in_time", lang).split("(")[0] in s for s in texts)
    assert t("dash.diag.loo_no_controls", lang) in texts
    assert t("dash.diag.excluded_sites", lang, value="0") in texts  # a count, not "0.000"
    assert t("dash.diag.pretrend_ok_not_yet", lang, p="0" + ("," if lang != "en" else ".") + "20") in texts
    # the method's reason comes from its facts in the reader's language, randomization inference included
    assert t("method_choice.inference.randomization", lang, n_assignments=90) in joined
    # the charts' dates are ISO numbers, not Plotly's English month names
    counterfactual = next(figures_in(section))  # the first chart of the section
    assert {s["value"] for s in counterfactual["layout"]["xaxis"]["tickformatstops"]} == {"%Y-%m", "%Y-%m-%d"}
    assert len(counterfactual["data"]) == 4  # band edges, counterfactual, observed
