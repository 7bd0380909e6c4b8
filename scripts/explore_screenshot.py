"""A screenshot of the latent explorer for the docs, taken with headless Chromium (Debian's) and Playwright.

    python scripts/explore_screenshot.py RUN_DIR --out docs/explorer.png [--set cat0=3 --set c1=1.0] [--traverse c1]

Serves RUN_DIR on a free loopback port, sets the controls, waits for the grid and the traversal, and saves the page.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading

from playwright.sync_api import sync_playwright

from infogan.explore.server import make_server
from infogan.runs import load_model

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir")
    p.add_argument("--out", required=True)
    p.add_argument("--set", action="append", default=[], metavar="CODE=VALUE")
    p.add_argument("--traverse", help="code whose traversal the strip shows")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    args = p.parse_args()

    server = make_server(load_model(args.run_dir), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(profile, executable_path=args.chromium, headless=True,
                                                        args=FLAGS, viewport={"width": 1100, "height": 860})
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_function("Number(document.querySelector('#grid').dataset.version) > 0")
        for item in args.set:
            name, value = item.split("=", 1)
            control = page.locator(f"#code-{name}")
            if control.evaluate("el => el.tagName") == "SELECT":
                control.select_option(value)
            else:
                control.fill(value)
        if args.traverse:
            page.locator("#traverse-code").select_option(args.traverse)
        page.evaluate("document.activeElement.blur()")  # no focus ring in the picture
        page.wait_for_timeout(1500)  # the last updates land
        page.screenshot(path=args.out, full_page=True)
        context.close()
    server.shutdown()
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
