"""Headers, error pages and the Redis-backed session state of the caseworker app."""

from __future__ import annotations

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey

from journalist_app import create_app
from lumen.services import Services
from tests.conftest import REDIS_URL, make_test_config
from tests.functional.caseworker.support import add_account, csrf_token, login, make_report


def test_security_headers_and_no_script(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"], answers={"danger": "yes"})
    for url in ("/login", "/", f"/cases/{report.source_id}", "/account/", "/account/two-factor"):
        response = logged_in.get(url)
        assert response.status_code in (200, 302), url
        csp = response.headers["Content-Security-Policy"]
        assert "script-src" not in csp
        assert "default-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "Server" not in response.headers
        assert "<script" not in response.text
        assert " style=" not in response.text


@pytest.mark.parametrize(
    "language, method, url, status, text",
    [
        ("nl", "get", "/cases/unknown", 404, "Pagina niet gevonden"),
        ("fr", "get", "/no/such/page", 404, "Page introuvable"),
        ("nl", "delete", "/", 405, "Dit kan hier niet"),
        ("fr", "get", "/logout", 405, "Cette action n'est pas possible ici"),
    ],
)
def test_error_pages_translated(
    logged_in: FlaskClient, language: str, method: str, url: str, status: int, text: str
) -> None:
    logged_in.get(f"/?lang={language}")

    response = getattr(logged_in, method)(url)

    assert response.status_code == status
    assert text in response.text.replace("&#39;", "'")
    assert f'<html lang="{language}"' in response.text


def test_oversized_post_gets_translated_413(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"])
    page = logged_in.get(f"/cases/{report.source_id}?lang=nl")

    response = logged_in.post(
        f"/cases/{report.source_id}/reply",
        data={"reply-text": "x" * (2 * 1024 * 1024), "csrf_token": csrf_token(page.data)},
    )

    assert response.status_code == 413
    assert "Wat je verstuurde is te groot" in response.text


def test_too_long_reply_is_refused(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"])
    page = logged_in.get(f"/cases/{report.source_id}")

    logged_in.post(
        f"/cases/{report.source_id}/reply",
        data={"reply-text": "é" * 15_001, "csrf_token": csrf_token(page.data)},
    )

    assert "This text is too long." in logged_in.get(f"/cases/{report.source_id}").text


@pytest.mark.redis
def test_redis_session_state(services: Services, centre_keys: dict[str, PrivateKey]) -> None:
    config = make_test_config(
        services.config.data_dir, database_url=services.config.database_url, redis_url=REDIS_URL
    )
    app: Flask = create_app(config, services)
    account = add_account(services, centre_keys, "rita", "payoke")
    client = app.test_client()
    store = redis.Redis.from_url(REDIS_URL)

    assert login(client, account).status_code == 302
    with client.session_transaction() as session:
        stash_id = session["stash"]
    stored = store.get(f"lumen:caseworker:stash:{stash_id}")
    assert stored is not None
    assert bytes(centre_keys["payoke"]) not in stored
    assert client.get("/").status_code == 200

    # A second app process sharing Redis serves the same session.
    other = create_app(config, services).test_client()
    cookie = client.get_cookie("lumen_caseworker")
    assert cookie is not None
    other.set_cookie("lumen_caseworker", cookie.value)
    assert other.get("/").status_code == 200

    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").data)})
    assert store.get(f"lumen:caseworker:stash:{stash_id}") is None
    assert other.get("/").status_code == 401
