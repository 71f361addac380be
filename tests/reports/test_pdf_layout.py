"""The PDF as a reader sees it, read back from the real file (pdftotext, with word boxes where layout matters).

- No word is printed over another: narrow table headers ("Неблагоприятных" over "Доказанный годовой эффект") and
  file names in the lineage table (printed across the SHA-256 beside them) wrap inside their cell.
- A table row is never split over two pages (the label on one, its value on the next).
- Sentences of the summary are separated; the robustness table's "*" is explained; the annual gain's terms say
  the sign they multiply by, so that "effect -21.34 t ... = +856.9 M ₸" can be recomputed.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest

from pilot_roi.i18n import t
from pilot_roi.reports import RENDERERS, YearReport
from pilot_roi.reports.model import MethodRow

PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def _run(*args: str) -> str:
    if not Path(PDFTOTEXT).exists():
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run([PDFTOTEXT, *args], capture_output=True, text=True, check=True).stdout


def _pages(path: Path) -> list[str]:
    return _run(str(path), "-").split("\f")[:-1]


def _flat(text: str) -> str:
    return " ".join(text.split())


def overlapping_words(path: Path) -> list[tuple[int, str, str]]:
    """(page, word, word) for every two words whose boxes overlap: one printed over the other."""
    found = []
    pages = _run("-bbox", str(path), "-").split("<page ")[1:]
    for number, page in enumerate(pages, start=1):
        words = [(float(a), float(b), float(c), float(d), unescape(w)) for a, b, c, d, w in _WORD.findall(page)]
        for i, one in enumerate(words):
            for other in words[i + 1 :]:
                across = min(one[2], other[2]) - max(one[0], other[0])
                down = min(one[3], other[3]) - max(one[1], other[1])
                # half a line of vertical overlap: lines that merely touch are fine
                if across > 0.5 and down > 0.5 * min(one[3] - one[1], other[3] - other[1]):
                    found.append((number, one[4], other[4]))
    return found


@pytest.fixture(scope="module")
def pdfs(report: YearReport, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("layout")
    out = {}
    for lang in ("ru", "kk", "en"):
        out[lang] = folder / f"report_{lang}.pdf"
        RENDERERS["pdf"](report, lang, out[lang])
    return out


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_no_word_is_printed_over_another(pdfs: dict[str, Path], lang: str):
    assert overlapping_words(pdfs[lang]) == []


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_table_row_stays_on_one_page(report: YearReport, pdfs: dict[str, Path], lang: str):
    """The source-files row of each metric (the longest label, the last row of its table): label and files together."""
    label = _flat(t("report.pilot.sources", lang))
    pages = [_flat(page) for page in _pages(pdfs[lang])]
    seen = 0
    for page in pages:
        for match in re.finditer(re.escape(label), page):
            seen += 1
            assert page[match.end() :].lstrip().startswith("№"), page[match.start() : match.end() + 80]
    assert seen == sum(1 for p in report.pilots for m in p.metrics if m.sources)


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_summary_sentences_are_separated(report: YearReport, pdfs: dict[str, Path], lang: str):
    text = _flat("".join(_pages(pdfs[lang])))
    counts = t("report.kpi.pilots", lang, pilots=report.summary.n_pilots, estimates=report.summary.n_estimates)
    assert f"{counts}. {t('report.only_demonstrated', lang)}" in text


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_annual_gains_terms_state_their_sign(report: YearReport, pdfs: dict[str, Path], lang: str):
    text = _flat("".join(_pages(pdfs[lang])))
    directions = {m.higher_is_better for p in report.pilots for m in p.metrics if m.effect is not None}
    assert directions == {True, False}  # the fixture has both
    for key in ("report.pilot.direction_up", "report.pilot.direction_down"):
        assert _flat(t(key, lang)) in text, key


def test_the_robustness_tables_star_is_explained(report: YearReport, tmp_path: Path):
    """The primary method carries a "*" in the robustness table; the PDF never said what it meant."""
    pilot = next(p for p in report.pilots if any(m.effect is not None for m in p.metrics))
    metric = next(m for m in pilot.metrics if m.effect is not None)
    other = MethodRow("its", False, "ok", None, 1.0, 0.5, 0.0, 2.0, 0.05, 1.0)
    checked = dataclasses.replace(metric, robustness=(*metric.robustness, other))
    pilots = tuple(
        dataclasses.replace(p, metrics=tuple(checked if m is metric else m for m in p.metrics)) if p is pilot else p
        for p in report.pilots
    )
    out = tmp_path / "r.pdf"
    RENDERERS["pdf"](dataclasses.replace(report, pilots=pilots), "ru", out)
    text = _flat("".join(_pages(out)))
    assert re.search(r"\S \*", text)  # the mark is there
    assert _flat(t("report.pilot.robustness_caption", "ru")) in text


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_methodology_says_a_metrics_npv_carries_the_whole_pilots_costs(
    report: YearReport, pdfs: dict[str, Path], lang: str
):
    """A two-metric pilot shows each metric's NPV with the pilot's whole costs, and the pilot's NPV with them once: the
    metrics' NPVs do not add up to the pilot's, and the report never said why."""
    pilot = next(p for p in report.pilots if sum(m.npv is not None for m in p.metrics) >= 2)
    metric_npvs = sum(m.npv.value for m in pilot.metrics if m.npv is not None)
    assert metric_npvs != pytest.approx(pilot.npv, rel=1e-3)
    text = _flat("".join(_pages(pdfs[lang])))
    sentence = {
        "ru": "ЧПС, ROI и окупаемость одного показателя относят все затраты пилота к эффекту этого показателя",
        "kk": "Бір көрсеткіштің ТКҚ, ROI және өтелу мерзімі пилоттың барлық шығынын осы көрсеткіштің әсеріне жатқызады",
        "en": "One metric's NPV, ROI and payback set the pilot's whole costs against that metric's gain alone",
    }[lang]
    assert sentence in text
