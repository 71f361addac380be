"""Fast unit tests of the pure figure builders and UI text (no warehouse, no browser)."""

from __future__ import annotations

import json
from datetime import date

import plotly.utils
import polars as pl
import pytest
from dashboards.components import figures
from dashboards.components.ui import verdict

from pilot_roi.estimation.diagnostic_words import diagnostics_in_words
from pilot_roi.i18n import format_money, format_percent, t


def _portfolio_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "pilot_code": ["A-1", "B-2", "C-3", "D-4"],
            "pilot_name": ["Alpha", "Beta", "Gamma", "Delta"],
            "metric_name": ["Energy", "Output", "Rejects", "Downtime"],
            "effect_pct": [-4.2, 1.0, None, 12.0],
            "ci_low_pct": [-5.5, -0.5, None, 5.0],
            "ci_high_pct": [-2.9, 2.5, None, 19.0],
            "grade": ["demonstrated", "promising", "insufficient_data", "adverse"],
            "annual_gain_kzt": [310e6, 20e6, None, -50e6],
        }
    )


def _serialisable(fig: dict) -> dict:
    return json.loads(json.dumps(fig, cls=plotly.utils.PlotlyJSONEncoder))


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_forest_plot_one_trace_per_grade_with_pilot_links(lang: str) -> None:
    fig = _serialisable(figures.forest_plot(_portfolio_frame(), lang))
    *grades, labels = fig["data"]
    names = [trace["name"] for trace in grades]
    assert names == [figures.grade_label(g, lang) for g in ("demonstrated", "promising", "adverse")]
    by_name = {trace["name"]: trace for trace in grades}
    demonstrated = by_name[figures.grade_label("demonstrated", lang)]
    assert demonstrated["marker"]["color"] == figures.GRADE_COLORS["demonstrated"]
    assert demonstrated["customdata"] == [["A-1"]]
    assert demonstrated["error_x"]["array"] == pytest.approx([1.3])
    assert demonstrated["error_x"]["arrayminus"] == pytest.approx([1.3])
    assert format_money(310e6, lang) in demonstrated["hovertext"][0]
    # rows without a number (insufficient data) are left out, not drawn at zero
    assert sum(len(trace["x"]) for trace in grades) == 3
    assert not [text for text in labels["text"] if "C-3" in text]
    # one label a row, above its marker, sorted by effect: the largest on top (y counts down from the top)
    assert (labels["mode"], labels["showlegend"], labels["hoverinfo"]) == ("text", False, "skip")
    assert [text.split(" · ")[0] for text in labels["text"]] == ["D-4", "B-2", "A-1"]
    row_of = {trace["customdata"][0][0]: trace["y"][0] for trace in grades}
    assert row_of["D-4"] < row_of["B-2"] < row_of["A-1"]
    assert [y + 10 for y in labels["y"]] == [row_of[code] for code in ("D-4", "B-2", "A-1")]
    assert fig["layout"]["yaxis"]["range"][1] == 0 and not fig["layout"]["yaxis"]["showticklabels"]


def test_palette_is_distinct_and_symbols_differ() -> None:
    assert len(set(figures.GRADE_COLORS.values())) == len(figures.GRADE_ORDER)
    assert len(set(figures.GRADE_SYMBOLS.values())) == len(figures.GRADE_ORDER)


