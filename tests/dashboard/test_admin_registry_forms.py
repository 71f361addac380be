"""The Admin page's registry forms over HTTP (Flask's test client, the real app, the demo warehouse): a site,
a metric or a pilot saved through a form lands in the warehouse like a registry file naming it; an edit
changes the row in place; an invalid form shows the registry validator's own messages (paths such as
`pilots[0].sites[0].go_live`, in the user's language) and changes nothing; other roles get 403."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from dashboard_helpers import ADMIN, ENGINEER, EXECUTIVE, REVIEWER, sign_in
from dashboard_helpers import dash_app as _app
from dashboard_helpers import dependency as _dependency
from dashboard_helpers import post_callback as _call

from pilot_roi.errors import Problem
from pilot_roi.i18n import t
from pilot_roi.registry import load_registry_document, stored_items
from pilot_roi.warehouse import connect

pytestmark = pytest.mark.slow

FIELDS = {
    "site": ("code", "subsidiary", "name_ru", "name_kk", "name_en", "region"),
    "metric": ("code", "name_ru", "name_kk", "name_en", "unit", "frequency", "aggregation", "higher_is_better",
               "value_kzt_per_unit", "min_value", "max_value"),
    "pilot": ("code", "name_ru", "name_kk", "name_en", "subsidiary", "use_case", "sites", "controls", "metrics",
              "capex_kzt", "opex_kzt_per_year"),
}  # fmt: skip
REGISTRY_TABLES = ("sites", "metrics", "pilot_registry", "pilot_treated_sites", "pilot_control_sites", "pilot_metrics")


def _save(client: Any, kind: str, fields: dict[str, Any], lang: str = "en") -> Any:
    """Post the form's Save as the browser does: every field's value, the page language, the registry version."""
    values = {f"admin-form-{kind}-{name}.value": fields.get(name) for name in FIELDS[kind]}
    values |= {f"admin-form-{kind}-save.n_clicks": 1, "admin-lang.data": lang, "admin-registry-version.data": 3}
    dep = _dependency(client, f"admin-form-{kind}-result.children")
    return _call(client, dep, values, f"admin-form-{kind}-save.n_clicks")


def _pick(client: Any, kind: str, code: str) -> dict[str, Any]:
    """The form's values after choosing `code` to edit (the prefill callback's answer)."""
    dep = _dependency(client, f"admin-form-{kind}-code.value")
    response = _call(client, dep, {f"admin-form-{kind}-pick.value": code})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    answer = response.get_json()["response"]
    return {name: answer[f"admin-form-{kind}-{name}"]["value"] for name in FIELDS[kind]}


def _result(response: Any, kind: str) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    return json.dumps(json.loads(text)["response"][f"admin-form-{kind}-result"]["children"], ensure_ascii=False)


def _query(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    con = connect(path)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _registry(path: Path) -> dict[str, list[tuple]]:
    """Every registry table's rows, and the registry audit rows: what "changes nothing" compares."""
    snapshot = {name: _query(path, f"SELECT * FROM {name} ORDER BY ALL") for name in REGISTRY_TABLES}
    snapshot["audit"] = _query(path, "SELECT username, target FROM audit_log WHERE action = 'registry_load'")
    return snapshot


def test_site_form_adds_a_site_then_edits_it_in_place(demo_warehouse: Path) -> None:
    client = sign_in(_app(demo_warehouse).server.test_client(), *ADMIN)
    sites_before = _query(demo_warehouse, "SELECT count(*) FROM sites")[0][0]

    response = _save(client, "site", {"code": "KMG-NEW", "subsidiary": "KMG", "name_ru": "Новый завод",
                                      "name_en": "New plant", "region": "Atyrau"})  # fmt: skip
    shown = _result(response, "site")
    assert t("dash.admin.form.site.saved", "en", code="KMG-NEW") in shown
    answer = response.get_json()["response"]
    assert "KMG-NEW" in json.dumps(answer["admin-tables"], ensure_ascii=False)  # the registry tables redrawn
    assert answer["admin-registry-version"]["data"] == 4  # the forms' code lists refresh after it
    site_row = "SELECT subsidiary_code, name_ru, name_kk, name_en, region FROM sites WHERE code = ?"
    stored = _query(demo_warehouse, site_row, ["KMG-NEW"])
    assert stored == [("KMG", "Новый завод", "Новый завод", "New plant", "Atyrau")]

    fields = _pick(client, "site", "KMG-NEW")
    assert fields == {"code": "KMG-NEW", "subsidiary": "KMG", "name_ru": "Новый завод", "name_kk": "Новый завод",
                      "name_en": "New plant", "region": "Atyrau"}  # fmt: skip
    _result(_save(client, "site", fields | {"region": "Mangystau", "name_kk": "Жаңа зауыт"}), "site")
    assert _query(demo_warehouse, "SELECT name_kk, region FROM sites WHERE code = 'KMG-NEW'") == [
        ("Жаңа зауыт", "Mangystau")
    ]
    assert _query(demo_warehouse, "SELECT count(*) FROM sites")[0][0] == sites_before + 1
    # Audited like the YAML upload: a registry_load row per change, with the admin's name.
    assert _query(demo_warehouse, "SELECT username, target FROM audit_log WHERE action = 'registry_load' "
                  "AND target LIKE 'admin form%' ORDER BY event_id") == [
        (ADMIN[0], "admin form: site KMG-NEW"), (ADMIN[0], "admin form: site KMG-NEW"),
    ]  # fmt: skip
    # Choosing "new" blanks the form again.
    assert _pick(client, "site", "") == dict.fromkeys(FIELDS["site"], "")


