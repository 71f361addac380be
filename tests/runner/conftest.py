"""A small real portfolio: a registry YAML file and observations written through the ingestion path.

One subsidiary (TST) with 10 sites and one daily metric (energy use, lower is better) over 2024:
- P-GOOD: sites S01 and S02 from 2024-07-01, energy falls by 40 GJ a day (about 4%); default controls.
- P-NULL: site S03 from 2024-08-01, no effect; listed controls S07-S10.
- P-BROKEN: site S04 from 2024-09-01, but its file has no value before go-live (no pre-period);
  in `silent_portfolio_file` S04 sent nothing at all.
P-GOOD's default controls must leave out S03 and S04, which other pilots treat.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pilot_roi.ingest import load_observations
from pilot_roi.registry import load_registry_file
from pilot_roi.warehouse import connect, migrate

SITES = [f"S{i:02d}" for i in range(1, 11)]
START = date(2024, 1, 1)
N_DAYS = 366
GO_LIVE = {"S01": date(2024, 7, 1), "S02": date(2024, 7, 1), "S03": date(2024, 8, 1), "S04": date(2024, 9, 1)}
TRUE_EFFECT = {"S01": -40.0, "S02": -40.0}

SITE_LINES = "\n".join(
    f'  - {{code: {s}, subsidiary: TST, name: {{ru: "Объект {s}", kk: "Нысан {s}", en: "Site {s}"}}}}' for s in SITES
)
REGISTRY_HEAD = f"""
data_start: 2023-01-01
subsidiaries:
  - {{code: TST, name: {{ru: "Тест", kk: "Сынақ", en: "Test"}}, sector: energy}}
sites:
{SITE_LINES}
metrics:
  - {{code: energy_gj, name: {{ru: "Энергия", kk: "Энергия", en: "Energy use"}}, unit: GJ, frequency: daily,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: 4200, min_value: 0}}
"""
REGISTRY_YAML = f"""{REGISTRY_HEAD}pilots:
  - code: P-GOOD
    name: {{ru: "Хороший", kk: "Жақсы", en: "Good"}}
    subsidiary: TST
    use_case: energy_optimization
    sites: [{{site: S01, go_live: 2024-07-01}}, {{site: S02, go_live: 2024-07-01}}]
    metrics: [energy_gj]
    capex_kzt: 50000000
    opex_kzt_per_year: 5000000
  - code: P-NULL
    name: {{ru: "Пустой", kk: "Бос", en: "Null"}}
    subsidiary: TST
    use_case: process_optimization
    sites: [{{site: S03, go_live: 2024-08-01}}]
    controls: [S07, S08, S09, S10]
    metrics: [energy_gj]
    capex_kzt: 20000000
    opex_kzt_per_year: 1000000
  - code: P-BROKEN
    name: {{ru: "Сломанный", kk: "Бұзылған", en: "Broken"}}
    subsidiary: TST
    use_case: predictive_maintenance
    sites: [{{site: S04, go_live: 2024-09-01}}]
    metrics: [energy_gj]
    capex_kzt: 10000000
    opex_kzt_per_year: 0
"""

# P-STAG: S01 live from the first day of data (no estimate can use it), S02 from 2024-07-01.
STAGGERED_REGISTRY_YAML = f"""{REGISTRY_HEAD}pilots:
  - code: P-STAG
    name: {{ru: "Поэтапный", kk: "Кезеңді", en: "Staggered"}}
    subsidiary: TST
    use_case: energy_optimization
    sites: [{{site: S01, go_live: 2024-01-01}}, {{site: S02, go_live: 2024-07-01}}]
    metrics: [energy_gj]
    capex_kzt: 50000000
    opex_kzt_per_year: 5000000
"""


def observations(seed: int = 5) -> pl.DataFrame:
    """Daily energy use per site: level + weekly cycle + AR(1) noise + the true effect after go-live."""
    rng = np.random.default_rng(seed)
    days = [START + timedelta(days=i) for i in range(N_DAYS)]
    weekday = np.array([d.weekday() for d in days])
    common = np.cumsum(rng.normal(0, 2.0, N_DAYS))  # a shared shock every site sees
    frames = []
    for k, site in enumerate(SITES):
        noise = np.zeros(N_DAYS)
        eps = rng.normal(0, 12.0, N_DAYS)
        for i in range(1, N_DAYS):
            noise[i] = 0.5 * noise[i - 1] + eps[i]
        value = 1000.0 + 15.0 * k + 20.0 * (weekday >= 5) + common + noise
        if site in TRUE_EFFECT:
            post = np.array([d >= GO_LIVE[site] for d in days])
            value = value + TRUE_EFFECT[site] * post
        frame = pl.DataFrame({"site_code": site, "metric_code": "energy_gj", "period": days, "value": value})
        if site == "S04":  # broken: the plant's export starts only at go-live
            frame = frame.filter(pl.col("period") >= GO_LIVE["S04"])
        frames.append(frame)
    return pl.concat(frames).with_columns(pl.col("value").round(1))


def build_warehouse(path: Path, data: pl.DataFrame | None = None, registry_yaml: str = REGISTRY_YAML) -> Path:
    """A migrated warehouse with the registry and the observations loaded through ingestion."""
    con = connect(path, create=True)
    try:
        migrate(con)
        registry = path.with_suffix(".yaml")
        registry.write_text(registry_yaml, encoding="utf-8")
        load_registry_file(con, registry)
        report = load_observations(
            con, observations() if data is None else data, file_name="tst_2024.parquet", uploaded_by="test"
        )
        assert report.status == "loaded", report.errors[:3]
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def portfolio_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portfolio warehouse, built once per session (tests work on copies)."""
    return build_warehouse(tmp_path_factory.mktemp("portfolio") / "base.duckdb")


@pytest.fixture
def silent_portfolio_file(tmp_path: Path) -> Path:
    """The portfolio without a single value from S04: P-BROKEN is decided without estimating (no_treated_data)."""
    return build_warehouse(tmp_path / "silent.duckdb", observations().filter(pl.col("site_code") != "S04"))


@pytest.fixture
def staggered_portfolio_file(tmp_path: Path) -> Path:
    """P-STAG with only its two sites' data (no control reports): ITS on S02 alone."""
    data = observations().filter(pl.col("site_code").is_in(["S01", "S02"]))
    return build_warehouse(tmp_path / "staggered.duckdb", data, STAGGERED_REGISTRY_YAML)


@pytest.fixture(scope="session")
def estimated_file(portfolio_file: Path) -> tuple[Path, int]:
    """A copy of the portfolio warehouse after one full run (in this process), and that run's id.

    Estimating the portfolio is the slow part (seconds per pilot): tests start from this file and
    re-estimate only what they must.
    """
    from pilot_roi.runner import RunOptions, run_portfolio

    target = portfolio_file.with_name("estimated.duckdb")
    shutil.copyfile(portfolio_file, target)
    con = connect(target)
    try:
        summary = run_portfolio(con, RunOptions(workers=1))
    finally:
        con.close()
    return target, summary.run_id


@pytest.fixture
def portfolio_copy(portfolio_file: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., Path]:
    """Copy the portfolio warehouse (`estimated=True`: the one already estimated once) into this test's folder."""

    def make(name: str = "wh.duckdb", *, estimated: bool = True) -> Path:
        target = tmp_path / name
        source = request.getfixturevalue("estimated_file")[0] if estimated else portfolio_file
        shutil.copyfile(source, target)
        return target

    return make
