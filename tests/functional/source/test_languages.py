"""Language negotiation over the enabled languages, the switch, and fallbacks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey

from lumen.services import make_services
from source_app import create_app
from tests.conftest import install_centres, make_test_config

from .helpers import csrf_token, log_in, send_report, start_source

_HTML_LANG = re.compile(r'<html lang="([a-z]+)" dir="(ltr|rtl)">')


def _lang(html: str) -> str:
    match = _HTML_LANG.search(html)
    assert match, "no <html lang dir>"
    return match.group(1)


@pytest.mark.parametrize(
    ("header", "expected", "title"),
    [
        ("fr-BE,fr;q=0.9", "fr", "Signalez la traite"),
        ("nl-BE", "nl", "Meld mensenhandel"),
        ("de-DE", "de", "Melden Sie Menschenhandel"),
        ("en-US,en;q=0.5", "en", "Report human trafficking"),
    ],
)
def test_language_negotiated(client: FlaskClient, header: str, expected: str, title: str) -> None:
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)

    assert _lang(html) == expected
    assert title in html


# Phrases of each language on the pages the walk below visits.
WALK = {
    "nl": (
        "Je codenaam",
        "We herkennen deze codenaam niet",
        "Schrijf een bericht",
        "niet gevonden",
    ),
    "fr": ("Votre nom de code", "Nous ne reconnaissons pas", "Écrivez un message", "introuvable"),
    "de": ("Ihr Codename", "Wir erkennen diesen", "Schreiben Sie eine Nachricht", "nicht gefunden"),
}


@pytest.mark.parametrize("language", sorted(WALK))
def test_language_switch_persists(app: Flask, language: str) -> None:
    codename_title, wrong, empty, missing = WALK[language]
    client = app.test_client()
    headers = {"Accept-Language": "en-US,en;q=0.5"}

    start = client.get(f"/?lang={language}", headers=headers)
    assert _lang(start.get_data(as_text=True)) == language

    codename_page = client.get("/codename", headers=headers).get_data(as_text=True)
    assert _lang(codename_page) == language
    assert codename_title in codename_page

    wrong_page = log_in(client, "dit is geen codenaam").get_data(as_text=True)
    assert _lang(wrong_page) == language
    assert wrong in wrong_page

    start_source(client)
    empty_page = send_report(client, message=" ").get_data(as_text=True)
    assert _lang(empty_page) == language
    assert empty in empty_page

    not_found = client.get("/nope", headers=headers)
    assert not_found.status_code == 404
    assert missing in not_found.get_data(as_text=True)


def test_language_survives_post_redirect(client: FlaskClient) -> None:
    client.get("/?lang=nl")
    start_source(client)
    send_report(client, message="Hallo")
    page = client.get("/conversation")

    response = client.post(
        "/conversation", data={"csrf_token": csrf_token(page), "message": "Nog iets"}
    )
    html = client.get(response.headers["Location"]).get_data(as_text=True)

    assert _lang(html) == "nl"
    assert "Dank je. Je bericht is verstuurd." in html


def test_language_bogus_values_fall_back(client: FlaskClient) -> None:
    response = client.get("/?lang=zz")
    assert response.status_code == 200
    assert _lang(response.get_data(as_text=True)) == "en"

    with client.session_transaction() as session:
        session["lang"] = "xx-evil"
    response = client.get("/")
    assert response.status_code == 200
    assert _lang(response.get_data(as_text=True)) == "en"


def test_language_disabled_falls_back(tmp_path: Path, centre_keys: dict[str, PrivateKey]) -> None:
    config = make_test_config(
        tmp_path / "data", source_languages=("nl", "fr", "en"), default_language="nl"
    )
    services = make_services(config)
    install_centres(services, centre_keys)
    client = create_app(config, services).test_client()

    switched = client.get("/?lang=de")
    negotiated = client.get("/", headers={"Accept-Language": "de-DE"})

    assert switched.status_code == 200
    assert _lang(switched.get_data(as_text=True)) == "nl"
    assert _lang(negotiated.get_data(as_text=True)) == "nl"
    assert "Deutsch" not in negotiated.get_data(as_text=True)
    services.engine.dispose()


@pytest.mark.parametrize("language", ["nl", "fr", "de"])
def test_language_pages_hold_no_english_leftovers(client: FlaskClient, language: str) -> None:
    client.get(f"/?lang={language}")
    for path in ("/", "/info", "/codename", "/login"):
        html = client.get(path).get_data(as_text=True)
        for english in ("Quick exit", "Make a report", "Information and help", "Log out"):
            assert english not in html, (path, english)


@pytest.mark.parametrize(
    ("language", "number"), [("en", "50,000"), ("fr", "50\u202f000"), ("nl", "50.000")]
)
def test_language_formats_limits(client: FlaskClient, language: str, number: str) -> None:
    start_source(client)

    html = client.get(f"/report?lang={language}").get_data(as_text=True)

    assert number in html
