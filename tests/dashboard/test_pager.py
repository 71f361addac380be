"""The table pager (`dashboards/components/pager.py`): the page numbers it offers are dbc.Pagination's, its words are
the reader's language, and a click reads back as the page its button goes to.

The reference for the numbers is dbc 2.0.4's own layout (`Pagination.js`, `first_last`, `previous_next`,
`fully_expanded=False`, `min_value=1`, `step=1`), transcribed below: the pager it replaces must not change which
pages a user can reach in one click.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from dash import html
from dashboard_helpers import pager_items
from dashboards.components import pager

from pilot_roi.i18n import t


def dbc_layout(active: int, max_value: int) -> list[str]:
    """What dbc 2.0.4's Pagination draws, item by item ("1", "…"; the arrows by name), transcribed from its JS."""
    shown = ["first", "previous"]
    if max_value <= 7:
        shown += [str(n) for n in range(1, max_value + 1)]
    else:
        shown.append("1")
        if active <= 1 + 3:
            shown += ["2", "3", "4", "5", "…"]
        elif active >= max_value - 3:
            shown += ["…", *(str(max_value - k) for k in (4, 3, 2, 1))]
        else:
            shown += ["…", str(active - 1), str(active), str(active + 1), "…"]
        shown.append(str(max_value))
    return [*shown, "next", "last"]


def _layout(current: int, pages: int) -> list[str]:
    return [
        i.kind if i.kind not in ("page", "gap") else str(i.page) if i.page else "…" for i in pager.items(current, pages)
    ]


@pytest.mark.parametrize("pages", range(1, 31))
def test_the_pages_offered_are_dbc_paginations(pages: int) -> None:
    for current in range(1, pages + 1):
        assert _layout(current, pages) == dbc_layout(current, pages), (current, pages)


@pytest.mark.parametrize(
    ("current", "pages", "expected"),
    [
        (1, 1, "« ‹ [1] › »"),
        (2, 4, "« ‹ 1 [2] 3 4 › »"),
        (1, 20, "« ‹ [1] 2 3 4 5 … 20 › »"),
        (10, 20, "« ‹ 1 … 9 [10] 11 … 20 › »"),
        (17, 20, "« ‹ 1 … 16 [17] 18 19 20 › »"),
        (20, 20, "« ‹ 1 … 16 17 18 19 [20] › »"),
    ],
)
def test_the_current_page_and_the_arrows(current: int, pages: int, expected: str) -> None:
    items = pager.items(current, pages)
    arrows = {"first": "«", "previous": "‹", "next": "›", "last": "»"}
    drawn = " ".join(
        arrows.get(i.kind) or (f"[{i.page}]" if i.current else str(i.page) if i.page else "…") for i in items
    )
    assert drawn == expected
    by_kind = {i.kind: i for i in items}
    assert (by_kind["first"].page, by_kind["last"].page) == (1, pages)
    assert (by_kind["previous"].page, by_kind["next"].page) == (max(1, current - 1), min(pages, current + 1))
    assert by_kind["first"].disabled == by_kind["previous"].disabled == (current == 1)
    assert by_kind["next"].disabled == by_kind["last"].disabled == (current == pages)
    assert [i.page for i in items if i.current] == [current]
    assert len({i.slot for i in items}) == len(items)  # one id per item


def test_a_page_out_of_range_is_drawn_as_the_nearest_page() -> None:
    assert _layout(0, 4) == _layout(1, 4) and _layout(9, 4) == _layout(4, 4) and _layout(1, 0) == _layout(1, 1)


def _wire(component: Any) -> Any:
    """A component tree in its JSON wire form, as a callback sends it."""
    import json

    import plotly

    return json.loads(json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder))


