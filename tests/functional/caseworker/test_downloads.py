"""File downloads through a real waitress server: names, headers, integrity."""

from __future__ import annotations

import hashlib
import os
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select

from lumen.services import Services
from store.models import AuditEvent, Envelope, Submission
from tests.functional.caseworker.support import (
    Account,
    add_account,
    http_login,
    login,
    make_report,
    serve,
)

NAMES = [
    'verslag été 2024 💼 "finaal".pdf',
    "صورة.jpg",
    "rapport\r\nX-Injected: 1.txt",
]


def _filename_star(header: str) -> str:
    marker = "filename*=UTF-8''"
    assert marker in header
    return unquote(header.split(marker, 1)[1].split(";", 1)[0], encoding="utf-8", errors="strict")


@pytest.mark.security
def test_hostile_and_non_ascii_names_through_waitress(
    app: Flask, services: Services, caseworker: Account
) -> None:
    contents = [os.urandom(70_000 + i) for i in range(len(NAMES))]
    report = make_report(
        services,
        ["payoke"],
        files=[(name, "text/html", content) for name, content in zip(NAMES, contents, strict=True)],
    )

    with serve(app) as base_url:
        browser = http_login(base_url, caseworker)
        for file_id, name, content in zip(report.file_ids, NAMES, contents, strict=True):
            response = browser.get(
                f"{base_url}/cases/{report.source_id}/files/{file_id}", timeout=10
            )

            assert response.status_code == 200
            assert (
                hashlib.sha256(response.content).hexdigest() == hashlib.sha256(content).hexdigest()
            )
            assert response.headers["Content-Type"] == "application/octet-stream"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "X-Injected" not in response.headers
            disposition = response.headers["Content-Disposition"]
            assert disposition.startswith("attachment; ")
            assert "inline" not in disposition
            fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
            assert fallback.isascii()
            assert fallback
            expected = "".join(ch for ch in name if ch not in "\r\n")
            assert _filename_star(disposition) == expected
            assert int(response.headers["Content-Length"]) == len(content)


def test_download_is_audited(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"], files=[("a.txt", "text/plain", b"abc")])

    response = logged_in.get(f"/cases/{report.source_id}/files/{report.file_ids[0]}")

    assert response.data == b"abc"
    with services.sessions() as session:
        assert "case.download" in session.scalars(select(AuditEvent.action)).all()


@pytest.mark.security
def test_tampered_file_serves_no_bytes(services: Services, logged_in: FlaskClient) -> None:
    content = b"A" * 200_000
    report = make_report(services, ["payoke"], files=[("photo.jpg", "image/jpeg", content)])
    with services.sessions() as session:
        submission = session.scalar(select(Submission).where(Submission.id == report.file_ids[0]))
        assert submission is not None
        envelope = session.get(Envelope, submission.body_id)
        assert envelope is not None and envelope.blob_name is not None
        path = services.blobs.path(envelope.blob_name)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01  # inside the last chunk, after two good chunks
    path.write_bytes(bytes(data))

    response = logged_in.get(f"/cases/{report.source_id}/files/{report.file_ids[0]}")

    assert response.status_code == 500
    assert "Content-Disposition" not in response.headers
    assert b"AAAA" not in response.data


def test_other_centre_cannot_download(
    app: Flask, services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    report = make_report(services, ["payoke"], files=[("a.txt", "text/plain", b"secret")])
    outsider = add_account(services, centre_keys, "chloe", "surya")
    client = app.test_client()
    assert login(client, outsider).status_code == 302

    response = client.get(f"/cases/{report.source_id}/files/{report.file_ids[0]}")

    assert response.status_code == 404
    assert b"secret" not in response.data
