"""Stress `infogan explore`'s Ctrl-C: start it, answer one request, SIGINT it just as the client hangs up; N times.

    python scripts/explore_ctrl_c.py RUN_DIR [N]

Prints each exit that is not 0 with its stderr, then the count. Load a core meanwhile (`yes > /dev/null &`) to
widen the races. Before its handler threads were joined on close, 4 of 40 exits aborted ("terminate called without
an active exception", exit -6); after, 0 of 40.
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
        conn.request("GET", "/api/model")
        conn.getresponse().read()
        conn.close()  # the handler thread is now tearing down: the moment the old daemon threads aborted in
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        if code != 0:
            bad += 1
            print(f"try {i}: exit {code}: {proc.stderr.read().strip()}", flush=True)
    print(f"{bad} of {n} Ctrl-C exits were not 0")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
