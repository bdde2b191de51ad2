"""A session that expires in the middle of a flow ends cleanly: nothing stored, nothing served."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from journalist_app.sessions import Runtime
from lumen.services import Services
from store.models import Note, Reply
from tests.functional.caseworker.support import csrf_token, make_report

FILE = b"file bytes that must not be served " * 100


def _age_session(client: FlaskClient, app: Flask) -> None:
    """Move the session's last activity back past the inactivity limit."""
    lifetime = app.extensions["lumen"].config.caseworker_session_minutes * 60
    with client.session_transaction() as session:
        session["seen"] = int(session["seen"]) - lifetime - 1


def test_expired_session_mid_flow(app: Flask, services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"], files=[("bewijs.pdf", "application/pdf", FILE)])
    page = logged_in.get(f"/cases/{report.source_id}?lang=nl")
    assert page.status_code == 200
    token = csrf_token(page.data)

    _age_session(logged_in, app)

    download = logged_in.get(f"/cases/{report.source_id}/files/{report.file_ids[0]}")
    assert download.status_code == 401
    assert download.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Content-Disposition" not in download.headers
    assert FILE[:40] not in download.data
    assert "Je sessie is verlopen" in download.text
    assert 'href="/login"' in download.text

    reply = logged_in.post(
        f"/cases/{report.source_id}/reply", data={"reply-text": "te laat", "csrf_token": token}
    )
    assert reply.status_code == 401
    assert "Je sessie is verlopen" in reply.text
    note = logged_in.post(
        f"/cases/{report.source_id}/note", data={"note-text": "te laat", "csrf_token": token}
    )
    assert note.status_code in (302, 401)
    assert "Traceback" not in reply.text
    with services.sessions() as session:
        assert session.scalars(select(Reply)).all() == []
        assert session.scalars(select(Note)).all() == []

    runtime: Runtime = app.extensions["lumen_caseworker"]
    assert len(runtime.stash.backend) == 0  # type: ignore[arg-type]
    assert logged_in.get("/").headers["Location"] == "/login"


def test_expired_session_in_french(app: Flask, logged_in: FlaskClient) -> None:
    logged_in.get("/?lang=fr")
    _age_session(logged_in, app)

    response = logged_in.get("/")

    assert response.status_code == 401
    assert "Votre session a expiré" in response.text
    assert '<html lang="fr"' in response.text


def test_activity_keeps_session_alive(app: Flask, logged_in: FlaskClient) -> None:
    lifetime = app.extensions["lumen"].config.caseworker_session_minutes * 60
    with logged_in.session_transaction() as session:
        session["seen"] = int(session["seen"]) - lifetime + 60

    assert logged_in.get("/").status_code == 200
    assert logged_in.get("/").status_code == 200
