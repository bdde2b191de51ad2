"""The source flow completed with the keyboard alone: Tab, Space, Enter and typing.

The tests read the page to know where focus is and what the codename is, as a
person would see it, but never click: every step is a key press.
"""

from __future__ import annotations

import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.browser.checks import first_tab_stop, is_quick_exit
from tests.browser.chromium import read_network_log
from tests.browser.instance import LumenInstance
from tests.browser.source_steps import path_of, wait_for_new_page

pytestmark = pytest.mark.browser

MAX_TABS = 80
MESSAGE = "Ik heb alles met het toetsenbord getypt. Mijn buurvrouw werkt zonder loon."


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
    source_browser: webdriver.Chrome, lumen_instance: LumenInstance, path: str
) -> None:
    # The browser resolves no public host name (see tests.browser.chromium), so the
    # navigation to the neutral site fails before anything leaves the machine, but
    # the browser still goes there and logs the request it would have sent.
    quick_exit = lumen_instance.config.quick_exit_url
    source_browser.get(f"{lumen_instance.source.url}{path}?lang=fr")
    read_network_log(source_browser)

    _press(source_browser, Keys.TAB)
    _press_and_wait(source_browser, Keys.ENTER)
    log = read_network_log(source_browser)
    leaving = [request for request in log.requests if request.url == quick_exit]

    assert source_browser.current_url == quick_exit
    assert len(leaving) == 1, f"requests after Enter: {log.urls()}"
    referer = {name.lower() for name in leaving[0].headers} & {"referer"}
    assert not referer, "the quick exit would tell the neutral site where it came from"
