"""End to end: the registry changes after observations and estimates exist.

Admins reload the registry YAML long after the first uploads: a unit becomes another (t -> kt), a frequency another
(daily -> monthly), a pilot's code is "renamed", items are left out of the file, a tenge value or a direction flips, a
file names only some pilots. Each check builds a real warehouse through the CLI (`pilot_roi.cli.main`) with the
portfolio of `test_metamorphic_e2e` (one subsidiary MTA, sites S01-S06, daily energy_gj and output_t over
January-May 2024; P-A treats S01 and S02 on both metrics, P-B treats S03 on energy), estimates it once, then
changes the registry and looks at what users look at: the stored observations, the quality summary, `estimate`,
the public views, the dashboard's queries and the year-end report.

What must hold:
- values already stored are never reinterpreted: a new unit or frequency for a metric with values is refused in
  ru/kk/en with what depends on it, and nothing changes (before: t -> kt made every gain 1,000 times larger and
  stored a new upload in t as 0.31 kt beside 300 "kt"; daily -> monthly priced a day's effect as a month's, gains
  365/12 times smaller, and the quality summary counted -147 missing periods);
- a pilot's code is its identity: a file that renames it (the old code stays, the registry never deletes) would
  estimate and count the same deployment twice; refused, with the way to rename (the name);
- what a file leaves out stays, and the load says so;
- money follows the registry on the next run (tenge value, direction, costs), and until then the dashboard shows
  the costs the latest run priced with, as the year-end report does.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from test_metamorphic_e2e import estimate, ingest, new_warehouse, observations, query, registry_yaml

from pilot_roi import dashboard_queries as q
from pilot_roi.cli import main
from pilot_roi.errors import InvalidInput
from pilot_roi.i18n import format_number, t
from pilot_roi.registry import parse_registry
from pilot_roi.reports.tables import ESTIMATE_FIELDS
from pilot_roi.warehouse import connect

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")

KEYS = [("P-A", "energy_gj"), ("P-A", "output_t"), ("P-B", "energy_gj")]
N_ENERGY = N_OUTPUT = 6 * 152  # six sites, January-May 2024, daily

# what a refused change must leave exactly as it was
_STATE = {
    "metrics": "SELECT * EXCLUDE (updated_at) FROM metrics",
    "sites": "SELECT * EXCLUDE (updated_at) FROM sites",
    "pilots": "SELECT * FROM pilots",
    "pilot_sites": "SELECT * FROM pilot_sites",
    "observations": "SELECT * FROM observations",
    "quality": "SELECT * FROM quality_pair_summary",
    "estimates": "SELECT * FROM estimates",
    "audit": "SELECT count(*) FROM audit_log",
}


def run(warehouse: Path, *args: str, lang: str = "en") -> tuple[int, str, str]:
    """`pilot-roi --warehouse WAREHOUSE --lang LANG ARGS...` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--warehouse", str(warehouse), "--lang", lang, *args])
    return code, out.getvalue(), err.getvalue()


def load(warehouse: Path, text: str, *flags: str, lang: str = "en") -> tuple[int, str, str]:
    """`registry load` of a YAML file with `text`, written beside the warehouse."""
    path = warehouse.with_name("changed.yaml")
    path.write_text(text, encoding="utf-8")
    return run(warehouse, "registry", "load", str(path), *flags, lang=lang)


