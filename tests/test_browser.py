"""The explorer in a real browser: headless Chromium (Debian's, never a downloaded one) driven by Playwright, against
the `infogan explore` server and against the static web export. Skipped, with the reason, where either is missing;
`make env` installs both."""

import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from infogan.explore.server import make_server
from infogan.explore.web import ORT_WEB_VERSION, ort_web_candidates, write_web
from infogan.runs import load_model

CHROMIUM = Path(os.environ.get("INFOGAN_CHROMIUM", "/usr/bin/chromium"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPO_ORT_WEB = Path(__file__).resolve().parents[1] / "build" / f"onnxruntime-web-{ORT_WEB_VERSION}.tgz"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (make env does), or set INFOGAN_CHROMIUM")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    playwright = sync_api.sync_playwright().start()
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("profile")), executable_path=str(CHROMIUM), headless=True, args=FLAGS
    )
    yield context
    context.close()
    playwright.stop()


@pytest.fixture(scope="module")
def digit(tmp_path_factory):
    """A hand-drawn-like 'one': a bar on black, as a PNG the page uploads."""
    pixels = np.zeros((56, 56), dtype=np.uint8)
    pixels[8:48, 24:32] = 255
    path = tmp_path_factory.mktemp("img") / "one.png"
    Image.fromarray(pixels).save(path)
    return path


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def _serve(server: ThreadingHTTPServer):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def _wait_version(page, selector: str, above: int) -> int:
    page.wait_for_function("([s, n]) => Number(document.querySelector(s).dataset.version) > n", arg=[selector, above],
                           timeout=60_000)
    return int(page.get_attribute(selector, "data-version"))


def _exercise(context, url: str, image: Path, shots: Path) -> None:
    """Load the page, move a slider and a selector (the grid must change each time), encode an image."""
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    version = _wait_version(page, "#grid", 0)
    _wait_version(page, "#strip", 0)
    before = page.locator("#grid").screenshot()
    page.screenshot(path=str(shots / "start.png"))

    page.locator("#code-c1").fill("1.5")
    version = _wait_version(page, "#grid", version)
    after_slider = page.locator("#grid").screenshot()
    assert after_slider != before, "moving the c1 slider did not change the grid"
    assert page.locator("#code-c1 + output").inner_text() == "1.50"

    page.locator("#code-cat0").select_option("3")
    _wait_version(page, "#grid", version)
    assert page.locator("#grid").screenshot() != after_slider, "choosing cat0 = 3 did not change the grid"
    page.screenshot(path=str(shots / "moved.png"))

    page.locator(".tab[data-tab=encode]").click()
    assert page.locator("#file").is_visible() and not page.locator("#grid").is_visible()
    page.locator("#file").set_input_files(str(image))
    _wait_version(page, "#codes", 0)
    codes = page.locator("#codes").inner_text()
    assert "cat0: class" in codes and "c1" in codes and "mean" in codes and "std" in codes
    probs = [float(cell) for cell in page.locator("#codes td.prob").all_inner_texts()]
    assert len(probs) == 10 and abs(sum(probs) - 1) < 0.01
    page.wait_for_function("document.querySelector('#encoded-samples').naturalWidth > 0", timeout=60_000)
    page.screenshot(path=str(shots / "encoded.png"))

    best = page.locator("#codes tr.best td").first.inner_text()
    page.locator("#use-codes").click()
    assert page.locator("#grid").is_visible() and page.locator("#code-cat0").input_value() == best
    assert not errors, errors
    page.close()


def test_explorer_server_in_a_browser(browser, trained_run, digit, tmp_path):
    server = _serve(make_server(load_model(trained_run), "127.0.0.1", 0))
    try:
        _exercise(browser, server.url, digit, tmp_path)
    finally:
        server.shutdown()
        server.server_close()


def test_static_web_export_in_a_browser(browser, trained_run, digit, tmp_path):
    found = next((p for p in [*ort_web_candidates(None), REPO_ORT_WEB] if p.exists()), None)
    if found is None:
        pytest.skip(f"onnxruntime-web {ORT_WEB_VERSION} not found (make env fetches it with npm pack into build/)")
    site = write_web(load_model(trained_run), tmp_path / "site", found)
    server = _serve(ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietFiles, directory=str(site))))
    try:
        _exercise(browser, f"http://127.0.0.1:{server.server_address[1]}/", digit, tmp_path)
    finally:
        server.shutdown()
        server.server_close()