def test_empty_inputs_give_an_explaining_figure() -> None:
    empty = pl.DataFrame(schema={"pilot_code": pl.String, "effect_pct": pl.Float64})
    fig = figures.forest_plot(empty, "en")
    assert fig["data"] == []
    assert fig["layout"]["annotations"][0]["text"] == t("dash.empty.no_estimates", "en")
    # the page says why a filtered view is empty; estimates without a number are not "no estimates yet"
    said = figures.forest_plot(empty, "en", empty="Nothing here")["layout"]["annotations"][0]["text"]
    assert said == "Nothing here"
    no_number = _portfolio_frame().filter(pl.col("effect_pct").is_null())
    assert no_number.height == 1
    for message in (None, "Nothing here"):  # whatever the page passes: the frame has rows
        fig = figures.forest_plot(no_number, "en", empty=message)
        said = " ".join(fig["layout"]["annotations"][0]["text"].split("<br>"))  # wrapped to fit a phone
        assert fig["data"] == [] and said == t("dash.empty.no_effect", "en")
    bars = figures.gains_bar(pl.DataFrame(schema={"name": pl.String, "annual_gain_kzt": pl.Float64}), "name", "en")
    assert bars["layout"]["annotations"][0]["text"] == t("dash.empty.no_demonstrated", "en")
    months = pl.DataFrame(schema={"month": pl.Date, "cumulative_kzt": pl.Float64})
    cumulative = figures.cumulative_gain(months, "en")
    assert cumulative["layout"]["annotations"][0]["text"] == t("dash.empty.no_realized", "en")


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_an_empty_charts_message_wraps_to_fit_a_phone(lang: str) -> None:
    """A message longer than a phone's chart is wide (the filtered gains' "No demonstrated gains among the estimates
    that match the filters") ran off both sides: it now breaks into lines at spaces, every word kept."""
    message = t("dash.empty.no_demonstrated_match", lang)
    text = figures.empty_figure(message, lang=lang)["layout"]["annotations"][0]["text"]
    lines = text.split("<br>")
    assert len(lines) > 1 and " ".join(lines) == message
    assert all(len(line) <= figures.EMPTY_MESSAGE_CHARS for line in lines)


def test_gains_bar_and_cumulative() -> None:
    frame = pl.DataFrame({"name": ["KTZ", "KAP"], "annual_gain_kzt": [2.0e9, 0.5e9]})
    fig = _serialisable(figures.gains_bar(frame, "name", "ru"))
    assert fig["data"][0]["y"] == ["KTZ", "KAP"]
    assert fig["data"][0]["text"][0] == format_money(2.0e9, "ru")
    assert fig["layout"]["separators"] == ", "
    cumulative = pl.DataFrame({"month": [date(2025, 1, 1), date(2025, 2, 1)], "cumulative_kzt": [1.0, 3.0]})
    fig = _serialisable(figures.cumulative_gain(cumulative, "en"))
    assert fig["data"][0]["x"] == ["2025-01-01", "2025-02-01"]
    assert fig["data"][0]["y"] == [1.0, 3.0]


def test_counterfactual_chart_has_band_lines_and_go_live() -> None:
    frame = pl.DataFrame(
        {
            "period": [date(2025, m, 1) for m in range(1, 7)],
            "observed": [10.0, 10.0, 10.0, 9.0, 9.0, 9.0],
            "counterfactual": [10.0] * 6,
            "ci_low": [9.5] * 6,
            "ci_high": [10.5] * 6,
        }
    )
    fig = _serialisable(figures.counterfactual_chart(frame, date(2025, 4, 1), "GJ", "kk"))
    names = [trace.get("name") for trace in fig["data"]]
    assert t("dash.cf.observed", "kk") in names and t("dash.cf.counterfactual", "kk") in names
    assert t("dash.cf.band", "kk") in names
    assert fig["layout"]["shapes"][0]["x0"] == "2025-04-01"
    assert fig["layout"]["annotations"][0]["text"] == t("dash.cf.go_live", "kk")
    nothing = pl.lit(None, dtype=pl.Float64)
    no_band = frame.with_columns(nothing.alias("ci_low"), nothing.alias("ci_high"))
    assert len(figures.counterfactual_chart(no_band, None, "GJ", "en")["data"]) == 2


