"""Session and CSRF lifetimes: expiry and stale forms end in a page that keeps the text."""

from __future__ import annotations

import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from nacl.public import PrivateKey

from lumen.services import Services, make_services
from source_app import create_app
from store.models import Source, Submission
from tests.conftest import install_centres, make_test_config

from .helpers import count_rows, csrf_token, log_in, page_codename, send_report, start_source

# Flask checks a session cookie's age in whole seconds, so 0.02 minutes (1.2 s)
# becomes a one-second session that a 2.2-second wait outlives.
SHORT_SESSION_MINUTES = 0.02
WAIT_PAST_SESSION = 2.2


@pytest.fixture
def short_services(tmp_path: Path, centre_keys: dict[str, PrivateKey]) -> Iterator[Services]:
    config = make_test_config(tmp_path / "short", source_session_minutes=SHORT_SESSION_MINUTES)
    instance = make_services(config)
    install_centres(instance, centre_keys)
    yield instance
    instance.engine.dispose()


@pytest.fixture
def short_client(short_services: Services) -> FlaskClient:
    return create_app(short_services.config, short_services).test_client()


def test_session_expired_on_codename_page(
    short_client: FlaskClient, short_services: Services
) -> None:
    page = short_client.get("/codename")
    page_codename(page)
    time.sleep(WAIT_PAST_SESSION)

    response = short_client.post("/codename", data={"csrf_token": csrf_token(page)})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "never saved and will not work" in html
    assert 'href="/codename"' in html
    assert 'href="/login"' in html
    assert "Traceback" not in html
    assert count_rows(short_services, Source) == 0


def test_session_expired_keeps_typed_message(
    short_client: FlaskClient, short_services: Services
) -> None:
    start_source(short_client)
    page = short_client.get("/report")
    message = "Ze nemen ons loon af. <b>Niet vet</b>"
    time.sleep(WAIT_PAST_SESSION)

    response = short_client.post(
        "/report",
        data={
            "csrf_token": csrf_token(page),
            "message": message,
            "files": (BytesIO(b"photo bytes " * 1000), "foto.jpg"),
        },
        content_type="multipart/form-data",
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your session has ended" in html
    assert "Ze nemen ons loon af. &lt;b&gt;Niet vet&lt;/b&gt;</textarea>" in html
    assert 'href="/login"' in html
    assert count_rows(short_services, Submission) == 0
    assert short_services.blobs.names() == set()
    assert list(short_services.blobs.folder.iterdir()) == []


def test_session_expired_get_goes_to_login(short_client: FlaskClient) -> None:
    start_source(short_client)
    time.sleep(WAIT_PAST_SESSION)

    response = short_client.get("/conversation")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")


def test_csrf_token_rotated_form_again_with_text(
    app: Flask, client: FlaskClient, services: Services
) -> None:
    codename = start_source(client)
    stale_page = client.get("/report")
    # The same browser logs out and back in from another tab, which starts a new
    # session with a new CSRF token while this form stays open.
    client.post("/logout", data={"csrf_token": csrf_token(stale_page)})
    log_in(client, codename)
    message = "Lange tekst. " * 230

    response = client.post(
        "/report",
        data={"csrf_token": csrf_token(stale_page), "message": message},
        content_type="multipart/form-data",
    )

    html = response.get_data(as_text=True)
    assert len(message) >= 2990
    assert response.status_code == 400
    assert "nothing was sent" in html
    assert message.strip() in html
    assert count_rows(services, Submission) == 0

    retry = send_report(client, message=message)
    assert retry.status_code == 302
    assert count_rows(services, Submission) == 2


@pytest.mark.parametrize("token", ["changed", "missing"])
def test_csrf_bad_token_nothing_stored(client: FlaskClient, services: Services, token: str) -> None:
    start_source(client)
    page = client.get("/report")
    good = csrf_token(page)
    data = {"message": "x" * 3000}
    if token == "changed":
        # Not the last character: its low bits are base64 padding, so changing it may
        # leave the decoded signature as it was.
        data["csrf_token"] = good[:-5] + ("A" if good[-5] != "A" else "B") + good[-4:]

    response = client.post("/report", data=data, content_type="multipart/form-data")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "x" * 3000 in html
    assert "Your text is still here" in html
    assert count_rows(services, Submission) == 0
    assert send_report(client, message="Opnieuw").status_code == 302


def test_csrf_old_token_valid_while_session_lives(
    app: Flask, client: FlaskClient, services: Services
) -> None:
    start_source(client)
    client.get("/report")
    with client.session_transaction() as session:
        raw = session["csrf_token"]

    class TwoHoursAgo(URLSafeTimedSerializer):
        def get_timestamp(self) -> int:
            return int(time.time()) - 7200

    old_token = TwoHoursAgo(app.secret_key, salt="wtf-csrf-token").dumps(raw)
    response = client.post(
        "/report",
        data={"csrf_token": old_token, "message": "Nog geldig"},
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    assert count_rows(services, Submission) == 2


def test_csrf_https_post_without_referer(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/codename", base_url="https://lumen.example")

    response = client.post(
        "/codename", data={"csrf_token": csrf_token(page)}, base_url="https://lumen.example"
    )

    assert response.status_code == 302


def test_session_cookie_flags(app: Flask) -> None:
    plain = app.test_client().get("/codename")
    secure = app.test_client().get("/codename", base_url="https://lumen.example")

    plain_cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in plain_cookie
    assert "SameSite=Strict" in plain_cookie
    assert "Secure" not in plain_cookie
    assert "Secure" in secure.headers["Set-Cookie"]
