"""Shared constants and helpers of the dashboard tests (the demo accounts, signing a test client in)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN = ("demo.admin", "admin-demo-2025")
ENGINEER = ("demo.engineer", "engineer-demo-2025")  # KMG
EXECUTIVE = ("demo.executive", "executive-demo-2025")
REVIEWER = ("demo.reviewer", "reviewer-demo-2025")


def sign_in(client: Any, username: str, password: str) -> Any:
    """Sign a Flask test client in through the real sign-in form."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "the sign-in page has no CSRF token"
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token.group(1), "next": "/"}
    )
    assert response.status_code in (302, 303), response.status_code
    return client


ORIGIN = {"Origin": "http://localhost"}


def dash_app(warehouse: Path) -> Any:
    """The real dashboard app on `warehouse`, with a fixed test secret."""
    from dashboards.app import create_app

    return create_app(warehouse, secret_key="k" * 40)


def dependency(client: Any, output_part: str) -> dict:
    """The callback whose output names `output_part`, as the browser learns it from /_dash-dependencies."""
    deps = client.get("/_dash-dependencies").get_json()
    return next(d for d in deps if output_part in d["output"])


def post_callback(client: Any, dep: dict, values: dict[str, Any], changed: str | None = None) -> Any:
    """Post a callback request by hand, as a browser (or an attacker) would; `changed` is the triggering prop."""
    parts = [p for p in dep["output"].strip(".").split("...") if p]
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    body = {
        "output": dep["output"],
        "outputs": outputs if dep["output"].startswith("..") else outputs[0],
        "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in dep["inputs"]],
        "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")} for s in dep["state"]],
        "changedPropIds": [changed or f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"],
    }
    return client.post("/_dash-update-component", json=body, headers=ORIGIN)


def triggered_by(client: Any, input_part: str) -> dict:
    """The callback that the input `input_part` (id.property) fires, as the browser learns it."""
    deps = client.get("/_dash-dependencies").get_json()
    return next(d for d in deps if any(f"{i['id']}.{i['property']}" == input_part for i in d["inputs"]))


def finish_upload_job(client: Any, job_id: str, lang: str = "en", timeout: float = 120.0) -> tuple[list[Any], Any]:
    """Poll an upload job as the page's interval does until it ends; then fetch what the page shows.

    Returns (every poll's answer, the answer of the callback that shows the ended job's results, or None when
    the polling stopped without an end: a job unknown to this user, or `timeout` seconds passed).
    """
    import time

    poll = triggered_by(client, "upload-job-poll.n_intervals")
    show = triggered_by(client, "upload-job-done.data")
    answers = []
    deadline = time.monotonic() + timeout
    done = None
    n = 0
    while done is None and time.monotonic() < deadline:
        n += 1
        values = {"upload-job-poll.n_intervals": n, "upload-job.data": job_id, "upload-lang.data": lang}
        response = post_callback(client, poll, values)
        assert response.status_code == 200, response.status_code
        answers.append(response)
        payload = response.get_json()["response"]
        done = payload.get("upload-job-done", {}).get("data")
        if payload.get("upload-job-poll", {}).get("disabled") and done is None:
            break  # the polling stopped without a result: unknown job
        if done is None:
            time.sleep(0.1)
    if done is None:  # unknown to this user, or not ended in time
        return answers, None
    return answers, post_callback(client, show, {"upload-job-done.data": done, "upload-lang.data": lang})


# An i18n key that reached the page instead of its message.
RAW_I18N_KEY = re.compile(r"\b(dash|method_choice|estimation|grade_reason|report)\.[a-z_]+")


def figures_in(node: Any) -> Iterator[dict[str, Any]]:
    """The Plotly figures in a Dash layout (its JSON wire form), in document order."""
    if isinstance(node, list):
        for item in node:
            yield from figures_in(item)
    elif isinstance(node, dict) and "props" in node:
        if "figure" in node["props"]:
            yield node["props"]["figure"]
        yield from figures_in(node["props"].get("children"))


def reader_texts(node: Any) -> Iterator[str]:
    """Every text a reader sees in a rendered component tree (JSON): children strings, not ids or styles."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from reader_texts(item)
    elif isinstance(node, dict) and "props" in node:
        yield from reader_texts(node["props"].get("children"))


def pager_items(nav: Any) -> list[dict[str, Any]]:
    """The items of a pager (`dashboards/components/pager.py`) in its JSON wire form, left to right: what shows
    ("‹", "2", "…"), what a screen reader says (the button's aria-label, or the gap's hidden words), the page it
    goes to (None for a gap), whether it is the current page (aria-current) and whether it is disabled."""
    assert nav["type"] == "Nav" and nav["props"]["aria-label"], nav
    found = []
    for li in nav["props"]["children"]["props"]["children"]:
        part = li["props"]["children"]
        props = part["props"]
        if part["type"] == "Button":
            shown = "".join(reader_texts(props["children"]))
            says, goes_to = props["aria-label"], int(props["value"])
        else:  # a gap: "…" hidden from screen readers, its words hidden from the eye
            hidden, words = props["children"]
            assert hidden["props"]["aria-hidden"] == "true" and words["props"]["className"] == "visually-hidden"
            shown, says, goes_to = hidden["props"]["children"], words["props"]["children"], None
        found.append(
            {
                "shows": shown,
                "says": says,
                "goes_to": goes_to,
                "current": props.get("aria-current") == "page",
                "disabled": bool(props.get("disabled")) or "disabled" in li["props"]["className"].split(),
            }
        )
    return found


def post_pager_click(
    client: Any, dep: dict, nav: dict[str, Any], slot: str | None, shown: Any, target: Any = None
) -> Any:
    """POST a pager's click callback `dep` as the renderer does: every button of the drawn pager `nav` (JSON) with
    its clicks (1 for the button in `slot`; None everywhere: the pager was only drawn again) and the page it goes
    to (`target`: a forged one for the clicked button), and `shown`, the page the store holds."""
    import json

    buttons = [li["props"]["children"]["props"] for li in nav["props"]["children"]["props"]["children"]]
    buttons = [b for b in buttons if "id" in b]  # not the gaps
    clicked = next((b["id"] for b in buttons if b["id"]["slot"] == slot), None)
    store, prop = dep["output"].split("@", 1)[0].rsplit(".", 1)
    forged = target is not None
    clicks = [{"id": b["id"], "property": "n_clicks", "value": 1 if b["id"] == clicked else None} for b in buttons]
    targets = [
        {"id": b["id"], "property": "value", "value": target if forged and b["id"] == clicked else b["value"]}
        for b in buttons
    ]
    trigger = json.dumps(clicked or buttons[0]["id"], sort_keys=True, separators=(",", ":"))
    body = {
        "output": dep["output"],
        "outputs": {"id": store, "property": dep["output"].split(".", 1)[1]},
        "inputs": [clicks],
        "state": [targets, {"id": store, "property": prop, "value": shown}],
        "changedPropIds": [f"{trigger}.n_clicks"],
    }
    return client.post("/_dash-update-component", json=body, headers=ORIGIN)