def test_metric_form_adds_a_metric_and_edits_its_kzt_value(demo_warehouse: Path) -> None:
    client = sign_in(_app(demo_warehouse).server.test_client(), *ADMIN)
    fields = {"code": "flare_t", "name_ru": "Сжигание на факеле", "name_en": "Flaring", "unit": "t",
              "frequency": "monthly", "aggregation": "sum", "higher_is_better": "false",
              "value_kzt_per_unit": "1 250 000,5", "min_value": "0", "max_value": ""}  # fmt: skip
    assert t("dash.admin.form.metric.saved", "en", code="flare_t") in _result(_save(client, "metric", fields), "metric")
    row = "SELECT unit, frequency, aggregation, higher_is_better, value_kzt_per_unit, min_value, max_value FROM metrics"
    assert _query(demo_warehouse, f"{row} WHERE code = 'flare_t'") == [
        ("t", "monthly", "sum", False, 1_250_000.5, 0.0, None)
    ]
    prefilled = _pick(client, "metric", "flare_t")
    assert prefilled["value_kzt_per_unit"] == "1250000.5" and prefilled["higher_is_better"] == "false"
    _result(_save(client, "metric", prefilled | {"value_kzt_per_unit": "990000"}), "metric")
    assert _query(demo_warehouse, "SELECT value_kzt_per_unit FROM metrics WHERE code = 'flare_t'") == [(990000.0,)]
    assert _query(demo_warehouse, "SELECT count(*) FROM metrics WHERE code = 'flare_t'") == [(1,)]


def test_pilot_form_adds_a_pilot_with_sites_controls_and_metrics(demo_warehouse: Path) -> None:
    client = sign_in(_app(demo_warehouse).server.test_client(), *ADMIN)
    fields = {
        "code": "KMG-NEW-01", "name_ru": "Новый пилот", "name_kk": "Жаңа пилот", "name_en": "New pilot",
        "subsidiary": "KMG", "use_case": "energy_optimization",
        "sites": "KMG-ANPZ, 2025-03-01\n\nKMG-PNHZ; 01.04.2025\n", "controls": ["KMG-PKOP"],
        "metrics": ["refinery_energy_gj"], "capex_kzt": "850 000 000", "opex_kzt_per_year": "120000000",
    }  # fmt: skip
    shown = _result(_save(client, "pilot", fields, lang="kk"), "pilot")
    assert t("dash.admin.form.pilot.saved", "kk", code="KMG-NEW-01") in shown
    assert _query(demo_warehouse, "SELECT name_kk, subsidiary_code, use_case, capex_kzt, opex_kzt_per_year "
                  "FROM pilot_registry WHERE code = 'KMG-NEW-01'") == [
        ("Жаңа пилот", "KMG", "energy_optimization", 850_000_000.0, 120_000_000.0)
    ]  # fmt: skip
    assert _query(demo_warehouse, "SELECT site_code, strftime(go_live, '%Y-%m-%d') FROM pilot_treated_sites "
                  "WHERE pilot_code = 'KMG-NEW-01' ORDER BY 1") == [
        ("KMG-ANPZ", "2025-03-01"), ("KMG-PNHZ", "2025-04-01")
    ]  # fmt: skip
    assert _query(demo_warehouse, "SELECT site_code FROM pilot_control_sites WHERE pilot_code = 'KMG-NEW-01'") == [
        ("KMG-PKOP",)
    ]
    assert _query(demo_warehouse, "SELECT metric_code FROM pilot_metrics WHERE pilot_code = 'KMG-NEW-01'") == [
        ("refinery_energy_gj",)
    ]
    # Edit in place: one treated site fewer, a later go-live; still one pilot of that code.
    prefilled = _pick(client, "pilot", "KMG-NEW-01")
    assert prefilled["sites"] == "KMG-ANPZ, 2025-03-01\nKMG-PNHZ, 2025-04-01"
    _result(_save(client, "pilot", prefilled | {"sites": "KMG-ANPZ, 2025-05-01", "controls": []}), "pilot")
    assert _query(demo_warehouse, "SELECT site_code, strftime(go_live, '%Y-%m-%d') FROM pilot_treated_sites "
                  "WHERE pilot_code = 'KMG-NEW-01'") == [("KMG-ANPZ", "2025-05-01")]  # fmt: skip
    assert _query(demo_warehouse, "SELECT count(*) FROM pilot_control_sites WHERE pilot_code = 'KMG-NEW-01'") == [(0,)]
    assert _query(demo_warehouse, "SELECT count(*) FROM pilot_registry WHERE code = 'KMG-NEW-01'") == [(1,)]


