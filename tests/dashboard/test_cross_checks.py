"""An auditor's cross-checks: every figure a user sees is the same figure wherever they see it.

On a copy of the real demo warehouse, the real CLI (`pilot-roi estimate --format json`, `pilot-roi report`) makes
run 2 and its reports; the real app (Flask's test client posting Dash callbacks as the browser does) then shows
that run. The checks compare, for the same run:

1. the portfolio's headline (demonstrated gain, its interval, counts by grade) and table with the public
   `estimates` view, the CLI's JSON and the report (CSV rows, the XLSX summary); its filters with the same SQL on
   the view;
2. each pilot page's cards with the view's row and the CLI's JSON, and its chart with `estimate_counterfactuals`;
3. the Reports page's PDF, XLSX and CSV with `pilot-roi report` (only the "numbers assembled at" time differs);
4. who is asking: an engineer (who reads everything, issue 6) sees the executive's numbers on every page and is
   refused the report's download server-side; the language changes words and number formats only.

Numbers are compared twice: as the user reads them (the page's text equals the view's number formatted the
page's way) and as numbers (the view, the JSON and the CSV agree to float rounding: `REL`).
"""

from __future__ import annotations

import base64
import csv
import json
import math
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dashboard_helpers import (
    ENGINEER,
    EXECUTIVE,
    REVIEWER,
    dash_app,
    dependency,
    figures_in,
    post_callback,
    reader_texts,
    sign_in,
    triggered_by,
)
from dashboards.context import EXTENSION

from pilot_roi.i18n import format_money, format_percent, t
from pilot_roi.reports.assemble import sum_amounts
from pilot_roi.reports.model import Amount

pytestmark = pytest.mark.slow

REL = 1e-9
"""Sums of the same floats in another order differ in the last bits; nothing else may differ."""

YEAR = 2025
LANGS = ("ru", "kk", "en")
GRADES = ("demonstrated", "promising", "inconclusive", "adverse", "insufficient_data")
FILTERS = {
    "subsidiary": "portfolio-filter-subsidiary.value",
    "use_case": "portfolio-filter-use-case.value",
    "year": "portfolio-filter-year.value",
    "grade": "portfolio-filter-grade.value",
}
ROUTE = "_pages_content.children"

# The view's rows with the filter keys of the portfolio (first go-live among the treated sites, public views only).
VIEW_SQL = """
SELECT e.*, p.subsidiary_code, p.use_case, CAST(year(g.first_go_live) AS INTEGER) AS go_live_year,
       p.name_en AS pilot_name_en
FROM estimates AS e
JOIN pilots AS p USING (pilot_code)
JOIN (SELECT pilot_code, min(go_live) AS first_go_live FROM pilot_sites WHERE role = 'treated' GROUP BY 1) AS g
  USING (pilot_code)
"""