def state(warehouse: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a refused registry change must leave as it was, sorted."""
    con = connect(warehouse, read_only=True)
    try:
        return {name: sorted(con.execute(sql).fetchall(), key=repr) for name, sql in _STATE.items()}
    finally:
        con.close()


def view(warehouse: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The public `estimates` view, by (pilot, metric)."""
    return {(r["pilot_code"], r["metric_code"]): r for r in query(warehouse, "SELECT * FROM estimates").to_dicts()}


def headline(warehouse: Path) -> q.Headline:
    """The dashboard's portfolio headline, from the dashboard's own queries."""
    con = connect(warehouse, read_only=True)
    try:
        return q.portfolio_headline(q.portfolio(con, "en"))
    finally:
        con.close()


def report_rows(warehouse: Path, folder: Path) -> dict[tuple[str, str], dict[str, str]]:
    """`report --year 2024 --format csv` (en): the per pilot-metric rows, by (pilot, metric)."""
    out = folder / "report.csv"
    assert run(warehouse, "report", "--year", "2024", "--format", "csv", "--out", str(out))[0] == 0
    header = {f.id: f.column("en").header for f in ESTIMATE_FIELDS}
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {(r[header["pilot_code"]], r[header["metric_code"]]): r for r in rows}


def _annual_gain(row: dict[str, str]) -> float:
    return float(row[{f.id: f.column("en").header for f in ESTIMATE_FIELDS}["annual_gain_kzt"]])


# --- the portfolio, loaded and estimated once ----------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    warehouse: Path
    run: dict[str, Any]
    estimates: dict[tuple[str, str], dict[str, Any]]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    folder = tmp_path_factory.mktemp("registry_changes")
    warehouse = new_warehouse(folder / "baseline")
    observations().write_csv(folder / "all.csv")
    assert ingest(warehouse, folder / "all.csv")["rows_inserted"] == N_ENERGY + N_OUTPUT
    first = estimate(warehouse)
    assert (first["n_estimated"], first["n_errors"]) == (len(KEYS), 0)
    estimates = view(warehouse)
    assert sorted(estimates) == KEYS
    assert estimates[("P-A", "energy_gj")]["grade"] == "demonstrated"  # the gain a double count would double
    return Baseline(warehouse, first, estimates)


@pytest.fixture
def warehouse(baseline: Baseline, tmp_path: Path) -> Path:
    """A copy of the estimated baseline for one test to change."""
    target = tmp_path / "wh.duckdb"
    shutil.copyfile(baseline.warehouse, target)
    return target


def _reuses_everything(warehouse: Path, baseline: Baseline) -> dict[str, Any]:
    """`estimate` after a change that must not touch any estimate: everything carried forward, numbers equal."""
    again = estimate(warehouse)
    assert (again["n_estimated"], again["n_reused"]) == (0, len(KEYS))
    after = view(warehouse)
    for key in KEYS:
        for column in ("effect", "ci_low", "ci_high", "annual_gain_kzt", "npv_kzt", "grade"):
            assert after[key][column] == baseline.estimates[key][column], (key, column)
    return again


# --- 1. a unit or a frequency under stored values ------------------------------------------------------------

UNIT_CHANGE = registry_yaml(output_kzt=15_000_000).replace("unit: t,", "unit: kt,")  # 1 kt = 1,000 t, priced so
FREQUENCY_CHANGE = registry_yaml().replace("unit: GJ, frequency: daily", "unit: GJ, frequency: monthly")


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_a_new_unit_for_a_metric_with_stored_values_is_refused_naming_them_and_changes_nothing(
    lang: str, baseline: Baseline, warehouse: Path
) -> None:
    before = state(warehouse)
    code, out, err = load(warehouse, UNIT_CHANGE, lang=lang)
    assert (code, out) == (1, "")
    params = {"code": "output_t", "old": "t", "new": "kt", "n_values": N_OUTPUT, "n_sites": 6,
              "first": "2024-01-01", "last": "2024-05-31", "pilots": "P-A"}  # fmt: skip
    assert err.splitlines() == ["metrics[1].unit: " + t("registry.unit_in_use", lang, **params)]
    assert state(warehouse) == before
    if lang == "en":
        assert "912 values stored in t" in err and "P-A" in err


def test_after_a_refused_unit_change_gains_and_new_uploads_stay_in_the_stored_unit(
    baseline: Baseline, warehouse: Path
) -> None:
    assert load(warehouse, UNIT_CHANGE)[0] == 1
    _reuses_everything(warehouse, baseline)  # before the fix: P-A/output_t's annual gain 5.93e7 -> 5.93e10
    june = warehouse.with_name("june.csv")
    pl.DataFrame({"site_code": ["S01"], "metric_code": ["output_t"], "period": ["2024-06-01"], "value": [310.0],
                  "unit": ["t"]}).write_csv(june)  # fmt: skip
    assert ingest(warehouse, june)["rows_inserted"] == 1
    stored = query(warehouse, "SELECT value FROM observations WHERE period = DATE '2024-06-01'")["value"].to_list()
    assert stored == [310.0]  # before the fix: 0.31 (converted to kt), beside 300-odd old values read as kt


def test_a_unit_spelled_another_way_is_the_same_unit_and_loads(baseline: Baseline, warehouse: Path) -> None:
    code, out, _ = load(warehouse, registry_yaml().replace("unit: t,", 'unit: "т",'))
    assert code == 0 and "metrics: 0 created, 1 updated" in out
    assert query(warehouse, "SELECT unit FROM metrics WHERE code = 'output_t'")["unit"].to_list() == ["т"]
    _reuses_everything(warehouse, baseline)


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_a_new_frequency_for_a_metric_with_stored_values_is_refused_and_changes_nothing(
    lang: str, baseline: Baseline, warehouse: Path
) -> None:
    before = state(warehouse)
    code, out, err = load(warehouse, FREQUENCY_CHANGE, lang=lang)
    assert (code, out) == (1, "")
    params = {"code": "energy_gj", "old": "daily", "new": "monthly", "n_values": N_ENERGY, "n_sites": 6,
              "first": "2024-01-01", "last": "2024-05-31", "pilots": "P-A, P-B"}  # fmt: skip
    assert err.splitlines() == ["metrics[0].frequency: " + t("registry.frequency_in_use", lang, **params)]
    assert state(warehouse) == before  # before the fix: quality summary n_missing -147 per site


def test_after_a_refused_frequency_change_gains_are_still_priced_by_the_day(
    baseline: Baseline, warehouse: Path
) -> None:
    assert load(warehouse, FREQUENCY_CHANGE)[0] == 1
    _reuses_everything(warehouse, baseline)  # before the fix: P-A/energy 1.247e8 -> 4.10e6 KZT a year (x 12/365)
    missing = query(warehouse, "SELECT min(n_missing) AS m FROM quality_pair_summary")["m"][0]
    assert missing >= 0


def test_a_metric_without_values_may_change_unit_and_frequency(baseline: Baseline, warehouse: Path) -> None:
    water = """
metrics:
  - {{code: water_m3, name: {{ru: "Вода", kk: "Су", en: "Water"}}, unit: {unit}, frequency: {frequency},
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: 90}}
"""
    assert load(warehouse, water.format(unit="m3", frequency="daily"))[0] == 0
    code, out, err = load(warehouse, water.format(unit="thousand m3", frequency="monthly"))
    assert (code, err) == (0, "") and "metrics: 0 created, 1 updated" in out
    row = query(warehouse, "SELECT unit, frequency FROM metrics WHERE code = 'water_m3'").rows()
    assert row == [("thousand m3", "monthly")]


# --- 2. a pilot's code: renamed, reused ----------------------------------------------------------------------


@pytest.mark.parametrize("pilot", ["P-A", "P-B"])
def test_a_renamed_pilot_code_is_refused_so_one_deployment_is_not_counted_twice(
    pilot: str, baseline: Baseline, warehouse: Path
) -> None:
    before = state(warehouse)
    gain = headline(warehouse).demonstrated_gain_kzt
    code, out, err = load(warehouse, registry_yaml().replace(f"code: {pilot}\n", f"code: {pilot}-2025\n"))
    assert (code, out) == (1, "")
    index = ["P-A", "P-B"].index(pilot)
    metrics = "energy_gj, output_t" if pilot == "P-A" else "energy_gj"
    expected = t("registry.pilot_twin", "en", value=f"{pilot}-2025", other=pilot, metrics=metrics)
    assert err.splitlines() == [f"pilots[{index}].code: {expected}"]
    assert state(warehouse) == before
    _reuses_everything(warehouse, baseline)
    # before the fix: P-A-2025 was created beside P-A, both estimated; with the p-values counted twice the q-values
    # fell and output_t became demonstrated too: the demonstrated gain went from 1.25e8 to 3.68e8 KZT a year
    assert headline(warehouse).demonstrated_gain_kzt == gain
    assert headline(warehouse).n_pilots == 2


def test_two_twins_in_one_file_are_named_once_on_the_later_and_another_go_live_is_no_twin() -> None:
    doc = yaml.safe_load(registry_yaml())
    twin = dict(doc["pilots"][1], code="P-B-copy")
    with pytest.raises(InvalidInput) as refused:
        parse_registry(dict(doc, pilots=[*doc["pilots"], twin]))
    assert [(p.where, p.key, p.params["other"]) for p in refused.value.problems] == [
        ("pilots[2].code", "registry.pilot_twin", "P-B")
    ]
    later = dict(twin, sites=[{"site": "S03", "go_live": date(2024, 5, 1)}])  # a second deployment at S03
    assert [p.code for p in parse_registry(dict(doc, pilots=[*doc["pilots"], later])).pilots] == [
        "P-A", "P-B", "P-B-copy"
    ]  # fmt: skip


def test_a_new_name_under_the_same_code_renames_the_pilot_and_estimates_nothing(
    baseline: Baseline, warehouse: Path
) -> None:
    code, out, _ = load(warehouse, registry_yaml().replace('en: "Pilot B"', 'en: "Pilot B, phase 2"'))
    assert code == 0 and "pilots: 0 created, 1 updated, 1 unchanged" in out
    assert query(warehouse, "SELECT name_en FROM pilots WHERE pilot_code = 'P-B'")["name_en"].to_list() == [
        "Pilot B, phase 2"
    ]
    _reuses_everything(warehouse, baseline)


def test_a_reused_pilot_code_reestimates_it_and_earlier_runs_keep_the_sites_they_used(
    baseline: Baseline, warehouse: Path
) -> None:
    reused = registry_yaml().replace(
        "sites: [{site: S03, go_live: 2024-04-15}]\n    controls: [S04, S05, S06]\n    metrics: [energy_gj]",
        "sites: [{site: S04, go_live: 2024-05-01}]\n    controls: [S05, S06]\n    metrics: [output_t]",
    )
    assert load(warehouse, reused)[0] == 0
    sites = query(warehouse, "SELECT site_code, role FROM pilot_sites WHERE pilot_code = 'P-B' ORDER BY ALL").rows()
    assert sites == [("S04", "treated"), ("S05", "control"), ("S06", "control")]
    second = estimate(warehouse)
    by_key = {(e["pilot_code"], e["metric_code"]): e for e in second["estimates"]}
    assert sorted(by_key) == [("P-A", "energy_gj"), ("P-A", "output_t"), ("P-B", "output_t")]
    assert by_key[("P-B", "output_t")]["reused_from_run"] is None
    recorded = query(
        warehouse,
        "SELECT run_id, [t.site_code FOR t IN treated_sites] AS treated FROM estimate_results "
        "WHERE pilot_code = 'P-B' ORDER BY run_id",
    ).rows()
    assert recorded == [(baseline.run["run_id"], ["S03"]), (second["run_id"], ["S04"])]


# --- 3. what a file leaves out stays, and the load says so ---------------------------------------------------


def test_a_metric_site_or_pilot_left_out_of_the_file_is_kept_and_the_load_says_so(
    baseline: Baseline, warehouse: Path
) -> None:
    text = registry_yaml()
    text = text[: text.index("  - {code: output_t")] + "pilots:" + text.split("pilots:")[1]  # no output_t
    text = text.replace('  - {code: S06, subsidiary: MTA, name: {ru: "Объект S06", kk: "Нысан S06", en: "Site S06"}}\n',
                        "")  # fmt: skip
    text = text[: text.index("  - code: P-B")]  # no P-B
    before = state(warehouse)
    code, out, err = load(warehouse, text)
    assert (code, err) == (0, "")
    for table, codes in (("sites", "S06"), ("metrics", "output_t"), ("pilots", "P-B")):
        assert t("registry.kept", "en", table=table, n=1, codes=codes) in out.splitlines(), out
    assert state(warehouse) == before  # nothing deleted, nothing changed: the values and pilots that use them stay
    code, out, _ = load(warehouse, text, "--format", "json")
    assert json.loads(out)["kept"] == {"sites": ["S06"], "metrics": ["output_t"], "pilots": ["P-B"]}
    _reuses_everything(warehouse, baseline)


def test_a_file_of_one_pilot_changes_only_it_and_says_the_others_are_kept(
    baseline: Baseline, warehouse: Path, tmp_path: Path
) -> None:
    text = registry_yaml()
    only_p_b = "pilots:\n" + text[text.index("  - code: P-B") :].replace("capex_kzt: 20000000", "capex_kzt: 30000000")
    before = state(warehouse)
    code, out, err = load(warehouse, only_p_b)
    assert (code, err) == (0, "")
    assert out.splitlines()[-2:] == [
        "pilots: 0 created, 1 updated, 0 unchanged",
        t("registry.kept", "en", table="pilots", n=1, codes="P-A"),
    ]
    after = state(warehouse)
    assert after["pilots"] != before["pilots"]
    assert {k: v for k, v in after.items() if k not in ("pilots", "audit")} == {
        k: v for k, v in before.items() if k not in ("pilots", "audit")
    }
    second = estimate(warehouse)
    assert (second["n_estimated"], second["n_reused"]) == (0, len(KEYS)), "costs are not estimation inputs"
    npv = view(warehouse)[("P-B", "energy_gj")]["npv_kzt"]
    assert npv == pytest.approx(baseline.estimates[("P-B", "energy_gj")]["npv_kzt"] - 10_000_000, rel=1e-12)
    assert report_rows(warehouse, tmp_path).keys() == set(KEYS)


def test_until_the_next_run_the_dashboard_invests_what_the_shown_npvs_were_computed_from(
    baseline: Baseline, warehouse: Path
) -> None:
    assert headline(warehouse).total_invested_kzt == 70_000_000
    assert load(warehouse, registry_yaml().replace("capex_kzt: 20000000", "capex_kzt: 30000000"))[0] == 0
    # the latest run priced P-B with 20 M, as its year-end report says; before the fix the dashboard read the
    # registry's 30 M (an invested total of 80 M) beside that run's NPVs and ROIs
    assert headline(warehouse).total_invested_kzt == 70_000_000
    estimate(warehouse)
    assert headline(warehouse).total_invested_kzt == 80_000_000


# --- 4. money follows the registry on the next run -----------------------------------------------------------


def test_a_tenge_value_change_reprices_on_the_next_run_even_one_for_another_pilot(
    baseline: Baseline, warehouse: Path, tmp_path: Path
) -> None:
    assert load(warehouse, registry_yaml(output_kzt=30_000.0))[0] == 0  # output_t: only P-A measures it
    assert view(warehouse) == baseline.estimates  # the views show runs: nothing moves until the next one
    second = estimate(warehouse, "--pilot", "P-B")  # P-A is carried forward, and still priced anew
    assert second["n_estimated"] == 0
    after = view(warehouse)
    old = baseline.estimates[("P-A", "output_t")]
    for column in ("annual_gain_kzt", "annual_gain_ci_low", "annual_gain_ci_high"):
        assert after[("P-A", "output_t")][column] == 2 * old[column], column
    assert after[("P-A", "energy_gj")]["annual_gain_kzt"] == baseline.estimates[("P-A", "energy_gj")]["annual_gain_kzt"]
    report = report_rows(warehouse, tmp_path)
    assert _annual_gain(report[("P-A", "output_t")]) == after[("P-A", "output_t")]["annual_gain_kzt"]
    con = connect(warehouse, read_only=True)
    try:
        portfolio = q.portfolio(con, "en").filter(pl.col("metric_code") == "output_t")
    finally:
        con.close()
    assert portfolio["annual_gain_kzt"].to_list() == [2 * old["annual_gain_kzt"]]


def test_a_flipped_direction_regrades_and_resigns_the_gains_without_estimating_again(
    baseline: Baseline, warehouse: Path
) -> None:
    flipped = registry_yaml().replace(
        "aggregation: sum, higher_is_better: false, value_kzt_per_unit: 4200",
        "aggregation: sum, higher_is_better: true, value_kzt_per_unit: 4200",
    )
    assert load(warehouse, flipped)[0] == 0
    second = estimate(warehouse)
    assert (second["n_estimated"], second["n_reused"]) == (0, len(KEYS))
    after, old = view(warehouse), baseline.estimates
    energy = ("P-A", "energy_gj")
    assert after[energy]["effect"] == old[energy]["effect"]  # energy fell: now harmful, with its interval
    assert after[energy]["annual_gain_kzt"] == -old[energy]["annual_gain_kzt"]
    assert (old[energy]["grade"], after[energy]["grade"]) == ("demonstrated", "adverse")
    assert headline(warehouse).demonstrated_gain_kzt == 0.0


# --- 5. a site's subsidiary ----------------------------------------------------------------------------------


def _moved(site: str) -> str:
    return (
        registry_yaml()
        .replace(
            "subsidiaries:\n", 'subsidiaries:\n  - {code: MTB, name: {ru: "Б", kk: "Б", en: "B"}, sector: energy}\n'
        )
        .replace(f"{{code: {site}, subsidiary: MTA", f"{{code: {site}, subsidiary: MTB")
    )


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_a_site_with_values_and_pilots_does_not_move_to_another_subsidiary(
    lang: str, baseline: Baseline, warehouse: Path
) -> None:
    before = state(warehouse)
    code, out, err = load(warehouse, _moved("S06"), lang=lang)
    assert (code, out) == (1, "")
    message = t("registry.site_moved", lang, value="S06", existing="MTA", new="MTB", n_values=2 * 152, pilots="P-B")
    assert err.splitlines() == ["sites[5].subsidiary: " + message]  # S06: P-B's listed control, two daily metrics
    assert state(warehouse) == before


def _with_s07(subsidiary: str) -> str:
    """The registry with a seventh site, S07, in `subsidiary` (MTB is added)."""
    line = f'  - {{code: S07, subsidiary: {subsidiary}, name: {{ru: "О7", kk: "Н7", en: "S7"}}}}\n'
    return _moved("none").replace("metrics:\n", line + "metrics:\n", 1)


def test_a_site_registered_in_the_wrong_subsidiary_moves_while_nothing_refers_to_it(
    baseline: Baseline, warehouse: Path
) -> None:
    assert load(warehouse, _with_s07("MTA"))[0] == 0
    code, out, err = load(warehouse, _with_s07("MTB"))
    assert (code, err) == (0, "")
    assert "sites: 0 created, 1 updated, 6 unchanged" in out
    assert query(warehouse, "SELECT code FROM sites WHERE subsidiary_code = 'MTB'")["code"].to_list() == ["S07"]
    # once it has a value, it stays where it is
    value = warehouse.with_name("s07.csv")
    pl.DataFrame({"site_code": ["S07"], "metric_code": ["energy_gj"], "period": ["2024-05-01"],
                  "value": [1000.0]}).write_csv(value)  # fmt: skip
    assert ingest(warehouse, value)["rows_inserted"] == 1
    code, out, err = load(warehouse, _with_s07("MTA"))
    message = t("registry.site_moved", "en", value="S07", existing="MTB", new="MTA", n_values=1, pilots="—")
    assert (code, out, err.splitlines()) == (1, "", ["sites[6].subsidiary: " + message])


# --- 6. bounds tightened under stored values -----------------------------------------------------------------

ENERGY_BOUNDS = "aggregation: sum, higher_is_better: false, value_kzt_per_unit: 4200.0, min_value: 0}"


def _energy_bounds(low: float, high: float | None = None) -> str:
    upper = "" if high is None else f", max_value: {high}"
    return registry_yaml().replace(ENERGY_BOUNDS, ENERGY_BOUNDS.replace("min_value: 0}", f"min_value: {low}{upper}}}"))


def _outside(warehouse: Path, low: float, high: float) -> pl.DataFrame:
    return query(
        warehouse,
        f"SELECT site_code, period, value FROM observation_current WHERE metric_code = 'energy_gj' "
        f"AND (value < {low} OR value > {high}) ORDER BY value",
    )


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_tightened_bounds_load_and_name_the_stored_values_they_leave_outside(
    lang: str, baseline: Baseline, warehouse: Path
) -> None:
    low, high = 990.0, 1_080.0  # energy is ~1,000 + 15 per site: some values fall on each side
    assert ENERGY_BOUNDS in registry_yaml()
    outside = _outside(warehouse, low, high)
    below, above = outside.filter(pl.col("value") < low), outside.filter(pl.col("value") > high)
    assert below.height and above.height
    furthest = below.row(0) if low - below["value"].min() >= above["value"].max() - high else above.row(-1)
    observations_before = state(warehouse)["observations"]
    code, out, err = load(warehouse, _energy_bounds(low, high), lang=lang)
    assert (code, err) == (0, "")

    def shown(value: float) -> str:  # the reader's format, up to 6 decimals: not "1.2e+06"
        return format_number(value, lang, len(f"{value:.6f}".rstrip("0").partition(".")[2]))

    expected = t(
        "registry.values_outside_bounds", lang, code="energy_gj", n=outside.height,
        n_sites=outside["site_code"].n_unique(), low="990", high=format_number(1080, lang),
        lowest=shown(outside["value"].min()), highest=shown(outside["value"].max()), site=furthest[0],
        period=furthest[1].isoformat(), value=shown(furthest[2]),
    )  # fmt: skip
    assert "e+" not in expected and (lang == "en") == ("1,080" in expected)
    assert out.splitlines()[-1] == expected
    assert state(warehouse)["observations"] == observations_before  # a registry file never edits observations
    again = estimate(warehouse)  # the bounds are among the energy pilots' inputs: estimated again, same values
    assert (again["n_estimated"], again["n_reused"]) == (2, 1)
    after = view(warehouse)
    for key in KEYS:  # the values stay and count, as the line says
        assert (after[key]["effect"], after[key]["ci_low"]) == (baseline.estimates[key]["effect"],
                                                                baseline.estimates[key]["ci_low"])  # fmt: skip


def test_tightened_bounds_are_in_the_json_document_and_refuse_the_next_upload_of_such_a_value(
    baseline: Baseline, warehouse: Path
) -> None:
    code, out, _ = load(warehouse, _energy_bounds(1_000.0), "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["status"] == "loaded"
    [entry] = document["outside_bounds"]
    outside = _outside(warehouse, 1_000.0, 1e300)
    assert (entry["metric"], entry["n_values"], entry["lowest"]) == ("energy_gj", outside.height, outside["value"][0])
    assert (entry["min_value"], entry["max_value"]) == (1_000.0, None)
    assert entry["example"] == {"site": outside["site_code"][0], "period": outside["period"][0].isoformat(),
                                "value": outside["value"][0]}  # fmt: skip
    june = warehouse.with_name("june.csv")
    pl.DataFrame({"site_code": ["S01"], "metric_code": ["energy_gj"], "period": ["2024-06-01"],
                  "value": [999.0]}).write_csv(june)  # fmt: skip
    refused, ingest_out = run(warehouse, "ingest", str(june), "--format", "json")[:2]
    assert refused == 1 and json.loads(ingest_out)["status"] == "rejected"


def test_bounds_loosened_or_unchanged_say_nothing_of_stored_values(baseline: Baseline, warehouse: Path) -> None:
    code, out, _ = load(warehouse, _energy_bounds(-1e6, 1e9))
    assert code == 0 and "outside" not in out and "energy_gj" not in out
    code, out, _ = load(warehouse, registry_yaml(), "--format", "json")
    assert code == 0 and json.loads(out)["outside_bounds"] == []
