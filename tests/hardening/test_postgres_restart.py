"""PostgreSQL stops and starts again under both apps.

The cluster belongs to this test: its own folder and port, never the machine's
shared server. While it is down, requests that need the database must get a page
in the user's language with 503, and nothing may be stored. Once it is back, the
same requests succeed without restarting the apps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import requests
from nacl.public import PrivateKey

from lumen.config import Config
from lumen.services import Services, make_services
from tests.conftest import install_centres
from tests.functional.caseworker.support import add_account, http_login
from tests.hardening.clients import SourceClient
from tests.hardening.conftest import serve
from tests.hardening.processes import PostgresCluster, postgres_cluster
from tests.hardening.support import csrf_token, html_language

LANGUAGE = "fr"


class DatabaseOutageFault(AssertionError):
    """A request during the outage got something other than a translated 503."""


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    with postgres_cluster() as running:
        yield running


@pytest.fixture
def pg_services(
    cluster: PostgresCluster, config: Config, centre_keys: dict[str, PrivateKey]
) -> Iterator[Services]:
    services = make_services(dataclasses.replace(config, database_url=cluster.url))
    install_centres(services, centre_keys)
    yield services
    services.engine.dispose()


def _caseworker_login(
    url: str, services: Services, keys: dict[str, PrivateKey]
) -> requests.Session:
    account = add_account(services, keys, "claire", "surya")
    return http_login(url, account, LANGUAGE)


@pytest.mark.slow
def test_database_restart_fails_cleanly_then_recovers(
    cluster: PostgresCluster, pg_services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    from journalist_app import create_app as create_caseworker_app
    from source_app import create_app as create_source_app

    config = pg_services.config
    with (
        serve(create_source_app(config, pg_services), config) as source_server,
        serve(create_caseworker_app(config, pg_services), config) as caseworker_server,
    ):
        source = SourceClient(source_server.url, language=LANGUAGE)
        source.start()
        assert source.report("avant la panne").status_code in (302, 303)
        caseworker = _caseworker_login(caseworker_server.url, pg_services, centre_keys)
        token = csrf_token(source.get("/conversation").text)

        cluster.stop("fast")
        during = {
            "source conversation": source.get("/conversation"),
            "source follow-up": source.post(
                "/conversation", data={"csrf_token": token, "message": "pendant la panne"}
            ),
            "source login": source.post("/login", data={"csrf_token": token, "codename": "x y"}),
            "caseworker inbox": caseworker.get(f"{caseworker_server.url}/", timeout=30),
        }
        cluster.start()

        after = {
            "source conversation": source.get("/conversation"),
            "caseworker inbox": caseworker.get(f"{caseworker_server.url}/", timeout=30),
        }
        followed = source.post(
            "/conversation", data={"csrf_token": token, "message": "après la panne"}
        )

    for name, response in after.items():
        assert response.status_code == 200, f"{name} after the restart: {response.status_code}"
    assert followed.status_code in (302, 303)
    wrong = {name: r.status_code for name, r in during.items() if r.status_code != 503}
    if wrong:
        raise DatabaseOutageFault(f"during the outage: {wrong}")
    for name, response in during.items():
        assert html_language(response.text) == LANGUAGE, name
        assert "Traceback" not in response.text, name