def test_event_study_splits_leads_and_lags() -> None:
    frame = pl.DataFrame(
        {
            "event_time": [-2, -1, 0, 1],
            "att": [0.1, -0.1, -1.0, -1.2],
            "se": [0.1] * 4,
            "ci_low": [-0.1, -0.3, -1.2, -1.4],
            "ci_high": [0.3, 0.1, -0.8, -1.0],
        }
    )
    fig = _serialisable(figures.event_study_chart(frame, "t", "en"))
    assert [trace["x"] for trace in fig["data"]] == [[-2, -1], [0, 1]]
    assert fig["data"][1]["error_y"]["array"] == pytest.approx([0.2, 0.2])


def test_coverage_heatmap_percentages() -> None:
    months = [date(2025, 1, 1), date(2025, 2, 1), date(2025, 1, 1)]
    frame = pl.DataFrame({"site_code": ["S1", "S1", "S2"], "month": months, "coverage": [1.0, 0.5, 0.25]})
    fig = _serialisable(figures.coverage_heatmap(frame, "en"))
    assert fig["data"][0]["y"] == ["S1", "S2"]
    assert fig["data"][0]["z"] == [[100.0, 50.0], [25.0, 0.0]]


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_verdict_in_plain_words(lang: str) -> None:
    row = {
        "metric_name": "Energy use",
        "status": "ok",
        "grade": "demonstrated",
        "effect": -42.0,
        "effect_pct": -4.2,
        "ci_low": -55.0,
        "ci_high": -29.0,
        "annual_gain_kzt": 310e6,
    }
    text = verdict(row, lang)
    assert format_percent(4.2, lang) in text
    assert format_money(310e6, lang) in text
    assert figures.grade_label("demonstrated", lang) in text
    assert "2,9" in text or "2.9" in text  # CI in percent, scaled like the point estimate
    if lang == "en":
        assert text == "Energy use fell 4.2% (95% CI 2.9–5.5%), worth 310.0 M ₸ a year: demonstrated."


def test_verdict_without_a_number_says_why() -> None:
    row = {"metric_name": "Output", "status": "insufficient_data", "reason": "no_controls"}
    assert t("dash.reason.no_controls", "en") in verdict(row, "en")


def test_diagnostics_in_words_mentions_pretrend_and_q() -> None:
    row = {"method": "did", "n_treated": 2, "n_controls": 5, "n_pre_periods": 24, "n_post_periods": 12,
           "pre_trend_p": 0.01, "p_value": 0.001, "q_value": 0.004, "diagnostics": '{"placebo_p": 0.5}'}  # fmt: skip
    lines = diagnostics_in_words(row, "en")
    assert any("Pre-go-live trends differ" in line for line in lines)
    assert any("q = 0.004" in line for line in lines)
    assert t("dash.diag.placebo_p", "en", value="0.500") in lines


def test_diagnostics_in_words_gives_the_method_reason_in_the_readers_language() -> None:
    facts = {"case": "no_controls", "n_treated": 6, "n_controls": 0, "n_cohorts": 3, "n_pre": 13,
             "frequency": "monthly", "few_treated": 5, "robustness": []}  # fmt: skip
    row = {"method": "its", "method_reason": "stored English sentence",
           "diagnostics": json.dumps({"method_choice": facts})}  # fmt: skip
    ru = " ".join(diagnostics_in_words(row, "ru"))
    kk = " ".join(diagnostics_in_words(row, "kk"))
    assert "Пилотных объектов: 6, контрольных объектов нет" in ru and "13 мес." in ru
    assert "Пилоттық нысандар: 6, бақылау нысандары жоқ" in kk
    assert "stored English sentence" not in ru + kk
    # a row without the recorded facts (an older run) shows its stored sentence
    assert any("stored English sentence" in line for line in diagnostics_in_words({**row, "diagnostics": "{}"}, "ru"))


