"""A client for the source app's report flow, as a browser without JavaScript uses it.

``GET /codename`` draws a codename and keeps it, sealed, in the session;
``POST /codename`` with the page's CSRF token creates the source and logs it in;
``GET /report`` serves the report form and its CSRF token; ``POST /report`` sends the
form as ``multipart/form-data`` and answers with a redirect to ``/report/sent`` once
the rows are committed.

Bodies are streamed from a file-like object of known length, so posting a 1 GB file
does not hold it in the client's memory.
"""

from __future__ import annotations

import html
import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO, Final

import requests

_CSRF: Final = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)
SENT_PATH: Final = "/report/sent"
READ_BLOCK: Final = 256 * 1024


def csrf_token(page: str) -> str:
    """Return the CSRF token of the first form in ``page``."""
    match = _CSRF.search(page)
    if match is None:
        raise RuntimeError("no csrf_token field in the page")
    return html.unescape(match.group(1) or match.group(2))


class MultipartBody:
    """A ``multipart/form-data`` body read block by block from text fields and files.

    ``requests`` sends a body that has ``read`` and ``__len__`` with a Content-Length
    and reads it in blocks, so only one block is in memory at a time.
    """

    def __init__(self, fields: list[tuple[str, str]], files: list[tuple[str, str, Path]]) -> None:
        self.boundary = "lumen-bench-" + secrets.token_hex(12)
        self._parts: list[bytes | Path] = []
        for name, value in fields:
            head = f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            self._parts.append(head.encode() + value.encode("utf-8") + b"\r\n")
        for name, filename, path in files:
            self._parts.append(
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}";'
                f' filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            )
            self._parts.append(path)
            self._parts.append(b"\r\n")
        self._parts.append(f"--{self.boundary}--\r\n".encode())
        self._length = sum(
            part.stat().st_size if isinstance(part, Path) else len(part) for part in self._parts
        )
        self._index = 0
        self._open: BinaryIO | None = None

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        """Return up to ``size`` bytes of the body, or b"" at its end."""
        if size is None or size < 0:
            size = READ_BLOCK
        while self._index < len(self._parts):
            part = self._parts[self._index]
            if isinstance(part, bytes):
                self._index += 1
                return part
            if self._open is None:
                self._open = part.open("rb")
            block = self._open.read(max(size, READ_BLOCK))
            if block:
                return block
            self._open.close()
            self._open = None
            self._index += 1
        return b""


class SourceClient:
    """One source's browser session against a running source app."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def get(self, path: str) -> requests.Response:
        """GET ``path`` without following redirects."""
        return self.http.get(self.base_url + path, allow_redirects=False, timeout=60)

    def new_source(self) -> None:
        """Take a codename and confirm it, which creates the source and logs it in."""
        page = self.get("/codename")
        page.raise_for_status()
        confirmed = self.http.post(
            self.base_url + "/codename",
            data={"csrf_token": csrf_token(page.text)},
            allow_redirects=False,
            timeout=120,
        )
        if confirmed.status_code != 302 or not confirmed.headers["Location"].endswith("/report"):
            raise RuntimeError(f"confirming the codename returned {confirmed.status_code}")

    def report_token(self) -> str:
        """Load the report form and return its CSRF token."""
        page = self.get("/report")
        if page.status_code != 200:
            raise RuntimeError(f"GET /report returned {page.status_code}, expected 200")
        return csrf_token(page.text)

    def post_report(
        self, token: str, message: str, files: list[Path] | None = None
    ) -> requests.Response:
        """Send the report form; raise unless the app accepted and committed it."""
        body = MultipartBody(
            [("csrf_token", token), ("centre", "any"), ("message", message)],
            [("files", path.name, path) for path in files or []],
        )
        response = self.http.post(
            self.base_url + "/report",
            data=body,
            headers={"Content-Type": body.content_type},
            allow_redirects=False,
            timeout=600,
        )
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not location.endswith(SENT_PATH):
            raise RuntimeError(
                f"POST /report returned {response.status_code} to {location!r}, expected 302"
                f" to {SENT_PATH}"
            )
        return response


def random_text(size: int) -> str:
    """Return ``size`` characters of lowercase ASCII text in words, like a typed message."""
    words = []
    length = 0
    while length < size:
        word = os.urandom(8).hex()[: 3 + secrets.randbelow(8)]
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:size]
