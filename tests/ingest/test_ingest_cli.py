"""`pilot-roi ingest` and `pilot-roi template` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from ingest_helpers import current

from pilot_roi.cli import main
from pilot_roi.i18n import t
from pilot_roi.warehouse import connect

GOOD = "site_code;metric_code;period;value\nKMG-ANPZ;energy_gj;2025-03-01;1,5\nKMG-PNHZ;output_t;2025-03-01;7\n"
BAD = GOOD + "KMG-ANPZ;energy_gj;2025-03-02;x\n"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_json_report_is_exactly_the_product_contract(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    code, report = run_json(capsys, "ingest", str(path), "--warehouse", str(reg_path), "--lang", "en")
    assert code == 1
    assert list(report) == [
        "status", "rows_read", "rows_inserted", "rows_updated", "rows_unchanged", "rows_rejected", "errors",
    ]  # fmt: skip
    assert report["status"] == "rejected" and report["rows_rejected"] == 1
    assert report["errors"] == [{"line": 4, "column": "value", "value": "x", "message": "'x' is not a number"}]


def test_exit_codes_dry_run_skip_invalid_and_idempotence(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")
    wh = ("--warehouse", str(reg_path))
    code, dry = run_json(capsys, "ingest", str(good), "--dry-run", *wh)
    assert (code, dry["status"], dry["rows_inserted"]) == (0, "loaded", 2)
    con = connect(reg_path, read_only=True)
    assert current(con) == [] and con.execute("SELECT count(*) FROM upload_log").fetchone() == (0,)
    con.close()
    code, skip = run_json(capsys, "ingest", str(bad), "--skip-invalid", *wh)
    assert (code, skip["status"], skip["rows_inserted"], skip["rows_rejected"]) == (0, "loaded", 2, 1)
    code, again = run_json(capsys, "ingest", str(good), *wh)
    assert (code, again["status"], again["rows_unchanged"]) == (0, "unchanged", 2)
    assert main(["ingest", str(bad), *wh, "--lang", "ru"]) == 1
    err = capsys.readouterr().err
    assert "строка 4" in err and "не число" in err
    assert main(["ingest", "--no-such-flag", *wh]) == 2
    assert "pilot-roi ingest --help" in capsys.readouterr().err
    assert main(["ingest", str(tmp_path / "missing.csv"), *wh]) == 1


def test_busy_message_when_the_warehouse_is_missing_or_busy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "good.csv"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["ingest", str(path), "--warehouse", str(tmp_path / "none.duckdb")]) == 1
    assert "pilot-roi init" in capsys.readouterr().err


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_template_filled_in_loads(
    reg_path: Path, tmp_path: Path, lang: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"template_{lang}.xlsx"
    assert main(["template", "--subsidiary", "KMG", "--out", str(out), "--warehouse", str(reg_path),
                 "--lang", lang]) == 0  # fmt: skip
    assert str(out) in capsys.readouterr().out
    book = openpyxl.load_workbook(out)
    data = book.worksheets[0]
    codes = book.worksheets[1]
    site_codes = [c.value for c in codes["A"][1:] if c.value]
    assert site_codes == ["KMG-ANPZ", "KMG-PNHZ"]
    assert {"energy_gj", "output_t"} <= {c.value for c in codes["D"][1:]}
    frequency = {row[0].value: row[3].value for row in codes.iter_rows(min_row=2, min_col=4, max_col=7) if row[0].value}
    assert frequency["energy_gj"] == t("dash.admin.form.frequency.daily", lang)  # in words: "ежедневно", not "daily"
    assert frequency["output_t"] == t("dash.admin.form.frequency.monthly", lang)
    instructions = " ".join(str(c.value) for c in book.worksheets[2]["A"] if c.value)
    assert "Как заполнить" in instructions and "Қалай толтыру" in instructions and "How to fill in" in instructions
    data.append(["KMG-ANPZ", "energy_gj", "01.03.2025", 1.5, "ГДж", "из шаблона"])
    data.append(["KMG-PNHZ", "output_t", "01.03.2025", 2, "кт", None])
    book.save(out)
    code, report = run_json(capsys, "ingest", str(out), "--warehouse", str(reg_path))
    assert (code, report["status"], report["rows_inserted"]) == (0, "loaded", 2), report
    con = connect(reg_path, read_only=True)
    assert [r[3] for r in current(con)] == [1.5, 2000.0]
    con.close()


def test_template_unknown_subsidiary(reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["template", "--subsidiary", "NOPE", "--out", str(tmp_path / "t.xlsx"), "--warehouse", str(reg_path)])
    assert code == 1
    assert "NOPE" in capsys.readouterr().err


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_template_out_must_be_a_workbook(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    # before: an XLSX was written under the .csv name, which no tool then opens as a CSV
    out = tmp_path / "t.csv"
    code = main(["template", "--subsidiary", "KMG", "--out", str(out), "--warehouse", str(reg_path), "--lang", lang])
    assert code == 1 and not out.exists()
    assert t("template.out_not_xlsx", lang, path=str(out), name="t") in capsys.readouterr().err
