"""Fixtures of the browser suite: headless Chromium instances, axe-core, artefact folders.

Each Chromium instance lives for the whole session, because starting one costs about
1.5 s. The function-scoped fixtures clear its cookies and cache before every test.
Sources and caseworkers get separate instances with separate profiles, as they use
separate machines, so the two apps' session cookies never meet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from tests.browser.axe import install_axe
from tests.browser.chromium import (
    BrowserUnavailable,
    clear_browser_state,
    remove_tree,
    set_width,
    start_chromium,
)
from tests.browser.instance import LumenInstance, start_instance

REPOSITORY = Path(__file__).resolve().parents[2]
ARTIFACTS = REPOSITORY / "test-artifacts"

StartBrowser = Callable[..., webdriver.Chrome]


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``test-artifacts/`` at the repository root (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def screenshots_dir(artifacts_dir: Path) -> Path:
    """``test-artifacts/screenshots/``, where the tests save every page they show."""
    folder = artifacts_dir / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def start_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartBrowser]:
    """Return a function that starts a Chromium with a fresh profile, or skips the test.

    A test skips only when the browser cannot start, with the reason; after the first
    failure the others skip at once instead of trying again.
    """
    started: list[webdriver.Chrome] = []
    folders: list[Path] = []
    failure: list[str] = []

    def start(name: str, javascript: bool = False, downloads: bool = False) -> webdriver.Chrome:
        if failure:
            pytest.skip(failure[0])
        root = tmp_path_factory.mktemp(f"chromium-{name}")
        folders.append(root)
        try:
            driver = start_chromium(
                root / "profile", root / "downloads" if downloads else None, javascript
            )
        except BrowserUnavailable as error:
            failure.append(f"the browser cannot start: {error}")
            pytest.skip(failure[0])
        started.append(driver)
        return driver

    yield start

    for driver in started:
        driver.quit()
    for folder in folders:
        remove_tree(folder)


def _fresh(driver: webdriver.Chrome) -> webdriver.Chrome:
    clear_browser_state(driver)
    set_width(driver, 1280)
    return driver


@pytest.fixture(scope="session")
def _source_chromium(start_browser: StartBrowser) -> webdriver.Chrome:
    return start_browser("source")


@pytest.fixture(scope="session")
def _caseworker_chromium(start_browser: StartBrowser) -> webdriver.Chrome:
    return start_browser("caseworker", downloads=True)


@pytest.fixture(scope="session")
def _axe_chromium(start_browser: StartBrowser) -> webdriver.Chrome:
    return start_browser("axe", javascript=True)


@pytest.fixture
def source_browser(_source_chromium: webdriver.Chrome) -> webdriver.Chrome:
    """A Chromium with JavaScript blocked, no cookies and an empty cache."""
    return _fresh(_source_chromium)


@pytest.fixture
def caseworker_browser(_caseworker_chromium: webdriver.Chrome) -> webdriver.Chrome:
    """A second Chromium with JavaScript blocked that saves downloads to :func:`download_dir`."""
    return _fresh(_caseworker_chromium)


@pytest.fixture
def download_dir(caseworker_browser: webdriver.Chrome) -> Path:
    """The caseworker browser's download folder, emptied before the test."""
    folder = Path(caseworker_browser.capabilities["chrome"]["userDataDir"]).parent / "downloads"
    for leftover in folder.iterdir():
        leftover.unlink()
    return folder


@pytest.fixture
def axe_browser(_axe_chromium: webdriver.Chrome) -> webdriver.Chrome:
    """A Chromium with JavaScript on, used only to run axe-core on the pages."""
    return _fresh(_axe_chromium)


@pytest.fixture(scope="session")
def axe_script() -> str:
    """The source of axe.min.js, installed from the npm registry on first use."""
    return install_axe().read_text("utf-8")


@pytest.fixture(scope="module")
def lumen_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LumenInstance]:
    """Both apps of a fresh instance on loopback, shared by the tests of one module."""
    instance = start_instance(tmp_path_factory.mktemp("lumen") / "data")
    yield instance
    instance.stop()
