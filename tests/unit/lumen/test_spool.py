"""Request bodies under waitress: bounded memory and no plaintext in temporary files."""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from waitress.server import create_server as stock_create_server

from lumen.serving import create_server
from lumen.spool import EncryptedSpoolBuffer
from tests.live_server import serve_wsgi

MEMORY_LIMIT = 64 * 1024


def test_buffer_in_memory_below_limit() -> None:
    buffer = EncryptedSpoolBuffer(MEMORY_LIMIT)
    buffer.append(b"a" * 1000)
    buffer.append(b"b" * 24)

    assert not buffer.spilled
    assert len(buffer) == 1024
    assert buffer.getfile().read() == b"a" * 1000 + b"b" * 24


def test_buffer_spills_ciphertext_only() -> None:
    marker = secrets.token_hex(16).encode()
    body = (marker + os.urandom(1000)) * 3000  # about 3 MB in uneven pieces
    buffer = EncryptedSpoolBuffer(MEMORY_LIMIT)
    for start in range(0, len(body), 7777):
        buffer.append(body[start : start + 7777])

    assert buffer.spilled
    spooled = buffer._file
    assert spooled is not None
    spooled.seek(0)
    assert marker not in spooled.read()
    assert buffer.getfile().read() == body
    buffer.close()
    assert spooled.closed


def test_buffer_read_twice_returns_same_body() -> None:
    body = os.urandom(3 * MEMORY_LIMIT)
    buffer = EncryptedSpoolBuffer(MEMORY_LIMIT)
    buffer.append(body)

    assert buffer.getfile().read() == body
    assert buffer.getfile().read() == body


def _temp_file_contents(folder: Path) -> list[bytes]:
    """Read every open file of this process that lives, or lived, in ``folder``."""
    contents = []
    for descriptor in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{descriptor}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            with open(f"/proc/self/fd/{descriptor}", "rb") as handle:
                contents.append(handle.read())
    return contents


def _scanning_app(folder: Path, seen: list[list[bytes]]) -> Callable[..., Any]:
    """A WSGI app that records the temporary files open while it runs, then hashes the body."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(_temp_file_contents(folder))
        digest = hashlib.sha256(environ["wsgi.input"].read()).hexdigest()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [digest.encode()]

    return app


@pytest.mark.security
@pytest.mark.parametrize(
    ("factory", "plaintext_expected"),
    [(create_server, False), (stock_create_server, True)],
    ids=["spooling", "stock-waitress-control"],
)
def test_large_body_never_on_disk(
    factory: Callable[..., Any],
    plaintext_expected: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    marker = secrets.token_hex(16).encode()
    body = marker * (4 * 1024 * 1024 // len(marker))
    seen: list[list[bytes]] = []
    app = _scanning_app(tmp_path, seen)

    with serve_wsgi(app, factory, threads=1, inbuf_overflow=MEMORY_LIMIT) as url:
        response = requests.post(url, data=body, timeout=30)

    assert response.text == hashlib.sha256(body).hexdigest()
    assert len(seen) == 1
    spooled = seen[0]
    assert spooled, "the body should have gone to a temporary file"
    found = any(marker in content for content in spooled)
    assert found is plaintext_expected
