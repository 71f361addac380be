"""The DuckDB warehouse: connect, migrate, and run the SQL models of `pipelines/`."""

from pilot_roi.warehouse.connection import connect, require_writable, transaction
from pilot_roi.warehouse.migrate import migrate, require_current_schema, schema_version

__all__ = ["connect", "migrate", "require_current_schema", "require_writable", "schema_version", "transaction"]
