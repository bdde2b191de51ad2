"""Steps a source takes on the source site, driven through a browser with JavaScript off.

Elements are found by form actions, link targets and field names, never by their
text, so the same steps work in every language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

PAGE_LOAD_SECONDS = 30


@dataclass(frozen=True)
class ReportAnswers:
    """What a source fills in on the report form; empty values are left alone."""

    who: str = "witness"
    kinds: tuple[str, ...] = ("labour",)
    where: str = "Luik"
    danger: str = "no"
    centre: str = "payoke"
    message: str = ""
    files: tuple[Path, ...] = ()


def submit_button(driver: webdriver.Chrome, action: str) -> WebElement:
    """Return the submit button of the form posting to ``action``."""
    return driver.find_element(By.CSS_SELECTOR, f'form[action="{action}"] button[type="submit"]')


def wait_for_new_page(driver: webdriver.Chrome, old_page: WebElement) -> None:
    """Wait until the document of ``old_page`` (its ``<html>``) is replaced and loaded.

    A click or a key press that follows a link or sends a form returns before the
    next page has loaded, so reading the page straight away could read the old one.
    """
    wait = WebDriverWait(driver, PAGE_LOAD_SECONDS)
    wait.until(lambda _: _is_replaced(old_page), f"no new page after {driver.current_url}")
    wait.until(lambda _: driver.execute_script("return document.readyState") == "complete")


def _is_replaced(element: WebElement) -> bool:
    try:
        element.tag_name  # noqa: B018 (read only to see whether the element still exists)
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        # While the old document is being torn down chromedriver may raise this error
        # instead of a stale-element error.
        if "does not belong to the document" in str(error.msg):
            return True
        raise
    return False


def click_through(driver: webdriver.Chrome, element: WebElement) -> None:
    """Click a link or a submit button and wait for the page it leads to."""
    old_page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait_for_new_page(driver, old_page)


def open_start(driver: webdriver.Chrome, base_url: str, language: str) -> None:
    """Open the start page in ``language`` through the language switch's parameter."""
    driver.get(f"{base_url}/?lang={language}")


def follow(driver: webdriver.Chrome, path: str) -> None:
    """Click the first link in ``<main>`` that leads to ``path``."""
    click_through(driver, driver.find_element(By.CSS_SELECTOR, f'main a[href="{path}"]'))


def take_codename(driver: webdriver.Chrome) -> str:
    """From the start page, ask for a codename and return it as the page shows it."""
    follow(driver, "/codename")
    return driver.find_element(By.CSS_SELECTOR, ".codename code").text


def confirm_codename(driver: webdriver.Chrome) -> None:
    """Confirm that the codename was kept, which creates the source and opens the form."""
    click_through(driver, submit_button(driver, "/codename"))


def fill_report(driver: webdriver.Chrome, answers: ReportAnswers) -> None:
    """Fill in the report form with ``answers``, choosing files through the file field."""
    if answers.who:
        driver.find_element(By.CSS_SELECTOR, f'input[name="who"][value="{answers.who}"]').click()
    for kind in answers.kinds:
        driver.find_element(By.CSS_SELECTOR, f'input[name="kinds"][value="{kind}"]').click()
    if answers.where:
        driver.find_element(By.NAME, "where").send_keys(answers.where)
    if answers.danger:
        driver.find_element(
            By.CSS_SELECTOR, f'input[name="danger"][value="{answers.danger}"]'
        ).click()
    if answers.centre:
        driver.find_element(
            By.CSS_SELECTOR, f'input[name="centre"][value="{answers.centre}"]'
        ).click()
    if answers.message:
        driver.find_element(By.NAME, "message").send_keys(answers.message)
    if answers.files:
        choose_files(driver, answers.files)


def choose_files(driver: webdriver.Chrome, files: Sequence[Path]) -> None:
    """Put ``files`` in the form's multiple file field, as a file dialog would."""
    field = driver.find_element(By.CSS_SELECTOR, 'input[type="file"][name="files"]')
    field.send_keys("\n".join(str(path) for path in files))


def send_report(driver: webdriver.Chrome) -> None:
    """Press the report form's send button."""
    click_through(driver, submit_button(driver, "/report"))


def log_out(driver: webdriver.Chrome) -> None:
    """Press the log-out button in the footer."""
    click_through(driver, submit_button(driver, "/logout"))


def log_in(driver: webdriver.Chrome, base_url: str, codename: str) -> None:
    """Open the codename page, type ``codename`` as given and continue."""
    driver.get(f"{base_url}/login")
    field = driver.find_element(By.NAME, "codename")
    field.clear()
    field.send_keys(codename)
    click_through(driver, submit_button(driver, "/login"))


def reply_texts(driver: webdriver.Chrome) -> list[str]:
    """Return the text of every reply on the conversation page."""
    return [element.text for element in driver.find_elements(By.CSS_SELECTOR, ".reply .text")]


def path_of(driver: webdriver.Chrome) -> str:
    """Return the path of the current page's URL."""
    return urlsplit(driver.current_url).path
