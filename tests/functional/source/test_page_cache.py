"""The start and information pages are reused for anonymous visitors, and only for them."""

from __future__ import annotations

from flask import Flask

from tests.functional.source.helpers import send_report, start_source


def test_anonymous_pages_per_language(app: Flask) -> None:
    english = app.test_client().get("/?lang=en").text
    dutch = app.test_client().get("/?lang=nl").text
    english_again = app.test_client().get("/", headers={"Accept-Language": "en"}).text

    assert '<html lang="en"' in english
    assert '<html lang="nl"' in dutch
    assert english_again == english


def test_logged_in_page_not_reused(app: Flask) -> None:
    anonymous = app.test_client().get("/").text
    client = app.test_client()
    start_source(client)

    page = client.get("/").text

    assert "csrf_token" not in anonymous
    assert 'name="csrf_token"' in page
    assert page != anonymous


def test_danger_page_not_reused(app: Flask) -> None:
    app.test_client().get("/")
    app.test_client().get("/info")
    client = app.test_client()
    start_source(client)
    send_report(client, message="Ik ben bang", danger="yes")

    for path in ("/", "/info"):
        body = client.get(path).text
        body = body[body.index("<body>") :]
        assert body.index('class="emergency"') < body.index("<main>"), path


def test_visitor_pages_cached(app: Flask) -> None:
    app.test_client().get("/?lang=fr")
    app.test_client().get("/info?lang=fr")

    cached = app.extensions["lumen_page_cache"].pages

    assert {key[:3] for key in cached} == {("index.html", "fr", "/"), ("info.html", "fr", "/info")}


def test_first_visit_sets_no_cookie(app: Flask) -> None:
    response = app.test_client().get("/")

    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
