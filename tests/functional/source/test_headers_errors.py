"""Every route's response headers, and every error as a translated page."""

from __future__ import annotations

import logging

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient

from lumen.config import Config
from lumen.services import Services
from source_app import create_app

from .helpers import csrf_token, make_caseworker, only_source_id, reply_as_centre, send_report
from .helpers import start_source as start

ONION = "lumenabcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstu.onion"

# Every route of the source app, with the method and whether it needs a login.
ROUTES = [
    ("GET", "/", False),
    ("GET", "/info", False),
    ("GET", "/static/style.css", False),
    ("GET", "/codename", False),
    ("POST", "/codename", False),
    ("GET", "/login", False),
    ("POST", "/login", False),
    ("POST", "/logout", True),
    ("GET", "/logged-out", False),
    ("GET", "/report", True),
    ("POST", "/report", True),
    ("GET", "/report/sent", True),
    ("GET", "/conversation", True),
    ("POST", "/conversation", True),
    ("POST", "/conversation/replies/{reply}/delete", True),
    ("GET", "/conversation/delete", True),
    ("POST", "/conversation/delete", True),
    ("GET", "/deleted", False),
    ("GET", "/no-such-page", False),
]


@pytest.fixture
def onion_app(services: Services) -> Flask:
    config = Config(**{**services.config.__dict__, "onion_address": ONION})
    return create_app(config, services)


def test_routes_list_is_complete(app: Flask) -> None:
    listed = {(method, path.replace("{reply}", "<reply_id>")) for method, path, _ in ROUTES}
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, rule.rule) in listed, (method, rule.rule)


@pytest.mark.parametrize(("method", "path", "login"), ROUTES, ids=lambda v: str(v))
def test_route_security_headers(
    onion_app: Flask, services: Services, method: str, path: str, login: bool
) -> None:
    client = onion_app.test_client()
    if login:
        start(client)
        send_report(client, message="Hallo")
        make_caseworker(services, "payoke", "an")
        reply_id = reply_as_centre(services, only_source_id(services), "payoke", "Antwoord")
        path = path.replace("{reply}", reply_id)
        token = csrf_token(client.get("/conversation"))
    else:
        token = csrf_token(client.get("/login"))

    response = client.open(path, method=method, data={"csrf_token": token})

    headers = response.headers
    assert response.status_code < 500
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp
    assert "style-src 'self'" in csp
    assert "form-action 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "base-uri 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "noindex" in headers["X-Robots-Tag"]
    assert headers["Onion-Location"].startswith(f"http://{ONION}/")
    assert "Server" not in headers
    assert "ETag" not in headers
    assert "Last-Modified" not in headers
    if response.mimetype == "text/html":
        assert headers["Content-Type"] == "text/html; charset=utf-8"


def test_pages_light_with_stylesheet(client: FlaskClient, services: Services) -> None:
    css = client.get("/static/style.css").get_data()
    start(client)
    report_page = client.get("/report").get_data()
    send_report(client, message="Hallo", danger="yes")
    make_caseworker(services, "payoke", "an")
    reply_as_centre(services, only_source_id(services), "payoke", "Antwoord " * 200)
    assert len(report_page) + len(css) < 30 * 1024
    pages = ["/", "/info", "/conversation", "/conversation/delete", "/login", "/logged-out"]

    for path in pages:
        html = client.get(path).get_data()
        assert len(html) + len(css) < 30 * 1024, path
        assert b"<script" not in html
        assert b"@font-face" not in css
        assert b'rel="stylesheet"' in html
    assert b"http" not in css


def test_quick_exit_first_link(client: FlaskClient) -> None:
    for path in ("/", "/info", "/codename", "/login", "/no-such-page"):
        html = client.get(path).get_data(as_text=True)
        body = html[html.index("<body>") :]
        first_link = body[body.index("<a ") : body.index(">", body.index("<a ")) + 1]
        assert 'class="quick-exit"' in first_link, path
        assert 'rel="noreferrer"' in first_link
        assert 'href="https://www.wikipedia.org/"' in first_link


def test_info_page_content(client: FlaskClient, config: Config) -> None:
    html = client.get("/info").get_data(as_text=True)

    for fact in ("112", "101", "116 000", "Reflection period", "Victim status", "Tor Browser"):
        assert fact in html, fact
    for centre in config.centres:
        assert centre.name in html
        assert centre.phone in html


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    def fail() -> str:
        raise RuntimeError("secret report text /srv/lumen/internal")

    def status(code: int) -> str:
        abort(code)

    app.add_url_rule("/test-fail", view_func=fail)
    app.add_url_rule("/test-status/<int:code>", view_func=status)
    return app


ERROR_PAGES = [
    (400, "This request could not be understood"),
    (403, "Access denied"),
    (404, "Page not found"),
    (429, "Too many attempts"),
]


@pytest.mark.parametrize(("code", "title"), ERROR_PAGES)
def test_error_page_translated(failing_app: Flask, code: int, title: str) -> None:
    client = failing_app.test_client()

    english = client.get(f"/test-status/{code}")
    dutch = client.get(f"/test-status/{code}?lang=nl")

    assert english.status_code == code
    assert title in english.get_data(as_text=True)
    assert title not in dutch.get_data(as_text=True)
    assert 'class="button" href="/"' in dutch.get_data(as_text=True)


def test_error_500_no_trace(failing_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    response = failing_app.test_client().get("/test-fail")

    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert "Traceback" not in html
    assert "secret report text" not in html
    assert "/srv/lumen" not in html
    assert "secret report text" not in caplog.text
    assert "/test-fail" not in caplog.text
    assert any(
        record.getMessage() == "unhandled error in the source app" for record in caplog.records
    )


def test_error_405_page(client: FlaskClient) -> None:
    response = client.get("/logout")

    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "This page cannot be used this way" in response.get_data(as_text=True)


def test_error_busy_derivation(app: Flask, services: Services) -> None:
    client = app.test_client()
    page = client.get("/login?lang=fr")
    deriver = services.deriver
    deriver._timeout = 0.01
    held_slots = []
    while deriver._slots.acquire(blocking=False):
        held_slots.append(1)
    try:
        response = client.post(
            "/login", data={"csrf_token": csrf_token(page), "codename": "een twee drie"}
        )
    finally:
        for _ in held_slots:
            deriver._slots.release()

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Le site est très sollicité" in response.get_data(as_text=True)
