"""Every page of both apps in nl, fr and en, as a browser without JavaScript shows it.

On each page of the walk in :mod:`tests.browser.tour` the test saves screenshots at
360 and 1280 pixels wide and checks, from the browser's network log and DOM:

* no request goes to an origin other than the app's own;
* each source page, HTML and stylesheet together, stays under the page budget;
* no source page is wider than a 360-pixel phone screen;
* every form control has a label;
* the page declares the language it is last_page_requests in;
* on source pages, the quick-exit link is the first stop of the Tab key.

Problems are collected over the whole walk and reported together, one assert per
kind, so one failing page does not hide the others.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser.checks import (
    PAGE_BUDGET_BYTES,
    first_tab_stop,
    is_quick_exit,
    unlabelled_controls,
)
from tests.browser.chromium import (
    DESKTOP_WIDTH,
    PHONE_WIDTH,
    full_page_png,
    read_network_log,
    set_width,
)
from tests.browser.instance import LumenInstance
from tests.browser.tour import SOURCE, TourBrowsers, caseworker_language, walk

pytestmark = pytest.mark.browser

# Screenshots for the READMEs, cut to a height that fits a table cell, saved under
# test-artifacts/screenshots/readme/; tools/readme-screenshots copies them to
# docs/screenshots/. Keyed by app, page, language and width.
README_SHOTS = {
    (SOURCE, "start", "en", DESKTOP_WIDTH): "source-start-en.png",
    (SOURCE, "report", "nl", PHONE_WIDTH): "source-report-nl-360.png",
    (SOURCE, "codename", "fr", PHONE_WIDTH): "source-codename-fr-360.png",
    (SOURCE, "conversation", "nl", PHONE_WIDTH): "source-conversation-nl-360.png",
    ("caseworker", "inbox", "fr", DESKTOP_WIDTH): "caseworker-inbox-fr.png",
    ("caseworker", "case-replied", "en", DESKTOP_WIDTH): "caseworker-case-en.png",
}
README_MAX_HEIGHT = {PHONE_WIDTH: 1400, DESKTOP_WIDTH: 900}


@pytest.fixture
def attachment(tmp_path: Path) -> Path:
    """A small photo to attach, so that the case page lists a file."""
    path = tmp_path / "nagelstudio.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40)
    return path


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_pages_in_language(
    source_browser: webdriver.Chrome,
    caseworker_browser: webdriver.Chrome,
    lumen_instance: LumenInstance,
    screenshots_dir: Path,
    artifacts_dir: Path,
    attachment: Path,
    language: str,
) -> None:
    problems: dict[str, list[str]] = defaultdict(list)
    weights: list[str] = []
    origins = {
        SOURCE: lumen_instance.source.url,
        "caseworker": lumen_instance.caseworker.url,
    }
    readme_dir = screenshots_dir / "readme"
    readme_dir.mkdir(exist_ok=True)
    expected_language = {
        SOURCE: language,
        "caseworker": caseworker_language(language, lumen_instance),
    }

    def visit(driver: webdriver.Chrome, app: str, page: str) -> None:
        where = f"{app} {page}"
        log = read_network_log(driver)
        foreign = sorted(log.origins() - {origins[app]})
        if foreign:
            problems["other origins"].append(f"{where}: {foreign}")

        last_page_requests = log.last_page().page_requests()
        size = sum(request.transfer_bytes for request in last_page_requests)
        weights.append(f"{app}\t{page}\t{language}\t{size}\t{len(last_page_requests)}")
        if app == SOURCE and size >= PAGE_BUDGET_BYTES:
            urls = [request.url for request in last_page_requests]
            problems["over budget"].append(f"{where}: {size} bytes in {urls}")
        for control in unlabelled_controls(driver):
            problems["unlabelled"].append(f"{where}: {control}")
        page_language = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
        if page_language != expected_language[app]:
            problems["language"].append(f"{where}: lang={page_language!r}")

        for width in (PHONE_WIDTH, DESKTOP_WIDTH):
            set_width(driver, width)
            png = full_page_png(driver)
            (screenshots_dir / f"{app}-{page}-{language}-{width}.png").write_bytes(png)
            readme_name = README_SHOTS.get((app, page, language, width))
            if readme_name:
                cut = full_page_png(driver, max_height=README_MAX_HEIGHT[width])
                (readme_dir / readme_name).write_bytes(cut)
            if width == PHONE_WIDTH and app == SOURCE:
                content = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
                if content["width"] > PHONE_WIDTH:
                    problems["too wide"].append(f"{where}: {content['width']} px")

        if app == SOURCE:
            stop = first_tab_stop(driver)
            if not is_quick_exit(stop, lumen_instance.config.quick_exit_url):
                problems["tab order"].append(f"{where}: {stop.get_attribute('outerHTML')[:120]}")

    browsers = TourBrowsers(source=source_browser, caseworker=caseworker_browser)
    walk(browsers, lumen_instance, language, attachment, visit)

    weights_file = artifacts_dir / f"page-weights-{language}.tsv"
    weights_file.write_text("app\tpage\tlanguage\tbytes\trequests\n" + "\n".join(weights) + "\n")
    assert len(weights) >= 20, f"the walk visited only {len(weights)} pages"
    assert not problems["other origins"], "\n".join(problems["other origins"])
    assert not problems["over budget"], "\n".join(problems["over budget"])
    assert not problems["too wide"], "\n".join(problems["too wide"])
    assert not problems["unlabelled"], "\n".join(problems["unlabelled"])
    assert not problems["language"], "\n".join(problems["language"])
    assert not problems["tab order"], "\n".join(problems["tab order"])
