"""The portfolio runner: estimate every pilot-metric, grade and price it, store one reproducible run."""

from pilot_roi.runner.model import Estimate, EstimateJob, PilotMetric, RunOptions, SiteRoles, derive_seed
from pilot_roi.runner.run import RunSummary, assemble_rows, code_version, run_portfolio

__all__ = [
    "Estimate",
    "EstimateJob",
    "PilotMetric",
    "RunOptions",
    "RunSummary",
    "SiteRoles",
    "assemble_rows",
    "code_version",
    "derive_seed",
    "run_portfolio",
]
