"""Make tests/data/reference/sc_pysyncon.json: outcome-only synthetic-control weights by an independent
implementation, pysyncon 1.7.0 (the Python port of R `Synth`), for prop99 and basque.

Not part of the project's environment: run it in a separate virtual environment, e.g.
    python -m venv /tmp/scenv && /tmp/scenv/bin/pip install pysyncon==1.7.0
    /tmp/scenv/bin/python tests/data/reference/make_sc_pysyncon_reference.py ../shared/refdata
Settings: the predictors are the treated unit's and the donors' outcomes in every pre-period year with V the
identity (Synth's problem min_w (X1 - X0 w)' V (X1 - X0 w), w >= 0, sum w = 1 is then our outcome-only
synthetic control), solved by pysyncon's own `Synth.w_optimize` (scipy SLSQP, from equal weights) with a
tighter tolerance than its default (ftol 1e-15, 100,000 iterations). SLSQP stops close to, not at, the
optimum: the file records its loss, so a test can tell a better optimum from a disagreement.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
from pysyncon import Synth

OPTIONS = {"maxiter": 100_000, "ftol": 1e-15}


def solve(df: pd.DataFrame, unit: str, time: str, y: str, treated: str, start: int) -> dict[str, object]:
    """Weights, pre-period loss (sum of squared gaps) and ATT (mean post-period gap) for one treated unit."""
    wide = df.pivot(index=time, columns=unit, values=y).sort_index()
    pre = np.asarray(wide.index < start)
    donors = [c for c in wide.columns if c != treated]
    x0 = wide.loc[pre, donors].to_numpy(float)
    x1 = wide.loc[pre, treated].to_numpy(float)
    weights, _ = Synth.w_optimize(np.eye(x0.shape[0]), x0, x1, qp_options=OPTIONS)
    post_gap = wide.loc[~pre, treated].to_numpy(float) - wide.loc[~pre, donors].to_numpy(float) @ weights
    return {
        "treated": treated,
        "first_treated_year": start,
        "weights": {d: float(w) for d, w in zip(donors, weights, strict=True)},
        "pre_loss": float(np.sum((x1 - x0 @ weights) ** 2)),
        "att": float(post_gap.mean()),
    }


def main(refdata: Path) -> None:
    prop99 = pd.read_csv(refdata / "prop99.csv")
    basque = pd.read_csv(refdata / "basque.csv")
    basque = basque[basque["regionno"] != 1]  # Spain as a whole is not a donor
    out = {
        "source": "pysyncon 1.7.0 Synth.w_optimize (scipy SLSQP), V = identity on every pre-period outcome",
        "versions": {"scipy": scipy.__version__, "numpy": np.__version__, "pandas": pd.__version__},
        "qp_options": OPTIONS,
        "script": "tests/data/reference/make_sc_pysyncon_reference.py",
        "prop99": solve(prop99, "state", "year", "cigsale", "California", 1989),
        "basque": solve(basque, "regionname", "year", "gdpcap", "Basque Country (Pais Vasco)", 1970),
    }
    target = Path(__file__).with_name("sc_pysyncon.json")
    target.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