def test_an_existing_pilot_prefilled_and_saved_as_it_is_changes_nothing(demo_warehouse: Path) -> None:
    client = sign_in(_app(demo_warehouse).server.test_client(), *ADMIN)
    before = _registry(demo_warehouse)
    fields = _pick(client, "pilot", "KMG-EN-02")
    assert fields["sites"] == "KMG-PNHZ, 2025-02-03" and fields["controls"] == ["KMG-PKOP"]
    assert t("dash.admin.form.unchanged", "en", code="KMG-EN-02") in _result(_save(client, "pilot", fields), "pilot")
    assert _registry(demo_warehouse) == before


def test_every_stored_item_round_trips_through_its_form_unchanged(demo_warehouse: Path) -> None:
    """The prefill and the builders are exact inverses over the whole demo registry (no silent rewrite)."""
    from dashboards.components.registry_documents import FORMS

    con = connect(demo_warehouse)
    try:
        for form in FORMS.values():
            items = stored_items(con, form.section)
            assert items, form.section
            documents = [form.document(form.prefill(item))[form.section][0] for item in items.values()]
            summary = load_registry_document(con, {form.section: documents}, username="test", source="round trip")
            assert not summary.changed, (form.section, summary.as_dict())
    finally:
        con.close()


def _message(key: str, where: str, lang: str = "en", **params: Any) -> str:
    return Problem(key, where, params).render(lang)


def _site_moved_ru(warehouse: Path) -> str:
    """The refusal of moving the demo's KMG-PNHZ to KAP, with the values and pilots the demo gives it."""
    [(n_values,)] = _query(warehouse, "SELECT count(*) FROM observation_current WHERE site_code = 'KMG-PNHZ'")
    pilots = _query(warehouse, "SELECT DISTINCT pilot_code FROM pilot_sites WHERE site_code = 'KMG-PNHZ' ORDER BY 1")
    assert n_values and pilots
    return _message("registry.site_moved", "sites[0].subsidiary", "ru", value="KMG-PNHZ", existing="KMG", new="KAP",
                    n_values=n_values, pilots=", ".join(p for (p,) in pilots))  # fmt: skip


INVALID = [
    pytest.param("site", {"code": "KMG-X", "subsidiary": "NOPE", "name_en": "X"}, "en",
                 _message("registry.unknown_subsidiary", "sites[0].subsidiary", value="NOPE"), id="unknown-subsidiary"),
    pytest.param("site", {"code": "KMG-PNHZ", "subsidiary": "KAP", "name_en": "X"}, "ru",
                 _site_moved_ru, id="site-moved-ru"),
    pytest.param("metric", {"code": "acid_t", "name_en": "Acid", "unit": "t", "frequency": "daily",
                            "aggregation": "sum", "higher_is_better": "false", "value_kzt_per_unit": "-5"}, "en",
                 _message("registry.negative", "metrics[0].value_kzt_per_unit", value=-5), id="negative-kzt-edit"),
    pytest.param("metric", {"code": "m_new", "name_en": "M", "unit": "t", "frequency": "daily",
                            "aggregation": "sum", "higher_is_better": "true", "value_kzt_per_unit": "10",
                            "min_value": "5", "max_value": "1"}, "kk",
                 _message("registry.bounds_order", "metrics[0].min_value", "kk", min=5.0, max=1.0), id="bounds-kk"),
    pytest.param("pilot", {"code": "KMG-EN-02", "name_en": "X", "subsidiary": "KMG", "use_case": "other",
                           "sites": "KMG-PNHZ, 2022-06-01", "metrics": ["refinery_energy_gj"], "capex_kzt": "1",
                           "opex_kzt_per_year": "1"}, "en",
                 _message("registry.go_live_too_early", "pilots[0].sites[0].go_live", value="2022-06-01",
                          data_start="2023-01-01"), id="go-live-before-data-start"),
    pytest.param("pilot", {"code": "KMG-Z", "name_en": "Z", "subsidiary": "KMG", "use_case": "other",
                           "sites": "KMG-PNHZ, 2025-01-01", "controls": ["KMG-PNHZ"], "metrics": ["nope"],
                           "capex_kzt": "1", "opex_kzt_per_year": "1"}, "en",
                 _message("registry.unknown_metric", "pilots[0].metrics[0]", value="nope"), id="unknown-metric"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "fields", "lang", "message"), INVALID)
