"""No response, log record, cookie or database file ever holds an unwrapped centre key."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select
from werkzeug.test import TestResponse

from lumen.services import Services
from store.models import Envelope, Submission
from tests.functional.caseworker.support import (
    Account,
    add_account,
    csrf_token,
    login,
    make_report,
)


def _encodings(key: PrivateKey) -> Iterator[bytes]:
    raw = bytes(key)
    yield raw
    yield raw.hex().encode()
    yield raw.hex().upper().encode()
    for encode in (base64.b64encode, base64.urlsafe_b64encode, base64.b32encode):
        encoded = encode(raw)
        yield encoded
        yield encoded.rstrip(b"=")


def _response_bytes(response: TestResponse) -> bytes:
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    return headers.encode("utf-8") + b"\n" + response.get_data()


@pytest.mark.security
def test_no_response_or_log_holds_a_centre_key(
    app: Flask,
    services: Services,
    centre_keys: dict[str, PrivateKey],
    caseworker: Account,
    admin: Account,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[bytes] = []

    def keep(response: TestResponse) -> TestResponse:
        seen.append(_response_bytes(response))
        return response

    report = make_report(
        services,
        ["payoke"],
        answers={"in_danger": True},
        files=[("scan.pdf", "application/pdf", b"%PDF-1.4 scan")],
    )
    client: FlaskClient = app.test_client()
    keep(login(client, caseworker, passphrase="wrong passphrase here", code="000000"))
    keep(login(client, caseworker))
    keep(client.get("/"))
    page = keep(client.get(f"/cases/{report.source_id}"))
    token = csrf_token(page.data)
    keep(
        client.post(
            f"/cases/{report.source_id}/reply", data={"reply-text": "ok", "csrf_token": token}
        )
    )
    keep(
        client.post(f"/cases/{report.source_id}/note", data={"note-text": "n", "csrf_token": token})
    )
    keep(client.get(f"/cases/{report.source_id}/files/{report.file_ids[0]}"))
    keep(client.post(f"/cases/{report.source_id}/export", data={"csrf_token": token}))
    keep(
        client.post(
            f"/cases/{report.source_id}/forward", data={"centre": "pagasa", "csrf_token": token}
        )
    )
    keep(client.get("/account/two-factor"))
    keep(client.get("/cases/unknown"))
    keep(client.post("/logout", data={"csrf_token": token}))

    admin_client = app.test_client()
    keep(login(admin_client, admin))
    admin_page = keep(admin_client.get("/admin/accounts"))
    keep(
        admin_client.post(
            "/admin/accounts/invite",
            data={"username": "dora", "csrf_token": csrf_token(admin_page.data)},
        )
    )
    keep(
        admin_client.post(
            f"/admin/accounts/{caseworker.id}/passphrase",
            data={"csrf_token": csrf_token(admin_page.data)},
        )
    )
    keep(admin_client.get("/admin/audit"))
    pagasa = add_account(services, centre_keys, "bruno", "pagasa")
    pagasa_client = app.test_client()
    keep(login(pagasa_client, pagasa))
    keep(pagasa_client.get(f"/cases/{report.source_id}"))

    assert len(seen) >= 18
    assert all(b"Traceback" not in body for body in seen)
    log_text = "\n".join(
        f"{record.getMessage()} {record.__dict__}" for record in caplog.records
    ).encode("utf-8", errors="replace")
    database = services.config.database_url.removeprefix("sqlite:///")
    stored = b"".join(
        path.read_bytes()
        for path in services.config.data_dir.rglob("*")
        if path.is_file() and (path.name.startswith("lumen.sqlite") or path.parent.name == "blobs")
    )
    assert database.endswith("lumen.sqlite")
    for centre_id, key in centre_keys.items():
        for encoded in _encodings(key):
            assert all(encoded not in body for body in seen), centre_id
            assert encoded not in log_text, centre_id
            assert encoded not in stored, centre_id


@pytest.mark.security
def test_failed_download_logs_no_ids(
    services: Services, logged_in: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    report = make_report(services, ["payoke"], files=[("a.txt", "text/plain", b"abc")])
    with services.sessions() as session:
        submission = session.scalar(select(Submission).where(Submission.id == report.file_ids[0]))
        assert submission is not None
        envelope = session.get(Envelope, submission.body_id)
        assert envelope is not None and envelope.blob_name is not None
        services.blobs.path(envelope.blob_name).unlink()
    caplog.set_level(logging.DEBUG)

    response = logged_in.get(f"/cases/{report.source_id}/files/{report.file_ids[0]}")

    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "Content-Disposition" not in response.headers
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert report.source_id not in logged
    assert report.file_ids[0] not in logged


@pytest.mark.security
def test_unhandled_error_logs_neither_path_nor_message(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(case_id: str) -> str:
        raise ValueError(f"database said no about {case_id}")

    app.add_url_rule("/broken/<case_id>", view_func=broken)
    caplog.set_level(logging.DEBUG)

    response = app.test_client().get("/broken/SourceId123?lang=nl")

    assert response.status_code == 500
    assert "Er ging iets mis" in response.text
    assert "SourceId123" not in response.text
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "ValueError" in logged
    assert "SourceId123" not in logged
