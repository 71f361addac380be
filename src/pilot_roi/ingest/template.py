"""A ready-to-fill XLSX workbook for one subsidiary: a data sheet, its codes and units, instructions in ru/kk/en."""

from __future__ import annotations

from pathlib import Path

import duckdb
import xlsxwriter

from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.i18n import frequency_word
from pilot_roi.resources import read_sql

#: Header of the data sheet per language (each is an alias the reader recognises).
HEADERS = {
    "ru": ("Код объекта", "Код показателя", "Дата", "Значение", "Ед. изм.", "Комментарий"),
    "kk": ("Нысан коды", "Көрсеткіш коды", "Күні", "Мәні", "Өлш. бірл.", "Түсініктеме"),
    "en": ("site_code", "metric_code", "period", "value", "unit", "comment"),
}
_SHEETS = {
    "ru": ("Данные", "Инструкция", "Справочник"),
    "kk": ("Деректер", "Нұсқаулық", "Анықтамалық"),
    "en": ("Data", "Instructions", "Codes"),
}
_ROWS = 5000

INSTRUCTIONS = {
    "ru": [
        "Как заполнить",
        "1. Заполняйте лист «{data}»: одна строка — один объект, один показатель, одна дата.",
        "2. Коды объектов и показателей выбирайте из списка (лист «{codes}»).",
        "3. Дата: ДД.ММ.ГГГГ. Месячные показатели — первое число месяца, квартальные — первый день квартала, "
        "годовые — 1 января, недельные — понедельник.",
        "4. Значение — число в единице показателя; можно указать другую единицу в столбце «Ед. изм.» "
        "(например, тыс. т вместо т) — она будет пересчитана. Проценты (95,5%) читаются так, как их показывает "
        "Excel: 95,5 для показателя в %.",
        "5. Загрузите файл: pilot-roi ingest ФАЙЛ.xlsx или страница «Загрузка». Ошибочный файл не загружается "
        "целиком; в отчёте будут указаны строка, столбец и причина.",
    ],
    "kk": [
        "Қалай толтыру керек",
        "1. «{data}» парағын толтырыңыз: бір жол — бір нысан, бір көрсеткіш, бір күн.",
        "2. Нысан мен көрсеткіш кодтарын тізімнен таңдаңыз («{codes}» парағы).",
        "3. Күні: КК.АА.ЖЖЖЖ. Айлық көрсеткіштер — айдың бірінші күні, тоқсандық — тоқсанның бірінші күні, "
        "жылдық — 1 қаңтар, апталық — дүйсенбі.",
        "4. Мәні — көрсеткіш бірлігіндегі сан; «Өлш. бірл.» бағанында басқа бірлікті көрсетуге болады "
        "(мысалы, т орнына мың т) — ол қайта есептеледі. Пайыздар (95,5%) Excel көрсеткендей оқылады: "
        "% өлшенетін көрсеткіш үшін 95,5.",
        "5. Файлды жүктеңіз: pilot-roi ingest ФАЙЛ.xlsx немесе «Жүктеу» беті. Қатесі бар файл толық жүктелмейді; "
        "есепте жол, баған және себеп көрсетіледі.",
    ],
    "en": [
        "How to fill in",
        "1. Fill in the sheet '{data}': one row per site, metric and date.",
        "2. Pick site and metric codes from the lists (sheet '{codes}').",
        "3. Date: dd.mm.yyyy. Monthly metrics: the first day of the month; quarterly: the first day of the quarter; "
        "yearly: 1 January; weekly: the Monday.",
        "4. Value: a number in the metric's unit; another unit may be given in the unit column (e.g. kt instead of "
        "t) and is converted. Percentages (95.5%) are read as Excel shows them: 95.5 for a metric kept in %.",
        "5. Upload: pilot-roi ingest FILE.xlsx or the Upload page. A file with errors is not loaded at all; the "
        "report names the line, the column and the reason.",
    ],
}


