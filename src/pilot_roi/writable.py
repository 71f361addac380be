"""Whether this user may create or replace a file: asked before any work is spent on producing it."""

from __future__ import annotations

import os
from pathlib import Path


def nearest_existing_folder(path: Path) -> Path:
    """The folder `path` would be created in, or its first ancestor that exists (the rest would be made)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def closed_folder(path: Path) -> Path | None:
    """The folder that stops this user from creating `path` (write or search permission missing), else None."""
    folder = nearest_existing_folder(path)
    return None if os.access(folder, os.W_OK | os.X_OK) else folder
