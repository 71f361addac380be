"""pilot-roi: causal estimates of AI pilots' production effects, in tenge, with an audit trail.

The public Python API is `estimate_effect` (see PRODUCT.md, "Python estimation API").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pilot_roi.estimation.api import estimate_effect as estimate_effect

__all__ = ["__version__", "estimate_effect"]


def __getattr__(name: str) -> Any:
    # Lazy so that `pilot-roi init` does not pay for importing statsmodels.
    if name == "estimate_effect":
        from pilot_roi.estimation.api import estimate_effect

        return estimate_effect
    raise AttributeError(name)