ENGLISH = re.compile(r"\b(First|Previous|Prev|Next|Last|More|Page)\b", re.IGNORECASE)


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_every_word_is_in_the_readers_language(lang: str) -> None:
    nav = _wire(pager.pager("test-pager", 10, 20, lang, size="sm", class_name="mb-0"))
    assert nav["props"]["aria-label"] == t("dash.pager.label", lang)
    assert nav["props"]["children"]["props"]["className"] == "pagination pagination-sm mb-0"
    items = pager_items(nav)
    word = {k: t(f"dash.pager.{k}", lang) for k in ("first", "previous", "next", "last", "more")}
    assert [i["says"] for i in items] == [
        word["first"],
        word["previous"],
        t("dash.pager.page", lang, page=1),
        word["more"],
        *(t("dash.pager.page", lang, page=n) for n in (9, 10, 11)),
        word["more"],
        t("dash.pager.page", lang, page=20),
        word["next"],
        word["last"],
    ]
    assert [i["shows"] for i in items] == ["«", "‹", "1", "…", "9", "10", "11", "…", "20", "›", "»"]
    assert [i["current"] for i in items].count(True) == 1 and items[5]["current"]
    said = " ".join(i["says"] for i in items)
    if lang == "en":
        assert ENGLISH.search(said)
    else:
        assert not ENGLISH.search(said), said
    assert {"ru": "Страница 10", "kk": "10-бет", "en": "Page 10"}[lang] == items[5]["says"]


def test_buttons_are_real_buttons_with_stable_ids_and_the_arrows_have_tooltips() -> None:
    """Real <button type="button">s: Tab reaches them, Enter and Space press them; a disabled arrow leaves the tab
    order. The ids name the item, not the page it goes to: drawn again, the pressed button is found again (by
    assets/20-pager-focus.js, which gives it back the keyboard focus)."""
    first, second = (_wire(pager.pager("test-pager", page, 4, "ru")) for page in (1, 2))
    for nav in (first, second):
        for li in nav["props"]["children"]["props"]["children"]:
            button = li["props"]["children"]["props"]
            assert li["props"]["children"]["type"] == "Button" and button["type"] == "button"
            assert button["className"] == "page-link" and li["props"]["className"].startswith("page-item")
            if button["id"]["slot"] in ("first", "previous", "next", "last"):
                assert button["title"] == button["aria-label"]
            else:
                assert "title" not in button
    ids = [
        [li["props"]["children"]["props"]["id"] for li in nav["props"]["children"]["props"]["children"]]
        for nav in (first, second)
    ]
    assert ids[0] == ids[1]
    assert [i["disabled"] for i in pager_items(first)] == [True, True, False, False, False, False, False, False]
    assert [i["goes_to"] for i in pager_items(second)] == [1, 1, 1, 2, 3, 4, 3, 4]


def _buttons(clicks: dict[str, int | None]) -> list[dict[str, Any]]:
    return [{"id": pager.button_id("p", slot), "property": "n_clicks", "value": n} for slot, n in clicks.items()]


@pytest.mark.parametrize(
    ("clicked", "n_clicks", "target", "expected"),
    [
        ("next", 1, "3", 3),
        ("page-7", 2, "7", 7),
        ("next", None, "3", None),  # drawn again: no click
        ("next", 0, "3", None),
        (None, None, "3", None),  # nothing triggered
        ("next", 1, "0", None),
        ("next", 1, "-2", None),
        ("next", 1, "3; DROP TABLE audit_log", None),
        ("next", 1, "٣", None),  # a digit, not an ASCII one
        ("next", 1, "9" * 5000, None),
        ("next", 1, None, None),
        ("next", 1, True, None),
        ("next", 1, 4, 4),
    ],
)
def test_a_click_reads_as_the_page_its_button_goes_to(
    clicked: str | None, n_clicks: int | None, target: Any, expected: int | None
) -> None:
    buttons = _buttons({"previous": None, "page-7": None, "next": None})
    targets: list[Any] = ["1", "7", "3"]
    if clicked is not None:
        index = [b["id"]["slot"] for b in buttons].index(clicked)
        buttons[index]["value"], targets[index] = n_clicks, target
    triggered = pager.button_id("p", clicked) if clicked else None
    assert pager.clicked_page(triggered, buttons, targets) == expected


def test_the_pattern_matches_every_button_of_its_pager_only() -> None:
    pattern = pager.every_button("p")
    assert pattern["type"] == pager.button_id("p", "next")["type"] != pager.button_id("q", "next")["type"]
    assert set(pattern) == set(pager.button_id("p", "next"))
    assert isinstance(pager.pager("p", 1, 2, "en"), html.Nav)
