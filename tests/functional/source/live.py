"""Driving the source app under a real waitress server with requests."""

from __future__ import annotations

import requests

from .helpers import csrf_token, page_codename

TIMEOUT = 60


def live_source(base_url: str) -> tuple[requests.Session, str]:
    """Get and confirm a codename on the server at ``base_url``; return the session."""
    browser = requests.Session()
    page = browser.get(f"{base_url}/codename", timeout=TIMEOUT)
    codename = page_codename(page.text)
    confirmed = browser.post(
        f"{base_url}/codename",
        data={"csrf_token": csrf_token(page.text)},
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    assert confirmed.status_code == 302
    return browser, codename


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """Encode a form as a browser does: UTF-8 names, ``"`` and CR LF escaped."""
    boundary = "----LumenTestBoundary7MA4YWxkTrZu0gW"
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode("utf-8")
            + b"\r\n"
        )
    for filename, content_type, content in files:
        escaped = filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        header = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files";'
            f' filename="{escaped}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        parts.append(header.encode("utf-8") + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def post_form(
    browser: requests.Session,
    url: str,
    page_path: str,
    fields: dict[str, str],
    files: list[tuple[str, str, bytes]] | None = None,
) -> requests.Response:
    """Fetch ``page_path`` for its CSRF token, then post ``fields`` and ``files`` to ``url``."""
    base = url.split("/", 3)
    page = browser.get(f"{base[0]}//{base[2]}{page_path}", timeout=TIMEOUT)
    body, content_type = multipart({"csrf_token": csrf_token(page.text), **fields}, files or [])
    return browser.post(
        url,
        data=body,
        headers={"Content-Type": content_type},
        timeout=TIMEOUT,
        allow_redirects=False,
    )
