"""The reply key stash in Redis when Redis is configured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient
from nacl.public import PrivateKey

from lumen.services import Services, make_services
from source_app import create_app
from tests.conftest import REDIS_URL, install_centres, make_test_config

from .helpers import csrf_token, start_source

PREFIX = "lumen:source-stash:"


@pytest.fixture
def redis_services(tmp_path: Path, centre_keys: dict[str, PrivateKey]) -> Iterator[Services]:
    config = make_test_config(tmp_path / "data", redis_url=REDIS_URL)
    instance = make_services(config)
    install_centres(instance, centre_keys)
    yield instance
    instance.engine.dispose()


@pytest.mark.redis
def test_stash_in_redis_sealed_and_removed(redis_services: Services) -> None:
    connection = redis.Redis.from_url(REDIS_URL)
    before = set(connection.scan_iter(f"{PREFIX}*"))
    client: FlaskClient = create_app(redis_services.config, redis_services).test_client()

    start_source(client)

    with client.session_transaction() as session:
        stash_id, _ = session["ticket"]
    key = f"{PREFIX}{stash_id}".encode()
    assert key in set(connection.scan_iter(f"{PREFIX}*")) - before
    assert 0 < connection.ttl(key) <= redis_services.config.source_session_minutes * 60
    assert client.get("/report").status_code == 200

    client.post("/logout", data={"csrf_token": csrf_token(client.get("/report"))})

    assert connection.exists(key) == 0
    assert client.get("/report").status_code == 302
    connection.close()


def test_stash_lost_means_log_in_again(client: FlaskClient, app: object) -> None:
    start_source(client)
    stash = client.application.extensions["lumen_source_stash"]
    with client.session_transaction() as session:
        stash.backend.delete(session["ticket"][0])

    page = client.get("/report")

    assert page.status_code == 302
    assert page.headers["Location"].endswith("/login")
    login_page = client.get("/login").get_data(as_text=True)
    assert "Your session has ended. Enter your codename to continue." in login_page
