"""Property-based fuzzing of both apps' form handlers through the Flask test client.

CSRF stays on: each example posts a valid token with arbitrary field values, choice
values outside the lists, odd file names and contents. No example may get a 5xx.
A rejected form changes nothing in the store. An accepted report stores the
message exactly as the form's own normalisation (CR LF to LF) gives it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey
from sqlalchemy import select

from lumen.services import Services
from store.models import AuditEvent, CaseTag, Note, Reply
from tests.functional.caseworker.support import add_account, login, make_report
from tests.hardening.support import csrf_token, store_state, stored_texts

FORM_FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CONTROL = st.characters(codec="utf-8", categories=("Cc", "Cf", "Zs", "Zl", "Zp"))
TEXT = st.text(st.one_of(st.characters(codec="utf-8"), CONTROL), max_size=300)
CHOICE = st.one_of(st.none(), st.text(max_size=30))
FILE = st.tuples(st.text(max_size=80), st.binary(max_size=200))


@pytest.fixture
def source_app(services: Services) -> Iterator[Flask]:
    from source_app import create_app

    yield create_app(services.config, services)


@pytest.fixture
def source(source_app: Flask) -> FlaskClient:
    """A logged-in source that has not reported yet."""
    client = source_app.test_client()
    page = client.get("/codename", headers={"Accept-Language": "nl"})
    assert page.status_code == 200
    confirmed = client.post("/codename", data={"csrf_token": csrf_token(page.text)})
    assert confirmed.status_code == 302
    return client


def _form_token(client: FlaskClient, path: str) -> str:
    """Return the session's CSRF token from ``path``, or from where it redirects."""
    page = client.get(path, follow_redirects=True)
    assert page.status_code == 200, page.status_code
    return csrf_token(page.text)


@FORM_FUZZ
@given(
    message=TEXT,
    who=CHOICE,
    kinds=st.lists(st.text(max_size=12), max_size=4),
    where=st.text(max_size=260),
    danger=CHOICE,
    centre=CHOICE,
    reply_language=CHOICE,
    contact=st.text(max_size=1100),
    files=st.lists(FILE, max_size=4),
)
def test_report_form_never_fails(
    source: FlaskClient,
    services: Services,
    centre_keys: dict[str, PrivateKey],
    message: str,
    who: str | None,
    kinds: list[str],
    where: str,
    danger: str | None,
    centre: str | None,
    reply_language: str | None,
    contact: str,
    files: list[tuple[str, bytes]],
) -> None:
    data: dict[str, object] = {
        "csrf_token": _form_token(source, "/report"),
        "message": message,
        "kinds": kinds,
        "where": where,
        "contact": contact,
        "files": [(io.BytesIO(content), name) for name, content in files],
    }
    for name, value in [
        ("who", who),
        ("danger", danger),
        ("centre", centre),
        ("reply_language", reply_language),
    ]:
        if value is not None:
            data[name] = value
    before = store_state(services)
    messages_before = [t for kind, t in stored_texts(services, centre_keys) if kind == "message"]

    response = source.post("/report", data=data, content_type="multipart/form-data")

    assert response.status_code < 500, response.text[:300]
    if response.status_code != 302:
        assert store_state(services) == before
        return
    messages = [t for kind, t in stored_texts(services, centre_keys) if kind == "message"]
    if message.strip():
        assert messages == [*messages_before, message.replace("\r\n", "\n").encode()]


@FORM_FUZZ
@given(codename=st.text(max_size=400))
def test_login_form_never_fails(source_app: Flask, services: Services, codename: str) -> None:
    client = source_app.test_client()
    before = store_state(services)

    response = client.post(
        "/login", data={"csrf_token": _form_token(client, "/login"), "codename": codename}
    )

    assert response.status_code in (200, 302), response.text[:300]
    assert store_state(services) == before


@pytest.fixture
def caseworker(
    services: Services, centre_keys: dict[str, PrivateKey]
) -> Iterator[tuple[FlaskClient, str]]:
    """A logged-in Payoke caseworker and the source id of a Payoke case."""
    from journalist_app import create_app

    app = create_app(services.config, services)
    client = app.test_client()
    account = add_account(services, centre_keys, "anna", "payoke")
    assert login(client, account).status_code == 302
    report = make_report(services, ["payoke"])
    yield client, report.source_id


@FORM_FUZZ
@given(
    action=st.sampled_from(["reply", "note", "tags", "tags/remove", "status", "assign", "forward"]),
    field=st.sampled_from(["reply-text", "note-text", "tag", "status", "assignee", "centre"]),
    value=TEXT,
)
def test_case_forms_never_fail(
    caseworker: tuple[FlaskClient, str], services: Services, action: str, field: str, value: str
) -> None:
    client, source_id = caseworker
    token = _form_token(client, f"/cases/{source_id}")
    with services.sessions() as db:
        counts = [len(db.scalars(select(model)).all()) for model in (Reply, Note, CaseTag)]
        audits = len(db.scalars(select(AuditEvent)).all())

    response = client.post(f"/cases/{source_id}/{action}", data={"csrf_token": token, field: value})

    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        with services.sessions() as db:
            after = [len(db.scalars(select(model)).all()) for model in (Reply, Note, CaseTag)]
            assert len(db.scalars(select(AuditEvent)).all()) >= audits
        assert after == counts