def test_diagnostics_in_words_carry_no_english_estimator_label_on_translated_pages() -> None:
    facts = {"case": "no_controls", "inference": "own_forecast", "n_treated": 1, "n_controls": 0, "n_cohorts": 1,
             "n_pre": 400, "frequency": "daily", "few_treated": 5, "robustness": []}  # fmt: skip
    label = "structural time-series forecast (UnobservedComponents); 95% normal interval"
    row = {"method": "its", "diagnostics": json.dumps({"method_choice": facts, "inference": label})}
    for lang in ("ru", "kk"):
        text = " ".join(diagnostics_in_words(row, lang))
        assert label not in text and "UnobservedComponents" not in text
        assert t("method_choice.inference.own_forecast", lang) in text


def test_every_chart_keeps_its_legend_under_the_plot_clear_of_the_go_live_label_and_mode_bar() -> None:
    """The legend sits at the foot of the chart (container coordinates), the go-live label above the plot area,
    and the mode bar carries no selection tools: nothing shares the top right corner with the legend."""
    period = [date(2025, m, 1) for m in range(1, 5)]
    series = {"observed": [1.0, 1.0, 2.0, 2.0], "counterfactual": [1.0] * 4, "ci_low": [0.5] * 4, "ci_high": [1.5] * 4}
    event = {"event_time": [-1, 0], "att": [0.0, 1.0], "se": [0.1] * 2, "ci_low": [-0.2, 0.8], "ci_high": [0.2, 1.2]}
    coverage = {"site_code": ["S1"], "month": [date(2025, 1, 1)], "coverage": [1.0]}
    built = {
        "forest": figures.forest_plot(_portfolio_frame(), "ru"),
        "gains": figures.gains_bar(pl.DataFrame({"name": ["A"], "annual_gain_kzt": [1.0]}), "name", "ru"),
        "cumulative": figures.cumulative_gain(pl.DataFrame({"month": period, "cumulative_kzt": [1.0] * 4}), "ru"),
        "counterfactual": figures.counterfactual_chart(
            pl.DataFrame({"period": period, **series}), period[2], "t", "kk"
        ),
        "event_study": figures.event_study_chart(pl.DataFrame(event), "t", "en"),
        "coverage": figures.coverage_heatmap(pl.DataFrame(coverage), "en"),
        "empty": figures.empty_figure("—"),
    }
    for name, fig in built.items():
        legend = _serialisable(fig)["layout"]["legend"]
        assert (legend["yref"], legend["y"], legend["yanchor"]) == ("container", 0, "bottom"), name
        assert legend["orientation"] == "h", name
    go_live = built["counterfactual"]["layout"]["annotations"][0]
    assert (go_live["yref"], go_live["y"], go_live["yanchor"]) == ("paper", 1, "bottom")  # above the plot area
    assert {"select2d", "lasso2d"} <= set(figures.GRAPH_CONFIG["modeBarButtonsToRemove"])
    assert figures.GRAPH_CONFIG["displaylogo"] is False


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_tenge_axes_tick_in_the_pages_words_not_plotlys_english_suffixes(lang: str) -> None:
    """Plotly writes 5e9 as "5B" whatever the page's language: the gains and cumulative charts label their ticks
    themselves ("5 млрд"), at the amounts they name."""
    scale = {"ru": "млрд", "kk": "млрд", "en": "bn"}[lang]
    gains = pl.DataFrame({"name": ["KMG", "KTZ"], "annual_gain_kzt": [12.8e9, 3.0e9]})
    months = [date(2025, m, 1) for m in range(1, 4)]
    cumulative = pl.DataFrame({"month": months, "cumulative_kzt": [0.0, 9.0e9, 22.5e9]})
    for axis in (
        _serialisable(figures.gains_bar(gains, "name", lang))["layout"]["xaxis"],
        _serialisable(figures.cumulative_gain(cumulative, lang))["layout"]["yaxis"],
    ):
        assert axis["tickmode"] == "array"
        assert axis["ticktext"][0] == "0" and f"10 {scale}" in axis["ticktext"]
        assert all(text == "0" or text.endswith(scale) for text in axis["ticktext"]), axis["ticktext"]
        assert axis["tickvals"][axis["ticktext"].index(f"10 {scale}")] == pytest.approx(10e9)
    spread = figures.money_ticks([-3e8, 1.2e9], lang)
    decimal = "." if lang == "en" else ","
    assert spread["tickvals"] == pytest.approx([-5e8, 0, 5e8, 1e9, 1.5e9])
    assert spread["ticktext"][-1] == f"1{decimal}5 {scale}"
    assert figures.money_ticks([], lang) == {} and figures.money_ticks([0.0], lang) == {}


