"""Fixtures of the security tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from security_fixtures import copy_template, make_security_warehouse


@pytest.fixture(scope="session")
def _template_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Made once (argon2 hashing is slow on purpose), copied for each test."""
    return make_security_warehouse(tmp_path_factory.mktemp("security_template") / "wh.duckdb")


@pytest.fixture
def sec_warehouse(_template_warehouse: Path, tmp_path: Path) -> Path:
    """A fresh warehouse with the registry and accounts of security_fixtures.ACCOUNTS."""
    return copy_template(_template_warehouse, tmp_path / "wh.duckdb")
