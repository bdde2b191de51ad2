"""axe-core on every page of both apps, in every language: no serious or critical finding.

The walk is the one of :mod:`tests.browser.tour`, in a Chromium that runs JavaScript
only so that the injected axe can run (see :mod:`tests.browser.axe`). Source and
caseworker share that browser; their session cookies have different names. Every
finding, minor ones included, is written to ``test-artifacts/axe-<language>.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selenium import webdriver

from tests.browser.axe import Violation, blocking, run_axe
from tests.browser.instance import LumenInstance
from tests.browser.tour import TourBrowsers, walk

pytestmark = pytest.mark.browser


@pytest.fixture
def attachment(tmp_path: Path) -> Path:
    """A small text file to attach, so that the case page lists a file."""
    path = tmp_path / "notities.txt"
    path.write_text("Adres van de nagelstudio: ...\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("language", ["nl", "fr", "en", "de"])
def test_axe_on_every_page(
    axe_browser: webdriver.Chrome,
    axe_script: str,
    lumen_instance: LumenInstance,
    artifacts_dir: Path,
    attachment: Path,
    language: str,
) -> None:
    findings: dict[str, list[Violation]] = {}

    def visit(driver: webdriver.Chrome, app: str, page: str) -> None:
        findings[f"{app} {page}"] = run_axe(driver, axe_script)

    browsers = TourBrowsers(source=axe_browser, caseworker=axe_browser)
    walk(browsers, lumen_instance, language, attachment, visit)

    report = {page: [str(violation) for violation in found] for page, found in findings.items()}
    (artifacts_dir / f"axe-{language}.json").write_text(json.dumps(report, indent=2) + "\n")
    serious = {page: [str(v) for v in blocking(found)] for page, found in findings.items()}
    serious = {page: found for page, found in serious.items() if found}

    assert len(findings) >= 20, f"axe ran on only {len(findings)} pages"
    assert not serious, json.dumps(serious, indent=2, ensure_ascii=False)