def test_an_invalid_form_shows_the_validators_message_and_changes_nothing(
    demo_warehouse: Path, kind: str, fields: dict[str, Any], lang: str, message: str | Callable[[Path], str]
) -> None:
    client = sign_in(_app(demo_warehouse).server.test_client(), *ADMIN)
    before = _registry(demo_warehouse)
    response = _save(client, kind, fields, lang=lang)
    shown = _result(response, kind)
    assert t("dash.admin.form.refused", lang) in shown
    assert (message(demo_warehouse) if callable(message) else message) in shown, shown
    answer = response.get_json()["response"]
    assert set(answer) == {f"admin-form-{kind}-result"}  # tables and code lists left as they were
    assert _registry(demo_warehouse) == before


def test_field_lengths_are_capped_before_validation(demo_warehouse: Path) -> None:
    client = sign_in(_app(demo_warehouse).server.test_client(), *ADMIN)
    _result(_save(client, "site", {"code": "KMG-LONG", "subsidiary": "KMG", "name_en": "n" * 50_000}), "site")
    assert _query(demo_warehouse, "SELECT length(name_en) FROM sites WHERE code = 'KMG-LONG'") == [(200,)]


def test_yaml_upload_still_applies_and_refreshes_the_forms_code_lists(demo_warehouse: Path) -> None:
    client = sign_in(_app(demo_warehouse).server.test_client(), *ADMIN)
    doc = {"sites": [{"code": "KMG-YAML", "subsidiary": "KMG", "name": {"en": "From YAML"}}]}
    contents = "data:application/x-yaml;base64," + base64.b64encode(yaml.safe_dump(doc).encode()).decode()
    dep = _dependency(client, "admin-registry-result.children")
    values = {"admin-registry-upload.contents": contents, "admin-registry-upload.filename": "r.yaml",
              "admin-lang.data": "en", "admin-registry-version.data": 1}  # fmt: skip
    response = _call(client, dep, values)
    assert response.status_code == 200
    assert response.get_json()["response"]["admin-registry-version"]["data"] == 2
    refresh = _call(client, _dependency(client, "admin-form-site-pick.options"), {"admin-registry-version.data": 2,
                                                                                  "admin-lang.data": "en"})  # fmt: skip
    options = refresh.get_json()["response"]["admin-form-site-pick"]["options"]
    assert {"label": "KMG-YAML — From YAML", "value": "KMG-YAML"} in options
    assert options[0] == {"label": t("dash.admin.form.new", "en"), "value": ""}


@pytest.mark.parametrize("who", [EXECUTIVE, REVIEWER, ENGINEER], ids=["executive", "reviewer", "engineer"])
def test_non_admins_posting_the_registry_forms_by_hand_get_403(demo_warehouse: Path, who: tuple[str, str]) -> None:
    client = sign_in(_app(demo_warehouse).server.test_client(), *who)
    before = _registry(demo_warehouse)
    site = {"code": "KMG-EVIL", "subsidiary": "KMG", "name_en": "Evil"}
    assert _save(client, "site", site).status_code == 403
    metric = {"code": "acid_t", "name_en": "Acid", "unit": "t", "frequency": "daily", "aggregation": "sum",
              "higher_is_better": "false", "value_kzt_per_unit": "1"}  # fmt: skip
    assert _save(client, "metric", metric).status_code == 403
    pilot = {"code": "KMG-EN-02", "name_en": "X", "subsidiary": "KMG", "use_case": "other",
             "sites": "KMG-PNHZ, 2025-01-01", "metrics": ["refinery_energy_gj"], "capex_kzt": "0",
             "opex_kzt_per_year": "0"}  # fmt: skip
    assert _save(client, "pilot", pilot).status_code == 403
    for kind, code in (("site", "KMG-PNHZ"), ("metric", "acid_t"), ("pilot", "KMG-EN-02")):
        dep = _dependency(client, f"admin-form-{kind}-code.value")
        assert _call(client, dep, {f"admin-form-{kind}-pick.value": code}).status_code == 403
    refresh = _dependency(client, "admin-form-site-pick.options")
    assert _call(client, refresh, {"admin-registry-version.data": 9, "admin-lang.data": "en"}).status_code == 403
    assert _registry(demo_warehouse) == before
