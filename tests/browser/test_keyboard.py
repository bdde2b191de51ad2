"""The source flow completed with the keyboard alone: Tab, Space, Enter and typing.

The tests read the page to know where focus is and what the codename is, as a
person would see it, but never click: every step is a key press. The quick exit of
this module's instance leads to a neutral page on a loopback server, which records
what the browser sent when it arrived there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, request
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.browser.checks import first_tab_stop, is_quick_exit
from tests.browser.instance import LumenInstance, start_instance
from tests.browser.servers import LiveServer
from tests.browser.source_steps import path_of, wait_for_new_page

pytestmark = pytest.mark.browser

MAX_TABS = 80
MESSAGE = "Ik heb alles met het toetsenbord getypt. Mijn buurvrouw werkt zonder loon."


@pytest.fixture(scope="module")
def neutral_site() -> Iterator[tuple[LiveServer, list[dict[str, str]]]]:
    """A neutral page to leave for, and the headers of every request it received."""
    received: list[dict[str, str]] = []
    app = Flask("neutral")

    @app.get("/")
    def weather() -> str:
        received.append(dict(request.headers))
        return "<!doctype html><title>Weather</title><h1>Sunny, 21 degrees</h1>"

    with LiveServer(app) as server:
        yield server, received


@pytest.fixture(scope="module")
def lumen_instance(
    tmp_path_factory: pytest.TempPathFactory,
    neutral_site: tuple[LiveServer, list[dict[str, str]]],
) -> Iterator[LumenInstance]:
    """An instance whose quick exit leads to :func:`neutral_site`."""
    server, _ = neutral_site
    instance = start_instance(
        tmp_path_factory.mktemp("lumen") / "data", quick_exit_url=server.url + "/"
    )
    yield instance
    instance.stop()


def _press(driver: webdriver.Chrome, *keys: str) -> None:
    ActionChains(driver).send_keys(*keys).perform()


def _press_and_wait(driver: webdriver.Chrome, *keys: str) -> None:
    """Press keys that send a form or follow a link, and wait for the next page."""
    old_page = driver.find_element(By.TAG_NAME, "html")
    _press(driver, *keys)
    wait_for_new_page(driver, old_page)


def _describe(element: WebElement) -> str:
    return (element.get_attribute("outerHTML") or "")[:80]


def _tab_to(driver: webdriver.Chrome, css: str) -> WebElement:
    """Press Tab until the element matching ``css`` has focus, and return it."""
    target = driver.find_element(By.CSS_SELECTOR, css)
    visited: list[str] = []
    for _ in range(MAX_TABS):
        _press(driver, Keys.TAB)
        active = driver.switch_to.active_element
        if active == target:
            return active
        visited.append(_describe(active))
    raise AssertionError(f"{css} never got focus on {path_of(driver)}; focus went to {visited}")


def _assert_page(driver: webdriver.Chrome, path: str) -> None:
    assert path_of(driver) == path, f"expected {path}, the browser shows {driver.current_url}"


def test_source_flow_by_keyboard(
    source_browser: webdriver.Chrome, lumen_instance: LumenInstance
) -> None:
    driver = source_browser
    driver.get(f"{lumen_instance.source.url}/?lang=nl")

    assert is_quick_exit(first_tab_stop(driver), lumen_instance.config.quick_exit_url)

    _tab_to(driver, 'main a[href="/codename"]')
    _press_and_wait(driver, Keys.ENTER)
    _assert_page(driver, "/codename")
    codename = driver.find_element(By.CSS_SELECTOR, ".codename code").text

    _tab_to(driver, 'form[action="/codename"] button[type="submit"]')
    _press_and_wait(driver, Keys.ENTER)
    _assert_page(driver, "/report")

    # Tab enters a radio group at its first option and the arrow keys move within it.
    _tab_to(driver, 'input[name="who"]')
    _press(driver, Keys.ARROW_DOWN)
    _tab_to(driver, 'input[name="kinds"][value="labour"]')
    _press(driver, Keys.SPACE)
    _tab_to(driver, 'textarea[name="message"]')
    _press(driver, MESSAGE)

    assert driver.find_element(By.CSS_SELECTOR, 'input[name="who"][value="relative"]').is_selected()
    assert driver.find_element(By.CSS_SELECTOR, 'input[name="kinds"][value="labour"]').is_selected()
    assert driver.find_element(By.NAME, "message").get_attribute("value") == MESSAGE
    _tab_to(driver, 'form[action="/report"] button[type="submit"]')
    _press_and_wait(driver, Keys.ENTER)
    _assert_page(driver, "/report/sent")

    _tab_to(driver, 'form[action="/logout"] button[type="submit"]')
    _press_and_wait(driver, Keys.ENTER)
    _assert_page(driver, "/logged-out")

    _tab_to(driver, 'main a[href="/login"]')
    _press_and_wait(driver, Keys.ENTER)
    _assert_page(driver, "/login")
    _tab_to(driver, 'input[name="codename"]')
    _press_and_wait(driver, codename, Keys.ENTER)
    _assert_page(driver, "/conversation")

    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nl"


@pytest.mark.parametrize("path", ["/", "/info", "/login"])
def test_quick_exit_by_keyboard(
    source_browser: webdriver.Chrome,
    lumen_instance: LumenInstance,
    neutral_site: tuple[LiveServer, list[dict[str, str]]],
    path: str,
) -> None:
    server, received = neutral_site
    received.clear()
    source_browser.get(f"{lumen_instance.source.url}{path}?lang=fr")

    _press(source_browser, Keys.TAB)
    _press_and_wait(source_browser, Keys.ENTER)

    assert source_browser.current_url == server.url + "/"
    assert len(received) == 1
    assert "Referer" not in received[0], "the quick exit told the neutral site where it came from"
