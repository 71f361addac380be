"""A small warehouse for report tests, filled through the public paths (registry loader, ingestion) plus an
estimate run written in the runner's schema (migration 0003), so the report can be tested before and apart
from the real estimators. Also used by bench/report_bench.py (200 pilots).

Estimates are derived from the generated data: the fixture knows each pilot's true effect, writes the
counterfactual as observed minus that effect after go-live, and prices it with pilot_roi.economics.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from pilot_roi import economics
from pilot_roi.ingest import load_observations
from pilot_roi.registry import load_registry_file
from pilot_roi.reports.model import Amount, YearReport
from pilot_roi.warehouse import connect, migrate, transaction

YEAR = 2025
TODAY = date(2026, 1, 20)
INJECTION = '=HYPERLINK("http://evil.example","click")'
UPLOAD_INJECTION = "=cmd|' /C calc'!A0.csv"
KAZAKH_LETTERS = "әғқңөұүһі"

# (grade, status, relative effect in % of the level, beneficial?) cycled over pilots
_PLAN = (
    ("demonstrated", "ok", 6.0),
    ("adverse", "ok", -4.0),
    ("inconclusive", "ok", 0.6),
    ("insufficient_data", "insufficient_data", 0.0),
    ("promising", "ok", 2.0),
)
_METRICS = {
    "energy_gj": {"unit": "GJ", "frequency": "monthly", "higher": False, "value": 4200.0, "level": 52_000.0},
    "output_t": {"unit": "t", "frequency": "monthly", "higher": True, "value": 15_000.0, "level": 8_000.0},
    "downtime_h": {"unit": "h", "frequency": "daily", "higher": False, "value": 250_000.0, "level": 6.0},
}
_NAMES = {
    "energy_gj": ("Потребление энергии", "Энергия тұтынуы", "Energy use"),
    "output_t": ("Выпуск продукции", "Өнім шығарылымы", "Output"),
    "downtime_h": ("Часы простоя", "Тоқтап тұру сағаттары", "Downtime hours"),
}


@dataclass(frozen=True, slots=True)
class Built:
    """What the fixture put in the warehouse."""

    path: Path
    run_id: int
    pilots: tuple[str, ...]


def _months(start: date, end: date) -> list[date]:
    out, d = [], start
    while d <= end:
        out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def _days(start: date, end: date) -> list[date]:
    return [date.fromordinal(o) for o in range(start.toordinal(), end.toordinal() + 1)]


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def registry_yaml(n_pilots: int, daily_every: int = 0, inject: bool = True) -> str:
    """Registry text: two subsidiaries, 2 treated sites per pilot, 3 control sites per subsidiary."""
    subs = [("KMG", "КазМунайГаз", "ҚазМұнайГаз", "KazMunayGas"), ("KTZ", "КТЖ", "Қазақстан темір жолы", "KTZ")]
    lines = ["data_start: 2023-01-01", "subsidiaries:"]
    lines += [f"  - {{code: {c}, name: {{ru: {_q(ru)}, kk: {_q(kk)}, en: {_q(en)}}}}}" for c, ru, kk, en in subs]
    lines.append("sites:")
    for c, *_ in subs:
        for k in range(3):
            lines.append(
                f"  - {{code: {c}-CTRL{k}, subsidiary: {c}, name: {{ru: {_q(f'Контрольный объект {k}')}, "
                f"kk: {_q(f'Қаһарман бақылау нысаны {k}')}, en: {_q(f'Control site {k}')}}}}}"
            )
    for i in range(n_pilots):
        sub = subs[i % 2][0]
        for k in range(2):
            lines.append(
                f"  - {{code: P{i:03d}-S{k}, subsidiary: {sub}, name: {{ru: {_q(f'Завод {i}-{k}')}, "
                f"kk: {_q(f'Әуезов зауыты {i}-{k}')}, en: {_q(f'Plant {i}-{k}')}}}}}"
            )
    lines.append("metrics:")
    for code, m in _METRICS.items():
        ru, kk, en = _NAMES[code]
        lines.append(
            f"  - {{code: {code}, name: {{ru: {_q(ru)}, kk: {_q(kk)}, en: {_q(en)}}}, unit: {m['unit']}, "
            f"frequency: {m['frequency']}, aggregation: sum, higher_is_better: {str(m['higher']).lower()}, "
            f"value_kzt_per_unit: {m['value']}, min_value: 0}}"
        )
    lines.append("pilots:")
    use_cases = ("energy_optimization", "process_optimization", "predictive_maintenance")
    for i in range(n_pilots):
        sub = subs[i % 2][0]
        metric = "downtime_h" if daily_every and i % daily_every == daily_every - 1 else "energy_gj"
        metrics = [metric, "output_t"] if i % 3 == 0 else [metric]
        name_en = INJECTION if (inject and i == 1) else f"AI pilot {i}"
        go1, go2 = date(2024, 3 + i % 6, 1), date(2024, 9 + i % 3, 1)
        lines.append(
            f"  - code: P{i:03d}\n    name: {{ru: {_q(f'ИИ-пилот {i}')}, "
            f"kk: {_q(f'Маңғыстау өңдеу үдерісін басқару {i}')}, en: {_q(name_en)}}}\n"
            f"    subsidiary: {sub}\n    use_case: {use_cases[i % 3]}\n"
            f"    sites: [{{site: P{i:03d}-S0, go_live: {go1.isoformat()}}}, "
            f"{{site: P{i:03d}-S1, go_live: {go2.isoformat()}}}]\n"
            + (f"    controls: [{sub}-CTRL0, {sub}-CTRL1]\n" if i % 2 == 0 else "")
            + f"    metrics: [{', '.join(metrics)}]\n"
            f"    capex_kzt: {100_000_000 + 7_000_000 * i}\n    opex_kzt_per_year: {10_000_000 + 500_000 * i}"
        )
    return "\n".join(lines) + "\n"


def _pilot_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, list[tuple[str, date]], list[str]]]:
    pilots = con.execute("SELECT code, subsidiary_code FROM pilot_registry ORDER BY code").fetchall()
    out = []
    for code, sub in pilots:
        sites = con.execute(
            "SELECT site_code, go_live FROM pilot_treated_sites WHERE pilot_code = ? ORDER BY site_code", [code]
        ).fetchall()
        metrics = [
            r[0]
            for r in con.execute(
                "SELECT metric_code FROM pilot_metrics WHERE pilot_code = ? ORDER BY metric_code", [code]
            ).fetchall()
        ]
        out.append((code, sub, [(s, g) for s, g in sites], metrics))
    return out


def _plan(i: int) -> tuple[str, str, float]:
    return _PLAN[i % len(_PLAN)]


def observations(con: duckdb.DuckDBPyConnection, seed: int) -> dict[str, pl.DataFrame]:
    """Observation frames per subsidiary: a level with noise; treated sites shift by the plan's effect."""
    rng = np.random.default_rng(seed)
    months = _months(date(2023, 1, 1), date(2025, 12, 1))
    days = _days(date(2024, 1, 1), date(2025, 12, 31))
    rows: dict[str, list[tuple[str, str, date, float]]] = {}
    treated_effect: dict[tuple[str, str], tuple[date, float]] = {}
    for i, (_code, _sub, sites, metrics) in enumerate(_pilot_rows(con)):
        _grade, _status, pct = _plan(i)
        for metric in metrics:
            m = _METRICS[metric]
            shift = m["level"] * pct / 100.0 * (1.0 if m["higher"] else -1.0)
            for site, go_live in sites:
                treated_effect[(site, metric)] = (go_live, shift)
    site_rows = con.execute("SELECT code, subsidiary_code FROM sites ORDER BY code").fetchall()
    pilot_metrics = {m for _c, _s, _sites, ms in _pilot_rows(con) for m in ms}
    for site, sub in site_rows:
        for metric in sorted(pilot_metrics):
            m = _METRICS[metric]
            periods = days if m["frequency"] == "daily" else months
            noise = rng.normal(0.0, m["level"] * 0.01, len(periods))
            go_live, shift = treated_effect.get((site, metric), (date(2100, 1, 1), 0.0))
            for p, e in zip(periods, noise, strict=True):
                value = m["level"] + e + (shift if p >= go_live else 0.0)
                rows.setdefault(sub, []).append((site, metric, p, round(max(value, 0.0), 3)))
    return {
        sub: pl.DataFrame(
            r,
            schema={"site_code": pl.String, "metric_code": pl.String, "period": pl.Date, "value": pl.Float64},
            orient="row",
        )
        for sub, r in rows.items()
    }


