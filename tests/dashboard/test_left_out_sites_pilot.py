"""Pilots whose listed sites the estimate could not all use, read on the pilot page by every role in every language:
the metric section the browser asks for, over HTTP with Flask's test client, on a real warehouse (registry and
observations loaded through ingestion, estimated by the runner).

- P-LATER: S01 goes live on the first day of data (no estimate can use it), S02 half a year later; no control
  site exists, so the estimate is S02's own forecast (ITS) from S02's go-live.
- P-SILENT: S12 is treated and S15 a listed control, but neither sent a single value; S11 against S13 and S14.
- P-SHORT: S21 goes live four days before the data ends (too few days after go-live for any estimate): the page
  shows the values received instead of a counterfactual.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from dashboard_helpers import RAW_I18N_KEY, figures_in, post_callback, reader_texts, sign_in, triggered_by
from dashboard_helpers import dash_app as _app

from pilot_roi.auth import add_user
from pilot_roi.i18n import t
from pilot_roi.ingest import load_observations
from pilot_roi.registry import load_registry_file
from pilot_roi.runner import RunOptions, run_portfolio
from pilot_roi.warehouse import connect, migrate

pytestmark = pytest.mark.slow

GO_LIVE = {
    "S01": date(2024, 1, 1),
    "S02": date(2024, 7, 1),
    "S11": date(2024, 7, 1),
    "S12": date(2024, 7, 1),
    "S21": date(2024, 12, 28),
}
SILENT = ("S12", "S15")
SITES = {"LTR": ["S01", "S02"], "SIL": ["S11", "S12", "S13", "S14", "S15"], "SHT": ["S21", "S22", "S23"]}
ACCOUNTS = {
    "executive": ("qa.executive", "a-long-password-1", None),
    "engineer": ("qa.engineer", "a-long-password-2", "SIL"),
    "reviewer": ("qa.reviewer", "a-long-password-3", None),
}


def _names(text: str) -> str:
    return f'{{ru: "{text} ру", kk: "{text} қз", en: "{text}"}}'


REGISTRY = "\n".join(
    [
        "data_start: 2023-01-01",
        "subsidiaries:",
        *(f"  - {{code: {s}, name: {_names('Sub ' + s)}, sector: energy}}" for s in SITES),
        "sites:",
        *(f"  - {{code: {c}, subsidiary: {s}, name: {_names('Site ' + c)}}}" for s, cs in SITES.items() for c in cs),
        "metrics:",
        f"  - {{code: energy_gj, name: {_names('Energy')}, unit: GJ, frequency: daily, aggregation: sum,"
        " higher_is_better: false, value_kzt_per_unit: 4200, min_value: 0}",
        "pilots:",
        "  - {code: P-LATER, name: " + _names("Later") + ", subsidiary: LTR, use_case: process_optimization,",
        "     sites: [{site: S01, go_live: 2024-01-01}, {site: S02, go_live: 2024-07-01}], metrics: [energy_gj],",
        "     capex_kzt: 50000000, opex_kzt_per_year: 5000000}",
        "  - {code: P-SILENT, name: " + _names("Silent") + ", subsidiary: SIL, use_case: process_optimization,",
        "     sites: [{site: S11, go_live: 2024-07-01}, {site: S12, go_live: 2024-07-01}],",
        "     controls: [S13, S14, S15], metrics: [energy_gj], capex_kzt: 50000000, opex_kzt_per_year: 5000000}",
        "  - {code: P-SHORT, name: " + _names("Short") + ", subsidiary: SHT, use_case: process_optimization,",
        "     sites: [{site: S21, go_live: 2024-12-28}], controls: [S22, S23], metrics: [energy_gj],",
        "     capex_kzt: 50000000, opex_kzt_per_year: 5000000}",
        "",
    ]
)


def _observations() -> pl.DataFrame:
    rng = np.random.default_rng(3)
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(366)]
    frames = []
    for site in [c for cs in SITES.values() for c in cs if c not in SILENT]:
        effect = np.array([-40.0 if site in GO_LIVE and d >= GO_LIVE[site] else 0.0 for d in days])
        value = 1000.0 + rng.normal(0, 10.0, len(days)) + effect
        frames.append(pl.DataFrame({"site_code": site, "metric_code": "energy_gj", "period": days, "value": value}))
    return pl.concat(frames).with_columns(pl.col("value").round(1))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two pilots loaded through ingestion, estimated by the runner, with one account per role."""
    folder = tmp_path_factory.mktemp("left-out")
    path = folder / "wh.duckdb"
    con = connect(path, create=True)
    try:
        migrate(con)
        (folder / "registry.yaml").write_text(REGISTRY, encoding="utf-8")
        load_registry_file(con, folder / "registry.yaml")
        report = load_observations(con, _observations(), file_name="sites.parquet", uploaded_by="test")
        assert report.status == "loaded", report.errors[:3]
        run_portfolio(con, RunOptions(discount_rate=0.085, horizon_years=3))  # not the defaults: the page says so
        for username, password, subsidiary in ACCOUNTS.values():
            role = username.split(".")[1]
            add_user(con, username, password, role, subsidiary, language="en")
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def sections(warehouse: Path) -> dict[tuple[str, str, str], Any]:
    """The metric section of each pilot for each role and language, as the browser receives it."""
    app = _app(warehouse)
    shown = {}
    for role, (username, password, _) in ACCOUNTS.items():
        client = sign_in(app.server.test_client(), username, password)
        section = triggered_by(client, "pilot-metric.value")
        for pilot in ("P-LATER", "P-SILENT", "P-SHORT"):
            for lang in ("ru", "kk", "en"):
                values = {"pilot-metric.value": "energy_gj", "pilot-code.data": pilot, "pilot-lang.data": lang}
                response = post_callback(client, section, values)
                assert response.status_code == 200, (role, pilot, lang)
                shown[(role, pilot, lang)] = response.get_json()["response"]["pilot-section"]["children"]
    return shown


