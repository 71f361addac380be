"""Load benchmark of the dashboard: N concurrent signed-in users against the real gunicorn server.

    .venv/bin/python bench/dashboard_load.py [--warehouse PATH | --big] [--users 20] [--seconds 60] [--quality]

Without --warehouse it builds the demo warehouse (real demo builder and estimate runner) in a temporary
folder; with --big it uses the 10M-row benchmark warehouse of bench/big_warehouse.py (built and cached under
warehouse/ on first use, which takes a while: ingestion plus a real estimate run of the portfolio).
It starts `pilot-roi serve` (gunicorn, one worker, 8 threads), signs every user in through the real
sign-in form, then each user loops: the portfolio page's data callback with random filters, the
pilot page's routing callback (layout) and its metric callback. Latencies are wall-clock per HTTP request
as the client sees them. With --quality, once the load is over, one user also calls the Data quality page's
callback (one subsidiary, then all). The machine's load averages before and after are recorded, since other
work on the machine inflates latencies. Writes bench/results/dashboard.md (or --out).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "dashboard.md"
USER = ("demo.executive", "executive-demo-2025")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sign_in(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    response = session.post(
        f"{base}/login",
        data={"username": USER[0], "password": USER[1], "csrf_token": token.group(1), "next": "/"},
        headers={"Origin": base},
        allow_redirects=False,
        timeout=60,
    )
    assert response.status_code in (302, 303), f"sign-in failed: {response.status_code}"
    session.headers.update({"Origin": base, "Content-Type": "application/json"})
    return session


def callback_specs(session: requests.Session, base: str) -> dict[str, dict]:
    deps = session.get(f"{base}/_dash-dependencies", timeout=30).json()
    found = {}
    for dep in deps:
        if "portfolio-cards.children" in dep["output"]:
            found["portfolio"] = dep
        elif "portfolio-table.children" in dep["output"]:  # the table's own page callback, when it has one
            found["portfolio_table"] = dep
        elif "_pages_content.children" in dep["output"]:
            found["route"] = dep
        elif dep["output"] == "pilot-section.children":
            found["pilot_metric"] = dep
        elif dep["output"] == "quality-body.children":
            found["quality"] = dep
    return found


def _outputs(dep: dict) -> list[dict] | dict:
    parts = [p for p in dep["output"].strip(".").split("...") if p]
    outs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    return outs if dep["output"].startswith("..") else outs[0]


def body(dep: dict, values: dict[str, object]) -> dict:
    inputs = [
        {"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
        for i in dep["inputs"]
    ]
    state = [
        {"id": s["id"], "property": s["property"], "value": values.get(f"{s['id']}.{s['property']}")}
        for s in dep["state"]
    ]
    return {
        "output": dep["output"],
        "outputs": _outputs(dep),
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"],
    }


def pilot_metrics(warehouse: Path) -> list[tuple[str, str]]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [
            (str(a), str(b))
            for a, b in con.execute(
                "SELECT pilot_code, metric_code FROM estimates WHERE effect IS NOT NULL ORDER BY 1, 2"
            ).fetchall()
        ]
    finally:
        con.close()


def quality_latencies(session: requests.Session, base: str, dep: dict, first: str) -> list[tuple[str, float]]:
    """Wall-clock ms of the Data quality callback for the first subsidiary (the page's default), again, and all."""
    out = []
    for subsidiary in (first, first, None):
        values: dict[str, object] = {"quality-subsidiary.value": subsidiary, "quality-lang.data": "en"}
        started = time.perf_counter()
        response = session.post(f"{base}/_dash-update-component", json=body(dep, values), timeout=600)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, f"quality callback: HTTP {response.status_code}"
        out.append((f"{subsidiary or 'all subsidiaries'} ({len(response.content) / 1e3:,.0f} kB)", elapsed))
    return out


def server_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` and its children alive now (gunicorn's worker)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1] is the parent's pid
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def load_averages() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--big", action="store_true", help="the 10M-row warehouse of bench/big_warehouse.py")
    parser.add_argument("--big-pilots", type=int, default=500, help="pilot-metrics of the --big warehouse")
    parser.add_argument("--quality", action="store_true", help="also time the Data quality callback once")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--append", action="store_true", help="add to bench/results/dashboard.md")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause (s) between a user's page views")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="pilot-roi-bench-")
    if args.big:
        sys.path.insert(0, str(REPO))
        from bench.big_warehouse import build_big_warehouse

        warehouse = build_big_warehouse(pilot_metrics=args.big_pilots)
    elif args.warehouse is None:
        sys.path.insert(0, str(REPO / "src"))
        from pilot_roi.demo.build import build_demo

        warehouse = Path(tmp.name) / "demo.duckdb"
        print("building the demo warehouse ...", flush=True)
        build_demo(warehouse)
    else:
        warehouse = args.warehouse
    pairs = pilot_metrics(warehouse)
    sizes = {}
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    sizes["observations"] = con.execute("SELECT count(*) FROM observation_current").fetchone()[0]  # type: ignore[index]
    sizes["pilot_metrics"] = con.execute("SELECT count(*) FROM pilot_metrics").fetchone()[0]  # type: ignore[index]
    first_subsidiary = con.execute("SELECT min(subsidiary_code) FROM pilot_registry").fetchone()[0]  # type: ignore[index]
    sizes["estimates"] = len(pairs)
    con.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PILOT_ROI_SECRET_KEY": "b" * 48,
        "PILOT_ROI_LOG_LEVEL": "warning",
        "PILOT_ROI_SIGNIN_LIMIT_IP": "1000",
    }
    server = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "pilot-roi"), "serve", "--warehouse", str(warehouse), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(120):
            try:
                if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        sessions = [sign_in(base) for _ in range(args.users)]
        load_before = load_averages()
        specs = callback_specs(sessions[0], base)
        assert {"portfolio", "route", "pilot_metric"} <= set(specs), f"callbacks not found: {sorted(specs)}"
        timings: dict[str, list[float]] = {"portfolio": [], "pilot_page": [], "pilot_metric": []}
        if "portfolio_table" in specs:
            timings["portfolio_table"] = []
        response_bytes: dict[str, list[int]] = {name: [] for name in timings}
        errors: list[str] = []
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds
        grades = ["demonstrated", "promising", "inconclusive", "adverse", "insufficient_data"]

        def user_loop(session: requests.Session, seed: int, warmup: bool = False) -> None:
            rng = random.Random(seed)
            while warmup or time.monotonic() < stop:
                pilot, metric = rng.choice(pairs)
                lang = rng.choice(["ru", "kk", "en"])
                grade_filter = rng.choice([None, [rng.choice(grades)]])
                requests_to_make: list[tuple[str, dict, dict[str, object]]] = [
                    (
                        "portfolio",
                        specs["portfolio"],
                        {
                            "portfolio-filter-grade.value": grade_filter,
                            "portfolio-lang.data": lang,
                        },
                    ),
                ]
                if "portfolio_table" in specs:  # the page's second request: one page of the estimates table
                    table_values: dict[str, object] = {
                        "portfolio-filter-grade.value": grade_filter,
                        "portfolio-lang.data": lang,
                        "portfolio-table-page.data": rng.randint(1, 3),
                        "portfolio-table-sort.value": rng.choice(["gain_desc", "effect_desc", "grade_best"]),
                    }
                    requests_to_make.append(("portfolio_table", specs["portfolio_table"], table_values))
                requests_to_make += [
                    (
                        "pilot_page",
                        specs["route"],
                        {
                            "_pages_location.pathname": f"/pilots/{pilot}",
                            "_pages_location.search": "",
                            "shell-lang-store.data": lang,
                        },
                    ),
                    (
                        "pilot_metric",
                        specs["pilot_metric"],
                        {"pilot-metric.value": metric, "pilot-code.data": pilot, "pilot-lang.data": lang},
                    ),
                ]
                for name, dep, values in requests_to_make:
                    started = time.perf_counter()
                    response = session.post(f"{base}/_dash-update-component", json=body(dep, values), timeout=60)
                    elapsed = (time.perf_counter() - started) * 1000
                    with lock:
                        if response.status_code != 200:
                            errors.append(f"{name}: HTTP {response.status_code}")
                        elif not warmup:
                            timings[name].append(elapsed)
                            response_bytes[name].append(len(response.content))
                if warmup:
                    return
                if args.think > 0:
                    time.sleep(rng.expovariate(1.0 / args.think))

        user_loop(sessions[0], -1, warmup=True)  # first calls import and cache; not what users wait for
        cpu_before = server_cpu_seconds(server.pid)
        stop = time.monotonic() + args.seconds

        threads = [threading.Thread(target=user_loop, args=(s, i)) for i, s in enumerate(sessions)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        load_after = load_averages()
        server_cpu = server_cpu_seconds(server.pid) - cpu_before
        quality = quality_latencies(sessions[0], base, specs["quality"], first_subsidiary) if args.quality else []
    finally:
        server.terminate()
        server.wait(timeout=30)
        tmp.cleanup()

    def pct(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")

    name = "demo" if args.warehouse is None and not args.big else warehouse.name
    source = "--big" if args.big else "" if args.warehouse is None else f"--warehouse {args.warehouse.name}"
    lines = [
        "# Dashboard load benchmark",
        "",
        f"`bench/dashboard_load.py {source} --users {args.users} --seconds {args.seconds:.0f} --think {args.think:g}`"
        f" ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}): "
        f"{args.users} concurrent signed-in users (mean pause {args.think:g} s between page views) against "
        "`pilot-roi serve` (gunicorn, 1 worker, 8 threads) on this machine (2 shared cores; other tenants were "
        "running). Client-side wall-clock per callback request.",
        "",
        f"Warehouse: {sizes['observations']:,} observations, {sizes['pilot_metrics']} pilot-metrics, "
        f"{sizes['estimates']} estimates with an effect ({name}).",
        "",
        f"Machine load averages (1 / 5 / 15 min) on 2 cores: {load_before} when the load started, {load_after} "
        "when it ended.",
        "",
        f"Server CPU (gunicorn, user + system) during the load: {server_cpu:.1f} s, "
        f"{1000 * server_cpu / max(1, sum(map(len, timings.values()))):.1f} ms per request.",
        "",
        "| callback | requests | response kB (mean) | p50 ms | p95 ms | max ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, values in timings.items():
        kilobytes = statistics.mean(response_bytes[name]) / 1e3 if response_bytes[name] else float("nan")
        lines.append(
            f"| {name} | {len(values)} | {kilobytes:,.0f} | {statistics.median(values) if values else float('nan'):.0f}"
            f" | {pct(values, 95):.0f} | {max(values) if values else float('nan'):.0f} |"
        )
    lines += [
        "",
        f"Errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""),
        "",
        "Goal (issue 5): p95 <= 300 ms for the portfolio and pilot callbacks with 20 users.",
    ]
    if quality:
        lines += ["", "Data quality callback, one user after the load (first call, repeat, all subsidiaries):", ""]
        lines += [f"- {what}: {ms:.0f} ms" for what, ms in quality]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    mode = "a" if args.append and args.out.exists() else "w"
    with args.out.open(mode, encoding="utf-8") as fh:
        fh.write(("\n" if mode == "a" else "") + "\n".join(lines if mode == "w" else lines[2:]) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