@dataclass
class Run:
    """The warehouse after `pilot-roi estimate`, what the CLI said about the run, and the app on it."""

    warehouse: Path
    cli: dict[str, Any]
    estimates: dict[tuple[str, str], dict[str, Any]]
    view: list[dict[str, Any]]
    metric_names: dict[str, str]
    reports: Path
    app: Any

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Rows of `sql` on the warehouse (through the app's connection once the app holds the file)."""
        if self.app is None:
            con = duckdb.connect(str(self.warehouse), read_only=True)
            try:
                cursor = con.execute(sql, params)
                names = [d[0] for d in cursor.description or ()]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            finally:
                con.close()
        with self.app.server.extensions[EXTENSION].cursor() as cur:
            cursor = cur.execute(sql, params)
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def view_rows(self, where: str = "TRUE") -> list[dict[str, Any]]:
        """The public view's rows that pass `where` (SQL over VIEW_SQL's columns)."""
        return self.query(f"SELECT * FROM ({VIEW_SQL}) WHERE {where} ORDER BY pilot_code, metric_code")

    def counterfactuals(self, pilot: str, metric: str) -> list[tuple[Any, ...]]:
        rows = self.query(
            "SELECT period, observed, counterfactual, ci_low, ci_high FROM estimate_counterfactuals "
            "WHERE run_id = ? AND pilot_code = ? AND metric_code = ? ORDER BY period",
            [self.cli["run_id"], pilot, metric],
        )
        return [tuple(r.values()) for r in rows]


def _cli(warehouse: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pilot_roi", "--warehouse", str(warehouse), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def run(demo_warehouse_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("cross-checks")
    warehouse = folder / "demo.duckdb"
    shutil.copyfile(demo_warehouse_master, warehouse)
    cli = json.loads(_cli(warehouse, "estimate", "--format", "json"))  # a new run (reusing the demo's estimates)
    reports = folder / "cli"
    reports.mkdir()
    for fmt in ("csv", "xlsx", "pdf"):
        _cli(
            warehouse,
            "--lang",
            "en",
            "report",
            "--year",
            str(YEAR),
            "--format",
            fmt,
            "--out",
            str(reports / f"en.{fmt}"),
        )
    _cli(warehouse, "--lang", "en", "report", "--year", "2024", "--format", "xlsx", "--out", str(reports / "2024.xlsx"))
    partial = Run(warehouse, cli, {}, [], {}, reports, None)
    names = {r["code"]: r["name_en"] for r in partial.query("SELECT code, name_en FROM metrics")}
    view = partial.view_rows()
    assert {r["run_id"] for r in view} == {cli["run_id"]}, "the view shows another run than the CLI made"
    estimates = {(e["pilot_code"], e["metric_code"]): e for e in cli["estimates"]}
    assert set(estimates) == {(r["pilot_code"], r["metric_code"]) for r in view}
    return Run(warehouse, cli, estimates, view, names, reports, dash_app(warehouse))


@pytest.fixture(scope="module")
def executive(run: Run) -> Any:
    return sign_in(run.app.server.test_client(), *EXECUTIVE)


@pytest.fixture(scope="module")
def engineer(run: Run) -> Any:
    return sign_in(run.app.server.test_client(), *ENGINEER)


@pytest.fixture(scope="module")
def reviewer(run: Run) -> Any:
    return sign_in(run.app.server.test_client(), *REVIEWER)


# ---------------------------------------------------------------------------------------------- reading pages


def _answer(client: Any, dep: dict, values: dict[str, Any], changed: str | None = None) -> dict[str, Any]:
    response = post_callback(client, dep, values, changed)
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:300])
    return response.get_json()["response"]


def portfolio(client: Any, lang: str = "en", **filters: list[Any]) -> dict[str, Any]:
    """The portfolio content callback's answer for `filters` (subsidiary=[...], year=[...], ...)."""
    values = {FILTERS[k]: v for k, v in filters.items()} | {"portfolio-lang.data": lang}
    values |= {"portfolio-table-sort.value": "gain_desc", "portfolio-table-page.data": 1}
    return _answer(client, dependency(client, "portfolio-cards.children"), values, "portfolio-lang.data")


def pilot_section(client: Any, pilot: str, metric: str, lang: str = "en") -> Any:
    values = {"pilot-metric.value": metric, "pilot-code.data": pilot, "pilot-lang.data": lang}
    return _answer(client, triggered_by(client, "pilot-metric.value"), values)["pilot-section"]["children"]


def page(client: Any, path: str, lang: str = "en") -> Any:
    """A page's layout as the router sends it."""
    values = {"_pages_location.pathname": path, "_pages_location.search": "", "shell-lang-store.data": lang}
    return _answer(client, dependency(client, ROUTE), values, "_pages_location.pathname")["_pages_content"]["children"]


def _texts(node: Any) -> list[str]:
    return [s for s in reader_texts(node) if isinstance(s, str) and s.strip()]


