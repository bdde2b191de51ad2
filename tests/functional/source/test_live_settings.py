"""Settings an administrator stores in the database reach the source site."""

from __future__ import annotations

import dataclasses

from flask import Flask
from flask.testing import FlaskClient

from lumen.services import Services
from source_app import create_app
from store.settings import defaults, load_settings, save_settings
from tests.functional.source.helpers import start_source


def _store(services: Services, **changes: object) -> None:
    with services.sessions() as session:
        current = load_settings(session, services.config)
        save_settings(session, services.config, dataclasses.replace(current, **changes))
        session.commit()


def _fresh_app(services: Services) -> Flask:
    # A new app starts with an empty settings cache, so it reads the rows at once.
    return create_app(services.config, services)


def test_stored_quick_exit_url_used(services: Services) -> None:
    _store(services, quick_exit_url="https://weather.example/")

    page = _fresh_app(services).test_client().get("/")

    assert 'href="https://weather.example/"' in page.text


def test_stored_onion_address_sent(services: Services) -> None:
    onion = "a" * 56 + ".onion"
    _store(services, onion_address=onion)

    page = _fresh_app(services).test_client().get("/info")

    assert page.headers["Onion-Location"] == f"http://{onion}/info"


def test_disabled_language_falls_back(services: Services) -> None:
    _store(services, source_languages=("nl", "fr"))
    client: FlaskClient = _fresh_app(services).test_client()

    german = client.get("/?lang=de", headers={"Accept-Language": "de-DE"})
    english = client.get("/", headers={"Accept-Language": "en-US,en;q=0.5"})

    assert german.status_code == 200
    assert '<html lang="de"' not in german.text
    assert '<html lang="en"' not in english.text
    assert 'hreflang="de"' not in german.text


def test_stored_file_limit_on_form(services: Services) -> None:
    assert defaults(services.config).max_file_mb != 7
    _store(services, max_file_mb=7, max_files=3)
    client = _fresh_app(services).test_client()
    start_source(client)

    form = client.get("/report?lang=en")

    assert "You can attach up to 3 files." in form.text
    assert "Each file can be at most 7 MB" in form.text
