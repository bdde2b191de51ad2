"""Start headless Chromium from Debian's packages and read what it did.

The browser is the system ``chromium`` driven by the system ``chromedriver`` through
Selenium. Every instance gets a fresh profile folder and has its background traffic
(component updates, sync, safe-browsing lists, QUIC) turned off. It resolves no host
name except the loopback ones, so a request to another origin fails at once instead
of leaving the machine. The network log still records the attempt.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DESKTOP_WIDTH = 1280
PHONE_WIDTH = 360
WINDOW_HEIGHT = 800

# Chromium's content setting value 2 means "block".
BLOCK = 2

# Every host name except the loopback ones fails to resolve, so no request can leave
# the machine whatever a page links to (the quick-exit link points to a public site).
HOST_RESOLVER_RULES = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"


class BrowserUnavailable(Exception):
    """Chromium or chromedriver is missing or does not start."""


def chromium_options(
    profile_dir: Path, download_dir: Path | None = None, javascript: bool = False
) -> webdriver.ChromeOptions:
    """Return the options of a headless Chromium with a fresh profile in ``profile_dir``.

    JavaScript is blocked through the content-settings preference unless ``javascript``
    is true. The performance log is switched on so that tests can read every request.
    """
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # the tests run as root, where Chromium's sandbox cannot start
        "--disable-gpu",
        "--hide-scrollbars",  # so that a screenshot is as wide as the viewport
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--password-store=basic",
        "--lang=en-US",
        f"--host-resolver-rules={HOST_RESOLVER_RULES}",
        f"--user-data-dir={profile_dir}",
        f"--window-size={DESKTOP_WIDTH},{WINDOW_HEIGHT}",
    ):
        options.add_argument(argument)

    prefs: dict[str, object] = {
        "profile.managed_default_content_settings.javascript": 1 if javascript else BLOCK,
        "credentials_enable_service": False,
        "profile.password_manager_enabled": False,
        "translate.enabled": False,
    }
    if download_dir is not None:
        prefs.update(
            {
                "download.default_directory": str(download_dir),
                "download.prompt_for_download": False,
                "download.directory_upgrade": True,
                "safebrowsing.enabled": False,
            }
        )
    options.add_experimental_option("prefs", prefs)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return options


def start_chromium(
    profile_dir: Path, download_dir: Path | None = None, javascript: bool = False
) -> webdriver.Chrome:
    """Start one headless Chromium, or raise :class:`BrowserUnavailable` saying why."""
    for program in (CHROMIUM, CHROMEDRIVER):
        if not program.exists():
            raise BrowserUnavailable(
                f"{program} not found: install Debian's chromium and chromium-driver"
            )

    profile_dir.mkdir(parents=True, exist_ok=True)
    if download_dir is not None:
        download_dir.mkdir(parents=True, exist_ok=True)
    options = chromium_options(profile_dir, download_dir, javascript)
    try:
        driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    except WebDriverException as error:
        raise BrowserUnavailable(f"Chromium did not start: {error.msg}") from error

    driver.set_page_load_timeout(30)
    # Chromium loads its new-tab page at start; its internal requests are not the
    # application's, so they are read and dropped here.
    driver.get("about:blank")
    driver.get_log("performance")
    return driver


def clear_browser_state(driver: webdriver.Chrome) -> None:
    """Delete every cookie of every host and the HTTP cache, and open a blank page."""
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get_log("performance")


def set_width(driver: webdriver.Chrome, width: int) -> None:
    """Resize the window's viewport to ``width`` CSS pixels, like a phone or a desktop."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": WINDOW_HEIGHT, "deviceScaleFactor": 1, "mobile": False},
    )


def full_page_png(driver: webdriver.Chrome, max_height: int | None = None) -> bytes:
    """Return a PNG of the whole page, below the fold included, at the current width.

    With ``max_height`` the picture is cut off below that many CSS pixels. The
    DevTools protocol measures and captures the page, so this works with JavaScript
    blocked.
    """
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    content = metrics["cssContentSize"]
    viewport = metrics["cssLayoutViewport"]
    height = max(int(content["height"]), 1)
    if max_height is not None:
        height = min(height, max_height)
    clip = {
        "x": 0,
        "y": 0,
        "width": max(int(content["width"]), int(viewport["clientWidth"])),
        "height": height,
        "scale": 1,
    }
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "clip": clip, "captureBeyondViewport": True},
    )
    return base64.b64decode(shot["data"])


