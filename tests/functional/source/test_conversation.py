"""Coming back: replies under the centre's name, status, and deletion that removes."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from lumen.services import Services
from store.cases import delete_source
from store.models import CaseState, Envelope, KeySlot, Reply, Source, Submission

from .helpers import (
    count_rows,
    csrf_token,
    log_in,
    make_caseworker,
    only_source_id,
    reply_as_centre,
    reply_delete_paths,
    send_report,
    start_source,
)


def _reported(client: FlaskClient, services: Services, **fields: object) -> str:
    codename = start_source(client)
    response = send_report(client, **fields)
    assert response.status_code == 302
    return codename


def test_conversation_reply_under_centre_name(client: FlaskClient, services: Services) -> None:
    _reported(client, services, message="Hallo", centre="payoke")
    make_caseworker(services, "payoke", "jan.janssens")
    reply_as_centre(services, only_source_id(services), "payoke", "Dag, we helpen je graag.")

    html = client.get("/conversation").get_data(as_text=True)

    assert "From Payoke" in html
    assert "Dag, we helpen je graag." in html
    assert "jan.janssens" not in html


def test_conversation_status_plain_words(client: FlaskClient, services: Services) -> None:
    _reported(client, services, message="Hallo", centre="surya")
    assert "received, not yet opened by a caseworker." in client.get("/conversation").get_data(
        as_text=True
    )
    expected = {
        "in_progress": "a caseworker is working on your report.",
        "referred": "your report was passed on to the right service.",
        "closed": "this report is closed. You can still write if you need help.",
    }

    for status, words in expected.items():
        with services.sessions() as db:
            db.execute(update(CaseState).values(status=status))
            db.commit()
        assert words in client.get("/conversation").get_data(as_text=True), status


def test_conversation_marks_replies_seen(client: FlaskClient, services: Services) -> None:
    _reported(client, services, message="Hallo", centre="payoke")
    make_caseworker(services, "payoke", "an")
    reply_as_centre(services, only_source_id(services), "payoke", "Eerste antwoord")

    first = client.get("/conversation").get_data(as_text=True)
    second = client.get("/conversation").get_data(as_text=True)

    assert '<span class="new">new</span>' in first
    assert '<span class="new">new</span>' not in second
    with services.sessions() as db:
        assert all(reply.seen_by_source for reply in db.scalars(select(Reply)))


def test_conversation_counts_sent_items(client: FlaskClient, services: Services) -> None:
    _reported(client, services, message="Hallo", files=[(b"a", "a.txt"), (b"b", "b.txt")])

    html = client.get("/conversation").get_data(as_text=True)

    assert "You have sent 1 message." in html
    assert "You have sent 2 files." in html


def test_conversation_delete_reply_removes_rows(client: FlaskClient, services: Services) -> None:
    _reported(client, services, message="Hallo", centre="payoke")
    make_caseworker(services, "payoke", "an")
    source_id = only_source_id(services)
    reply_as_centre(services, source_id, "payoke", "Te wissen antwoord")
    envelopes_before = count_rows(services, Envelope)
    page = client.get("/conversation")
    [path] = reply_delete_paths(page)

    response = client.post(path, data={"csrf_token": csrf_token(page)})

    assert response.status_code == 302
    html = client.get("/conversation").get_data(as_text=True)
    assert "Te wissen antwoord" not in html
    assert "deleted from this site, for you and for the centre" in html
    assert count_rows(services, Reply) == 0
    assert count_rows(services, Envelope) == envelopes_before - 1


def test_conversation_delete_foreign_reply_not_found(app: Flask, services: Services) -> None:
    owner = app.test_client()
    _reported(owner, services, message="Eigenaar", centre="payoke")
    make_caseworker(services, "payoke", "an")
    reply_id = reply_as_centre(services, only_source_id(services), "payoke", "Privé")
    other = app.test_client()
    _reported(other, services, message="Iemand anders", centre="payoke")

    page = other.get("/conversation")
    response = other.post(
        f"/conversation/replies/{reply_id}/delete", data={"csrf_token": csrf_token(page)}
    )

    assert response.status_code == 404
    assert count_rows(services, Reply) == 1


def test_conversation_delete_all_removes_everything(app: Flask, services: Services) -> None:
    client = app.test_client()
    codename = _reported(
        client,
        services,
        message="Bericht",
        files=[(b"\xff\xd8 photo bytes " * 100, "foto.jpg")],
        centre="payoke",
    )
    make_caseworker(services, "payoke", "an")
    reply_as_centre(services, only_source_id(services), "payoke", "Antwoord")
    assert len(services.blobs.names()) == 1

    page = client.get("/conversation/delete")
    refused = client.post("/conversation/delete", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 200
    assert "Tick the box to confirm." in refused.get_data(as_text=True)
    assert count_rows(services, Source) == 1

    response = client.post(
        "/conversation/delete", data={"csrf_token": csrf_token(page), "confirm": "y"}
    )

    assert response.status_code == 302
    assert "Your codename no longer works." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert services.blobs.names() == set()
    for model in (Source, Submission, Reply, Envelope, KeySlot, CaseState):
        assert count_rows(services, model) == 0, model.__name__
    assert len(app.extensions["lumen_source_stash"].backend) == 0
    again = log_in(app.test_client(), codename)
    assert "We do not recognise this codename" in again.get_data(as_text=True)


def test_conversation_source_deleted_elsewhere(client: FlaskClient, services: Services) -> None:
    _reported(client, services, message="Hallo")
    with services.sessions() as db:
        delete_source(db, services.blobs, only_source_id(services))

    response = client.get("/conversation")

    assert response.status_code == 302
    assert "no longer on this site" in client.get("/").get_data(as_text=True)


def test_conversation_needs_login(client: FlaskClient) -> None:
    response = client.get("/conversation")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
