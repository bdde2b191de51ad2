"""Fixtures for the source app: the app on a fresh instance and a real waitress server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from waitress import wasyncore

from lumen.services import Services
from lumen.serving import create_server, waitress_settings
from source_app import create_app


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
    """Run ``app`` under waitress on 127.0.0.1 with the source app's settings."""
    options = waitress_settings(app.extensions["lumen"].config)
    options.update(host="127.0.0.1", port=0, threads=4)
    server = create_server(app, **options)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):
            # Closing the sockets below can interrupt the poll in progress.
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.effective_port}", app=app)
    finally:
        stopping.set()
        server.task_dispatcher.shutdown()
        # Closing every channel, the trigger and the listener empties the map,
        # which ends the server's loop.
        wasyncore.close_all(server._map)
        thread.join(timeout=5)
        assert not thread.is_alive(), "the waitress thread did not stop"


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    yield from serve(app)
