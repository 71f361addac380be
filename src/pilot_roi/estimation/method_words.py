"""Why `method="auto"` chose a method, in words of any supported language.

`choose_method` records the facts behind its choice (`MethodChoice.facts`, stored with every estimate under
`diagnostics["method_choice"]`); this module turns them into the sentence. The English sentence is the
estimate's `method_reason`; the dashboard and the reports render the same facts in the reader's language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pilot_roi.i18n import t

CASES = ("no_treated", "no_controls", "staggered", "same_date", "all_treated_staggered")
INFERENCE = ("placebo_variance", "har", "influence_function", "wild_bootstrap", "own_forecast", "randomization")
_FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "yearly", "periods")


def describe_method_choice(facts: Mapping[str, Any], lang: str) -> str:
    """The reason for the method choice recorded in `facts` (see `design.choose_method`) as one sentence."""
    case = str(facts.get("case"))
    params = {
        "n_treated": facts.get("n_treated", 0),
        "n_controls": facts.get("n_controls", 0),
        "n_cohorts": facts.get("n_cohorts", 0),
        "n_pre": facts.get("n_pre", 0),
        "few": facts.get("few_treated", 0),
        "n_assignments": facts.get("n_assignments", 0),
    }
    frequency = str(facts.get("frequency"))
    params["frequency"] = t(f"method_choice.frequency.{frequency if frequency in _FREQUENCIES else 'periods'}", lang)
    sentence = t(f"method_choice.case.{case if case in CASES else 'same_date'}", lang, **params)
    inference = facts.get("inference")
    if inference in INFERENCE:
        sentence += t("method_choice.joiner", lang) + t(f"method_choice.inference.{inference}", lang, **params)
    sentence = sentence[:1].upper() + sentence[1:] + "."
    robustness = [str(m) for m in facts.get("robustness") or ()]
    if robustness:
        names = ", ".join(t(f"estimation.method.{m}", lang) for m in robustness)
        sentence += " " + t("method_choice.robustness", lang, methods=names)
    return sentence


def method_reason_in(diagnostics: str | Mapping[str, Any] | None, stored: str | None, lang: str) -> str:
    """An estimate's method reason in `lang` from its diagnostics (JSON text or mapping); `stored` otherwise.

    Estimates made before the facts were recorded keep their stored (English) sentence.
    """
    if isinstance(diagnostics, str):
        try:
            diagnostics = json.loads(diagnostics)
        except ValueError:
            diagnostics = None
    facts = diagnostics.get("method_choice") if isinstance(diagnostics, Mapping) else None
    if isinstance(facts, Mapping) and facts.get("case") in CASES:
        return describe_method_choice(facts, lang)
    return stored or ""
