"""`pilot-roi estimate [--pilot CODE] [--format json] [--discount-rate R] [--horizon-years N]`.

Estimates every pilot-metric (or re-examines one pilot's), stores the run and prints its results.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import replace
from typing import Any

from pilot_roi.commands import with_next_steps
from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.estimation.method_words import method_reason_in
from pilot_roi.grading import describe_grade_reason
from pilot_roi.i18n import format_money, format_number, format_percent, t
from pilot_roi.runner import RunOptions, run_portfolio
from pilot_roi.runner.read import registry_pilot_code, run_results
from pilot_roi.settings import Settings
from pilot_roi.warehouse import connect, migrate, require_writable

_JSON_FIELDS = (
    "pilot_code", "metric_code", "status", "reason", "method", "method_reason", "effect", "se", "effect_pct",
    "ci_low", "ci_high", "p_value", "q_value", "pre_trend_p", "mde", "grade", "grade_reason", "n_treated",
    "n_controls", "n_pre_periods", "n_post_periods", "annual_gain_kzt", "annual_gain_ci_low", "annual_gain_ci_high",
    "npv_kzt", "npv_ci_low", "npv_ci_high", "roi", "roi_ci_low", "roi_ci_high", "payback_months",
    "realized_gain_kzt", "reused_from_run", "inputs_hash",
)  # fmt: skip


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the `estimate` subcommand."""
    parser = subparsers.add_parser("estimate", parents=[common], help="estimate every pilot's effect, in tenge")
    parser.add_argument("--pilot", metavar="CODE", help="re-examine only this pilot (the rest is carried forward)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--discount-rate", type=float, default=None, metavar="R", help="per year (default 0.15)")
    parser.add_argument("--horizon-years", type=int, default=None, metavar="N", help="NPV horizon (default 5)")
    parser.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--force", action="store_true", help="estimate again even where the inputs did not change")
    parser.set_defaults(handler=run)


def _options(args: argparse.Namespace, settings: Settings) -> RunOptions:
    rate = settings.discount_rate if args.discount_rate is None else args.discount_rate
    horizon = settings.horizon_years if args.horizon_years is None else args.horizon_years
    problems = []
    if not (math.isfinite(rate) and -1.0 < rate < 10.0):
        problems.append(Problem("estimate.bad_discount_rate", where="--discount-rate", params={"value": rate}))
    if not 1 <= horizon <= 100:
        problems.append(Problem("estimate.bad_horizon", where="--horizon-years", params={"value": horizon}))
    if args.workers < 1:
        problems.append(Problem("estimate.bad_workers", where="--workers", params={"value": args.workers}))
    if problems:
        raise InvalidInput(problems)
    return RunOptions(
        seed=settings.seed if args.seed is None else args.seed,
        discount_rate=rate,
        horizon_years=horizon,
        pilot=args.pilot,
        workers=args.workers,
        started_by=settings.user,
        force=bool(args.force),
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _words(r: dict[str, Any], lang: str) -> dict[str, str | None]:
    """The row's codes in words of `lang`, beside the codes (scripts key on codes, people read the words)."""
    return {
        "reason_text": describe_grade_reason(r["reason"], lang) if r.get("reason") else None,
        "method_reason_text": method_reason_in(r.get("diagnostics"), r.get("method_reason"), lang) or None,
        "grade_text": t(f"estimate.grade.{r['grade']}", lang) if r.get("grade") else None,
        "grade_reason_text": describe_grade_reason(r["grade_reason"], lang) if r.get("grade_reason") else None,
    }


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the portfolio, then print the results (text table or one JSON object)."""
    options = _options(args, settings)
    con = connect(settings.warehouse)
    try:
        require_writable(settings.warehouse)
        migrate(con, path_label=str(settings.warehouse))
        if options.pilot is not None:
            options = replace(options, pilot=registry_pilot_code(con, options.pilot))
        with with_next_steps(con):
            summary = run_portfolio(con, options)
        rows = run_results(con, summary.run_id)
    finally:
        con.close()
    if options.pilot is not None:
        rows = [r for r in rows if r["pilot_code"] == options.pilot]
    if args.format == "json":
        document = {
            "status": "finished",
            "run_id": summary.run_id,
            "data_version": summary.data_version,
            "code_version": summary.code_version,
            "parameters": options.parameters(),
            "n_estimates": summary.n_estimates,
            "n_estimated": summary.n_estimated,
            "n_reused": summary.n_reused,
            "n_not_estimated": summary.n_not_estimated,
            "n_errors": summary.n_errors,
            "n_insufficient_data": summary.n_insufficient,
            "seconds": round(summary.seconds, 3),
            "lang": settings.lang,
            "estimates": [
                {k: _json_value(r.get(k)) for k in _JSON_FIELDS}
                | {"pays_back": bool(r.get("payback_months") is not None and math.isfinite(r["payback_months"]))}
                | _words(r, settings.lang)
                for r in rows
            ],
        }
        print(json.dumps(document, ensure_ascii=False))
        return 0
    lang = settings.lang
    print(
        t("estimate.run_done", lang, run_id=summary.run_id, n=summary.n_estimates, estimated=summary.n_estimated,
          reused=summary.n_reused, not_estimated=summary.n_not_estimated, errors=summary.n_errors,
          insufficient=summary.n_insufficient, seconds=format_number(summary.seconds, lang, 1))
    )  # fmt: skip
    for r in rows:
        print(_text_row(r, lang))
    return 0


def _method_word(method: str, lang: str) -> str:
    """The method in words of `lang` ("разность разностей"), as the dashboard names it; its code if it has none."""
    key = f"dash.method.{method}"
    word = t(key, lang)
    return method if word == key else word


def _text_row(r: dict[str, Any], lang: str) -> str:
    grade = t(f"estimate.grade.{r['grade']}", lang)
    head = f"{r['pilot_code']} / {r['metric_code']}: {grade}"
    if r["status"] != "ok":
        why = describe_grade_reason(r.get("reason") or r["status"], lang)
        return f"{head} — {t('estimate.no_number', lang, reason=why)}"
    decimals = 2 if abs(r["effect"]) < 100 else 0
    effect = format_number(r["effect"], lang, decimals)
    ci = f"[{format_number(r['ci_low'], lang, decimals)}; {format_number(r['ci_high'], lang, decimals)}]"
    payback = r.get("payback_months")
    payback_text = (
        t("estimate.payback_never", lang)
        if payback is None or not math.isfinite(payback)
        else t("estimate.payback", lang, months=format_number(payback, lang, 0))
    )
    return t(
        "estimate.row",
        lang,
        head=head,
        method=_method_word(r["method"], lang),
        effect=effect,
        pct=format_percent(r.get("effect_pct"), lang),
        ci=ci,
        q=format_number(r.get("q_value"), lang, 3),
        gain=format_money(r.get("annual_gain_kzt"), lang),
        gain_low=format_money(r.get("annual_gain_ci_low"), lang),
        gain_high=format_money(r.get("annual_gain_ci_high"), lang),
        npv=format_money(r.get("npv_kzt"), lang),
        payback=payback_text,
    )
