"""Shared constants and helpers of the dashboard tests (the demo accounts, signing a test client in)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN = ("demo.admin", "admin-demo-2025")
ENGINEER = ("demo.engineer", "engineer-demo-2025")  # KMG
EXECUTIVE = ("demo.executive", "executive-demo-2025")
REVIEWER = ("demo.reviewer", "reviewer-demo-2025")


def sign_in(client: Any, username: str, password: str) -> Any:
    """Sign a Flask test client in through the real sign-in form."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "the sign-in page has no CSRF token"
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token.group(1), "next": "/"}
    )
    assert response.status_code in (302, 303), response.status_code
    return client
