"""Shared fixtures of the estimation tests: the public reference panels and the simulation DGP."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REFDATA = REPO / ".." / "shared" / "refdata"
REFERENCE = REPO / "tests" / "data" / "reference"

sys.path.insert(0, str(REPO / "bench" / "validation"))


@pytest.fixture(scope="session")
def refdata() -> Path:
    """../shared/refdata (public panels with published results); skips when absent."""
    if not REFDATA.is_dir():
        pytest.skip("../shared/refdata is absent")
    return REFDATA.resolve()
