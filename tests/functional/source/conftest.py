"""Fixtures for the source app: the app on a fresh instance and a real waitress server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lumen.services import Services
from lumen.serving import waitress_settings
from source_app import create_app
from tests.live_server import serve_wsgi


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services.config, services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass(frozen=True)
class LiveServer:
    """A waitress server on a free loopback port."""

    url: str
    app: Flask


def serve(app: Flask) -> Iterator[LiveServer]:
    """Run ``app`` under waitress on 127.0.0.1 with the production settings."""
    options = waitress_settings(app.extensions["lumen"].config)
    options.update(threads=4)
    with serve_wsgi(app, **options) as url:
        yield LiveServer(url=url, app=app)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    yield from serve(app)
