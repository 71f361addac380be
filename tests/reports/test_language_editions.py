"""The ru, kk and en editions of the year-end report say the same thing: an auditor reading them side by side
finds the same figures, only the words (and the locale's number formatting) differ.

Checked on the real demo warehouse (`pilot-roi demo`: generator, ingestion, runner, estimators), year 2025:
- XLSX: same sheets in the same order, same shape, every numeric cell identical; CSV: same shape, every numeric
  or empty cell identical.
- PDF (text read back with pdftotext, page headers and footers cropped away): per section, the same multiset of
  numbers once the locale's formatting is undone (decimal mark, grouping, "млрд"/"bn" scales, %, ₸); the same
  contents; sane page counts; no message key and no catalogue English in the ru/kk editions; the Kazakh letters
  come out as letters from embedded DejaVu fonts that have their glyphs.
- A frozen report read back renders exactly as the report that was frozen, and its numbers are the draft's.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pilot_roi.i18n import catalog, t
from pilot_roi.reports import RENDERERS, YearReport, freeze_report, load_report
from pilot_roi.reports.tables import all_tables
from pilot_roi.reports.to_pdf import _Fmt, build_html
from pilot_roi.warehouse import connect

pytestmark = pytest.mark.slow

LANGS = ("ru", "kk", "en")
YEAR = 2025
KAZAKH = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"

# A4 in points; the page margins (16 mm top, 18 mm bottom) hold the running title, demo mark, status and page
# number, which repeat per page and so differ in count between editions of different lengths.
_BODY_CROP = ["-x", "0", "-y", "46", "-W", "595", "-H", "744"]
_SCALES = {
    "ru": {"трлн": 1e12, "млрд": 1e9, "млн": 1e6, "тыс.": 1e3},
    "kk": {"трлн": 1e12, "млрд": 1e9, "млн": 1e6, "мың": 1e3},
    "en": {"T": 1e12, "bn": 1e9, "M": 1e6, "k": 1e3},
}
_DECIMAL = {"ru": ",", "kk": ",", "en": "."}
_GROUP = {"ru": "[ \u00a0\u202f]", "kk": "[ \u00a0\u202f]", "en": ","}
_TOC_LINE = re.compile(r"\.{4,}\s*(\d+)\s*$", re.M)
# Sections that print machine records as stored (versions, parameters JSON, audit details): compared digit by digit.
_RECORD_SECTIONS = ("reproducibility", "audit")


def _number_pattern(lang: str) -> re.Pattern[str]:
    dec, grp = re.escape(_DECIMAL[lang]), _GROUP[lang]
    number = rf"-?\d{{1,3}}(?:{grp}\d{{3}})+(?:{dec}\d+)?|-?\d+(?:{dec}\d+)?"
    scales = "|".join(re.escape(w) for w in sorted(_SCALES[lang], key=len, reverse=True))
    # not inside a word or after a decimal mark of either convention: "KMG-PM-03" gives 3 in every edition,
    # and a "0.0001" in a ru text gives 0, which will not match the en edition's 0.0001
    return re.compile(rf"(?<![\w.,])((?:{number})(?:e[-+]\d+)?)(?:[ \u00a0]?({scales})[ \u00a0]?₸)?")


def numbers(text: str, lang: str) -> list[float]:
    """Every number in `text` as the reader of `lang` reads it, scales applied ("1,2 млрд ₸" is 1.2e9)."""
    out = []
    for m in _number_pattern(lang).finditer(text):
        raw, scale = m.group(1), m.group(2)
        plain = re.sub(_GROUP[lang], "", raw).replace(_DECIMAL[lang], ".")
        value = float(plain) * (_SCALES[lang][scale] if scale else 1.0)
        out.append(round(value, 6))
    return out


def test_numbers_undo_each_locale() -> None:
    assert numbers("18,2 млрд ₸ (95% ДИ: 10,4 млрд ₸ … -487,0 млн ₸); 1 234,5 т; 155,4 %", "ru") == [
        18.2e9, 95.0, 10.4e9, -487.0e6, 1234.5, 155.4,
    ]  # fmt: skip
    assert numbers("18.2 bn ₸ (95% CI: 10.4 bn ₸ … -487.0 M ₸); 1,234.5 t; 155.4%", "en") == [
        18.2e9, 95.0, 10.4e9, -487.0e6, 1234.5, 155.4,
    ]  # fmt: skip
    assert numbers("12,5 мың ₸; 3,55e-02", "kk") == [12.5e3, 0.0355]
    assert numbers("< 0.0001", "ru") != numbers("< 0.0001", "en")  # a dot in a ru text is not its decimal mark


@pytest.mark.parametrize(
    ("lang", "p", "small"),
    [("ru", "< 0,0001", "3,55e-02"), ("kk", "< 0,0001", "3,55e-02"), ("en", "< 0.0001", "3.55e-02")],
)
def test_pdf_writes_tiny_numbers_in_the_readers_format(lang: str, p: str, small: str) -> None:
    """A p below 0.0001 and an effect too small for two decimals keep the reader's decimal mark (they were
    written "< 0.0001" and "3.55e-02" in every edition)."""
    fmt = _Fmt(lang)
    assert fmt.p(3e-7) == p
    assert fmt.num(0.0355) == small
    assert fmt.num(-0.0355) == "-" + small


# --- the editions -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pilot_roi.demo.build import build_demo

    path = tmp_path_factory.mktemp("lang") / "demo.duckdb"
    build_demo(path, estimates=True)
    return path


@pytest.fixture(scope="module")
def demo_report(demo: Path) -> YearReport:
    con = connect(demo, read_only=True)
    try:
        return load_report(con, YEAR)
    finally:
        con.close()


@pytest.fixture(scope="module")
def editions(demo_report: YearReport, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every format in every language, as `pilot-roi report` writes them."""
    folder = tmp_path_factory.mktemp("editions")
    out = {}
    for fmt in ("xlsx", "csv", "pdf"):
        for lang in LANGS:
            out[fmt, lang] = folder / f"report_{lang}.{fmt}"
            RENDERERS[fmt](demo_report, lang, out[fmt, lang])
    return out


