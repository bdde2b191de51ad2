"""The start and information pages read in w3m, a text browser, in every language."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.request

import pytest

from tests.browser.checks import headings
from tests.browser.instance import LumenInstance

pytestmark = pytest.mark.browser

PAGES = ("/", "/info")
LANGUAGES = ("nl", "fr", "en", "de")


def _w3m_dump(url: str) -> str:
    w3m = shutil.which("w3m")
    if w3m is None:
        pytest.fail("w3m not found: install Debian's w3m")
    # No proxy variables, so that w3m talks to the loopback server directly.
    environment = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    result = subprocess.run(
        [w3m, "-dump", "-cols", "100", "-O", "UTF-8", "-o", "display_link_number=1", url],
        capture_output=True,
        env=environment,
        timeout=30,
        check=True,
    )
    return result.stdout.decode("utf-8")


def _collapse(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", PAGES)
def test_w3m_shows_headings_and_exit(
    lumen_instance: LumenInstance, path: str, language: str
) -> None:
    url = f"{lumen_instance.source.url}{path}?lang={language}"
    with urllib.request.urlopen(url, timeout=10) as response:
        html = response.read().decode("utf-8")
    expected = headings(html)
    dump = _w3m_dump(url)
    flat = _collapse(dump)

    assert expected, f"{url} has no headings"
    missing = [heading for heading in expected if _collapse(heading) not in flat]
    assert not missing, f"w3m does not show these headings of {url}: {missing}"
    first_line = next(line for line in dump.splitlines() if line.strip())
    assert first_line.strip().startswith("[1]"), f"the first line is not a link: {first_line!r}"
    quick_exit = re.escape(lumen_instance.config.quick_exit_url)
    assert re.search(rf"^\[1\] {quick_exit}$", dump, re.MULTILINE), (
        f"link [1] of {url} is not the quick exit; the dump ends with:\n{dump[-1500:]}"
    )
