"""A report from a source to a caseworker and back, in two real browsers without JavaScript.

The source browses the start page in every language, reads the information page,
reports with a message and two files and logs out. A caseworker logs in with a TOTP
code, reads the report, downloads both files and replies. The source comes back,
typing the codename carelessly, and reads the reply. Neither browser runs a line of
the pages' JavaScript, and neither sends a request to any origin but the two apps.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser import caseworker_steps as caseworker
from tests.browser import source_steps as source
from tests.browser.chromium import NetworkLog, read_network_log
from tests.browser.instance import LumenInstance

pytestmark = pytest.mark.browser

MESSAGE = (
    "Ik werk in de keuken van een café in Luik. De chef (Jürgen) houdt onze paspoorten — "
    '"voor de veiligheid". Ça fait 3 mois. 😟 مرحبا'
)
REPLY = (
    "Merci pour votre message. Wij nemen contact op — ne répondez pas depuis le téléphone "
    "de l'employeur. ✅"
)
REPORT_NAME = "verslag été 2024.pdf"
PHOTO_NAME = "keuken.jpg"


def _careless(codename: str) -> str:
    """Return ``codename`` as a hurried person types it back: spaces and a capital."""
    words = codename.split()
    return "  " + words[0].capitalize() + "   " + "  ".join(words[1:]) + " "


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _requests_of(driver: webdriver.Chrome, log: NetworkLog) -> None:
    log.requests.extend(read_network_log(driver).requests)


@pytest.fixture
def uploads(tmp_path: Path) -> dict[str, Path]:
    """Two files to attach: a PDF-like document with a non-ASCII name and a photo."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    report = folder / REPORT_NAME
    report.write_bytes(b"%PDF-1.4\n" + os.urandom(48_000) + b"\n%%EOF\n")
    photo = folder / PHOTO_NAME
    photo.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(150_000))
    return {REPORT_NAME: report, PHOTO_NAME: photo}


def test_report_reply_and_return(
    source_browser: webdriver.Chrome,
    caseworker_browser: webdriver.Chrome,
    download_dir: Path,
    lumen_instance: LumenInstance,
    uploads: dict[str, Path],
) -> None:
    site = lumen_instance.source.url
    app = lumen_instance.caseworker.url
    source_log = NetworkLog()
    caseworker_log = NetworkLog()

    # The start page in each of the four languages.
    titles: dict[str, str] = {}
    for language in ("nl", "fr", "en", "de"):
        source.open_start(source_browser, site, language)
        html_lang = source_browser.find_element(By.TAG_NAME, "html").get_attribute("lang")
        assert html_lang == language
        titles[language] = source_browser.find_element(By.TAG_NAME, "h1").text
    assert len(set(titles.values())) == 4, f"start page headings are not translated: {titles}"

    # Information, then a report with two files, in French.
    source.open_start(source_browser, site, "fr")
    source.follow(source_browser, "/info")
    assert source.path_of(source_browser) == "/info"
    assert source_browser.find_element(By.TAG_NAME, "h1").text

    source_browser.get(site + "/")
    codename = source.take_codename(source_browser)
    assert len(codename.split()) >= 7
    source.confirm_codename(source_browser)
    assert source.path_of(source_browser) == "/report"

    answers = source.ReportAnswers(message=MESSAGE, files=tuple(uploads.values()))
    source.fill_report(source_browser, answers)
    source.send_report(source_browser)
    assert source.path_of(source_browser) == "/report/sent"

    source.log_out(source_browser)
    assert source.path_of(source_browser) == "/logged-out"
    _requests_of(source_browser, source_log)

    # A caseworker of the chosen centre reads the report and downloads both files.
    account = lumen_instance.new_caseworker("payoke")
    caseworker.log_in(caseworker_browser, app, account, "nl")
    cases = caseworker.case_links(caseworker_browser)
    assert len(cases) == 1, f"the inbox lists {cases}"
    caseworker_browser.get(cases[0])
    page_text = caseworker_browser.find_element(By.TAG_NAME, "main").text
    assert MESSAGE in page_text

    links = caseworker.file_links(caseworker_browser)
    assert set(links) >= {REPORT_NAME, PHOTO_NAME}, f"the case page links {sorted(links)}"
    for name, upload in uploads.items():
        caseworker.file_links(caseworker_browser)[name].click()
        downloaded = caseworker.wait_for_download(download_dir, name)
        assert _sha256(downloaded) == _sha256(upload), f"{name} changed on the way"

    caseworker.send_reply(caseworker_browser, REPLY)
    assert REPLY in caseworker_browser.find_element(By.TAG_NAME, "main").text
    caseworker.log_out(caseworker_browser)
    _requests_of(caseworker_browser, caseworker_log)

    # The source comes back, typing the codename with extra spaces and a capital.
    source.log_in(source_browser, site, _careless(codename))
    assert source.path_of(source_browser) == "/conversation"
    assert source.reply_texts(source_browser) == [REPLY]
    _requests_of(source_browser, source_log)

    assert source_log.origins() == {site}
    assert caseworker_log.origins() == {app}