def _sheets(path: Path) -> list[tuple[str, list[tuple[object, ...]]]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [(ws.title, list(ws.iter_rows(values_only=True))) for ws in wb.worksheets]
    finally:
        wb.close()


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def test_xlsx_figures_are_the_same_in_every_language(editions: dict[tuple[str, str], Path]) -> None:
    en = _sheets(editions["xlsx", "en"])
    assert len(en) == 16 and sum(len(rows) for _, rows in en) > 1000  # the demo fills every sheet
    for lang in ("ru", "kk"):
        other = _sheets(editions["xlsx", lang])
        assert [len(rows) for _, rows in other] == [len(rows) for _, rows in en], lang
        for (title, rows), (_, en_rows) in zip(other, en, strict=True):
            for i, (row, en_row) in enumerate(zip(rows, en_rows, strict=True)):
                assert len(row) == len(en_row), (lang, title, i)
                for j, (cell, en_cell) in enumerate(zip(row, en_row, strict=True)):
                    if _is_number(cell) or _is_number(en_cell) or cell is None or en_cell is None:
                        assert cell == en_cell and type(cell) is type(en_cell), (lang, title, i, j, cell, en_cell)


def test_csv_figures_are_the_same_in_every_language(editions: dict[tuple[str, str], Path]) -> None:
    def rows(lang: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(editions["csv", lang].read_text(encoding="utf-8-sig"))))

    def numeric(text: str) -> bool:
        try:
            float(text)
        except ValueError:
            return False
        return True

    en = rows("en")
    assert len(en) > 10
    for lang in ("ru", "kk"):
        other = rows(lang)
        assert [len(r) for r in other] == [len(r) for r in en], lang
        for i, (row, en_row) in enumerate(zip(other[1:], en[1:], strict=True), start=1):
            for j, (cell, en_cell) in enumerate(zip(row, en_row, strict=True)):
                if numeric(cell) or numeric(en_cell) or not cell or not en_cell:
                    assert cell == en_cell, (lang, i, en[0][j], cell, en_cell)


