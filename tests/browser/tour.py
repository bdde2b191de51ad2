"""A walk through the pages of both apps in one language, calling a check on each.

The walk makes a report, lets a caseworker reply, and brings the source back to read
the reply, so that every page shows real content. The page and axe tests run the same
walk with different checks and browsers, which keeps the list of pages in one place.

NOTE: pages that need a clock, a size limit or a broken account are not walked: the
source's "session ended" and "too large" pages, and the caseworker's "no centre key"
and "too many attempts" pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser import caseworker_steps as caseworker
from tests.browser import source_steps as source
from tests.browser.instance import CaseworkerLogin, LumenInstance

SOURCE = "source"
CASEWORKER = "caseworker"

# Called on each page with the browser showing it, the app's name and the page's name.
Visit = Callable[[webdriver.Chrome, str, str], None]

TOUR_MESSAGE = (
    "Mijn buurvrouw werkt elke dag in een nagelstudio in Gent, zonder loon. "
    "Haar baas heeft haar paspoort."
)
TOUR_REPLY = "Dank u voor uw bericht. Wij willen graag meer weten. Bent u nu veilig?"


@dataclass(frozen=True)
class TourBrowsers:
    """The browser the source uses and the one the caseworker uses; they may be one."""

    source: webdriver.Chrome
    caseworker: webdriver.Chrome


def caseworker_language(language: str, instance: LumenInstance) -> str:
    """Return ``language`` if the caseworker app offers it, else English."""
    return language if language in instance.config.caseworker_languages else "en"


def walk(
    browsers: TourBrowsers,
    instance: LumenInstance,
    language: str,
    attachment: Path,
    visit: Visit,
) -> None:
    """Visit every page of both apps in ``language``, calling ``visit`` on each."""
    codename = _source_reports(browsers.source, instance, language, attachment, visit)
    _caseworker_replies(
        browsers.caseworker, instance, caseworker_language(language, instance), visit
    )
    _source_returns(browsers.source, instance, codename, visit)


def _source_reports(
    driver: webdriver.Chrome,
    instance: LumenInstance,
    language: str,
    attachment: Path,
    visit: Visit,
) -> str:
    site = instance.source.url

    source.open_start(driver, site, language)
    visit(driver, SOURCE, "start")
    source.follow(driver, "/info")
    visit(driver, SOURCE, "info")

    driver.get(site + "/")
    codename = source.take_codename(driver)
    visit(driver, SOURCE, "codename")
    source.confirm_codename(driver)
    visit(driver, SOURCE, "report")

    # Sending the empty form shows the form again with its error message.
    source.fill_report(
        driver, source.ReportAnswers(who="", kinds=(), where="", danger="", centre="")
    )
    source.send_report(driver)
    visit(driver, SOURCE, "report-error")

    answers = source.ReportAnswers(
        who="relative", kinds=("labour",), where="Gent", message=TOUR_MESSAGE, files=(attachment,)
    )
    source.fill_report(driver, answers)
    source.send_report(driver)
    visit(driver, SOURCE, "sent")

    source.log_out(driver)
    visit(driver, SOURCE, "logged-out")
    source.follow(driver, "/login")
    visit(driver, SOURCE, "login")
    source.log_in(driver, site, "dit is geen codenaam")
    visit(driver, SOURCE, "login-unknown")
    driver.get(site + "/no-such-page")
    visit(driver, SOURCE, "not-found")

    # A form whose CSRF token no longer matches, as after a server restart.
    driver.get(site + "/login")
    driver.execute_script("document.querySelector('input[name=csrf_token]').value = 'stale-token';")
    driver.find_element(By.NAME, "codename").send_keys(codename)
    source.click_through(driver, source.submit_button(driver, "/login"))
    visit(driver, SOURCE, "form-rejected")
    return codename


def _caseworker_replies(
    driver: webdriver.Chrome, instance: LumenInstance, language: str, visit: Visit
) -> None:
    app = instance.caseworker.url
    account = instance.new_caseworker("payoke", admin=True)

    driver.get(f"{app}/login?lang={language}")
    visit(driver, CASEWORKER, "login")
    wrong = CaseworkerLogin(
        account.username, "not the passphrase at all", account.totp_secret, account.centre_id
    )
    caseworker.fill_login(driver, wrong)
    source.click_through(driver, source.submit_button(driver, "/login"))
    visit(driver, CASEWORKER, "login-failed")

    caseworker.fill_login(driver, account)
    source.click_through(driver, source.submit_button(driver, "/login"))
    assert source.path_of(driver) == "/", (
        f"login did not reach the inbox: {driver.current_url} shows"
        f" {driver.find_element(By.TAG_NAME, 'main').text[:500]!r}"
    )
    visit(driver, CASEWORKER, "inbox")

    case_url = caseworker.case_links(driver)[0]
    driver.get(case_url)
    visit(driver, CASEWORKER, "case")
    caseworker.send_reply(driver, TOUR_REPLY)
    visit(driver, CASEWORKER, "case-replied")

    # The confirmation pages of the case page's export and delete links, left unconfirmed.
    confirmations = {
        "case-export": 'main a[href$="/export"]',
        "case-delete": 'main a[href$="/delete"]:not([href*="/items/"])',
        "item-delete": 'main a[href*="/items/"][href$="/delete"]',
    }
    for page, link in confirmations.items():
        driver.get(case_url)
        source.click_through(driver, driver.find_element(By.CSS_SELECTOR, link))
        visit(driver, CASEWORKER, page)

    for path, page in (
        ("/account/", "account"),
        ("/account/passphrase", "account-passphrase"),
        ("/account/two-factor", "account-two-factor"),
        ("/admin/accounts", "admin-accounts"),
        ("/admin/settings", "admin-settings"),
        ("/admin/audit", "admin-audit"),
        ("/no-such-page", "not-found"),
    ):
        driver.get(app + path)
        visit(driver, CASEWORKER, page)

    driver.get(app + "/admin/accounts")
    source.click_through(driver, driver.find_element(By.CSS_SELECTOR, 'main a[href$="/remove"]'))
    visit(driver, CASEWORKER, "admin-remove")
    driver.get(app + "/admin/accounts")
    driver.find_element(By.NAME, "username").send_keys(f"invited-{language}-{account.username}")
    source.click_through(driver, source.submit_button(driver, "/admin/accounts/invite"))
    visit(driver, CASEWORKER, "admin-credentials")

    caseworker.log_out(driver)
    visit(driver, CASEWORKER, "logged-out")


def _source_returns(
    driver: webdriver.Chrome, instance: LumenInstance, codename: str, visit: Visit
) -> None:
    site = instance.source.url

    source.log_in(driver, site, codename)
    assert source.path_of(driver) == "/conversation", driver.current_url
    assert TOUR_REPLY in source.reply_texts(driver)
    visit(driver, SOURCE, "conversation")

    driver.find_element(By.NAME, "message").send_keys("Ze is nu veilig, denk ik.")
    source.click_through(driver, source.submit_button(driver, "/conversation"))
    visit(driver, SOURCE, "conversation-sent")

    source.follow(driver, "/conversation/delete")
    visit(driver, SOURCE, "delete")
    driver.find_element(By.NAME, "confirm").click()
    source.click_through(driver, source.submit_button(driver, "/conversation/delete"))
    visit(driver, SOURCE, "deleted")
