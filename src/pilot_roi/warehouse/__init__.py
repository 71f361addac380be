"""The DuckDB warehouse: connect, migrate, and run the SQL models of `pipelines/`."""

from pilot_roi.warehouse.connection import connect, require_writable, transaction
from pilot_roi.warehouse.migrate import migrate, schema_version

__all__ = ["connect", "migrate", "require_writable", "schema_version", "transaction"]