# --- the PDF ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_pages(editions: dict[tuple[str, str], Path]) -> dict[str, list[str]]:
    """Each edition's page bodies as pdftotext reads them (running headers and footers cropped)."""
    out = {}
    for lang in LANGS:
        text = subprocess.run(
            ["pdftotext", *_BODY_CROP, str(editions["pdf", lang]), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        out[lang] = text.split("\f")[:-1]  # pdftotext ends every page with a form feed
    return out


def _sections(pages: list[str]) -> list[tuple[str, str]]:
    """(name, text) per contents entry, from the contents' page numbers; the contents page itself first.

    Names are positional ("summary", "by_subsidiary", "by_use_case", "pilots", "pilot 1" …, then the tail) so that
    the editions line up whatever their words.
    """
    toc = pages[0]
    starts = [int(n) for n in _TOC_LINE.findall(toc)]
    assert starts == sorted(starts) and starts[0] == 2, starts
    n_pilots = len(starts) - 8
    names = ["summary", "by_subsidiary", "by_use_case", "pilots"]
    names += [f"pilot {i}" for i in range(1, n_pilots + 1)]
    names += ["methodology", "lineage", "reproducibility", "audit"]
    bounds = [*starts, len(pages) + 1]
    out = [("contents", _TOC_LINE.sub("", toc))]
    for name, start, end in zip(names, bounds, bounds[1:], strict=False):
        out.append((name, "\n".join(pages[start - 1 : end - 1])))
    return out


def test_pdf_sections_and_page_counts_are_sane(pdf_pages: dict[str, list[str]], demo_report: YearReport) -> None:
    lengths = {}
    for lang in LANGS:
        starts = [int(n) for n in _TOC_LINE.findall(pdf_pages[lang][0])]
        assert len(starts) == 8 + len(demo_report.pilots), lang  # every section and every pilot in the contents
        lengths[lang] = [b - a for a, b in zip(starts, [*starts[1:], len(pdf_pages[lang]) + 1], strict=True)]
        # every section and pilot opens a page; the "Pilots" heading (after the 3 opening sections) shares the first
        # pilot's page, so its entry spans no page of its own
        assert lengths[lang][3] == 0 and all(n >= 1 for i, n in enumerate(lengths[lang]) if i != 3), (lang, lengths)
        assert all(n <= 4 for n in lengths[lang][4:-4]), (lang, lengths[lang])  # one pilot: a few pages
    for lang in ("ru", "kk"):
        # Cyrillic words are longer and wrap more: a section may take one page more or less, never many.
        assert all(abs(a - b) <= 1 for a, b in zip(lengths[lang], lengths["en"], strict=True)), (lang, lengths)
        assert abs(len(pdf_pages[lang]) - len(pdf_pages["en"])) <= 0.15 * len(pdf_pages["en"]), lang


def _unlabelled(text: str, lang: str) -> str:
    """`text` without the "95% CI" label: a words' label, not a figure, and a table split over two pages repeats its
    header (with the label) on the second, so the count of labels depends on where each edition's pages break."""
    label = r"\s+".join(re.escape(word) for word in t("report.ci95", lang).split())
    return re.sub(label, " ", text)


def test_pdf_figures_are_the_same_in_every_language(pdf_pages: dict[str, list[str]]) -> None:
    en = _sections(pdf_pages["en"])
    assert sum(len(numbers(text, "en")) for _, text in en) > 2000
    for lang in ("ru", "kk"):
        other = _sections(pdf_pages[lang])
        assert [name for name, _ in other] == [name for name, _ in en], lang
        for (name, text), (_, en_text) in zip(other, en, strict=True):
            if name in _RECORD_SECTIONS:
                got, want = Counter(re.findall(r"\d+", text)), Counter(re.findall(r"\d+", en_text))
            else:
                got, want = (
                    Counter(numbers(_unlabelled(text, lang), lang)),
                    Counter(numbers(_unlabelled(en_text, "en"), "en")),
                )
            assert got == want, (lang, name, {"only here": got - want, "only in en": want - got})


_KEY = re.compile(
    r"\b(?:report|dash|estimation|estimate|grade|unit|ingest|core|demo|method)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*"
)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_pdf_shows_no_message_key(pdf_pages: dict[str, list[str]]) -> None:
    keys = set(catalog())
    for lang in LANGS:
        text = "\n".join(pdf_pages[lang])
        found = {k for k in _KEY.findall(text) if k in keys or k.count(".") >= 2}
        assert not found, (lang, found)


def _english_phrases() -> set[str]:
    """Literal stretches (20+ characters) of English messages that the ru and kk messages do not share."""
    out = set()
    for texts in catalog().values():
        en = texts.get("en") or ""
        for chunk in re.split(r"\{[^}]*\}", en):
            chunk = _flat(chunk)
            if (
                len(chunk) >= 20
                and re.search(r"[a-z]{3}", chunk)
                and all(chunk not in (texts.get(lang) or "") for lang in ("ru", "kk"))
            ):
                out.add(chunk)
    return out


def test_ru_and_kk_pdfs_show_no_catalogue_english(pdf_pages: dict[str, list[str]]) -> None:
    phrases = _english_phrases()
    assert len(phrases) > 100
    for lang in ("ru", "kk"):
        text = _flat("\n".join(pdf_pages[lang]))
        assert not [p for p in phrases if p in text], lang


def _pdffonts(path: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def test_kazakh_letters_render_from_embedded_fonts(
    editions: dict[tuple[str, str], Path], pdf_pages: dict[str, list[str]], demo_report: YearReport
) -> None:
    from fontTools.ttLib import TTFont

    html = re.sub(r"<[^>]+>", " ", build_html(demo_report, "kk"))
    wanted = {c for c in KAZAKH if c in html}
    assert len(wanted) >= 8  # the kk edition uses (almost) every Kazakh letter
    text = "\n".join(pdf_pages["kk"])
    assert {c for c in KAZAKH if c in text} >= wanted  # read back as letters, not lost or replaced
    # Every font is embedded and is DejaVu (a missing glyph would pull in a fallback font or draw a box) ...
    fonts = _pdffonts(editions["pdf", "kk"])
    assert fonts and all("DejaVu" in f[0] and f[-5] == "yes" for f in fonts), fonts
    # ... and the DejaVu faces used have a glyph for every Kazakh letter, һ included (the demo text has none).
    for face in ("DejaVu Sans", "DejaVu Sans:bold"):
        file = subprocess.run(["fc-match", "-f", "%{file}", face], check=True, capture_output=True, text=True).stdout
        cmap = TTFont(file).getBestCmap()
        assert all(ord(c) in cmap for c in KAZAKH), (face, file)


# --- freezing -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def frozen(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[YearReport, YearReport, YearReport]]:
    """(draft before the freeze, the report the freeze returned, the frozen report read back) on a copy."""
    path = tmp_path_factory.mktemp("frozen") / "demo.duckdb"
    shutil.copyfile(demo, path)
    con: duckdb.DuckDBPyConnection = connect(path)
    try:
        draft = load_report(con, YEAR)
        made = freeze_report(con, YEAR, username="test.reviewer")
        back = load_report(con, YEAR)
        yield draft, made, back
    finally:
        con.close()


def _outputs(report: YearReport, lang: str, folder: Path) -> tuple[object, ...]:
    xlsx, csv_path = folder / f"r_{lang}.xlsx", folder / f"r_{lang}.csv"
    RENDERERS["xlsx"](report, lang, xlsx)
    RENDERERS["csv"](report, lang, csv_path)
    return _sheets(xlsx), csv_path.read_bytes(), build_html(report, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_a_frozen_report_reads_back_as_frozen(
    frozen: tuple[YearReport, YearReport, YearReport], lang: str, tmp_path: Path
) -> None:
    draft, made, back = frozen
    assert back.reproducibility.frozen and back.reproducibility.run_id == draft.reproducibility.run_id
    (tmp_path / "made").mkdir()
    (tmp_path / "back").mkdir()
    assert _outputs(back, lang, tmp_path / "back") == _outputs(made, lang, tmp_path / "made")
    # ... and the freeze changed no figure: only the freeze's own record differs from the draft.
    unfrozen = dataclasses.replace(back, reproducibility=draft.reproducibility)
    assert all_tables(unfrozen, lang) == all_tables(draft, lang)


def test_a_frozen_pdf_reads_the_same_as_before(
    frozen: tuple[YearReport, YearReport, YearReport], tmp_path: Path
) -> None:
    """The PDF (kk: the longest words) of the read-back report has the same text as the one frozen."""
    _, made, back = frozen
    texts = []
    for name, report in (("made", made), ("back", back)):
        RENDERERS["pdf"](report, "kk", tmp_path / f"{name}.pdf")
        texts.append(
            subprocess.run(
                ["pdftotext", str(tmp_path / f"{name}.pdf"), "-"], check=True, capture_output=True, text=True
            ).stdout
        )
    assert texts[0] == texts[1]
