"""The weight of every source page: HTML plus stylesheet bytes, in each language.

A source walks the whole flow against a running source app, once per language
(chosen with ``?lang=``): start, information, codename, report form, confirmation,
conversation, delete confirmation, login, logged out, deleted, and the 404 page.
Each page's weight is the bytes of its HTML body plus every stylesheet it links,
as sent (waitress does not compress). Budget: 30 KB (30,000 bytes) a page.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

import harness
import requests
import sourceflow

BUDGET_BYTES: Final = 30_000
LANGUAGES: Final = ("en", "nl", "fr", "de")
_STYLESHEET: Final = re.compile(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"')
_HTML_LANG: Final = re.compile(r'<html[^>]*\blang="([^"]+)"')


class PageWalker:
    """One language's session through the source flow, recording each page's weight."""

    def __init__(self, base_url: str, language: str) -> None:
        self.client = sourceflow.SourceClient(base_url)
        self.language = language
        self.weights: dict[str, tuple[int, int]] = {}
        self.served_languages: set[str] = set()

    def page(self, name: str, response: requests.Response, status: int = 200) -> str:
        """Record ``response`` as page ``name``; return its HTML."""
        if response.status_code != status:
            raise RuntimeError(
                f"{name} ({self.language}) returned {response.status_code}, expected {status}"
            )
        css = 0
        for href in set(_STYLESHEET.findall(response.text)):
            stylesheet = self.client.get(href)
            stylesheet.raise_for_status()
            css += len(stylesheet.content)
        self.weights[name] = (len(response.content), css)
        served = _HTML_LANG.search(response.text)
        self.served_languages.add(served.group(1) if served else "none")
        return response.text

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        """POST a form without following the redirect."""
        return self.client.http.post(
            self.client.base_url + path, data=data, allow_redirects=False, timeout=120
        )

    def walk(self) -> dict[str, tuple[int, int]]:
        """Visit every page once and return ``{page: (html bytes, css bytes)}``."""
        get = self.client.get
        self.page("start `/`", get(f"/?lang={self.language}"))
        self.page("information `/info`", get("/info"))
        self.page("login `/login`", get("/login"))
        self.page("not found (404)", get("/no-such-page"), status=404)

        codename = self.page("codename `/codename`", get("/codename"))
        confirmed = self.post("/codename", {"csrf_token": sourceflow.csrf_token(codename)})
        expect_redirect(confirmed, "/report")
        token = sourceflow.csrf_token(self.page("report form `/report`", get("/report")))
        self.client.post_report(token, "page weight benchmark")
        self.page("report sent `/report/sent`", get("/report/sent"))
        self.page("conversation `/conversation`", get("/conversation"))
        delete_page = self.page(
            "delete confirmation `/conversation/delete`", get("/conversation/delete")
        )

        logout = self.post("/logout", {"csrf_token": sourceflow.csrf_token(delete_page)})
        expect_redirect(logout, "/logged-out")
        self.page("logged out `/logged-out`", get("/logged-out"))
        self.page("deleted `/deleted`", get("/deleted"))
        return self.weights


def expect_redirect(response: requests.Response, path: str) -> None:
    """Fail unless ``response`` redirects to ``path``."""
    location = response.headers.get("Location", "")
    if response.status_code not in (302, 303) or not location.endswith(path):
        raise RuntimeError(
            f"expected a redirect to {path}, got {response.status_code} {location!r}"
        )


def measure() -> harness.Outcome:
    """Walk the flow in every language and return the section."""
    weights: dict[str, dict[str, tuple[int, int]]] = {}
    untranslated: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="lumen-bench-pages-") as folder,
        harness.ServerProcess("source", Path(folder) / "data") as server,
    ):
        for language in LANGUAGES:
            walker = PageWalker(server.base_url, language)
            weights[language] = walker.walk()
            if walker.served_languages != {language}:
                served = ", ".join(sorted(walker.served_languages))
                untranslated.append(f"{language} (pages said `lang` {served})")

    pages = list(weights[LANGUAGES[0]])
    total: Callable[[str, str], int] = lambda page, language: sum(weights[language][page])  # noqa: E731
    header = " | ".join(f"{language} total" for language in LANGUAGES)
    rows = []
    heaviest = ("", "", 0)
    for page in pages:
        html_sizes = [weights[language][page][0] for language in LANGUAGES]
        css = weights[LANGUAGES[0]][page][1]
        totals = [total(page, language) for language in LANGUAGES]
        cells = " | ".join(f"{value:,}" for value in totals)
        rows.append(f"| {page} | {min(html_sizes):,}–{max(html_sizes):,} | {css:,} | {cells} |")
        for language, value in zip(LANGUAGES, totals, strict=True):
            if value > heaviest[2]:
                heaviest = (page, language, value)

    note = ""
    if untranslated:
        note = (
            "\n**Not every page came in the language asked for:** "
            + "; ".join(untranslated)
            + ". Those columns may not show the weight of the translated pages.\n"
        )
    markdown = f"""
Bytes as sent, uncompressed; a page's total is its HTML plus its stylesheet (one
request each, no images, fonts or scripts). Budget: {BUDGET_BYTES:,} bytes a page.
{note}
| page | HTML bytes (range over languages) | stylesheet bytes | {header} |
| --- | --- | --- | {" | ".join("---" for _ in LANGUAGES)} |
{chr(10).join(rows)}
"""
    target = harness.Target(
        name="heaviest source page with its stylesheet",
        goal=f"< {BUDGET_BYTES:,} bytes",
        measured=f"{heaviest[2]:,} bytes ({heaviest[0]}, {heaviest[1]})",
        met=heaviest[2] < BUDGET_BYTES,
    )
    return harness.Outcome(
        section="page-weight",
        title="Source page weight",
        markdown=markdown,
        targets=[target],
        data={
            language: {page: list(sizes) for page, sizes in pages_.items()}
            for language, pages_ in weights.items()
        },
    )


def main() -> int:
    parser = harness.base_parser(__doc__.splitlines()[0], default_runs=1)
    arguments = parser.parse_args()
    # Page weight does not vary between runs; --runs and --quick change nothing here.
    harness.publish(measure(), arguments)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