def write_template(con: duckdb.DuckDBPyConnection, subsidiary: str, out: str | Path, *, lang: str = "ru") -> Path:
    """Write the template workbook for `subsidiary` to `out`; InvalidInput if the subsidiary is unknown.

    Sheets: data (headers in `lang`, drop-down lists of the subsidiary's sites and all metrics, date and number
    validation), instructions (ru, kk and en), codes (sites with names, metrics with unit and frequency).
    """
    lang = lang if lang in HEADERS else "ru"
    known = con.execute(read_sql("ingest/template_subsidiary.sql"), {"subsidiary": subsidiary}).fetchall()
    if not known:
        raise InvalidInput([Problem("template.unknown_subsidiary", params={"value": subsidiary})])
    sites = con.execute(read_sql("ingest/template_sites.sql"), {"subsidiary": subsidiary}).fetchall()
    metrics = con.execute(read_sql("ingest/template_metrics.sql")).fetchall()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    data_name, help_name, codes_name = _SHEETS[lang]
    workbook = xlsxwriter.Workbook(str(out))
    try:
        bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        date_fmt = workbook.add_format({"num_format": "dd.mm.yyyy"})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        data = workbook.add_worksheet(data_name)
        data.write_row(0, 0, HEADERS[lang], bold)
        data.set_column(0, 1, 22)
        data.set_column(2, 2, 12, date_fmt)
        data.set_column(3, 4, 14)
        data.set_column(5, 5, 40)
        data.freeze_panes(1, 0)
        codes = workbook.add_worksheet(codes_name)
        site_head = {"ru": ("Объекты", "Название"), "kk": ("Нысандар", "Атауы"), "en": ("Sites", "Name")}[lang]
        metric_head = {
            "ru": ("Показатели", "Название", "Ед.", "Периодичность"),
            "kk": ("Көрсеткіштер", "Атауы", "Бірл.", "Кезеңділік"),
            "en": ("Metrics", "Name", "Unit", "Frequency"),
        }[lang]
        codes.write_row(0, 0, site_head, bold)
        for row, (code, name_ru, name_kk, name_en) in enumerate(sites, start=1):
            codes.write_row(row, 0, (code, {"ru": name_ru, "kk": name_kk, "en": name_en}[lang]))
        codes.write_row(0, 3, metric_head, bold)
        for row, (code, name_ru, name_kk, name_en, unit, frequency) in enumerate(metrics, start=1):
            name = {"ru": name_ru, "kk": name_kk, "en": name_en}[lang]
            codes.write_row(row, 3, (code, name, unit, frequency_word(frequency, lang)))
        codes.set_column(0, 6, 22)
        if sites:
            data.data_validation(
                1, 0, _ROWS, 0, {"validate": "list", "source": f"='{codes_name}'!$A$2:$A${len(sites) + 1}"}
            )
        if metrics:
            data.data_validation(
                1, 1, _ROWS, 1, {"validate": "list", "source": f"='{codes_name}'!$D$2:$D${len(metrics) + 1}"}
            )
        data.data_validation(1, 2, _ROWS, 2, {"validate": "date", "criteria": ">=", "value": _date(2000, 1, 1)})
        data.data_validation(
            1, 3, _ROWS, 3, {"validate": "decimal", "criteria": "between", "minimum": -1e15, "maximum": 1e15}
        )
        help_sheet = workbook.add_worksheet(help_name)
        help_sheet.set_column(0, 0, 110, wrap)
        row = 0
        for language in (lang, *(x for x in ("ru", "kk", "en") if x != lang)):
            names = _SHEETS[lang]
            for index, text in enumerate(INSTRUCTIONS[language]):
                help_sheet.write(row, 0, text.format(data=names[0], codes=names[2]), bold if index == 0 else wrap)
                row += 1
            row += 1
    finally:
        workbook.close()
    return out


def _date(year: int, month: int, day: int) -> object:
    from datetime import date

    return date(year, month, day)
