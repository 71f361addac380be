"""Pages opened before any estimate exists fill themselves in when the first run finishes: the portfolio's and a
pilot's empty states are polled, and once the estimate runner has finished a run the fill-in callbacks put the
real content in place (over HTTP with Flask's test client, the real app, the demo warehouse without its run)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import EXECUTIVE, sign_in, triggered_by
from dashboard_helpers import dash_app as _app
from dashboard_helpers import dependency as _dependency
from dashboard_helpers import post_callback as _call
from dashboards.context import EXTENSION

from pilot_roi.i18n import t
from pilot_roi.runner import RunOptions, run_portfolio

pytestmark = pytest.mark.slow

PILOT = "KMG-EN-02"


def _components(node: Any) -> Iterator[dict[str, Any]]:
    """Every component in a rendered layout (JSON), depth first."""
    if isinstance(node, dict):
        if "type" in node and "props" in node:
            yield node
            yield from _components(node["props"].get("children"))
        else:
            for value in node.values():
                yield from _components(value)
    elif isinstance(node, list):
        for item in node:
            yield from _components(item)


def _ids(node: Any) -> set[str]:
    return {str(c["props"]["id"]) for c in _components(node) if "id" in c["props"]}


def _store(node: Any, component_id: str) -> Any:
    return next(c["props"].get("data") for c in _components(node) if c["props"].get("id") == component_id)


def _open(client: Any, path: str) -> Any:
    route = triggered_by(client, "_pages_location.pathname")
    response = _call(
        client, route, {"_pages_location.pathname": path, "_pages_location.search": "", "shell-lang-store.data": "en"}
    )
    assert response.status_code == 200, path
    return response.get_json()["response"]


def _poll(client: Any, prefix: str, known: str) -> Any:
    dep = triggered_by(client, f"{prefix}-results-poll.n_intervals")
    return _call(
        client,
        dep,
        {f"{prefix}-results-poll.n_intervals": 1, f"{prefix}-results-version.data": known, f"{prefix}-lang.data": "en"},
    )


def _nothing(response: Any) -> bool:
    return response.status_code == 204 or (response.status_code == 200 and response.get_json()["response"] == {})


def test_empty_portfolio_and_pilot_fill_in_when_the_first_run_finishes(no_run_warehouse: Path) -> None:
    app = _app(no_run_warehouse)
    client = sign_in(app.server.test_client(), *EXECUTIVE)

    portfolio = _open(client, "/")
    assert t("dash.empty.no_run", "en") in json.dumps(portfolio)
    assert {"portfolio-results-poll", "portfolio-results-version", "portfolio-empty"} <= _ids(portfolio)
    assert "portfolio-forest" not in _ids(portfolio)
    version = _store(portfolio, "portfolio-results-version")
    pilot = _open(client, f"/pilots/{PILOT}")
    assert {"pilot-results-poll", "pilot-results-version", "pilot-empty"} <= _ids(pilot)
    assert "pilot-metric" not in _ids(pilot)
    assert _store(pilot, "pilot-results-version") == version

    fill_portfolio = _dependency(client, "portfolio-empty.children")
    fill_pilot = _dependency(client, "pilot-empty.children")

    def fill(dep: dict[str, Any], known: str, code: str = PILOT) -> Any:
        values = {
            "portfolio-results-version.data": known,
            "portfolio-lang.data": "en",
            "pilot-results-version.data": known,
            "pilot-code.data": code,
            "pilot-lang.data": "en",
        }
        return _call(client, dep, values)

    # nothing finished yet: the polls and the fill-ins change nothing
    assert _nothing(_poll(client, "portfolio", version)) and _nothing(_poll(client, "pilot", version))
    assert _nothing(fill(fill_portfolio, version)) and _nothing(fill(fill_pilot, version))

    with app.server.extensions[EXTENSION].cursor() as cur:  # the app holds the file: the runner writes through it
        run_portfolio(cur, RunOptions(workers=1, started_by="test"))

    polled = _poll(client, "portfolio", version)
    assert polled.status_code == 200
    new_version = polled.get_json()["response"]["portfolio-results-version"]["data"]
    assert new_version != version
    assert "Estimates updated: run" in json.dumps(polled.get_json())
    assert _poll(client, "pilot", version).get_json()["response"]["pilot-results-version"]["data"] == new_version

    filled = fill(fill_portfolio, new_version)
    assert filled.status_code == 200
    content = filled.get_json()["response"]["portfolio-empty"]["children"]
    assert {"portfolio-filter-subsidiary", "portfolio-cards", "portfolio-forest", "portfolio-table"} <= _ids(content)
    cards = triggered_by(client, "portfolio-filter-subsidiary.value")  # what the browser runs for the new parts
    shown = _call(client, cards, {"portfolio-lang.data": "en", "portfolio-results-version.data": new_version})
    assert shown.status_code == 200 and PILOT in shown.get_data(as_text=True)

    filled = fill(fill_pilot, new_version)
    assert filled.status_code == 200
    evidence = filled.get_json()["response"]["pilot-empty"]["children"]
    assert {"pilot-metric", "pilot-section"} <= _ids(evidence)
    metric = next(c for c in _components(evidence) if c["props"].get("id") == "pilot-metric")["props"]["value"]
    section = triggered_by(client, "pilot-metric.value")
    shown = _call(
        client,
        section,
        {"pilot-metric.value": metric, "pilot-code.data": PILOT, "pilot-lang.data": "en",
         "pilot-results-version.data": new_version},
    )  # fmt: skip
    assert shown.status_code == 200 and "verdict" in shown.get_data(as_text=True)
    assert _nothing(fill(fill_pilot, new_version, "NO-SUCH-PILOT"))  # a pilot without estimates stays empty
    assert "Traceback" not in filled.get_data(as_text=True)
