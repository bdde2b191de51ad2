"""A report made through the source app, read and answered here, read back by the source."""

from __future__ import annotations

from html import unescape

from flask.testing import FlaskClient
from sqlalchemy import select

from lumen.services import Services
from source_app import create_app as create_source_app
from store.models import Source
from tests.functional.caseworker.support import csrf_token
from tests.functional.source.helpers import log_in, send_report, start_source

MESSAGE = "Ik werk in de keuken van een café in Luik. De chef houdt onze paspoorten."
REPLY = "Merci pour votre message. Wij nemen contact op. ✅"


def test_report_reply_and_read_back(services: Services, logged_in: FlaskClient) -> None:
    source_app = create_source_app(services.config, services)
    source = source_app.test_client()
    codename = start_source(source)
    response = send_report(
        source,
        message=MESSAGE,
        centre="payoke",
        kinds=["labour"],
        danger="yes",
        who="victim",
    )
    assert response.status_code == 302, response.status_code
    with services.sessions() as session:
        [source_id] = session.scalars(select(Source.id)).all()

    inbox = logged_in.get("/").text
    assert source_id in inbox
    assert "In danger" in inbox
    assert "Labour" in inbox
    page = logged_in.get(f"/cases/{source_id}")
    assert MESSAGE in unescape(page.text)
    assert "It happened to them" in page.text
    sent = logged_in.post(
        f"/cases/{source_id}/reply",
        data={"reply-text": REPLY, "csrf_token": csrf_token(page.data)},
    )
    assert sent.status_code == 302

    returning = create_source_app(services.config, services).test_client()
    assert log_in(returning, codename).status_code == 302
    conversation = returning.get("/conversation")
    assert conversation.status_code == 200
    assert REPLY in unescape(conversation.text)
    assert "Payoke" in conversation.text
