"""Checks that the browser harness itself can see what the other tests rely on.

A tiny Flask app takes Lumen's place here: a page with a stylesheet, a page that
loads an image from another origin, a page with known accessibility faults, a tall
page and a download. Each check proves that a measurement can fail, so that a clean
result elsewhere means something.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response
from selenium import webdriver

from tests.browser.axe import blocking, run_axe
from tests.browser.chromium import full_page_png, read_network_log, set_width
from tests.browser.servers import LiveServer

pytestmark = pytest.mark.browser

STYLESHEET = "body { font-family: sans-serif; }\n" * 40
DOWNLOAD_BYTES = "verslag été 2024\n".encode() * 100
DOWNLOAD_NAME = "verslag été 2024.txt"


def _page(body: str, head: str = "") -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harness</title>'
        f"{head}</head><body><main>{body}</main></body></html>"
    )


def _harness_app() -> Flask:
    app = Flask("harness")

    @app.get("/")
    def styled() -> str:
        return _page("<h1>Styled</h1>", '<link rel="stylesheet" href="/style.css">')

    @app.get("/style.css")
    def stylesheet() -> Response:
        return Response(STYLESHEET, mimetype="text/css")

    @app.get("/foreign")
    def foreign() -> str:
        # other.test never resolves: the browser's host rules send nothing off the machine.
        return _page('<h1>Foreign</h1><img src="http://other.test/pixel.png" alt="">')

    @app.get("/faulty")
    def faulty() -> str:
        return _page('<h1>Faulty</h1><form><input name="unlabelled"></form>')

    @app.get("/scripted")
    def scripted() -> str:
        # No Content-Security-Policy here: only the browser's setting can stop the script.
        return _page("<h1>Scripted</h1><script>document.title = 'script ran'</script>")

    @app.get("/tall")
    def tall() -> str:
        return _page("<h1>Tall</h1>" + "<p>Line</p>" * 200)

    @app.get("/file")
    def download() -> Response:
        return Response(
            DOWNLOAD_BYTES,
            mimetype="application/octet-stream",
            headers={
                "Content-Disposition": (
                    'attachment; filename="verslag ete 2024.txt"; '
                    "filename*=UTF-8''verslag%20%C3%A9t%C3%A9%202024.txt"
                )
            },
        )

    return app


@pytest.fixture(scope="module")
def harness() -> Iterator[LiveServer]:
    with LiveServer(_harness_app()) as server:
        yield server


def test_network_log_counts_stylesheet(
    source_browser: webdriver.Chrome, harness: LiveServer
) -> None:
    source_browser.get(harness.url + "/")
    log = read_network_log(source_browser)

    page_urls = [request.url for request in log.page_requests()]
    assert page_urls == [harness.url + "/", harness.url + "/style.css"]
    assert log.origins() == {harness.url}
    stylesheet = log.page_requests()[1]
    assert stylesheet.status == 200
    assert stylesheet.transfer_bytes > len(STYLESHEET)


def test_network_log_keeps_last_page(source_browser: webdriver.Chrome, harness: LiveServer) -> None:
    source_browser.get(harness.url + "/tall")
    source_browser.get(harness.url + "/")
    log = read_network_log(source_browser)
    last = log.last_page().page_requests()

    assert harness.url + "/tall" in log.urls()
    assert [request.url for request in last] == [harness.url + "/", harness.url + "/style.css"]


def test_network_log_sees_other_origin(
    source_browser: webdriver.Chrome, harness: LiveServer
) -> None:
    source_browser.get(harness.url + "/foreign")
    log = read_network_log(source_browser)

    assert "http://other.test" in log.origins()
    foreign = [request for request in log.requests if request.origin == "http://other.test"]
    assert foreign[0].failed


def test_javascript_blocked(source_browser: webdriver.Chrome, harness: LiveServer) -> None:
    source_browser.get(harness.url + "/scripted")

    assert source_browser.title == "Harness"


def test_axe_reports_unlabelled_input(
    axe_browser: webdriver.Chrome, axe_script: str, harness: LiveServer
) -> None:
    axe_browser.get(harness.url + "/faulty")
    violations = blocking(run_axe(axe_browser, axe_script))

    assert [violation.rule for violation in violations] == ["label"]


def test_screenshot_covers_tall_page(source_browser: webdriver.Chrome, harness: LiveServer) -> None:
    source_browser.get(harness.url + "/tall")
    set_width(source_browser, 360)
    png = full_page_png(source_browser)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert width == 360
    assert height > 2000


def test_download_keeps_name_and_bytes(
    caseworker_browser: webdriver.Chrome, download_dir: Path, harness: LiveServer
) -> None:
    caseworker_browser.get(harness.url + "/")
    caseworker_browser.get(harness.url + "/file")
    target = download_dir / DOWNLOAD_NAME
    deadline = time.monotonic() + 10
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)

    assert target.exists(), f"no download in {sorted(p.name for p in download_dir.iterdir())}"
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(DOWNLOAD_BYTES).digest()
