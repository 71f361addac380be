"""The pilot page writes the metric's unit in the reader's language (chart axes, the robustness table, the
diagnostics), over HTTP with Flask's test client on the real demo warehouse and its finished run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import EXECUTIVE, post_callback, reader_texts, sign_in, triggered_by
from dashboard_helpers import dash_app as _app

from pilot_roi.i18n import t

pytestmark = pytest.mark.slow

# demo metrics with their registry unit and how each language writes it
CASES = {
    ("KEGOC-PM-02", "outage_min"): ("min", {"ru": "мин", "kk": "мин", "en": "min"}),
    ("KMG-APC-01", "crude_processed_t"): ("t", {"ru": "т", "kk": "т", "en": "t"}),
}


def _axis_titles(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _axis_titles(item)
    elif isinstance(node, dict) and "props" in node:
        figure = node["props"].get("figure")
        if figure:
            yield figure["layout"]["yaxis"]["title"]["text"]
        yield from _axis_titles(node["props"].get("children"))


@pytest.fixture(scope="module")
def client(demo_warehouse_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An executive signed in to the real app on a copy of the demo warehouse (signing in writes)."""
    warehouse = tmp_path_factory.mktemp("pilot-units") / "demo.duckdb"
    shutil.copyfile(demo_warehouse_master, warehouse)
    return sign_in(_app(warehouse).server.test_client(), *EXECUTIVE)


@pytest.mark.parametrize(("pilot", "metric"), list(CASES))
@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_metric_unit_reads_in_the_readers_language(client: Any, pilot: str, metric: str, lang: str) -> None:
    raw, shown = CASES[(pilot, metric)][0], CASES[(pilot, metric)][1][lang]
    values = {"pilot-metric.value": metric, "pilot-code.data": pilot, "pilot-lang.data": lang}
    response = post_callback(client, triggered_by(client, "pilot-metric.value"), values)
    assert response.status_code == 200
    section = response.get_json()["response"]["pilot-section"]["children"]
    assert list(_axis_titles(section)) == [shown, shown]  # counterfactual and event-study charts
    texts = [s for s in reader_texts(section) if s.strip()]
    effects = [s for s in texts if s.endswith(f" {shown}") and (s[0].isdigit() or s[0] == "-")]
    assert effects, texts  # the robustness table's effect cells: "12,34 мин"
    mde = t("dash.diag.mde", lang, mde="¤", unit="¤").split("¤")[0]
    assert any(s.startswith(mde) and s.endswith(f" {shown}.") for s in texts), texts  # the diagnostics
    if lang != "en":
        assert not [s for s in texts if s.endswith(f" {raw}") or f" {raw}." in s or f" {raw}," in s], texts


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_a_payback_that_never_comes_says_so_on_the_pilot_page(client: Any, lang: str) -> None:
    # AIRA-PM-01's net annual flow on aircraft-on-ground hours is not positive (payback +inf in the run): the card
    # used to show "—", as for a pilot-metric with no estimate at all
    values = {"pilot-metric.value": "aog_hours", "pilot-code.data": "AIRA-PM-01", "pilot-lang.data": lang}
    response = post_callback(client, triggered_by(client, "pilot-metric.value"), values)
    assert response.status_code == 200
    texts = [s for s in reader_texts(response.get_json()["response"]["pilot-section"]["children"]) if s.strip()]
    payback = texts.index(t("dash.pilot.payback", lang))
    assert texts[payback + 1] == t("estimate.payback_never", lang), texts[payback : payback + 3]