def test_metric_axes_write_numbers_in_full_with_the_pages_separators() -> None:
    """A metric's axis (60 000 GJ) reads "60 000" on a Russian page, not Plotly's "60k"."""
    period = [date(2025, m, 1) for m in range(1, 5)]
    series = {"observed": [6e4] * 4, "counterfactual": [6e4] * 4, "ci_low": [5e4] * 4, "ci_high": [7e4] * 4}
    event = {"event_time": [-1, 0], "att": [0.0, -6e3], "se": [1.0] * 2, "ci_low": [-1.0, -7e3], "ci_high": [1.0, -5e3]}
    built = (
        figures.counterfactual_chart(pl.DataFrame({"period": period, **series}), period[2], "ГДж", "ru"),
        figures.event_study_chart(pl.DataFrame(event), "ГДж", "ru"),
    )
    for fig in built:
        layout = _serialisable(fig)["layout"]
        assert layout["separators"] == ", "
        for axis in (layout["xaxis"], layout["yaxis"]):
            assert (axis["exponentformat"], axis["separatethousands"]) == ("none", True)


@pytest.mark.parametrize(("lang", "decimal", "group"), [("ru", ",", "\u00a0"), ("kk", ",", "\u00a0"), ("en", ".", ",")])
def test_table_counts_and_amounts_show_in_the_pages_number_format(lang: str, decimal: str, group: str) -> None:
    """The upload history read "2990" and the registry "900000000" on a Russian page: the number columns keep their
    numbers (they sort as numbers) and show with the page's separators; text columns are left alone."""
    from dashboards.components.ui import table

    frame = pl.DataFrame({"file_name": ["a.csv"], "rows_read": [2990], "capex_kzt": [9.0e8]})
    columns = [(c, c) for c in frame.columns]
    built = table(frame, columns, "t", numbers=("rows_read", "capex_kzt"), lang=lang)
    spec = {c["id"]: c for c in built.columns}
    assert "format" not in spec["file_name"]
    for name in ("rows_read", "capex_kzt"):
        assert spec[name]["type"] == "numeric"
        assert spec[name]["format"] == {"locale": {"decimal": decimal, "group": group}, "specifier": ","}
    assert built.data == [{"file_name": "a.csv", "rows_read": 2990, "capex_kzt": 9.0e8}]


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_event_study_axis_says_which_periods_it_counts(lang: str) -> None:
    """Event time runs -800…200 for a daily metric and -18…15 for a monthly one: the axis names the period."""
    event = {"event_time": [-91, 0], "att": [0.0, 1.0], "se": [0.1] * 2, "ci_low": [-0.2, 0.8], "ci_high": [0.2, 1.2]}
    for frequency in ("daily", "weekly", "monthly", "quarterly", "yearly"):
        fig = figures.event_study_chart(pl.DataFrame(event), "t", lang, frequency)
        word = t(f"method_choice.frequency.{frequency}", lang)
        assert fig["layout"]["xaxis"]["title"]["text"] == t("dash.es.x_in", lang, unit=word)
    unknown = figures.event_study_chart(pl.DataFrame(event), "t", lang)
    assert unknown["layout"]["xaxis"]["title"]["text"] == t("dash.es.x", lang)