def cards(node: Any) -> dict[str, tuple[str, list[str], str]]:
    """Headline cards by id: (the number, the texts between number and caption, the caption)."""
    out: dict[str, tuple[str, list[str], str]] = {}

    def walk(n: Any) -> None:
        if isinstance(n, list):
            for item in n:
                walk(item)
        elif isinstance(n, dict) and "props" in n:
            children = n["props"].get("children")
            if n.get("type") == "CardBody" and isinstance(children, list) and len(children) == 4:
                number = children[1]
                if isinstance(number, dict) and number["props"].get("id"):
                    value = " ".join(_texts(number))
                    out[number["props"]["id"]] = (value, _texts(children[2]), " ".join(_texts(children[3])))
            walk(children)

    walk(node)
    return out


def table_rows(answer: dict[str, Any]) -> list[list[str]]:
    """The estimates table's rows as the reader sees each cell."""
    table = answer["portfolio-table"]["children"]
    if table.get("type") != "Table":
        return []
    body = table["props"]["children"][1]
    return [[" ".join(_texts(td)) for td in tr["props"]["children"]] for tr in body["props"]["children"]]


def find(node: Any, component_id: str) -> Any:
    if isinstance(node, list):
        for item in node:
            found = find(item, component_id)
            if found is not None:
                return found
    elif isinstance(node, dict) and "props" in node:
        if node["props"].get("id") == component_id:
            return node
        return find(node["props"].get("children"), component_id)
    return None


# ---------------------------------------------------------------------------------------------- expectations


