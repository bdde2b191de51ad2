"""Administration pages: accounts, credentials, settings and the audit trail."""

from __future__ import annotations

import re
from html import unescape

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lumen.services import Services
from store.models import AuditEvent, Caseworker
from store.settings import load_settings
from tests.functional.caseworker.support import (
    Account,
    csrf_token,
    login,
    make_report,
    post_form,
)

_SECRET = re.compile(r'<code class="secret">([^<]+)</code>')


def _secrets_on(page: str) -> list[str]:
    return [unescape(value) for value in _SECRET.findall(page)]


def _row(services: Services, username: str) -> Caseworker | None:
    with services.sessions() as session:
        return session.scalar(select(Caseworker).where(Caseworker.username == username))


def test_admin_pages_refuse_caseworkers(logged_in: FlaskClient) -> None:
    for url in ("/admin/accounts", "/admin/settings", "/admin/audit"):
        response = logged_in.get(url)
        assert response.status_code == 403, url
        assert "Only administrators can use this page." in response.text


def test_invite_then_first_login_forces_new_passphrase(
    app: Flask, services: Services, admin_client: FlaskClient
) -> None:
    report = make_report(services, ["payoke"], message="welkom bert")

    page = post_form(
        admin_client, "/admin/accounts", "/admin/accounts/invite", {"username": " Bert "}
    )

    assert page.status_code == 200
    assert "<svg" in page.text
    assert "<script" not in page.text
    passphrase, grouped_secret = _secrets_on(page.text)
    secret = grouped_secret.replace(" ", "")
    row = _row(services, "bert")
    assert row is not None and row.must_change_passphrase and row.totp_secret == secret

    newcomer = Account(row.id, "bert", "payoke", passphrase, secret)
    client = app.test_client()
    assert login(client, newcomer).status_code == 302
    assert client.get("/").headers["Location"] == "/account/passphrase"

    new_passphrase = "my own long passphrase for lumen"
    changed = post_form(
        client,
        "/account/passphrase",
        "/account/passphrase",
        {"current": passphrase, "new": new_passphrase, "confirm": new_passphrase},
    )
    assert changed.status_code == 302
    assert "welkom bert" in client.get(f"/cases/{report.source_id}").text

    # The key copy is now wrapped under the new passphrase: a fresh login opens the case.
    newcomer.passphrase = new_passphrase
    again = app.test_client()
    assert login(again, newcomer).status_code == 302
    assert "welkom bert" in again.get(f"/cases/{report.source_id}").text


def test_invite_rejects_taken_username(admin_client: FlaskClient, caseworker: Account) -> None:
    response = post_form(
        admin_client, "/admin/accounts", "/admin/accounts/invite", {"username": caseworker.username}
    )

    assert response.status_code == 302
    assert (
        "This username is already taken or not valid." in admin_client.get("/admin/accounts").text
    )


def test_reset_passphrase_and_two_factor(
    app: Flask, services: Services, admin_client: FlaskClient, caseworker: Account
) -> None:
    page = post_form(
        admin_client, "/admin/accounts", f"/admin/accounts/{caseworker.id}/passphrase", {}
    )
    [new_passphrase] = _secrets_on(page.text)
    page = post_form(
        admin_client, "/admin/accounts", f"/admin/accounts/{caseworker.id}/two-factor", {}
    )
    [grouped] = _secrets_on(page.text)
    assert "<svg" in page.text

    old = login(app.test_client(), caseworker)
    assert "Login failed" in old.text

    caseworker.passphrase = new_passphrase
    caseworker.totp_secret = grouped.replace(" ", "")
    caseworker.used_steps.clear()
    client = app.test_client()
    assert login(client, caseworker).status_code == 302
    assert client.get("/").headers["Location"] == "/account/passphrase"


def test_lock_ends_open_session_and_unlock_restores(
    app: Flask, admin_client: FlaskClient, logged_in: FlaskClient, caseworker: Account
) -> None:
    assert logged_in.get("/").status_code == 200

    post_form(admin_client, "/admin/accounts", f"/admin/accounts/{caseworker.id}/lock", {})

    assert logged_in.get("/").status_code == 401
    post_form(admin_client, "/admin/accounts", f"/admin/accounts/{caseworker.id}/unlock", {})
    assert login(app.test_client(), caseworker).status_code == 302


def test_remove_account(
    services: Services, admin_client: FlaskClient, admin: Account, caseworker: Account
) -> None:
    url = f"/admin/accounts/{caseworker.id}/remove"
    response = post_form(admin_client, url, url, {})

    assert response.status_code == 302
    assert _row(services, caseworker.username) is None
    own = admin_client.get(f"/admin/accounts/{admin.id}/remove")
    assert own.status_code == 302
    assert _row(services, admin.username) is not None


def test_settings_are_saved_and_validated(services: Services, admin_client: FlaskClient) -> None:
    good = {
        "retention_days": "90",
        "max_file_mb": "20",
        "max_files": "5",
        "quick_exit_url": "https://www.meteo.be/",
        "onion_address": "",
        "source_languages": ["nl", "fr"],
    }
    page = admin_client.get("/admin/settings")
    response = admin_client.post(
        "/admin/settings", data={**good, "csrf_token": csrf_token(page.data)}
    )
    assert response.status_code == 302

    with services.sessions() as session:
        settings = load_settings(session, services.config)
    assert settings.retention_days == 90
    assert settings.max_file_mb == 20
    assert settings.source_languages == ("nl", "fr")
    assert settings.quick_exit_url == "https://www.meteo.be/"

    page = admin_client.get("/admin/settings")
    bad = admin_client.post(
        "/admin/settings",
        data={
            **good,
            "quick_exit_url": "javascript:alert(1)",
            "onion_address": "example.com",
            "csrf_token": csrf_token(page.data),
        },
    )
    assert bad.status_code == 200
    assert "https://" in bad.text
    assert "onion" in bad.text
    with services.sessions() as session:
        assert load_settings(session, services.config).quick_exit_url == "https://www.meteo.be/"


def test_audit_trail_shows_actions_without_content(
    services: Services, admin_client: FlaskClient, logged_in: FlaskClient
) -> None:
    report = make_report(services, ["payoke"], message="geheime inhoud")
    page = logged_in.get(f"/cases/{report.source_id}")
    logged_in.post(
        f"/cases/{report.source_id}/reply",
        data={"reply-text": "nog meer geheime inhoud", "csrf_token": csrf_token(page.data)},
    )

    trail = admin_client.get("/admin/audit")

    assert trail.status_code == 200
    assert "case.reply" in trail.text
    assert "anna" in trail.text
    assert "geheime inhoud" not in trail.text
    with services.sessions() as session:
        events = session.scalars(select(AuditEvent)).all()
    assert all(event.at.second == 0 and event.at.microsecond == 0 for event in events)


def test_self_service_two_factor(
    services: Services, logged_in: FlaskClient, caseworker: Account
) -> None:
    page = logged_in.get("/account/two-factor")
    assert "<svg" in page.text
    [grouped] = _secrets_on(page.text)
    secret = grouped.replace(" ", "")

    wrong = logged_in.post(
        "/account/two-factor",
        data={"secret": secret, "code": "000000", "csrf_token": csrf_token(page.data)},
    )
    assert "This code does not match." in wrong.text
    right = logged_in.post(
        "/account/two-factor",
        data={
            "secret": secret,
            "code": pyotp.TOTP(secret).now(),
            "csrf_token": csrf_token(page.data),
        },
    )
    assert right.status_code == 302
    row = _row(services, caseworker.username)
    assert row is not None and row.totp_secret == secret
