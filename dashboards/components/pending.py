"""Files previewed by a user and waiting for their confirmation, kept in this server process only.

Keyed by a random token and checked against the username; at most PENDING_MAX entries, each for at most
PENDING_TTL_SECONDS. `pilot-roi serve` runs one worker process (DuckDB has one writer), so every request sees
the same store.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

PENDING_TTL_SECONDS = 1800.0
PENDING_MAX = 64


@dataclass(frozen=True, slots=True)
class PendingUpload:
    """Files previewed by one user and waiting for their confirmation."""

    username: str
    files: tuple[tuple[str, bytes], ...]
    mode: str
    created: float


_pending: dict[str, PendingUpload] = {}
_pending_lock = threading.Lock()


def put_pending(item: PendingUpload) -> str:
    """Keep `item`; return its token."""
    token = secrets.token_urlsafe(16)
    now = time.monotonic()
    with _pending_lock:
        for key in [k for k, v in _pending.items() if now - v.created > PENDING_TTL_SECONDS]:
            del _pending[key]
        while len(_pending) >= PENDING_MAX:
            del _pending[min(_pending, key=lambda k: _pending[k].created)]
        _pending[token] = item
    return token


def take_pending(token: str, username: str) -> PendingUpload | None:
    """The item of `token` if it belongs to `username` and is fresh (removed from the store), else None."""
    with _pending_lock:
        item = _pending.get(token)
        if item is None or item.username != username or time.monotonic() - item.created > PENDING_TTL_SECONDS:
            return None
        del _pending[token]
        return item
