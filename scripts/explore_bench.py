"""Latency and load of the explorer server, measured from a client on loopback.

    python scripts/explore_bench.py RUN_DIR [--updates 200] [--requests 2000] [--concurrency 50] [--threads T]

Starts `infogan explore RUN_DIR --port 0` in a subprocess, then measures
1. update latency: --updates sequential 4x4 grid requests over one keep-alive connection, each with a new slider
   value (as a page does while a slider moves): the full round trip, PNG included; median and p95;
2. load: --requests grid and traversal requests with random codes and seeds from --concurrency client threads,
   each on its own keep-alive connection: errors, requests/s, p50, p95, p99.
Prints one JSON object. `--threads` is passed to `infogan explore` (torch threads per request, default 1).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(max(ms), 1)}


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, float]:
    t0 = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status, (time.perf_counter() - t0) * 1000


def update_latency(port: int, n: int) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    get(conn, "/api/grid?seed=1")  # warm-up
    times = []
    for i in range(n):
        status, ms = get(conn, f"/api/grid?seed=1&cat0={i % 10}&c1={-2 + 4 * i / n:.3f}")
        assert status == 200, status
        times.append(ms)
    conn.close()
    return summary(times)


def load(port: int, requests: int, concurrency: int) -> dict[str, float]:
    local = threading.local()
    rng = random.Random(0)
    paths = [
        f"/api/grid?seed={rng.randrange(2**31)}&cat0={rng.randrange(10)}&c1={rng.uniform(-2, 2):.2f}"
        if i % 4 else f"/api/traversal?code=c1&seed={rng.randrange(2**31)}&cat0={rng.randrange(10)}"
        for i in range(requests)
    ]

    def one(path: str) -> tuple[int, float]:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            return get(local.conn, path)
        except (OSError, http.client.HTTPException):
            local.conn.close()
            del local.conn
            return -1, 0.0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, paths))
    seconds = time.perf_counter() - t0
    errors = sum(status != 200 for status, _ in results)
    ok = [ms for status, ms in results if status == 200]
    return {"requests": requests, "concurrency": concurrency, "errors": errors, "seconds": round(seconds, 1),
            "requests_per_s": round(requests / seconds, 1), **summary(ok)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir")
    p.add_argument("--updates", type=int, default=200)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--threads", type=int, default=1, help="the server's torch threads per request")
    args = p.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "infogan", "explore", args.run_dir, "--port", "0",
                               "--threads", str(args.threads)], stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        result = {"run": args.run_dir, "server_threads": args.threads, "cpus": os.cpu_count(),
                  "update_4x4_grid": update_latency(port, args.updates),
                  "load": load(port, args.requests, args.concurrency)}
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
