"""Why a robustness method has no estimate, in the reader's language: the pilot page's robustness table says the
estimator's reason in words (never its code), on a real frame and on the demo warehouse over HTTP."""

from __future__ import annotations

import importlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import plotly.utils
import polars as pl
import pytest
from dashboard_helpers import EXECUTIVE, RAW_I18N_KEY, post_callback, reader_texts, sign_in, triggered_by
from dashboard_helpers import dash_app as _app

from pilot_roi.i18n import t

pytestmark = pytest.mark.slow

LANGS = ("ru", "kk", "en")
CODES = ("no_controls", "method_failed", "too_few_assignments", "too_few_controls")
RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # a snake_case code or an i18n key's tail


def _rendered(component: Any) -> list[str]:
    return [s for s in reader_texts(json.loads(json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder))) if s.strip()]


def _row(method: str, status: str, reason: str | None) -> dict[str, Any]:
    ok = status == "ok"
    return {
        "method": method,
        "is_primary": ok,
        "status": status,
        "reason": reason,
        "effect": 1.5 if ok else None,
        "se": 0.5 if ok else None,
        "ci_low": 0.5 if ok else None,
        "ci_high": 2.5 if ok else None,
        "p_value": 0.01 if ok else None,
        "effect_pct": 0.05 if ok else None,
    }


@pytest.fixture(scope="module")
def client(demo_warehouse_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An executive signed in to the real app on a copy of the demo warehouse (signing in writes)."""
    warehouse = tmp_path_factory.mktemp("robustness-reasons") / "demo.duckdb"
    shutil.copyfile(demo_warehouse_master, warehouse)
    return sign_in(_app(warehouse).server.test_client(), *EXECUTIVE)


@pytest.mark.parametrize("lang", LANGS)
def test_each_reason_code_is_said_in_the_readers_language(client: Any, lang: str) -> None:
    # The page module as Dash loaded it (`pages.pilot`): importing it as `dashboards.pages.pilot` would register
    # its path a second time, and every later request in this process would fail on the duplicate.
    robustness_table = importlib.import_module("pages.pilot").robustness_table

    rows = [_row("did", "ok", None)]
    rows += [_row("its", "insufficient_data" if code != "method_failed" else "failed", code) for code in CODES]
    rows += [_row("synthetic_control", "insufficient_data", None), _row("its", "failed", "brand_new_code")]
    texts = _rendered(robustness_table(pl.DataFrame(rows), "MWh", lang))
    cells = set(texts)
    for code in CODES:
        assert t(f"estimation.reason.{code}", lang) in cells, code
    assert t("dash.reason.insufficient_data", lang) in cells  # no reason stored: the status in words
    assert "brand new code" in cells  # an unknown code stays readable, never hidden or raw
    joined = "\n".join(texts)
    assert not RAW_CODE.search(joined) and not RAW_I18N_KEY.search(joined), joined


def test_the_demo_pilot_without_controls_says_so_in_every_language(client: Any) -> None:
    """KMG-APC-01's staggered DiD has no control sites: the table says that in words, over HTTP."""
    section = triggered_by(client, "pilot-metric.value")
    for lang in LANGS:
        values = {"pilot-metric.value": "crude_processed_t", "pilot-code.data": "KMG-APC-01", "pilot-lang.data": lang}
        response = post_callback(client, section, values)
        assert response.status_code == 200, lang
        texts = [s for s in reader_texts(response.get_json()["response"]["pilot-section"]["children"]) if s.strip()]
        assert t("estimation.reason.no_controls", lang) in texts, lang
        assert "no_controls" not in "\n".join(texts) and not RAW_I18N_KEY.search("\n".join(texts)), lang


@pytest.mark.parametrize("lang", LANGS)
def test_a_pilot_metric_without_an_estimate_shows_dashes_and_says_why_there_is_no_interval(
    client: Any, lang: str
) -> None:
    """Insufficient data: no "— GJ" under a method with no effect, no "95% CI — – —" under a card; the card says
    there is no interval because there is no estimate."""
    pilot = importlib.import_module("pages.pilot")
    rows = [_row("did", "insufficient_data", "insufficient_post_periods"), _row("its", "ok", None)]
    cells = _rendered(pilot.robustness_table(pl.DataFrame(rows), "ГДж", lang))
    assert "— ГДж" not in cells and "—" in cells
    assert f"{'1,50' if lang != 'en' else '1.50'} ГДж" in cells  # a number keeps its unit
    row = {"status": "insufficient_data", "reason": "insufficient_post_periods", "grade": "insufficient_data"}
    cards = _rendered(pilot.money_cards(row, lang, pilot.q.NpvTerms(horizon_years=5, discount_rate=0.15)))
    assert cards.count(t("dash.no_interval", lang)) == 3, cards  # annual gain, NPV, ROI
    assert not [c for c in cards if "— – —" in c], cards
