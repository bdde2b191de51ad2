"""A source as a browser would be: a requests session against a live source app.

Also builds multipart bodies by hand, so that tests control every byte of them.
"""

from __future__ import annotations

import html
import re
import secrets
import time
from dataclasses import dataclass, field

import requests

from tests.hardening.support import csrf_token

BUSY_RETRIES = 20
BUSY_PAUSE_SECONDS = 0.25
_CODENAME = re.compile(r'<p class="codename"[^>]*><code>([^<]+)</code>')


@dataclass
class SourceClient:
    """One source's browser: its cookies, its language and its user agent."""

    base_url: str
    language: str = "nl"
    user_agent: str = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
    http: requests.Session = field(default_factory=requests.Session)
    codename: str = ""
    busy_answers: int = 0

    def __post_init__(self) -> None:
        self.http.headers.update({"Accept-Language": self.language, "User-Agent": self.user_agent})

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.http.get(self.base_url + path, allow_redirects=False, timeout=30, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, **kwargs: object) -> requests.Response:
        return self.http.post(self.base_url + path, allow_redirects=False, timeout=60, **kwargs)  # type: ignore[arg-type]

    def token(self, path: str) -> str:
        """Return the CSRF token of the form on page ``path``."""
        page = self.get(path)
        assert page.status_code == 200, f"GET {path} returned {page.status_code}"
        return csrf_token(page.text)

    def start(self) -> str:
        """Take a new codename and confirm it, which creates and logs in the source."""
        page = self.get("/codename")
        assert page.status_code == 200, f"GET /codename returned {page.status_code}"
        match = _CODENAME.search(page.text)
        assert match, "the codename page shows no codename"
        self.codename = html.unescape(match.group(1))

        confirmed = self.post("/codename", data={"csrf_token": csrf_token(page.text)})
        # Sources who confirm at the same moment may be asked to try again (503 with
        # Retry-After) while derivations queue; a person presses the button again.
        for _ in range(BUSY_RETRIES):
            if confirmed.status_code != 503 or "Retry-After" not in confirmed.headers:
                break
            self.busy_answers += 1
            time.sleep(BUSY_PAUSE_SECONDS)
            confirmed = self.post("/codename", data={"csrf_token": csrf_token(page.text)})
        assert confirmed.status_code in (302, 303), f"confirming returned {confirmed.status_code}"
        return self.codename

    def login(self, codename: str) -> requests.Response:
        """Send ``codename`` on the login form."""
        return self.post("/login", data={"csrf_token": self.token("/login"), "codename": codename})

    def report(
        self, message: str, files: list[tuple[str, bytes]] | None = None, path: str = "/report"
    ) -> requests.Response:
        """Send a report (or, with ``path="/conversation"``, a follow-up)."""
        data = {"csrf_token": self.token(path), "message": message}
        parts = [
            ("files", (name, content, "application/octet-stream")) for name, content in files or []
        ]
        return self.post(path, data=data, files=parts or None)

    @property
    def session_cookie(self) -> str:
        return str(self.http.cookies.get("lumen_source", ""))


def multipart(
    fields: list[tuple[bytes, bytes]] | None = None,
    files: list[tuple[bytes, bytes, bytes]] | None = None,
    boundary: bytes | None = None,
    raw_parts: list[bytes] | None = None,
    closing: bool = True,
) -> tuple[bytes, bytes]:
    """Return ``(boundary, body)`` of a multipart/form-data body built byte by byte.

    ``fields`` are ``(name, value)``, ``files`` are ``(name, filename, content)``,
    and ``raw_parts`` are inserted as they are, headers and all.
    """
    boundary = boundary or b"----lumen" + secrets.token_hex(12).encode()
    out = bytearray()
    for name, value in fields or []:
        out += b"--" + boundary + b"\r\n"
        out += b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n'
        out += value + b"\r\n"
    for name, filename, content in files or []:
        out += b"--" + boundary + b"\r\n"
        out += b'Content-Disposition: form-data; name="' + name + b'"; filename="' + filename
        out += b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        out += content + b"\r\n"
    for part in raw_parts or []:
        out += b"--" + boundary + b"\r\n" + part + b"\r\n"
    if closing:
        out += b"--" + boundary + b"--\r\n"
    return boundary, bytes(out)
