"""Request bodies never reach a temporary file in plaintext under Lumen's waitress.

Waitress reads a whole request body before it calls the app and, by default, moves
any body over 512 KiB into an unlinked temporary file. An upload is plaintext at
that point, so Lumen's server (``lumen.serving.create_server``) encrypts what it
spools. The probe reads every open file of this process that is deleted or under
the temp folder while an upload is half sent, so it also finds unlinked files.
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from waitress.server import create_server as stock_create_server

from lumen.serving import create_server, waitress_settings
from tests.conftest import make_test_config
from tests.hardening.support import LOOPBACK, live_server, parse_response, request_bytes

BODY_SIZE = 3 * 1024 * 1024


def _count_body(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    size = len(environ["wsgi.input"].read())
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(size).encode()]


def _open_files_holding(marker: bytes) -> list[str]:
    temp_folder = tempfile.gettempdir()
    found = []
    for descriptor in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{descriptor}")
        except OSError:
            continue
        if not (target.endswith("(deleted)") or target.startswith(temp_folder)):
            continue
        try:
            with open(f"/proc/self/fd/{descriptor}", "rb") as handle:
                if marker in handle.read():
                    found.append(target)
        except OSError:
            continue
    return found


def _files_seen_mid_upload(
    settings: dict[str, Any], factory: Callable[..., Any] = create_server
) -> list[str]:
    marker = b"spool-marker-" + secrets.token_hex(8).encode()
    body = (marker * (BODY_SIZE // len(marker) + 1))[:BODY_SIZE]
    head = request_bytes(
        "POST", "/", {"Content-Type": "application/octet-stream"}, content_length=len(body)
    )

    with (
        live_server(_count_body, factory, **settings) as server,
        socket.create_connection((LOOPBACK, server.port), timeout=15) as sock,
    ):
        sock.sendall(head + body[: BODY_SIZE - 1024])
        time.sleep(0.5)  # let waitress take in what was sent
        found = _open_files_holding(marker)
        sock.sendall(body[BODY_SIZE - 1024 :])
        answer = b""
        while part := sock.recv(65536):
            answer += part

    response = parse_response(answer)
    assert response.status == 200
    assert response.body == str(BODY_SIZE).encode()
    return found


@pytest.mark.security
def test_upload_body_never_spooled(tmp_path: Path) -> None:
    settings = waitress_settings(make_test_config(tmp_path / "data"))

    assert _files_seen_mid_upload(settings) == []


def test_spool_probe_sees_default_spooling() -> None:
    # Waitress's own default (inbuf_overflow of 512 KiB) spools: the probe must see it.
    assert _files_seen_mid_upload({"threads": 2}, factory=stock_create_server) != []