def write_run(con: duckdb.DuckDBPyConnection, seed: int, *, scale: float = 1.0, started_by: str = "fixture") -> int:
    """One finished estimate run in the runner's schema, from the current observations; returns its run id.

    `scale` multiplies every effect (a re-estimate with different numbers).
    """
    params = {"seed": seed, "discount_rate": 0.15, "horizon_years": 5, "n_draws": 2000, "method": "auto"}
    started = datetime.now(UTC).replace(tzinfo=None)
    run_id = con.execute(
        "INSERT INTO estimate_runs (started_at, status, data_version, code_version, parameters, started_by) "
        "VALUES (?, 'running', ?, 'fixture-1', ?, ?) RETURNING run_id",
        [started, f"data-{seed}-{scale}", json.dumps(params), started_by],
    ).fetchone()[0]  # type: ignore[index]
    pilots = con.execute("SELECT code, capex_kzt, opex_kzt_per_year FROM pilot_registry ORDER BY code").fetchall()
    costs = {c: economics.PilotCosts(float(cap), float(op)) for c, cap, op in pilots}
    metric_facts = {
        r[0]: economics.MetricValue(float(r[1]), bool(r[2]), str(r[3]))
        for r in con.execute("SELECT code, value_kzt_per_unit, higher_is_better, frequency FROM metrics").fetchall()
    }
    results, robust, cfs, events = [], [], [], []
    for i, (code, _sub, sites, metrics) in enumerate(_pilot_rows(con)):
        grade, status, pct = _plan(i)
        first = min(g for _s, g in sites)
        for metric in metrics:
            m = _METRICS[metric]
            mv = metric_facts[metric]
            if status != "ok":
                results.append(
                    (
                        run_id,
                        code,
                        metric,
                        "h",
                        None,
                        status,
                        "insufficient_pre_periods",
                        None,
                        None,
                        *[None] * 9,
                        "insufficient_data",
                        "too few periods before go-live",
                        len(sites),
                        None,
                        2,
                        None,
                        *[None] * 13,
                    )
                )
                continue
            series = con.execute(
                "SELECT period, avg(value) FROM observations WHERE metric_code = ? AND site_code IN "
                f"({', '.join('?' for _ in sites)}) GROUP BY period ORDER BY period",
                [metric, *[s for s, _g in sites]],
            ).fetchall()
            effect = m["level"] * pct / 100.0 * (1.0 if m["higher"] else -1.0) * scale
            se = abs(m["level"]) * 0.004
            lo, hi = effect - 1.96 * se, effect + 1.96 * se
            p = math.erfc(abs(effect / se) / math.sqrt(2))
            eco = economics.evaluate(
                economics.EffectEstimate(effect, se, lo, hi),
                mv,
                costs[code],
                len(sites),
                economics.EconomicsParams(n_draws=2000, seed=seed + i),
            )
            cf_rows = []
            for period, observed in series:
                post = period >= first
                cf = observed - effect if post else observed
                cf_rows.append((run_id, code, metric, period, observed, cf, cf - 1.96 * se, cf + 1.96 * se))
            realized = economics.realized_gain_kzt(
                [r[3] for r in cf_rows], [r[4] for r in cf_rows], [r[5] for r in cf_rows], first, mv, len(sites)
            )
            cfs.extend(cf_rows)
            diagnostics = {"pre_trend_test": "pass", "placebo_p": 0.41, "n_sites": len(sites)}
            results.append(
                (
                    run_id,
                    code,
                    metric,
                    f"h{i}",
                    None,
                    "ok",
                    None,
                    "did",
                    "explicit controls with 12 pre periods",
                    effect,
                    se,
                    100.0 * effect / m["level"],
                    lo,
                    hi,
                    p,
                    min(1.0, p * 3),
                    0.52,
                    2.8 * se,
                    grade,
                    f"fixture grade {grade}",
                    len(sites),
                    3,
                    14,
                    12,
                    eco.annual_gain_kzt,
                    eco.annual_gain_ci_low,
                    eco.annual_gain_ci_high,
                    eco.npv_kzt,
                    eco.npv_ci_low,
                    eco.npv_ci_high,
                    eco.roi,
                    eco.roi_ci_low,
                    eco.roi_ci_high,
                    eco.payback_months if math.isfinite(eco.payback_months) else None,
                    realized,
                    json.dumps(diagnostics),
                    f"summary {code} {metric}",
                )
            )
            robust.append(
                (run_id, code, metric, "did", True, "ok", None, effect, se, lo, hi, p, 100 * effect / m["level"])
            )
            robust.append(
                (
                    run_id,
                    code,
                    metric,
                    "its",
                    False,
                    "ok",
                    None,
                    effect * 1.1,
                    se * 1.5,
                    effect * 1.1 - 3 * se,
                    effect * 1.1 + 3 * se,
                    p,
                    110 * effect / m["level"],
                )
            )
            events.extend(
                (run_id, code, metric, k, effect * (k >= 0), se, effect * (k >= 0) - 2 * se, effect * (k >= 0) + 2 * se)
                for k in range(-3, 4)
            )
    cols = (
        "run_id, pilot_code, metric_code, inputs_hash, reused_from_run, status, reason, method, method_reason, "
        "effect, se, effect_pct, ci_low, ci_high, p_value, q_value, pre_trend_p, mde, grade, grade_reason, n_treated, "
        "n_controls, n_pre_periods, n_post_periods, annual_gain_kzt, annual_gain_ci_low, annual_gain_ci_high, npv_kzt, "
        "npv_ci_low, npv_ci_high, roi, roi_ci_low, roi_ci_high, payback_months, realized_gain_kzt, diagnostics, summary"
    )
    fixed = results
    assert all(len(r) == 37 for r in fixed)
    with transaction(con):
        con.executemany(f"INSERT INTO estimate_results ({cols}) VALUES ({', '.join('?' * 37)})", fixed)
        if robust:
            con.executemany(f"INSERT INTO estimate_robustness VALUES ({', '.join('?' * 13)})", robust)
        if cfs:
            con.executemany(f"INSERT INTO estimate_counterfactuals VALUES ({', '.join('?' * 8)})", cfs)
        if events:
            con.executemany(f"INSERT INTO estimate_event_study VALUES ({', '.join('?' * 8)})", events)
        con.execute(
            "UPDATE estimate_runs SET status = 'finished', finished_at = ?, n_estimates = ? WHERE run_id = ?",
            [datetime.now(UTC).replace(tzinfo=None), len(fixed), run_id],
        )
    return int(run_id)


