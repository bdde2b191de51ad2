"""Deleting and exporting cases: rows and blobs gone, export content complete."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from flask.testing import FlaskClient
from sqlalchemy import func, select

from crypto import derive_source_keys
from lumen.services import Services
from store.cases import find_source
from store.models import (
    AuditEvent,
    CaseState,
    Envelope,
    KeySlot,
    Note,
    Reply,
    Source,
    Submission,
)
from tests.functional.caseworker.support import csrf_token, make_report

PHOTO = bytes(range(256)) * 400


def _confirm(client: FlaskClient, url: str) -> object:
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, data={"csrf_token": csrf_token(page.data)})


def _count(services: Services, model: type, **where: object) -> int:
    with services.sessions() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.scalar(query) or 0)


def test_delete_file_removes_blob_and_rows(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"], files=[("foto.jpg", "image/jpeg", PHOTO)])
    blobs_before = services.blobs.names()
    assert len(blobs_before) == 1
    envelopes_before = _count(services, Envelope)

    response = _confirm(logged_in, f"/cases/{report.source_id}/items/{report.file_ids[0]}/delete")

    assert response.status_code == 302  # type: ignore[attr-defined]
    assert services.blobs.names() == set()
    assert _count(services, Submission, id=report.file_ids[0]) == 0
    assert _count(services, Envelope) == envelopes_before - 2  # the body and the name
    page = logged_in.get(f"/cases/{report.source_id}").text
    assert "foto.jpg" not in page
    assert "The item was deleted from the database and the disk." in page


def test_delete_message_keeps_the_rest(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(
        services, ["payoke"], message="weg ermee", files=[("a.txt", "text/plain", b"x")]
    )

    _confirm(logged_in, f"/cases/{report.source_id}/items/{report.message_ids[0]}/delete")

    assert _count(services, Submission, source_id=report.source_id) == 1
    assert "weg ermee" not in logged_in.get(f"/cases/{report.source_id}").text


def test_delete_whole_case(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(
        services,
        ["payoke", "pagasa"],
        answers={"in_danger": False},
        files=[("a.pdf", "application/pdf", PHOTO)],
    )
    page = logged_in.get(f"/cases/{report.source_id}")
    logged_in.post(
        f"/cases/{report.source_id}/note",
        data={"note-text": "interne notitie", "csrf_token": csrf_token(page.data)},
    )
    page = logged_in.get(f"/cases/{report.source_id}")
    logged_in.post(
        f"/cases/{report.source_id}/reply",
        data={"reply-text": "antwoord", "csrf_token": csrf_token(page.data)},
    )

    response = _confirm(logged_in, f"/cases/{report.source_id}/delete")

    assert response.status_code == 302  # type: ignore[attr-defined]
    assert services.blobs.names() == set()
    for model in (Source, Submission, Reply, Note, CaseState, Envelope, KeySlot):
        assert _count(services, model) == 0, model.__name__
    keys = derive_source_keys(
        report.codename, services.config.secrets.codename_salt, services.config.source_kdf
    )
    with services.sessions() as session:
        assert find_source(session, keys.lookup_id) is None
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "case.delete" in actions
    assert logged_in.get(f"/cases/{report.source_id}").status_code == 404


def test_delete_needs_confirmation_with_csrf(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"])

    without_token = logged_in.post(f"/cases/{report.source_id}/delete")

    assert without_token.status_code == 400
    assert _count(services, Source) == 1


def test_export_contains_decrypted_case(services: Services, logged_in: FlaskClient) -> None:
    answers = {"in_danger": True, "exploitation": ["sexual"], "city": "Liège"}
    report = make_report(
        services,
        ["payoke"],
        message="Ça fait 3 mois. 😟",
        answers=answers,
        files=[
            ("verslag été.pdf", "application/pdf", PHOTO),
            ("../../etc/passwd", "text/plain", b"root"),
        ],
    )
    warning = logged_in.get(f"/cases/{report.source_id}/export")
    assert "plain, unencrypted form" in warning.text

    response = logged_in.post(
        f"/cases/{report.source_id}/export", data={"csrf_token": csrf_token(warning.data)}
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment; ")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    names = archive.namelist()
    assert "summary.txt" in names
    assert "conversation.txt" in names
    assert json.loads(archive.read("answers.json")) == answers
    assert "Ça fait 3 mois. 😟" in archive.read("conversation.txt").decode("utf-8")
    assert archive.read("files/01-verslag été.pdf") == PHOTO
    [second] = [name for name in names if name.startswith("files/02-")]
    assert "/" not in second.removeprefix("files/")
    assert archive.read(second) == b"root"
    assert all(not name.startswith("/") and "/../" not in f"/{name}" for name in names)
    summary = archive.read("summary.txt").decode("utf-8")
    assert "not encrypted" in summary
    assert hashlib.sha256(PHOTO).hexdigest() in summary
    with services.sessions() as session:
        assert "case.export" in session.scalars(select(AuditEvent.action)).all()


def test_export_without_confirmation_sends_nothing(
    services: Services, logged_in: FlaskClient
) -> None:
    report = make_report(services, ["payoke"], files=[("a.txt", "text/plain", b"secret data")])

    response = logged_in.post(f"/cases/{report.source_id}/export")

    assert response.status_code == 400
    assert b"secret data" not in response.data
