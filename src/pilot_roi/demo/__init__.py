"""The synthetic demo: a registry of Samruk-Kazyna subsidiaries and AI pilots, a seeded data generator with
every pilot's true effect recorded, and the build of warehouse/demo.duckdb (`pilot-roi demo`).

- registry.yaml  subsidiaries, sites, metrics and pilots (the ordinary registry format);
- scenario.yaml  how each metric moves, each site's level, each pilot's true effect;
- generate.py    pure: scenario + registry + seed -> observations and truths (polars);
- truth.py       the true effects, measured on the generated series, and the demo_truths table;
- build.py       the atomic build: migrate, registry, uploads through ingestion, truths, users, estimates.
"""

from pilot_roi.demo.build import DEMO_USERS, BuildSummary, build_demo
from pilot_roi.demo.generate import DemoData, generate, load_demo_registry, load_scenario
from pilot_roi.demo.truth import pilot_truths

__all__ = [
    "DEMO_USERS",
    "BuildSummary",
    "DemoData",
    "build_demo",
    "generate",
    "load_demo_registry",
    "load_scenario",
    "pilot_truths",
]
