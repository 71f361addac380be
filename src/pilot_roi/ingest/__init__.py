"""Metric file ingestion: read any real export into typed observations, validate, and merge with history.

Public API:
- `load_observations(con, frame, ...)`: merge an already clean polars frame (site_code, metric_code, period,
  value) through the same validation and merge as a file upload.
- `ingest_file(con, path_or_bytes, ...)`: read a CSV/TSV/XLSX/Parquet file, validate and merge it.
- `read_metric_file(data, file_name=...)`: only read and parse (InvalidInput for an unreadable file).
- `quality_report(con, ...)`: coverage, missing periods, robust outliers and last upload per site x metric.
- `write_template(con, subsidiary, out, lang=...)`: the XLSX upload template.
"""

from pilot_roi.ingest.api import ingest_file, read_metric_file
from pilot_roi.ingest.load import frame_sha256, load_observations, load_parsed
from pilot_roi.ingest.model import MODES, IngestError, IngestReport, Mode, ParsedFile, Status
from pilot_roi.ingest.quality import QualityReport, quality_report
from pilot_roi.ingest.template import write_template

__all__ = [
    "MODES",
    "IngestError",
    "IngestReport",
    "Mode",
    "ParsedFile",
    "QualityReport",
    "Status",
    "frame_sha256",
    "ingest_file",
    "load_observations",
    "load_parsed",
    "quality_report",
    "read_metric_file",
    "write_template",
]
