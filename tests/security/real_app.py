"""The real dashboard (`dashboards.app.create_app`) as a WSGI app for gunicorn in the server tests."""

from __future__ import annotations

import os
from pathlib import Path

from dashboards.app import create_app


def make() -> object:
    """`tests.security.real_app:make()`: the dashboard on $PILOT_ROI_WAREHOUSE, development mode."""
    return create_app(Path(os.environ["PILOT_ROI_WAREHOUSE"])).server
