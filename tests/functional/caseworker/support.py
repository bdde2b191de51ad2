"""Helpers for driving the caseworker app: accounts, reports, CSRF tokens and logins.

Reports are built with the store layer directly, as the source app would store them,
so these tests do not depend on the source app.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyotp
import requests
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from werkzeug.test import TestResponse

from crypto import SourceKeys, derive_source_keys, generate_codename
from lumen.accounts import create_caseworker, store_wrapped_key
from lumen.services import Services
from store.cases import create_source, record_submissions
from store.envelopes import PendingEnvelope, seal_value, stream_to_blob
from tests.live_server import serve_wsgi

PASSPHRASE = "correct horse battery staple lumen"
_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Account:
    """A caseworker account created for a test, with its credentials."""

    id: int
    username: str
    centre_id: str
    passphrase: str
    totp_secret: str
    used_steps: set[int] = field(default_factory=set)

    def code(self) -> str:
        """Return a TOTP code for a time step this account has not used yet."""
        totp = pyotp.TOTP(self.totp_secret)
        now = time.time()
        for offset in (0, totp.interval):
            step = int((now + offset) // totp.interval)
            if not self.used_steps or step > max(self.used_steps):
                self.used_steps.add(step)
                return totp.at(now + offset)
        raise AssertionError("no unused TOTP step left; use another account")


def add_account(
    services: Services,
    centre_keys: dict[str, PrivateKey],
    username: str,
    centre_id: str,
    is_admin: bool = False,
    with_key: bool = True,
) -> Account:
    """Create an account that holds its centre's key and need not change its passphrase."""
    with services.sessions() as session:
        caseworker, passphrase, secret = create_caseworker(
            session, services, username, centre_id, is_admin, passphrase=PASSPHRASE
        )
        if with_key:
            store_wrapped_key(
                session,
                services.config.passphrase_kdf,
                caseworker,
                centre_keys[centre_id],
                passphrase,
            )
        session.commit()
        return Account(caseworker.id, caseworker.username, centre_id, passphrase, secret)


def csrf_token(page: str | bytes) -> str:
    """Return the CSRF token of the first form on ``page``."""
    text = page.decode("utf-8") if isinstance(page, bytes) else page
    match = _CSRF.search(text)
    assert match is not None, "no CSRF token on the page"
    return html.unescape(match.group(1))


def post_form(
    client: FlaskClient, page_url: str, action: str, data: dict[str, str]
) -> TestResponse:
    """Load ``page_url`` for its CSRF token, then post ``data`` to ``action``."""
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(action, data={**data, "csrf_token": csrf_token(page.data)})


def login(
    client: FlaskClient,
    account: Account,
    passphrase: str | None = None,
    code: str | None = None,
    username: str | None = None,
) -> TestResponse:
    """Log in through the form and return the response to the POST."""
    return post_form(
        client,
        "/login",
        "/login",
        {
            "username": username if username is not None else account.username,
            "passphrase": passphrase if passphrase is not None else account.passphrase,
            "code": code if code is not None else account.code(),
        },
    )


@dataclass(frozen=True, repr=False)
class Report:
    """A report stored as the source app would store it."""

    source_id: str
    codename: str
    keys: SourceKeys
    file_ids: list[str]
    message_ids: list[str]


def make_report(
    services: Services,
    centre_ids: Sequence[str],
    message: str | None = "Ik heb hulp nodig.",
    answers: dict[str, object] | None = None,
    files: Sequence[tuple[str, str, bytes]] = (),
    sealed_to_all: bool = False,
) -> Report:
    """Store a new source with a message, questionnaire answers and files."""
    codename = generate_codename("en")
    keys = derive_source_keys(
        codename, services.config.secrets.codename_salt, services.config.source_kdf
    )
    items: list[tuple[str, PendingEnvelope, PendingEnvelope | None]] = []
    if answers is not None:
        items.append(("answers", seal_value(json.dumps(answers).encode("utf-8")), None))
    if message is not None:
        items.append(("message", seal_value(message.encode("utf-8")), None))
    for name, media_type, content in files:
        with stream_to_blob(services.blobs) as (body, writer):
            writer.write(content)
        meta = seal_value(json.dumps({"name": name, "type": media_type}).encode("utf-8"))
        items.append(("file", body, meta))

    with services.sessions() as session:
        source = create_source(session, keys)
        session.flush()
        submissions = record_submissions(session, source, items, centre_ids, sealed_to_all)
        session.commit()
        return Report(
            source_id=source.id,
            codename=codename,
            keys=keys,
            file_ids=[s.id for s in submissions if s.kind == "file"],
            message_ids=[s.id for s in submissions if s.kind == "message"],
        )


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` with waitress on a free loopback port and yield its base URL."""
    with serve_wsgi(app, threads=2, ident="") as url:
        yield url


def http_login(base_url: str, account: Account, language: str | None = None) -> requests.Session:
    """Log in through a real HTTP server and return the logged-in requests session.

    ``language``, when given, is sent as Accept-Language on every request.
    """
    browser = requests.Session()
    if language is not None:
        browser.headers["Accept-Language"] = language
    page = browser.get(f"{base_url}/login", timeout=10)
    response = browser.post(
        f"{base_url}/login",
        data={
            "csrf_token": csrf_token(page.text),
            "username": account.username,
            "passphrase": account.passphrase,
            "code": account.code(),
        },
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:300]
    return browser