def build_warehouse(path: Path, n_pilots: int = 5, *, seed: int = 7, daily_every: int = 0, demo: bool = True) -> Built:
    """A migrated warehouse with registry, uploads (through ingestion) and one finished estimate run."""
    con = connect(path, create=True)
    try:
        migrate(con)
        if demo:
            con.execute("INSERT OR REPLACE INTO warehouse_info VALUES ('demo', 'true')")
        reg = path.with_suffix(".registry.yaml")
        reg.write_text(registry_yaml(n_pilots, daily_every), encoding="utf-8")
        load_registry_file(con, reg, username="analyst")
        for k, (sub, frame) in enumerate(sorted(observations(con, seed).items())):
            name = UPLOAD_INJECTION if k == 0 else f"{sub}_metrics_2023_2025.csv"
            rep = load_observations(con, frame, file_name=name, uploaded_by=f"engineer.{sub.lower()}", today=TODAY)
            assert rep.status == "loaded", rep
        run_id = write_run(con, seed)
        pilots = tuple(r[0] for r in con.execute("SELECT code FROM pilot_registry ORDER BY code").fetchall())
    finally:
        con.close()
    return Built(path, run_id, pilots)


def restate(path: Path, site: str, metric: str, factor: float = 1.1) -> None:
    """Upload new values for one site and metric (a restatement through ingestion)."""
    con = connect(path)
    try:
        rows = con.execute(
            "SELECT site_code, metric_code, period, value * ? AS value FROM observations "
            "WHERE site_code = ? AND metric_code = ? ORDER BY period",
            [factor, site, metric],
        ).fetchall()
        frame = pl.DataFrame(
            rows,
            schema={"site_code": pl.String, "metric_code": pl.String, "period": pl.Date, "value": pl.Float64},
            orient="row",
        )
        rep = load_observations(con, frame, file_name="restated.csv", uploaded_by="engineer.late", today=TODAY)
        assert rep.status == "loaded", rep
    finally:
        con.close()


