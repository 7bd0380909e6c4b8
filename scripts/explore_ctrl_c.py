"""Stress `infogan explore`'s Ctrl-C: start it, answer one request, SIGINT it with the connection open; N times.

    python scripts/explore_ctrl_c.py RUN_DIR [N]

Prints each exit that is not 0 with its stderr, then the count. Load a core meanwhile (`yes > /dev/null &`) to
widen the races: before its handler threads were joined on close, 10 of 80 exits aborted this way.
"""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys


def main() -> int:
    run, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50
    bad = 0
    for i in range(n):
        proc = subprocess.Popen([sys.executable, "-m", "infogan", "explore", run, "--port", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        if "http://127.0.0.1:" not in line:
            proc.kill()
            print(f"the explorer did not start: {line}{proc.stderr.read()}", file=sys.stderr)
            return 1
        conn = http.client.HTTPConnection("127.0.0.1", int(line.split("http://127.0.0.1:")[1].split("/")[0]), timeout=30)
        conn.request("GET", "/api/grid?seed=1")
        conn.getresponse().read()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        conn.close()
        if code != 0:
            bad += 1
            print(f"try {i}: exit {code}: {proc.stderr.read().strip()}", flush=True)
    print(f"{bad} of {n} Ctrl-C exits were not 0")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
