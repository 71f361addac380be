"""Make tests/data/reference/{mpdta,castle}_csdid_analytic.json: Callaway & Sant'Anna by an independent
implementation, csdid 0.4.3 (the Python port of R `did`), with analytic standard errors (bstrap=False).

Not part of the project's environment: run it in a separate virtual environment, e.g.
    python -m venv /tmp/refenv && /tmp/refenv/bin/pip install csdid==0.4.3
    /tmp/refenv/bin/python tests/data/reference/make_csdid_reference.py ../shared/refdata
Settings: est_method="reg" (outcome regression, no covariates), base_period="varying" (R's default),
analytic influence-function standard errors; mpdta with never-treated controls, castle (l_homicide,
unweighted, effyear empty → 0 = never) with never-treated and with not-yet-treated controls.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from csdid.att_gt import ATTgt

warnings.filterwarnings("ignore")


def run(df: pd.DataFrame, y: str, g: str, unit: str, control_group: str, data_note: str) -> dict[str, object]:
    """att_gt and the three aggregations with analytic standard errors."""
    fit = ATTgt(yname=y, gname=g, idname=unit, tname="year", xformla=None, data=df, control_group=control_group).fit(
        est_method="reg", bstrap=False
    )
    n = int(fit.MP["n"])
    infl = np.asarray(fit.MP["inffunc"]["inffunc"])
    out: dict[str, object] = {
        "source": "csdid 0.4.3 (Python port of R did), ATTgt(..., est_method='reg').fit(bstrap=False)",
        "data": data_note,
        "control_group": control_group,
        "att_gt": {
            "group": [int(g) for g in fit.MP["group"]],
            "time": [int(t) for t in fit.MP["t"]],
            "att": [float(a) for a in fit.MP["att"]],
            "se": [float(s) for s in np.sqrt((infl**2).sum(axis=0)) / n],
        },
        "pretest_p": None if fit.MP["Wpval"] is None else float(fit.MP["Wpval"]),
    }
    for kind in ("simple", "dynamic", "group"):
        agg = fit.aggte(typec=kind, bstrap=False, cband=False)
        res = agg.atte if hasattr(agg, "atte") else vars(agg)
        entry: dict[str, object] = {"overall_att": float(res["overall_att"]), "overall_se": float(res["overall_se"])}
        if res.get("egt") is not None:
            entry["egt"] = [float(e) for e in np.atleast_1d(res["egt"])]
            entry["att_egt"] = [float(a) for a in np.atleast_1d(res["att_egt"])]
            entry["se_egt"] = [float(s) for s in np.atleast_1d(res["se_egt"])]
        out[kind] = entry
    return out


def main(refdata: str) -> None:
    here = Path(__file__).parent
    mpdta = pd.read_csv(Path(refdata) / "mpdta.csv")
    note = "../shared/refdata/mpdta.csv (R did, data/mpdta.rda); never-treated = first_treat 0"
    results = {"nevertreated": run(mpdta, "lemp", "first_treat", "county", "nevertreated", note)}
    (here / "mpdta_csdid_analytic.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    castle = pd.read_csv(Path(refdata) / "castle.csv")
    castle["effyear"] = castle["effyear"].fillna(0).astype(int)
    castle["sid"] = castle["state"].astype("category").cat.codes + 1
    note = "../shared/refdata/castle.csv (mixtape castle.dta); l_homicide, unweighted; never-treated = effyear empty"
    results = {cg: run(castle, "l_homicide", "effyear", "sid", cg, note) for cg in ("nevertreated", "notyettreated")}
    (here / "castle_csdid_analytic.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {here}/mpdta_csdid_analytic.json and castle_csdid_analytic.json")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/refdata")