def _f(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def gain_total(rows: list[dict[str, Any]]) -> Amount:
    """The demonstrated annual gain of `rows` with its interval, by the report's convention (sum_amounts)."""
    return sum_amounts(
        Amount(r["annual_gain_kzt"], r["annual_gain_ci_low"], r["annual_gain_ci_high"])
        for r in rows
        if r["grade"] == "demonstrated" and _f(r["annual_gain_kzt"]) is not None
    )


def headline_texts(rows: list[dict[str, Any]], lang: str) -> tuple[str, str]:
    """What the gain card must say for `rows`: the number and the interval in its caption."""
    total = gain_total(rows)
    low = total.value if total.ci_low is None else total.ci_low
    high = total.value if total.ci_high is None else total.ci_high
    ci = t("dash.ci95", lang, low=format_money(low, lang), high=format_money(high, lang))
    return format_money(total.value, lang), ci


def assert_headline(answer: dict[str, Any], rows: list[dict[str, Any]], lang: str = "en") -> None:
    shown = cards(answer["portfolio-cards"]["children"])
    value, ci = headline_texts(rows, lang)
    assert shown["portfolio-card-gain"][0] == value
    n_demonstrated = sum(1 for r in rows if r["grade"] == "demonstrated")
    if n_demonstrated == 0:  # nothing counted: said in words, with no interval of zeros and no "largest pilot"
        assert shown["portfolio-card-gain"][2] == t("dash.card.gain_caption_none", lang)
    else:
        assert ci in shown["portfolio-card-gain"][2], (ci, shown["portfolio-card-gain"][2])
        caption = t("dash.card.gain_caption", lang, n=n_demonstrated, ci="¤")[:12]
        assert shown["portfolio-card-gain"][2].startswith(caption)
    grades = shown["portfolio-card-grades"]
    assert grades[0] == str(len(rows))
    counts = Counter(r["grade"] for r in rows)
    # the badges read "<grade> <count>" in GRADES order
    assert [int(s) for s in grades[1][1::2]] == [counts.get(g, 0) for g in GRADES], grades[1]


def expected_table(rows: list[dict[str, Any]], names: dict[str, str], lang: str = "en") -> list[list[str]]:
    """The table's rows for the view's `rows`, annual gain first (as the page orders them by default)."""
    ordered = sorted(rows, key=lambda r: (-(r["annual_gain_kzt"] or -math.inf), r["pilot_code"], r["metric_code"]))
    out = []
    for r in ordered:
        effect, pct = _f(r["effect"]), _f(r["effect_pct"])
        scale = pct / effect if effect and pct is not None else None
        pct_low = r["ci_low"] * scale if scale is not None else None
        pct_high = r["ci_high"] * scale if scale is not None else None
        ci = t("dash.ci95", lang, low=format_money(r["annual_gain_ci_low"], lang),
               high=format_money(r["annual_gain_ci_high"], lang))  # fmt: skip
        out.append(
            [
                f"{r['pilot_code']} — {r['pilot_name_en']}",
                names[r["metric_code"]],
                t(f"dash.grade.{r['grade']}", lang),
                f"{format_percent(pct, lang)} ({format_percent(pct_low, lang)} … {format_percent(pct_high, lang)})",
                f"{format_money(r['annual_gain_kzt'], lang)} ({ci})",
                format_percent(100 * r["roi"], lang, 0),
            ]
        )
    return out


# ---------------------------------------------------------------------------------------------- 1. portfolio


def test_portfolio_headline_and_table_equal_the_view_the_cli_and_the_report(run: Run, executive: Any) -> None:
    answer = portfolio(executive)
    assert_headline(answer, run.view)
    assert table_rows(answer) == expected_table(run.view, run.metric_names)

    # the same numbers from the CLI's JSON of the run
    by_json = gain_total(list(run.estimates.values()))
    by_view = gain_total(run.view)
    for a, b in ((by_json.value, by_view.value), (by_json.ci_low, by_view.ci_low), (by_json.ci_high, by_view.ci_high)):
        assert a == pytest.approx(b, rel=REL)
    assert Counter(e["grade"] for e in run.estimates.values()) == Counter(r["grade"] for r in run.view)

    # the report of the run: every pilot is live by the end of YEAR, so its estimates are the view's rows
    with (run.reports / "en.csv").open(encoding="utf-8-sig", newline="") as fh:
        report_rows = list(csv.reader(fh))
    header, body = report_rows[0], report_rows[1:]
    col = {name: header.index(name) for name in header}
    assert {int(r[col["Estimate run"]]) for r in body} == {run.cli["run_id"]}
    assert len(body) == len(run.view)
    view = {(r["pilot_code"], r["metric_code"]): r for r in run.view}
    pairs = {
        "Annual gain, ₸": "annual_gain_kzt",
        "Annual gain 95% CI low, ₸": "annual_gain_ci_low",
        "Annual gain 95% CI high, ₸": "annual_gain_ci_high",
        "NPV, ₸": "npv_kzt",
        "ROI": "roi",
        "Payback, months": "payback_months",
        "Effect per site and period": "effect",
        "Effect, %": "effect_pct",
        "95% CI low": "ci_low",
        "95% CI high": "ci_high",
        "p-value": "p_value",
        "q-value (portfolio)": "q_value",
    }
    for line in body:
        row = view[(line[col["Pilot code"]], line[col["Metric code"]])]
        assert line[col["Evidence grade"]] == t(f"report.grade.{row['grade']}", "en")
        for header_name, field in pairs.items():
            cell = line[col[header_name]]
            assert (float(cell) if cell else None) == row[field], (line[:5], header_name)  # repr: exact
    summary = _xlsx_summary(run.reports / "en.xlsx")
    assert summary["demonstrated_annual_gain"] == pytest.approx(
        (by_view.value, by_view.ci_low, by_view.ci_high), rel=REL
    )
    assert summary["n_estimates"][0] == len(run.view)


def _xlsx_summary(path: Path) -> dict[str, tuple[float | None, ...]]:
    """The report's executive summary sheet: item id → (value, CI low, CI high)."""
    import fastexcel

    sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None).to_polars()
    out: dict[str, tuple[float | None, ...]] = {}
    for row in sheet.iter_rows():
        if row[0] and row[2] is not None and row[0] != "id":
            try:
                out[str(row[0])] = tuple(None if v is None else float(v) for v in row[2:5])
            except (TypeError, ValueError):
                continue
    return out


