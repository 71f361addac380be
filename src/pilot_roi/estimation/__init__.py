"""Effect estimation: one result type, methods registered by name, honest inference with few sites.

Public entry point: `pilot_roi.estimate_effect` (defined in `pilot_roi.estimation.api`). Modules:
`panel` (PanelData, prepare_panel), `design` (method choice), `did`, `staggered`, `inference`,
`diagnostics`, `summary`; `synthetic_control` and `its` are registered lazily.

`limit_blas_threads`: on this 2-core machine OpenBLAS with 2 threads makes a (9000 × 20)' (9000 × 20)
product take ~1 s instead of ~0.2 ms whenever another process is busy (the threads wait on each other),
so estimation runs BLAS single-threaded and parallelises across pilots with processes instead.
"""

from __future__ import annotations

import ctypes
import os
from functools import cache

_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)


@cache
def limit_blas_threads(n: int | None = None) -> int:
    """Set every loaded OpenBLAS to `n` threads (default: env PILOT_ROI_BLAS_THREADS or 1).

    Returns how many BLAS libraries were set. Safe to call repeatedly (cached per `n`).
    """
    import numpy  # noqa: F401  (loads numpy's OpenBLAS)
    import scipy.linalg  # noqa: F401  (loads scipy's OpenBLAS)

    threads = n if n is not None else int(os.environ.get("PILOT_ROI_BLAS_THREADS", "1"))
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            paths = {line.split()[-1] for line in fh if "openblas" in line.lower() and "/" in line}
    except OSError:
        return 0
    done = 0
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(ctypes.c_int(threads))
                done += 1
                break
    return done
