"""The precomputed data quality summary (tables of migration 0008), refreshed for the pairs a change touches.

The dashboard reads only these tables, so no page scans `observation_current`. Every refresh runs inside the
caller's transaction: the summary changes with the observations or registry it describes, or not at all.
"""

from __future__ import annotations

import logging
from typing import Literal

import duckdb

from pilot_roi.resources import read_sql

log = logging.getLogger(__name__)

#: Which pairs a refresh recounts: those an ingest load changes (needs its ingest_stage and ingest_matched), those
#: whose metric's frequency changed in the registry, or every pair (a full rebuild). An upload's pairs whose median
#: and MAD cannot move (see pipelines/quality/pairs_from_upload.sql) only have their restated values re-scored.
RefreshScope = Literal["upload", "stale_frequency", "all"]

_SCOPE_SQL: dict[RefreshScope, str] = {
    "upload": "quality/pairs_from_upload.sql",
    "stale_frequency": "quality/pairs_with_stale_frequency.sql",
    "all": "quality/pairs_all.sql",
}

_STABLE_STEPS = (
    "quality/stable_last_upload.sql",
    "quality/stable_delete_flags.sql",
    "quality/stable_insert_flags.sql",
)

_REFRESH_STEPS = (
    "quality/delete_pairs.sql",
    "quality/refresh_values.sql",
    "quality/pair_stats.sql",
    "quality/insert_monthly.sql",
    "quality/insert_pairs.sql",
    "quality/insert_outliers.sql",
)

STORED_Z = 3.5
"""Outlier flags are kept from |robust z| > 3.5 (see pipelines/quality/insert_outliers.sql); readers go stricter."""


def refresh_quality_summary(
    con: duckdb.DuckDBPyConnection, scope: RefreshScope, *, upload_id: int | None = None
) -> int:
    """Bring the quality summary of the pairs in `scope` up to date; returns how many pairs were recounted whole.

    Call it inside the transaction that changed the observations or the registry; scope "upload" also needs the
    `upload_id` that changed them.
    """
    if scope not in _SCOPE_SQL:
        raise ValueError(f"unknown quality refresh scope {scope!r}; allowed: {', '.join(_SCOPE_SQL)}")
    if scope == "upload" and upload_id is None:
        raise ValueError("an upload's quality refresh needs its upload_id")
    try:
        con.execute(read_sql(_SCOPE_SQL[scope]))
        n_stable = 0
        if scope == "upload":
            n_stable = int(con.execute("SELECT count(*) FROM quality_stable_pairs").fetchall()[0][0])
            for step in _STABLE_STEPS:
                sql = read_sql(step)
                con.execute(sql, {"upload_id": upload_id} if "$upload_id" in sql else None)
        n_pairs = int(con.execute("SELECT count(*) FROM quality_refresh_pairs").fetchall()[0][0])
        if n_pairs:
            for step in _REFRESH_STEPS:
                con.execute(read_sql(step))
        log.debug("quality summary (%s): %d pairs recounted, %d only re-scored", scope, n_pairs, n_stable)
        return n_pairs
    finally:
        con.execute(read_sql("quality/cleanup.sql"))


__all__ = ["STORED_Z", "RefreshScope", "refresh_quality_summary"]