@dataclass
class Request:
    """One request the page made, as Chromium's network log recorded it."""

    request_id: str
    url: str
    method: str
    # Chromium's resource type: "Document" for a page, "Stylesheet", "Image" and so on.
    resource_type: str = ""
    # Request headers as Chromium was about to send them.
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    mime_type: str = ""
    # Bytes received for this request, headers included, as Chromium counts them
    # (``encodedDataLength`` of ``Network.loadingFinished``).
    transfer_bytes: int = 0
    failed: bool = False

    @property
    def origin(self) -> str:
        """Scheme, host and port of the URL."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass
class NetworkLog:
    """The requests of one stretch of browsing, in the order they started."""

    requests: list[Request] = field(default_factory=list)

    @property
    def transfer_bytes(self) -> int:
        """Sum of the transfer sizes of all requests."""
        return sum(request.transfer_bytes for request in self.requests)

    def page_requests(self) -> list[Request]:
        """Every request except ``/favicon.ico``, which Chromium requests on its own."""
        return [r for r in self.requests if urlsplit(r.url).path != "/favicon.ico"]

    def last_page(self) -> NetworkLog:
        """The requests of the last page shown: its redirect chain, document and resources.

        Pages seen earlier in the same stretch of browsing are left out.
        """
        documents = [r for r in self.requests if r.resource_type == "Document"]
        if not documents:
            return NetworkLog(list(self.requests))
        last = documents[-1]
        start = next(i for i, r in enumerate(self.requests) if r.request_id == last.request_id)
        return NetworkLog(self.requests[start:])

    def origins(self) -> set[str]:
        """Origins of every request except in-document ``data:`` URLs."""
        return {r.origin for r in self.requests if not r.url.startswith("data:")}

    def urls(self) -> list[str]:
        """URLs of every request."""
        return [request.url for request in self.requests]


def read_network_log(driver: webdriver.Chrome) -> NetworkLog:
    """Drain Chromium's performance log and return the requests recorded since the last call."""
    return parse_performance_entries(driver.get_log("performance"))


def parse_performance_entries(entries: Iterable[dict[str, object]]) -> NetworkLog:
    """Build a :class:`NetworkLog` from chromedriver's ``performance`` log entries."""
    by_id: dict[str, Request] = {}
    order: list[Request] = []
    for entry in entries:
        message = json.loads(str(entry["message"]))["message"]
        method = message["method"]
        params = message.get("params", {})
        request_id = params.get("requestId", "")

        if method == "Network.requestWillBeSent":
            redirect = params.get("redirectResponse")
            if redirect is not None and request_id in by_id:
                # A redirect reuses the request id: the response that ended the previous
                # hop arrives with the next hop's request.
                by_id[request_id].status = int(redirect["status"])
                by_id[request_id].transfer_bytes = int(redirect.get("encodedDataLength", 0))
            request = Request(
                request_id=request_id,
                url=params["request"]["url"],
                method=params["request"]["method"],
                resource_type=params.get("type", ""),
                headers=dict(params["request"].get("headers", {})),
            )
            by_id[request_id] = request
            order.append(request)
        elif method == "Network.responseReceived" and request_id in by_id:
            by_id[request_id].status = int(params["response"]["status"])
            by_id[request_id].mime_type = params["response"].get("mimeType", "")
        elif method == "Network.loadingFinished" and request_id in by_id:
            by_id[request_id].transfer_bytes = int(params.get("encodedDataLength", 0))
        elif method == "Network.loadingFailed" and request_id in by_id:
            by_id[request_id].failed = True

    return NetworkLog(order)


def remove_tree(path: Path) -> None:
    """Remove a profile or download folder, ignoring files Chromium still holds."""
    shutil.rmtree(path, ignore_errors=True)
