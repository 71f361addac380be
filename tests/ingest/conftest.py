"""Fixtures for ingestion tests: a warehouse with a small registry loaded from a real YAML file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from ingest_helpers import warehouse_with_registry

from pilot_roi.warehouse import connect

REGISTRY_YAML = """
subsidiaries:
  - {code: KMG, name: {ru: "КазМунайГаз", kk: "ҚазМұнайГаз", en: "KazMunayGas"}, sector: oil_gas}
  - {code: KTZ, name: {ru: "КТЖ", kk: "ҚТЖ", en: "KTZ"}, sector: rail}
sites:
  - {code: KMG-ANPZ, subsidiary: KMG, name: {ru: "АНПЗ", kk: "АМӨЗ", en: "Atyrau refinery"}, region: Atyrau}
  - {code: KMG-PNHZ, subsidiary: KMG, name: {ru: "ПНХЗ", kk: "ПМХЗ", en: "Pavlodar refinery"}, region: Pavlodar}
  - {code: KTZ-DEPOT1, subsidiary: KTZ, name: {ru: "Депо 1", kk: "Депо 1", en: "Depot 1"}, region: Astana}
metrics:
  - {code: energy_gj, name: {ru: "Энергия", kk: "Энергия", en: "Energy use"}, unit: GJ, frequency: daily,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: 4200, min_value: 0}
  - {code: output_t, name: {ru: "Выпуск", kk: "Өнім", en: "Output"}, unit: t, frequency: monthly,
     aggregation: sum, higher_is_better: true, value_kzt_per_unit: 1000, min_value: 0, max_value: 1000000}
  - {code: power_kwh, name: {ru: "Электроэнергия", kk: "Электр", en: "Power"}, unit: kWh, frequency: weekly,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: 25, min_value: 0}
  - {code: uptime_pct, name: {ru: "Готовность", kk: "Дайындық", en: "Uptime"}, unit: "%", frequency: quarterly,
     aggregation: mean, higher_is_better: true, value_kzt_per_unit: 1000, min_value: 0, max_value: 100}
"""


@pytest.fixture(scope="session")
def registry_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated warehouse with the test registry, made once; tests copy it."""
    return warehouse_with_registry(tmp_path_factory.mktemp("registry_warehouse"), REGISTRY_YAML)


@pytest.fixture
def reg_path(registry_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the registry warehouse file."""
    path = tmp_path / "wh.duckdb"
    shutil.copy(registry_warehouse, path)
    return path


@pytest.fixture
def reg_con(reg_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An open connection to a fresh warehouse holding the test registry."""
    connection = connect(reg_path)
    yield connection
    connection.close()
