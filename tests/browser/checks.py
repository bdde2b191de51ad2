"""Checks run on a page that a browser shows: labels, tab order, headings, weight.

Selenium's ``execute_script`` runs synchronous code through the DevTools protocol
even while the page's own JavaScript is blocked, so these checks read the DOM of the
JavaScript-free browser directly.
"""

from __future__ import annotations

from html.parser import HTMLParser

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

# Each source page, HTML and stylesheet together, must stay below this many bytes
# on the wire, headers included.
PAGE_BUDGET_BYTES = 30_000

_UNLABELLED_CONTROLS = """
const controls = document.querySelectorAll("input, select, textarea");
return Array.from(controls)
  .filter(control => !["hidden", "submit", "button", "reset", "image"].includes(control.type))
  .filter(control => !Array.from(control.labels || []).some(l => l.textContent.trim() !== ""))
  .map(control => control.outerHTML.slice(0, 200));
"""


def unlabelled_controls(driver: webdriver.Chrome) -> list[str]:
    """Return the form controls that have no ``<label>`` with text, and no accessible name.

    A control passes only with a visible label element, because sighted users never
    see an ``aria-label`` and lose a placeholder as soon as they type. The accessible
    name, as Chromium computes it, must not be empty either.
    """
    problems = [f"no <label>: {html}" for html in driver.execute_script(_UNLABELLED_CONTROLS)]
    for control in driver.find_elements(By.CSS_SELECTOR, "input, select, textarea"):
        kind = control.get_attribute("type") or ""
        if kind in ("hidden", "submit", "button", "reset", "image"):
            continue
        if not control.accessible_name.strip():
            problems.append(f"no accessible name: {control.get_attribute('outerHTML')[:200]}")
    return problems


def first_tab_stop(driver: webdriver.Chrome) -> WebElement:
    """Press Tab once on a freshly loaded page and return the element that gets focus."""
    ActionChains(driver).send_keys(Keys.TAB).perform()
    return driver.switch_to.active_element


def is_quick_exit(element: WebElement, quick_exit_url: str) -> bool:
    """Return whether ``element`` is the quick-exit link to ``quick_exit_url``."""
    return (
        element.tag_name == "a"
        and element.get_attribute("href") == quick_exit_url
        and "noreferrer" in (element.get_attribute("rel") or "").split()
    )


class _HeadingParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[str] = []
        self._depth = 0
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._depth += 1
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") and self._depth:
            self._depth -= 1
            self.headings.append(" ".join("".join(self._text).split()))

    def handle_data(self, data: str) -> None:
        if self._depth:
            self._text.append(data)


def headings(html: str) -> list[str]:
    """Return the text of every ``h1`` to ``h6`` in ``html``, white space collapsed."""
    parser = _HeadingParser()
    parser.feed(html)
    parser.close()
    return [heading for heading in parser.headings if heading]
