"""Helpers for driving the source app as a browser would, with CSRF on."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import unescape

from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from lumen.services import Services
from store.cases import add_reply
from store.envelopes import centre_slot, open_slot, read_value
from store.models import Caseworker, Source, Submission

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CODENAME = re.compile(r'<p class="codename"[^>]*><code>([^<]+)</code>')
_REPLY_DELETE = re.compile(r'action="(/conversation/replies/[^"]+/delete)"')


def csrf_token(page: TestResponse | str) -> str:
    """Return the first CSRF token in ``page``."""
    html = page if isinstance(page, str) else page.get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return unescape(match.group(1))


def page_codename(page: TestResponse | str) -> str:
    """Return the codename shown on the codename page."""
    html = page if isinstance(page, str) else page.get_data(as_text=True)
    match = _CODENAME.search(html)
    assert match, "no codename on the page"
    return unescape(match.group(1))


def reply_delete_paths(page: TestResponse) -> list[str]:
    """Return the form actions that delete each reply shown."""
    return _REPLY_DELETE.findall(page.get_data(as_text=True))


def start_source(client: FlaskClient) -> str:
    """Get a codename, confirm it, and return it; the client is then logged in."""
    page = client.get("/codename")
    codename = page_codename(page)
    response = client.post("/codename", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    return codename


def send_report(
    client: FlaskClient,
    message: str = "",
    files: list[tuple[bytes, str]] | None = None,
    **fields: object,
) -> TestResponse:
    """Post the report form with ``message``, ``files`` and answers in ``fields``."""
    page = client.get("/report")
    data: dict[str, object] = {"csrf_token": csrf_token(page), "message": message}
    data.update(fields)
    if files:
        from io import BytesIO

        data["files"] = [(BytesIO(content), name) for content, name in files]
    return client.post("/report", data=data, content_type="multipart/form-data")


def log_in(client: FlaskClient, codename: str) -> TestResponse:
    """Post ``codename`` on the login page."""
    page = client.get("/login")
    return client.post("/login", data={"csrf_token": csrf_token(page), "codename": codename})


def make_caseworker(services: Services, centre_id: str, username: str) -> int:
    """Add a caseworker row for ``centre_id`` and return its id."""
    with services.sessions() as db:
        worker = Caseworker(
            username=username, centre_id=centre_id, passphrase_hash="-", totp_secret="-"
        )
        db.add(worker)
        db.commit()
        return worker.id


def reply_as_centre(services: Services, source_id: str, centre_id: str, text: str) -> str:
    """Store a reply from ``centre_id`` to ``source_id`` and return the reply id."""
    with services.sessions() as db:
        worker = db.scalar(select(Caseworker).where(Caseworker.centre_id == centre_id))
        assert worker is not None, "make a caseworker first"
        source = db.get(Source, source_id)
        assert source is not None
        reply = add_reply(db, source, centre_id, worker, text)
        db.commit()
        return reply.id


@dataclass(frozen=True)
class Received:
    """A submission as a centre decrypts it."""

    kind: str
    body: bytes
    meta: dict[str, str] | None


def read_as_centre(services: Services, key: PrivateKey, centre_id: str) -> list[Received]:
    """Decrypt every submission that ``centre_id`` can open, oldest first."""
    received = []
    with services.sessions() as db:
        for submission in db.scalars(select(Submission).order_by(Submission.seq)):
            slot = centre_slot(db, submission.body_id, centre_id, 1)
            if slot is None:
                continue
            body = read_value(submission.body, open_slot(slot, key), services.blobs)
            meta = None
            if submission.meta is not None:
                meta_slot = centre_slot(db, submission.meta.id, centre_id, 1)
                meta_bytes = read_value(submission.meta, open_slot(meta_slot, key), services.blobs)
                meta = json.loads(meta_bytes)
            received.append(Received(submission.kind, body, meta))
    return received


def only_source_id(services: Services) -> str:
    """Return the id of the one source in the database."""
    with services.sessions() as db:
        ids = list(db.scalars(select(Source.id)))
    assert len(ids) == 1, ids
    return ids[0]


def count_rows(services: Services, model: type) -> int:
    """Return the number of rows of ``model``."""
    with services.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)
