"""Load benchmark of the dashboard: N concurrent signed-in users against the real gunicorn server.

    .venv/bin/python bench/dashboard_load.py [--warehouse PATH] [--users 20] [--seconds 60]

Without --warehouse it builds the demo warehouse (real demo builder and estimate runner) in a temporary
folder. It starts `pilot-roi serve` (gunicorn, one worker, 8 threads), signs every user in through the
real sign-in form, then each user loops: the portfolio page's data callback with random filters, the
pilot page's routing callback (layout) and its metric callback. Latencies are wall-clock per HTTP request
as the client sees them. Writes bench/results/dashboard.md.
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
        elif "_pages_content.children" in dep["output"]:
            found["route"] = dep
        elif dep["output"] == "pilot-section.children":
            found["pilot_metric"] = dep
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--append", action="store_true", help="add to bench/results/dashboard.md")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause (s) between a user's page views")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="pilot-roi-bench-")
    if args.warehouse is None:
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
        specs = callback_specs(sessions[0], base)
        assert {"portfolio", "route", "pilot_metric"} <= set(specs), f"callbacks not found: {sorted(specs)}"
        timings: dict[str, list[float]] = {"portfolio": [], "pilot_page": [], "pilot_metric": []}
        errors: list[str] = []
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds
        grades = ["demonstrated", "promising", "inconclusive", "adverse", "insufficient_data"]

        def user_loop(session: requests.Session, seed: int, warmup: bool = False) -> None:
            rng = random.Random(seed)
            while warmup or time.monotonic() < stop:
                pilot, metric = rng.choice(pairs)
                lang = rng.choice(["ru", "kk", "en"])
                requests_to_make = [
                    (
                        "portfolio",
                        specs["portfolio"],
                        {
                            "portfolio-filter-grade.value": rng.choice([None, [rng.choice(grades)]]),
                            "portfolio-lang.data": lang,
                        },
                    ),
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
                if warmup:
                    return
                if args.think > 0:
                    time.sleep(rng.expovariate(1.0 / args.think))

        user_loop(sessions[0], -1, warmup=True)  # first calls import and cache; not what users wait for
        stop = time.monotonic() + args.seconds

        threads = [threading.Thread(target=user_loop, args=(s, i)) for i, s in enumerate(sessions)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
        tmp.cleanup()

    def pct(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")

    lines = [
        "# Dashboard load benchmark",
        "",
        f"`bench/dashboard_load.py --users {args.users} --seconds {args.seconds:.0f} --think {args.think:g}`: "
        f"{args.users} concurrent signed-in users (mean pause {args.think:g} s between page views) against "
        "`pilot-roi serve` (gunicorn, 1 worker, 8 threads) on this machine (2 shared cores; other tenants were "
        "running). Client-side wall-clock per callback request.",
        "",
        f"Warehouse: {sizes['observations']:,} observations, {sizes['estimates']} estimates "
        f"({'demo' if args.warehouse is None else args.warehouse.name}).",
        "",
        "| callback | requests | p50 ms | p95 ms | max ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, values in timings.items():
        lines.append(
            f"| {name} | {len(values)} | {statistics.median(values) if values else float('nan'):.0f} | "
            f"{pct(values, 95):.0f} | {max(values) if values else float('nan'):.0f} |"
        )
    lines += [
        "",
        f"Errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""),
        "",
        "Goal (issue 5): p95 <= 300 ms for the portfolio and pilot callbacks with 20 users.",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    mode = "a" if args.append and RESULTS.exists() else "w"
    with RESULTS.open(mode, encoding="utf-8") as fh:
        fh.write(("\n" if mode == "a" else "") + "\n".join(lines if mode == "w" else lines[2:]) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
