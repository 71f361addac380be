"""A table's pager, rendered on the server in the reader's language (ru, kk, en).

`dbc.Pagination` draws the same thing in the browser, but its screen-reader words ("First", "Previous", "More",
"Next", "Last") are fixed in English. This one keeps Bootstrap's pagination look and dbc's choice of page
numbers (`items`), and says everything in the reader's language: the `nav`'s label, each button's `aria-label`
(and a tooltip on the arrows), `aria-current="page"` on the current page.

Wiring (see the portfolio and audit pages): the page holds a `dcc.Store` with the current page and a container
that its table callback fills with `pager(...)`. Each button carries the page it goes to in its `value`; a
callback on `every_button(name)` turns a click into that page (`clicked_page`) and writes it to the store, which
fires the table callback as `dbc.Pagination`'s `active_page` did.

Buttons are real `<button>`s (Tab reaches them, Enter and Space press them). Dash mounts a callback's new children
afresh, so a redrawn pager would drop the keyboard focus of the button just pressed: ids name the item, not the
page ("next", "page-3"), and `assets/20-pager-focus.js` gives the focus back to the same button once it is drawn
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dash import ALL, html

from pilot_roi.i18n import t

Kind = Literal["first", "previous", "page", "gap", "next", "last"]
Size = Literal["sm", "lg"]

_ARROWS: dict[str, str] = {"first": "«", "previous": "‹", "next": "›", "last": "»"}
_MAX_FULL = 7
"""Up to this many pages every number shows; above it, dbc's window of numbers with gaps (…)."""
_HIDDEN: dict[str, Any] = {"aria-hidden": "true"}
"""What only the eye needs (the "…" and the arrows: the screen reader gets words instead)."""


@dataclass(frozen=True, slots=True)
class PagerItem:
    """One item of the pager, left to right.

    `slot` names it stably across pages ("first", "previous", "page-3", "gap-before", "gap-after", "next", "last");
    `page` is the 1-based page it goes to (None for a gap); `current` marks the page shown; `disabled` an arrow
    that leads nowhere (first and previous on page 1, next and last on the last page).
    """

    kind: Kind
    slot: str
    page: int | None
    current: bool = False
    disabled: bool = False


def items(current: int, pages: int) -> list[PagerItem]:
    """The pager's items for page `current` of `pages`, as `dbc.Pagination(first_last=True, previous_next=True,
    fully_expanded=False)` lays them out: every number up to 7 pages; above, the first and last page, a window
    of numbers around `current` and a gap (…) for each run of hidden numbers."""
    pages = max(1, pages)
    current = min(max(1, current), pages)

    def number(n: int) -> PagerItem:
        return PagerItem("page", f"page-{n}", n, current=n == current)

    def gap(where: str) -> PagerItem:
        return PagerItem("gap", f"gap-{where}", None, disabled=True)

    middle: list[PagerItem]
    if pages <= _MAX_FULL:
        middle = [number(n) for n in range(1, pages + 1)]
    elif current <= 4:
        middle = [*(number(n) for n in range(1, 6)), gap("after"), number(pages)]
    elif current >= pages - 3:
        middle = [number(1), gap("before"), *(number(n) for n in range(pages - 4, pages + 1))]
    else:
        window = (number(n) for n in (current - 1, current, current + 1))
        middle = [number(1), gap("before"), *window, gap("after"), number(pages)]
    at_start, at_end = current == 1, current == pages
    return [
        PagerItem("first", "first", 1, disabled=at_start),
        PagerItem("previous", "previous", max(1, current - 1), disabled=at_start),
        *middle,
        PagerItem("next", "next", min(pages, current + 1), disabled=at_end),
        PagerItem("last", "last", pages, disabled=at_end),
    ]


def button_id(name: str, slot: str) -> dict[str, str]:
    """The id of the button in `slot` of the pager `name` (a pattern-matching id: see `every_button`)."""
    return {"type": f"{name}-button", "slot": slot}


def every_button(name: str) -> dict[str, Any]:
    """The pattern that matches every button of the pager `name`, for the callback that turns a click into a page."""
    return {"type": f"{name}-button", "slot": ALL}


def label(item: PagerItem, lang: str) -> str:
    """What a screen reader says for `item`, in `lang` ("Следующая страница", "3-бет", "Page 3")."""
    if item.kind == "page":
        return t("dash.pager.page", lang, page=item.page)
    return t(f"dash.pager.{'more' if item.kind == 'gap' else item.kind}", lang)


def pager(
    name: str, current: int, pages: int, lang: str, *, size: Size | None = None, class_name: str = ""
) -> html.Nav:
    """The pager `name` at page `current` of `pages`: a `nav` labelled in `lang` around Bootstrap's pagination list
    (`size` "sm" or "lg"; `class_name` on the list, as `dbc.Pagination` puts it), one button per page it offers."""
    classes = " ".join(c for c in ("pagination", f"pagination-{size}" if size else "", class_name) if c)
    named: dict[str, Any] = {"aria-label": t("dash.pager.label", lang)}
    return html.Nav(html.Ul([_item(name, item, lang) for item in items(current, pages)], className=classes), **named)


def _item(name: str, item: PagerItem, lang: str) -> html.Li:
    classes = "page-item" + (" active" if item.current else "") + (" disabled" if item.disabled else "")
    text = label(item, lang)
    content: Any
    if item.kind == "gap":
        content = html.Span(
            [html.Span("…", **_HIDDEN), html.Span(text, className="visually-hidden")],
            className="page-link",
        )
    else:
        arrow = _ARROWS.get(item.kind)
        extra: dict[str, Any] = {"aria-label": text}
        if arrow:  # the arrows' words also show on hover
            extra["title"] = text
        if item.current:
            extra["aria-current"] = "page"
        content = html.Button(
            html.Span(arrow, **_HIDDEN) if arrow else str(item.page),
            id=button_id(name, item.slot),
            type="button",
            value=str(item.page),
            disabled=item.disabled,
            className="page-link",
            **extra,
        )
    return html.Li(content, className=classes)


def clicked_page(clicked: object, buttons: list[dict[str, Any]], targets: list[Any]) -> int | None:
    """The page a click asked for, or None when no button was clicked (the pager was only drawn again).

    `clicked` is the callback's `ctx.triggered_id`; `buttons` the pager's buttons as Dash lists them for the
    callback's input (`ctx.inputs_list[0]`: each with its `id` and `n_clicks` as `value`); `targets` their
    `value`s (the pages they go to), in the same order. A page that is not a whole number from 1 is no page:
    the browser only sends what `pager` drew."""
    for button, target in zip(buttons, targets, strict=False):
        if isinstance(button, dict) and button.get("id") == clicked and button.get("value"):
            text = str(target) if isinstance(target, int | str) and not isinstance(target, bool) else ""
            whole = text.isascii() and text.isdigit() and len(text) <= 9
            return int(text) if whole and int(text) >= 1 else None
    return None