FILTER_CASES = {
    "subsidiary KMG": ({"subsidiary": ["KMG"]}, "subsidiary_code IN ('KMG')"),
    "two subsidiaries": ({"subsidiary": ["KTZ", "KAP"]}, "subsidiary_code IN ('KTZ', 'KAP')"),
    "use case": ({"use_case": ["predictive_maintenance"]}, "use_case = 'predictive_maintenance'"),
    "year 2025": ({"year": ["2025"]}, "go_live_year = 2025"),
    "grade demonstrated": ({"grade": ["demonstrated"]}, "grade = 'demonstrated'"),
    "grade promising or adverse": ({"grade": ["promising", "adverse"]}, "grade IN ('promising', 'adverse')"),
    "KTZ in 2024, demonstrated": (
        {"subsidiary": ["KTZ"], "year": ["2024"], "grade": ["demonstrated"]},
        "subsidiary_code = 'KTZ' AND go_live_year = 2024 AND grade = 'demonstrated'",
    ),
}


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_filters_give_the_subsets_the_same_sql_on_the_view_gives(run: Run, executive: Any, case: str) -> None:
    filters, where = FILTER_CASES[case]
    rows = run.view_rows(where)
    assert rows, "the case must select something"
    answer = portfolio(executive, **filters)
    assert_headline(answer, rows)
    assert table_rows(answer) == expected_table(rows, run.metric_names)


def test_the_year_filter_and_the_years_report_agree(run: Run, executive: Any) -> None:
    # the report counts pilots live by the year's end, the filter pilots whose first go-live is in the year:
    # the same set when no pilot went live earlier (the demo's first go-lives are in 2024 and 2025)
    assert min(r["go_live_year"] for r in run.view) == 2024
    rows = run.view_rows("go_live_year = 2024")
    answer = portfolio(executive, year=["2024"])
    assert_headline(answer, rows)
    summary = _xlsx_summary(run.reports / "2024.xlsx")
    total = gain_total(rows)
    assert summary["demonstrated_annual_gain"] == pytest.approx((total.value, total.ci_low, total.ci_high), rel=REL)
    assert summary["n_estimates"][0] == len(rows)
    assert summary["n_pilots"][0] == len({r["pilot_code"] for r in rows})


# ---------------------------------------------------------------------------------------------- 2. pilot pages


def _interval(low: Any, high: Any, lang: str, fmt: Any) -> str:
    return t("dash.ci95", lang, low=fmt(low), high=fmt(high))


def expected_cards(row: dict[str, Any], cli: dict[str, Any], lang: str) -> dict[str, tuple[str, str]]:
    """The pilot page's four cards (number, caption) from the view's row and, for what the view lacks (the NPV and
    ROI intervals, the realized gain), the CLI's JSON of the same run."""

    def money(v: Any) -> str:
        return format_money(_f(v), lang)

    def pct(v: Any) -> str:
        return format_percent(100 * v, lang, 0) if _f(v) is not None else "—"

    payback = row["payback_months"]
    payback_text = (
        t("estimate.payback_never", lang)
        if payback == math.inf
        else t("dash.months", lang, n=f"{payback:,.0f}".replace(",", "\u00a0" if lang != "en" else ","))
    )
    return {
        "pilot-card-gain": (
            money(row["annual_gain_kzt"]),
            _interval(row["annual_gain_ci_low"], row["annual_gain_ci_high"], lang, money),
        ),
        "pilot-card-npv": (money(row["npv_kzt"]), _interval(cli["npv_ci_low"], cli["npv_ci_high"], lang, money)),
        "pilot-card-roi": (pct(row["roi"]), _interval(cli["roi_ci_low"], cli["roi_ci_high"], lang, pct)),
        "pilot-card-payback": (payback_text, t("dash.pilot.realized", lang, gain=money(cli["realized_gain_kzt"]))),
    }