def golden_numbers(report: YearReport) -> dict[str, object]:
    """The numbers a golden file pins: totals, groups, every pilot and pilot-metric (no timestamps, no text)."""

    def amount(a: Amount | None) -> list[float | None] | None:
        return None if a is None else [a.value, a.ci_low, a.ci_high]

    def months(value: float | None) -> float | str | None:
        """A payback; "inf" (never pays back) as the snapshot writes it: a golden file stays standard JSON."""
        return "inf" if value is not None and math.isinf(value) else value

    s = report.summary
    return {
        "year": report.year,
        "demo": report.demo,
        "summary": {
            "n_pilots": s.n_pilots,
            "n_estimates": s.n_estimates,
            "demonstrated_annual_gain": amount(s.demonstrated_annual_gain),
            "realized_gain_year": s.realized_gain_year,
            "investment_capex": s.investment_capex,
            "investment_opex_per_year": s.investment_opex_per_year,
            "portfolio_npv": amount(s.portfolio_npv),
            "portfolio_roi": s.portfolio_roi,
            "by_grade": {g.grade: [g.pilots, g.estimates] for g in s.by_grade},
            "largest_gains": [[g.pilot_code, g.metric_code, g.annual_gain.value] for g in s.largest_gains],
            "adverse": [[g.pilot_code, g.metric_code, g.annual_gain.value] for g in s.adverse],
        },
        "by_subsidiary": {
            g.key: [
                g.n_pilots,
                g.n_demonstrated,
                g.n_adverse,
                *(amount(g.demonstrated_annual_gain) or []),
                g.npv,
                g.roi,
            ]
            for g in report.by_subsidiary
        },
        "by_use_case": {
            g.key: [
                g.n_pilots,
                g.n_demonstrated,
                g.n_adverse,
                *(amount(g.demonstrated_annual_gain) or []),
                g.npv,
                g.roi,
            ]
            for g in report.by_use_case
        },
        "pilots": {
            p.code: {
                "grade": p.grade,
                "n_treated": len(p.treated_sites),
                "n_controls": len(p.controls),
                "demonstrated_annual_gain": amount(p.demonstrated_annual_gain),
                "realized_gain_year": p.realized_gain_year,
                "npv": p.npv,
                "roi": p.roi,
                "payback_months": months(p.payback_months),
                "metrics": {
                    m.metric_code: {
                        "grade": m.grade,
                        "method": m.method,
                        "effect": m.effect,
                        "ci": [m.ci_low, m.ci_high],
                        "effect_pct": m.effect_pct,
                        "annual_gain": amount(m.annual_gain),
                        "npv": amount(m.npv),
                        "roi": m.roi,
                        "payback_months": months(m.payback_months),
                        "realized_gain_year": m.realized_gain_year,
                        "n_series": len(m.series),
                    }
                    for m in p.metrics
                },
            }
            for p in report.pilots
        },
        "lineage": {"uploads": len(report.lineage.uploads), "restatements": len(report.lineage.restatements)},
    }


def assert_close(actual: object, expected: object, *, rel: float, abs_: float, path: str = "") -> None:
    """Recursive comparison of golden data: numbers within tolerances, everything else equal."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert sorted(actual) == sorted(expected), f"{path}: keys {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            assert_close(actual[key], expected[key], rel=rel, abs_=abs_, path=f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_close(a, e, rel=rel, abs_=abs_, path=f"{path}[{i}]")
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert isinstance(actual, int | float), f"{path}: {actual!r} is not a number"
        assert math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_), f"{path}: {actual} != {expected}"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