@pytest.mark.parametrize("role", list(ACCOUNTS))
@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_a_forecast_from_a_later_go_live_says_so_and_marks_that_go_live(
    sections: dict[tuple[str, str, str], Any], role: str, lang: str
) -> None:
    section = sections[(role, "P-LATER", lang)]
    texts = [s for s in reader_texts(section) if s.strip()]
    assert "Traceback" not in "\n".join(texts) and not RAW_I18N_KEY.search("\n".join(texts))
    assert t("dash.diag.left_out_treated", lang, sites="S01") in texts
    # ITS: the counterfactual is S02's own forecast, not "from the control sites" (there are none)
    assert t("dash.pilot.counterfactual_help_its", lang) in texts
    assert t("dash.pilot.counterfactual_help", lang) not in texts
    # the dotted go-live line stands where the estimate's post-period starts (S02), not at S01's first day of data
    counterfactual = next(figures_in(section))
    assert len(counterfactual["data"]) == 4
    assert [shape["x0"] for shape in counterfactual["layout"]["shapes"]] == ["2024-07-01"]


@pytest.mark.parametrize("role", list(ACCOUNTS))
@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_listed_sites_that_never_reported_are_named(
    sections: dict[tuple[str, str, str], Any], role: str, lang: str
) -> None:
    texts = [s for s in reader_texts(sections[(role, "P-SILENT", lang)]) if s.strip()]
    assert t("dash.diag.design", lang, method="§", treated=1, controls=2, pre=182, post=184).split("§")[1] in "".join(
        texts
    )
    assert t("dash.diag.left_out_treated", lang, sites="S12") in texts
    assert t("dash.diag.left_out_controls", lang, sites="S15") in texts
    assert t("dash.pilot.counterfactual_help", lang) in texts
    # the NPV card names the horizon the run used (3 years here), not the default 5
    assert t("dash.pilot.npv", lang, years=3) in texts and t("dash.pilot.npv", lang, years=5) not in texts


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_design_card_does_not_promise_default_controls_that_do_not_exist(warehouse: Path, lang: str) -> None:
    # P-LATER lists no controls and its subsidiary has no other site: the card used to say "by default: the
    # subsidiary's never-treated sites"; P-SILENT lists its controls by name. The page as the browser gets it.
    username, password, _ = ACCOUNTS["executive"]
    client = sign_in(_app(warehouse).server.test_client(), username, password)
    route = triggered_by(client, "_pages_location.pathname")
    cards = {}
    for code in ("P-LATER", "P-SILENT"):
        values = {"_pages_location.pathname": f"/pilots/{code}", "_pages_location.search": "",
                  "shell-lang-store.data": lang}  # fmt: skip
        response = post_callback(client, route, values)
        assert response.status_code == 200, code
        outputs = response.get_json()["response"]  # {component id: {property: value}}
        cards[code] = [s for out in outputs.values() for s in reader_texts(list(out.values())) if s.strip()]
    assert t("dash.pilot.no_controls_found", lang) in cards["P-LATER"]
    assert t("dash.pilot.default_controls", lang) not in cards["P-LATER"]
    assert t("dash.pilot.no_controls_found", lang) not in cards["P-SILENT"]


@pytest.mark.parametrize("role", list(ACCOUNTS))
@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_without_an_estimate_the_chart_shows_the_values_received(
    sections: dict[tuple[str, str, str], Any], role: str, lang: str
) -> None:
    section = sections[(role, "P-SHORT", lang)]
    texts = [s for s in reader_texts(section) if s.strip()]
    assert "Traceback" not in "\n".join(texts) and not RAW_I18N_KEY.search("\n".join(texts))
    assert t("dash.pilot.observed", lang) in texts and t("dash.pilot.observed_help", lang) in texts
    assert t("dash.pilot.counterfactual", lang) not in texts
    chart = next(figures_in(section))
    names = [trace["name"] for trace in chart["data"]]
    assert names == [t("dash.cf.treated_mean", lang), t("dash.cf.controls_mean", lang)]
    # the lines are the uploaded values: S21's own, and the mean of S22 and S23, day by day
    frame = _observations()
    by_day = (
        frame.filter(pl.col("site_code").is_in(["S21", "S22", "S23"]))
        .pivot(on="site_code", index="period", values="value")
        .sort("period")
    )
    treated, controls = chart["data"]
    assert treated["x"] == [d.isoformat() for d in by_day["period"].to_list()]
    assert np.allclose(treated["y"], by_day["S21"].to_numpy(), rtol=0, atol=1e-9)
    assert np.allclose(controls["y"], ((by_day["S22"] + by_day["S23"]) / 2).to_numpy(), rtol=0, atol=1e-9)
    assert [shape["x0"] for shape in chart["layout"]["shapes"]] == ["2024-12-28"]
