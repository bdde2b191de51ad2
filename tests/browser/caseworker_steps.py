"""Steps a caseworker takes in the caseworker app, through a browser with JavaScript off.

As on the source side, elements are found by form actions, link targets and field
names, so the steps work in every language.
"""

from __future__ import annotations

import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from tests.browser.instance import CaseworkerLogin
from tests.browser.source_steps import click_through, path_of, submit_button


def log_in(
    driver: webdriver.Chrome, base_url: str, account: CaseworkerLogin, language: str
) -> None:
    """Open the login page in ``language`` and log in with passphrase and a fresh TOTP code."""
    driver.get(f"{base_url}/login?lang={language}")
    fill_login(driver, account)
    click_through(driver, submit_button(driver, "/login"))
    assert path_of(driver) == "/", f"login did not reach the inbox: {driver.current_url}"


def fill_login(driver: webdriver.Chrome, account: CaseworkerLogin) -> None:
    """Type the username, the passphrase and the current TOTP code into the login form.

    Each field is emptied first, because the form shown again after a failed login
    keeps the username.
    """
    for name, value in (
        ("username", account.username),
        ("passphrase", account.passphrase),
        ("code", account.totp_code()),
    ):
        field = driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)


def case_links(driver: webdriver.Chrome) -> list[str]:
    """Return the URLs of the cases listed in the inbox, in the inbox's order."""
    links = driver.find_elements(By.CSS_SELECTOR, 'main a[href^="/cases/"]')
    return list(dict.fromkeys(link.get_attribute("href") or "" for link in links))


def file_links(driver: webdriver.Chrome) -> dict[str, WebElement]:
    """Return the download links of the case page, keyed by the file name they show."""
    links = driver.find_elements(By.CSS_SELECTOR, 'main a[href*="/files/"]')
    return {link.text.strip(): link for link in links}


def send_reply(driver: webdriver.Chrome, text: str) -> None:
    """Write ``text`` in the case page's reply form and send it."""
    forms = driver.find_elements(By.CSS_SELECTOR, 'form[action$="/reply"]')
    main_text = driver.find_element(By.TAG_NAME, "main").text
    assert forms, f"no reply form on {driver.current_url}: {main_text[:300]!r}"
    form = forms[0]
    form.find_element(By.CSS_SELECTOR, "textarea").send_keys(text)
    click_through(driver, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))


def log_out(driver: webdriver.Chrome) -> None:
    """Press the log-out button in the header."""
    click_through(driver, submit_button(driver, "/logout"))


def wait_for_download(folder: Path, name: str, timeout: float = 15.0) -> Path:
    """Wait until Chromium has finished writing ``name`` into ``folder`` and return it.

    Chromium writes a ``.crdownload`` file and renames it when the download is complete.
    """
    target = folder / name
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if target.exists():
            return target
        time.sleep(0.05)
    present = sorted(path.name for path in folder.iterdir())
    raise AssertionError(
        f"{name!r} was not downloaded within {timeout} s; the folder has {present}"
    )
