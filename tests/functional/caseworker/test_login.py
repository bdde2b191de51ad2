"""Login through the form with CSRF on: codes, failures, throttling, lock-out, sessions."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select

from journalist_app import create_app
from journalist_app.login import ACCOUNT_ATTEMPTS_FACTOR
from journalist_app.sessions import Runtime
from lumen.keystash import MemoryStashBackend
from lumen.services import Services
from store.models import AuditEvent, Caseworker
from tests.conftest import make_test_config
from tests.functional.caseworker.support import Account, add_account, csrf_token, login, post_form

FAILED = "Login failed. Check your username, passphrase and code."


def _stash(app: Flask) -> MemoryStashBackend:
    runtime: Runtime = app.extensions["lumen_caseworker"]
    backend = runtime.stash.backend
    assert isinstance(backend, MemoryStashBackend)
    return backend


def _without_token(page: bytes) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', page.decode("utf-8"))


def _account_row(services: Services, account: Account) -> Caseworker:
    with services.sessions() as session:
        row = session.get(Caseworker, account.id)
        assert row is not None
        return row


def test_login_success_opens_inbox(app: Flask, client: FlaskClient, caseworker: Account) -> None:
    response = login(client, caseworker)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert len(_stash(app)) == 1


def test_login_page_without_session_redirects(client: FlaskClient) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_wrong_code_fails(client: FlaskClient, caseworker: Account) -> None:
    wrong = "000000" if caseworker.code() != "000000" else "111111"

    response = login(client, caseworker, code=wrong)

    assert response.status_code == 200
    assert FAILED in response.text
    assert client.get("/").status_code == 302


def test_reused_code_is_rejected(app: Flask, caseworker: Account) -> None:
    code = caseworker.code()
    first = app.test_client()
    assert login(first, caseworker, code=code).status_code == 302

    second = app.test_client()
    response = login(second, caseworker, code=code)

    assert response.status_code == 200
    assert FAILED in response.text


def test_wrong_passphrase_fails(client: FlaskClient, caseworker: Account) -> None:
    response = login(client, caseworker, passphrase="not the passphrase at all", code="000000")

    assert FAILED in response.text
    assert client.get("/").status_code == 302


def test_unknown_user_gets_same_answer(app: Flask, services: Services, caseworker: Account) -> None:
    known = login(app.test_client(), caseworker, passphrase="wrong passphrase here", code="000000")
    unknown = login(
        app.test_client(),
        caseworker,
        username="nobody-here",
        passphrase="wrong passphrase here",
        code="000000",
    )

    assert known.status_code == unknown.status_code == 200
    assert _without_token(known.data).replace("anna", "X") == _without_token(unknown.data).replace(
        "nobody-here", "X"
    )


def test_lockout_after_failures_until_unlock(
    services: Services,
    centre_keys: dict[str, PrivateKey],
    caseworker: Account,
    admin: Account,
) -> None:
    config = make_test_config(
        services.config.data_dir, database_url=services.config.database_url, login_max_failures=3
    )
    app = create_app(config, services)
    for _ in range(3):
        assert (
            FAILED
            in login(
                app.test_client(), caseworker, passphrase="wrong wrong wrong", code="000000"
            ).text
        )
    assert _account_row(services, caseworker).locked

    locked = login(app.test_client(), caseworker)
    assert locked.status_code == 200
    assert FAILED in locked.text

    admin_client = app.test_client()
    assert login(admin_client, admin).status_code == 302
    unlock = post_form(
        admin_client, "/admin/accounts", f"/admin/accounts/{caseworker.id}/unlock", {}
    )
    assert unlock.status_code == 302
    assert not _account_row(services, caseworker).locked
    assert login(app.test_client(), caseworker).status_code == 302


def test_throttling_per_account(services: Services, caseworker: Account) -> None:
    config = make_test_config(
        services.config.data_dir,
        database_url=services.config.database_url,
        login_max_failures=3,
    )
    app = create_app(config, services)
    responses = [
        login(app.test_client(), caseworker, username="ghost", passphrase="wrong", code="000000")
        for _ in range(3 * ACCOUNT_ATTEMPTS_FACTOR + 1)
    ]

    assert [r.status_code for r in responses[:-1]] == [200] * 3 * ACCOUNT_ATTEMPTS_FACTOR
    assert responses[-1].status_code == 429
    assert int(responses[-1].headers["Retry-After"]) > 0
    assert "Too many login attempts" in responses[-1].text
    # Another account is not throttled by the first one's attempts.
    assert login(app.test_client(), caseworker).status_code == 302


def test_throttling_global_ceiling(services: Services, caseworker: Account) -> None:
    config = make_test_config(
        services.config.data_dir,
        database_url=services.config.database_url,
        login_global_per_minute=3,
    )
    app = create_app(config, services)
    statuses = [
        login(
            app.test_client(),
            caseworker,
            username=f"user{i}",
            passphrase="wrong wrong",
            code="000000",
        ).status_code
        for i in range(3)
    ]
    blocked = login(app.test_client(), caseworker)

    assert statuses == [200, 200, 200]
    assert blocked.status_code == 429
    assert not _account_row(services, caseworker).failed_logins


def test_login_changes_session_and_stash(
    app: Flask, client: FlaskClient, caseworker: Account
) -> None:
    client.get("/login")
    before = client.get_cookie("lumen_caseworker")
    assert login(client, caseworker).status_code == 302
    after = client.get_cookie("lumen_caseworker")

    assert after is not None
    assert before is None or before.value != after.value
    with client.session_transaction() as session:
        first_stash = session["stash"]

    # A second login in the same browser replaces the stash entry.
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").data)})
    assert len(_stash(app)) == 0
    assert login(client, caseworker).status_code == 302
    with client.session_transaction() as session:
        assert session["stash"] != first_stash
    assert len(_stash(app)) == 1


def test_logout_makes_old_cookie_useless(
    app: Flask, client: FlaskClient, caseworker: Account
) -> None:
    assert login(client, caseworker).status_code == 302
    cookie = client.get_cookie("lumen_caseworker")
    assert cookie is not None

    token = csrf_token(client.get("/").data)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302

    replay = app.test_client()
    replay.set_cookie("lumen_caseworker", cookie.value)
    response = replay.get("/")
    assert response.status_code == 401
    assert "Your session has expired" in response.text


def test_login_without_centre_key(
    app: Flask, services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    account = add_account(services, centre_keys, "newcomer", "payoke", with_key=False)

    response = login(app.test_client(), account)

    assert response.status_code == 403
    assert "No access to the centre key" in response.text


def test_login_is_audited(services: Services, client: FlaskClient, caseworker: Account) -> None:
    login(client, caseworker)

    with services.sessions() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "login" in actions


def test_login_requires_csrf(client: FlaskClient, caseworker: Account) -> None:
    response = client.post(
        "/login",
        data={
            "username": caseworker.username,
            "passphrase": caseworker.passphrase,
            "code": pyotp.TOTP(caseworker.totp_secret).now(),
        },
    )

    assert response.status_code == 400
    assert "This form has expired" in response.text


@pytest.mark.parametrize("language, text", [("nl", "Inloggen"), ("fr", "Connexion")])
def test_login_page_translated(client: FlaskClient, language: str, text: str) -> None:
    response = client.get(f"/login?lang={language}")

    assert f'<html lang="{language}"' in response.text
    assert text in response.text