def test_every_pilot_page_shows_the_views_row_and_the_runs_counterfactual(run: Run, executive: Any) -> None:
    for row in run.view:
        key = (row["pilot_code"], row["metric_code"])
        cli = run.estimates[key]
        for field in ("annual_gain_kzt", "annual_gain_ci_low", "annual_gain_ci_high", "npv_kzt", "roi"):
            assert cli[field] == row[field], (key, field)
        assert cli["payback_months"] == (None if row["payback_months"] == math.inf else row["payback_months"])
        section = pilot_section(executive, *key)
        shown = cards(section)
        for card, (value, caption) in expected_cards(row, cli, "en").items():
            assert shown[card][0] == value, (key, card)
            assert shown[card][2] == caption, (key, card)

        chart = next(figures_in(section))
        traces = {trace.get("name"): trace for trace in chart["data"]}
        observed, counterfactual = traces[t("dash.cf.observed", "en")], traces[t("dash.cf.counterfactual", "en")]
        stored = run.counterfactuals(*key)
        assert stored, key
        assert [x[:10] for x in observed["x"]] == [p.isoformat() for p, *_ in stored]
        assert observed["y"] == [r[1] for r in stored]
        assert counterfactual["y"] == [r[2] for r in stored]
        band_low = traces.get(t("dash.cf.band", "en"))
        band_high = next((tr for tr in chart["data"] if tr.get("showlegend") is False), None)
        if band_low is None:  # no band drawn: the run stored none
            assert band_high is None and all(r[3] is None or r[4] is None for r in stored), key
        else:
            assert band_low["y"] == [r[3] for r in stored] and band_high["y"] == [r[4] for r in stored], key


# ---------------------------------------------------------------------------------------------- 3. reports


def _download(client: Any, fmt: str, year: int = YEAR, lang: str = "en") -> Any:
    dep = dependency(client, "reports-download.data")
    values = {"reports-button.n_clicks": 1, "reports-year.value": str(year), "reports-language.value": lang,
              "reports-format.value": fmt, "reports-lang.data": lang}  # fmt: skip
    return post_callback(client, dep, values)


def _content(response: Any) -> bytes:
    assert response.status_code == 200
    data = response.get_json()["response"]["reports-download"]["data"]
    return base64.b64decode(data["content"]) if data.get("base64") else data["content"].encode("utf-8")


