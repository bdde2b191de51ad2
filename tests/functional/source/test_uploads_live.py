"""Uploads and limits through a real waitress server on loopback."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from nacl.public import PrivateKey

from lumen.config import MIB, Limits
from lumen.services import Services, make_services
from source_app import create_app
from store.models import Submission
from tests.conftest import install_centres, make_test_config

from .conftest import LiveServer, serve
from .helpers import count_rows, read_as_centre
from .live import TIMEOUT, live_source, post_form

SMALL_LIMITS = Limits(max_request_bytes=3 * MIB, max_file_bytes=2 * MIB, max_files=3)


@pytest.fixture
def small_services(tmp_path: Path, centre_keys: dict[str, PrivateKey]) -> Iterator[Services]:
    config = make_test_config(tmp_path / "small", limits=SMALL_LIMITS)
    instance = make_services(config)
    install_centres(instance, centre_keys)
    yield instance
    instance.engine.dispose()


@pytest.fixture
def small_server(small_services: Services) -> Iterator[LiveServer]:
    app: Flask = create_app(small_services.config, small_services)
    yield from serve(app)


def _temp_files() -> set[str]:
    folder = Path(tempfile.gettempdir())
    return {entry.name for entry in folder.iterdir() if entry.is_file()}


def _blob_folder_entries(services: Services) -> list[str]:
    return sorted(entry.name for entry in services.blobs.folder.iterdir())


def _report_url(server: LiveServer) -> str:
    return f"{server.url}/report"


def test_upload_over_file_limit_gets_413_page(
    small_server: LiveServer, small_services: Services
) -> None:
    browser, _ = live_source(small_server.url)
    temp_before = _temp_files()
    content = os.urandom(SMALL_LIMITS.max_file_bytes + 1)

    response = post_form(
        browser,
        _report_url(small_server),
        "/report",
        {"message": "Foto"},
        [("foto.jpg", "image/jpeg", content)],
    )

    assert response.status_code == 413
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Each file can be at most 2 MB" in response.text
    assert "</html>" in response.text
    assert count_rows(small_services, Submission) == 0
    assert _blob_folder_entries(small_services) == []
    assert _temp_files() - temp_before == set()
    assert browser.get(f"{small_server.url}/report", timeout=TIMEOUT).url.endswith("/report")


def test_upload_over_request_limit_gets_413_page(
    small_server: LiveServer, small_services: Services
) -> None:
    browser, _ = live_source(small_server.url)
    browser.get(f"{small_server.url}/?lang=fr", timeout=TIMEOUT)
    half = os.urandom(SMALL_LIMITS.max_file_bytes - 1024)

    response = post_form(
        browser,
        _report_url(small_server),
        "/report",
        {"message": "Deux fichiers"},
        [("a.bin", "application/octet-stream", half), ("b.bin", "application/octet-stream", half)],
    )

    assert response.status_code == 413
    assert "au plus 3 Mo" in response.text
    assert '<html lang="fr"' in response.text
    assert _blob_folder_entries(small_services) == []
    logged_in = browser.get(f"{small_server.url}/report", timeout=TIMEOUT)
    assert logged_in.status_code == 200
    assert logged_in.url.endswith("/report")


def test_upload_at_file_limit_accepted_intact(
    small_server: LiveServer, small_services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    browser, _ = live_source(small_server.url)
    content = os.urandom(SMALL_LIMITS.max_file_bytes)

    response = post_form(
        browser,
        _report_url(small_server),
        "/report",
        {"centre": "payoke"},
        [("scan.pdf", "application/pdf", content)],
    )

    assert response.status_code == 302
    [received] = [
        item
        for item in read_as_centre(small_services, centre_keys["payoke"], "payoke")
        if item.kind == "file"
    ]
    assert hashlib.sha256(received.body).digest() == hashlib.sha256(content).digest()
    assert received.meta == {"name": "scan.pdf", "type": "application/pdf"}


def test_upload_non_ascii_and_hostile_names(
    small_server: LiveServer, small_services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    browser, _ = live_source(small_server.url)
    files = [
        ('verslag été 2024 💼 "finaal".pdf', "application/pdf", b"%PDF verslag"),
        ("صورة.jpg", "image/jpeg", b"\xff\xd8 beeld"),
        ("evil\r\nX-Injected: 1.txt", "text/plain", b"tekst"),
    ]

    response = post_form(browser, _report_url(small_server), "/report", {"centre": "surya"}, files)

    assert response.status_code == 302
    received = [
        item
        for item in read_as_centre(small_services, centre_keys["surya"], "surya")
        if item.kind == "file"
    ]
    assert [item.meta["name"] for item in received if item.meta] == [
        'verslag été 2024 💼 "finaal".pdf',
        "صورة.jpg",
        "evilX-Injected: 1.txt",
    ]
    assert [item.body for item in received] == [content for _, _, content in files]


DUTCH = "Wij werken zeven dagen per week en krijgen geen loon. "


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("20,000 Dutch characters", (DUTCH * 400)[:20_000]),
        ("exactly the maximum", ("ë" + "a" * 9) * 5_000),
    ],
)
def test_long_message_accepted_intact(
    live_server: LiveServer,
    services: Services,
    centre_keys: dict[str, PrivateKey],
    label: str,
    text: str,
) -> None:
    assert len(text) <= services.config.limits.max_message_chars
    browser, _ = live_source(live_server.url)

    response = post_form(
        browser, f"{live_server.url}/report", "/report", {"message": text, "centre": "payoke"}
    )

    assert response.status_code == 302, label
    [message] = [
        item
        for item in read_as_centre(services, centre_keys["payoke"], "payoke")
        if item.kind == "message"
    ]
    assert hashlib.sha256(message.body).digest() == hashlib.sha256(text.encode()).digest()


@pytest.mark.parametrize(
    ("label", "text", "status"),
    [
        ("one character over", "a" * 50_001, 200),
        ("520,000 ASCII characters", "a" * 520_000, 413),
        ("300,000 two-byte letters", "é" * 300_000, 413),
    ],
)
def test_long_message_refused_with_maximum(
    live_server: LiveServer, services: Services, label: str, text: str, status: int
) -> None:
    browser, _ = live_source(live_server.url)

    response = post_form(browser, f"{live_server.url}/report", "/report", {"message": text})

    assert response.status_code == status, label
    assert "50,000 characters" in response.text
    assert count_rows(services, Submission) == 0
    assert services.blobs.names() == set()
