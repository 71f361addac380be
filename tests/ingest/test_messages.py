"""Every message key the ingestion code uses exists in ru, kk and en, and renders with its placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pilot_roi.i18n import catalog, t

SOURCES = Path(__file__).resolve().parents[2] / "src" / "pilot_roi"
FILES = [
    *sorted((SOURCES / "ingest").glob("*.py")),
    SOURCES / "commands" / "ingest.py",
    SOURCES / "commands" / "template.py",
]
KEYS = sorted(
    {
        key.rstrip(".")
        for path in FILES
        for key in re.findall(r"\"((?:ingest|template)\.[a-z_.]+)\"", path.read_text(encoding="utf-8"))
    }
)
FREQUENCIES = ("weekly", "monthly", "quarterly", "yearly")
STATUSES = ("loaded", "unchanged", "rejected")


def all_keys() -> list[str]:
    dynamic = [f"ingest.period_not_{f}" for f in FREQUENCIES] + [f"ingest.status.{s}" for s in STATUSES]
    return sorted({k for k in KEYS if not k.endswith(("_", ".")) and k != "ingest.status"} | set(dynamic))


@pytest.mark.parametrize("key", all_keys())
def test_key_has_three_languages(key: str) -> None:
    texts = catalog().get(key)
    assert texts is not None, key
    assert set(texts) >= {"ru", "kk", "en"}
    for lang in ("ru", "kk", "en"):
        rendered = t(key, lang, value="V", detail="D", column="C", line=7, path="P", allowed="A", columns="X",
                     count=2, lines="1, 2", stored=1, total=3, sheet="S", considered="S, T", encoding="E",
                     delimiter=";", file="F", status="st", rows_read=1, rows_inserted=1, rows_updated=0,
                     rows_unchanged=0, rows_rejected=0, where="", message="M", folder="G", example="E",
                     today="2026-11-28", name="N")  # fmt: skip
        assert "{" not in rendered, (key, lang, rendered)
