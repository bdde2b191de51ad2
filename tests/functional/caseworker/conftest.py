"""Fixtures for the caseworker app: an app per test with CSRF on, accounts, a logged-in client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey

from journalist_app import create_app
from lumen.services import Services
from tests.functional.caseworker.support import Account, add_account, login


@pytest.fixture
def app(services: Services) -> Iterator[Flask]:
    application = create_app(services.config, services)
    assert application.config["WTF_CSRF_ENABLED"]
    yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def caseworker(services: Services, centre_keys: dict[str, PrivateKey]) -> Account:
    """A caseworker of Payoke who holds the centre key."""
    return add_account(services, centre_keys, "anna", "payoke")


@pytest.fixture
def admin(services: Services, centre_keys: dict[str, PrivateKey]) -> Account:
    """An administrator of Payoke who holds the centre key."""
    return add_account(services, centre_keys, "admin-payoke", "payoke", is_admin=True)


@pytest.fixture
def logged_in(client: FlaskClient, caseworker: Account) -> FlaskClient:
    """A client logged in as :func:`caseworker`."""
    response = login(client, caseworker)
    assert response.status_code == 302, response.data[:500]
    return client


@pytest.fixture
def admin_client(app: Flask, admin: Account) -> FlaskClient:
    """A separate client logged in as :func:`admin`."""
    client = app.test_client()
    response = login(client, admin)
    assert response.status_code == 302, response.data[:500]
    return client