def _sheets(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    import fastexcel

    book = fastexcel.read_excel(data)
    return {n: list(book.load_sheet_by_name(n, header_row=None).to_polars().iter_rows()) for n in book.sheet_names}


def _pdf_text(data: bytes, tmp: Path) -> list[str]:
    path = tmp / "r.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.splitlines()


ASSEMBLED_AT = t("report.repro.assembled_at", "en")


def test_the_reports_pages_downloads_are_the_cli_report(run: Run, reviewer: Any, tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    # CSV: byte for byte (no generation time in it)
    assert _content(_download(reviewer, "csv")) == (run.reports / "en.csv").read_bytes()
    # XLSX: every sheet's every cell, but the time the numbers were assembled
    ours, theirs = _sheets(_content(_download(reviewer, "xlsx"))), _sheets((run.reports / "en.xlsx").read_bytes())
    assert list(ours) == list(theirs)
    for name in ours:
        differ = [(a, b) for a, b in zip(ours[name], theirs[name], strict=True) if a != b]
        assert all(a[0] == "assembled_at" == b[0] for a, b in differ), (name, differ[:3])
    # PDF: the text, line for line, but the same time
    mine = _pdf_text(_content(_download(reviewer, "pdf")), tmp_path)
    cli = _pdf_text((run.reports / "en.pdf").read_bytes(), tmp_path)
    assert len(mine) == len(cli)
    differ = [(a, b) for a, b in zip(mine, cli, strict=True) if a != b]
    assert len(differ) <= 1 and all(ASSEMBLED_AT in a and ASSEMBLED_AT in b for a, b in differ), differ[:3]


# ---------------------------------------------------------------------------------------------- 4. who is asking


def test_an_engineer_reads_the_whole_portfolio_with_the_executives_numbers(
    run: Run, engineer: Any, executive: Any
) -> None:
    # Roles (issue 6): an engineer reads everything and uploads only for their own subsidiary's sites; what they
    # read must be what the executive reads, card for card and row for row, in their own subsidiary and others'
    assert portfolio(engineer) == portfolio(executive)
    for subsidiary in (["KMG"], ["KTZ"], ["KMG", "KTZ"]):
        assert portfolio(engineer, subsidiary=subsidiary) == portfolio(executive, subsidiary=subsidiary)
    options = find(page(engineer, "/"), "portfolio-filter-subsidiary")["props"]["options"]
    assert {o["value"] for o in options} == {r["subsidiary_code"] for r in run.view_rows("TRUE")}
    for row in run.view_rows("subsidiary_code IN ('KMG', 'KTZ')"):
        key = (row["pilot_code"], row["metric_code"])
        assert pilot_section(engineer, *key) == pilot_section(executive, *key)


def test_an_engineer_may_not_export_the_report(engineer: Any) -> None:
    # exports are the reviewers' (and admins'): refused on the server, whatever the browser sends
    response = _download(engineer, "csv")
    assert response.status_code == 403, response.get_data(as_text=True)[:300]
    assert "KTZ-LR-02" not in response.get_data(as_text=True)


_SCALES = {"T": 1e12, "bn": 1e9, "M": 1e6, "k": 1e3, "трлн": 1e12, "млрд": 1e9, "млн": 1e6, "тыс.": 1e3, "мың": 1e3}


def read_money(text: str, lang: str) -> float:
    """A money figure as the page writes it ("18.2 bn ₸", "18,2 млрд ₸", "950 ₸") back into tenge."""
    parts = text.removesuffix(" ₸").split(" ")
    scale = _SCALES[parts.pop()] if len(parts) > 1 else 1.0
    number = parts[0].replace("\u00a0" if lang != "en" else ",", "").replace(",", ".")
    return float(number) * scale


def _money_in(texts: Iterator[str] | list[str], lang: str) -> list[float]:
    """Every money figure in `texts`, read back."""
    out = []
    for text in texts:
        words = text.replace(" – ", " | ").replace("(", "| ").replace(")", "").replace("→", "").split("|")
        for piece in words:
            piece = piece.strip()
            if piece.endswith("₸"):
                tail = piece.split(" ")
                size = 3 if len(tail) >= 3 and tail[-2] in _SCALES else 2
                out.append(read_money(" ".join(tail[-size:]), lang))
    return out


def test_switching_language_changes_words_and_number_formats_only(run: Run, executive: Any) -> None:
    answers = {lang: portfolio(executive, lang) for lang in LANGS}
    for lang, answer in answers.items():
        assert_headline(answer, run.view, lang)
        codes = [row[0].split(" — ")[0] for row in table_rows(answer)]
        assert codes == [row[0].split(" — ")[0] for row in table_rows(answers["en"])]  # the same rows, same order
    figures = {}
    for lang, answer in answers.items():
        shown = cards(answer["portfolio-cards"]["children"])
        texts = [shown["portfolio-card-gain"][0], shown["portfolio-card-gain"][2], shown["portfolio-card-invested"][0]]
        texts += [row[4] for row in table_rows(answer)]
        figures[lang] = _money_in(texts, lang)
    assert figures["ru"] == figures["kk"] == figures["en"]
    assert len(figures["en"]) >= 3 + 3 * len(run.view)
    assert (
        cards(answers["ru"]["portfolio-cards"]["children"])["portfolio-card-gain"][0]
        != cards(answers["en"]["portfolio-cards"]["children"])["portfolio-card-gain"][0]
    )  # the format really changed

    key = ("KMG-PM-03", "oil_output_t")
    row, cli = next(r for r in run.view if (r["pilot_code"], r["metric_code"]) == key), run.estimates[key]
    by_lang = {}
    for lang in LANGS:
        shown = cards(pilot_section(executive, *key, lang))
        for card, (value, caption) in expected_cards(row, cli, lang).items():
            assert (shown[card][0], shown[card][2]) == (value, caption), (lang, card)
        by_lang[lang] = _money_in([shown[c][i] for c in ("pilot-card-gain", "pilot-card-npv") for i in (0, 2)], lang)
    assert by_lang["ru"] == by_lang["kk"] == by_lang["en"] and len(by_lang["en"]) == 6
