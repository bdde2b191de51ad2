"""Reading and working on cases through the app, with CSRF on."""

from __future__ import annotations

from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select

from crypto import derive_source_keys
from lumen.services import Services
from store.cases import find_source
from store.envelopes import open_slot, read_value, source_slot
from store.models import AuditEvent, CaseState, Reply
from tests.functional.caseworker.support import Account, add_account, csrf_token, login, make_report

MESSAGE = (
    'Ik werk in de keuken van een café in Luik. De chef (Jürgen) houdt onze paspoorten — "voor '
    'de veiligheid". Ça fait 3 mois. 😟 مرحبا'
)
REPLY = (
    "Merci pour votre message. Wij nemen contact op — ne répondez pas depuis le téléphone de "
    "l'employeur. ✅"
)


def _post(client: FlaskClient, source_id: str, action: str, data: dict[str, str]) -> str:
    """Post ``data`` to a case action with the page's token; return the case page after."""
    page = client.get(f"/cases/{source_id}")
    assert page.status_code == 200
    token = csrf_token(page.data)
    response = client.post(f"/cases/{source_id}/{action}", data={**data, "csrf_token": token})
    assert response.status_code == 302, response.text[:300]
    return unescape(client.get(f"/cases/{source_id}").text)


def _actions(services: Services) -> list[str]:
    with services.sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _state(services: Services, source_id: str, centre_id: str) -> CaseState:
    with services.sessions() as session:
        state = session.scalar(
            select(CaseState).where(
                CaseState.source_id == source_id, CaseState.centre_id == centre_id
            )
        )
        assert state is not None
        return state


def test_read_and_reply_reaches_the_source(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(
        services,
        ["payoke"],
        message=MESSAGE,
        answers={"in_danger": True, "exploitation": ["labour", "domestic"]},
    )

    inbox = logged_in.get("/")
    assert inbox.status_code == 200
    assert inbox.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "In danger" in inbox.text
    assert "Labour, Domestic work" in inbox.text

    page = logged_in.get(f"/cases/{report.source_id}")
    assert MESSAGE in unescape(page.text)
    assert 'dir="auto"' in page.text

    after = _post(logged_in, report.source_id, "reply", {"reply-text": REPLY})
    assert REPLY in after
    assert "Your reply was sent." in after

    keys = derive_source_keys(
        report.codename, services.config.secrets.codename_salt, services.config.source_kdf
    )
    with services.sessions() as session:
        source = find_source(session, keys.lookup_id)
        assert source is not None
        reply = session.scalar(select(Reply).where(Reply.source_id == source.id))
        assert reply is not None
        content_key = open_slot(source_slot(session, reply.body_id), keys.reply_key)
        assert read_value(reply.body, content_key, services.blobs).decode("utf-8") == REPLY
    assert {"case.read", "case.reply"} <= set(_actions(services))


def test_blank_reply_is_not_stored(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"])

    after = _post(logged_in, report.source_id, "reply", {"reply-text": " \n\t\u00a0"})

    assert "Please write something first." in after
    with services.sessions() as session:
        assert session.scalars(select(Reply)).all() == []


def test_reply_without_csrf_is_rejected(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"])

    response = logged_in.post(f"/cases/{report.source_id}/reply", data={"reply-text": "hello"})

    assert response.status_code == 400
    with services.sessions() as session:
        assert session.scalars(select(Reply)).all() == []


def test_note_status_tags_assign_and_read(
    services: Services, logged_in: FlaskClient, caseworker: Account
) -> None:
    report = make_report(services, ["payoke"])

    page = _post(logged_in, report.source_id, "note", {"note-text": "Bel terug op maandag"})
    assert "Bel terug op maandag" in page
    _post(logged_in, report.source_id, "status", {"status": "referred"})
    _post(logged_in, report.source_id, "tags", {"tag": "  Antwerpen  Haven "})
    _post(logged_in, report.source_id, "assign", {"assignee": str(caseworker.id)})
    _post(logged_in, report.source_id, "read", {})

    state = _state(services, report.source_id, "payoke")
    assert state.status == "referred"
    assert state.assignee_id == caseworker.id
    assert state.unread == 0
    assert [tag.tag for tag in _tags(services, state.id)] == ["antwerpen haven"]

    filtered = logged_in.get("/?status=referred&tag=antwerpen+haven&assignee=me").text
    assert report.source_id in filtered
    assert report.source_id not in logged_in.get("/?status=closed").text

    _post(logged_in, report.source_id, "tags/remove", {"tag": "antwerpen haven"})
    assert _tags(services, state.id) == []
    assert {"case.note", "case.status", "case.tag_added", "case.assign", "case.mark_read"} <= set(
        _actions(services)
    )


def _tags(services: Services, state_id: int) -> list[object]:
    from store.models import CaseTag

    with services.sessions() as session:
        return list(session.scalars(select(CaseTag).where(CaseTag.case_state_id == state_id)))


def test_invalid_status_is_refused(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"])

    page = _post(logged_in, report.source_id, "status", {"status": "archived"})

    assert "This status does not exist." in page
    # Opening the case to send the form moved it from new; the invalid value changed nothing.
    assert _state(services, report.source_id, "payoke").status == "in_progress"


def test_inbox_newest_activity_first_and_paginated(
    services: Services, logged_in: FlaskClient
) -> None:
    reports = [make_report(services, ["payoke"], message=f"bericht {i}") for i in range(52)]

    first = logged_in.get("/").text
    second = logged_in.get("/?page=2").text

    assert "52 cases" in first
    assert first.index(reports[-1].source_id) < first.index(reports[-2].source_id)
    assert reports[0].source_id not in first
    assert reports[0].source_id in second
    assert "Page 2 of 2" in second


def test_forwarding_opens_case_to_second_centre_only(
    app: Flask,
    services: Services,
    centre_keys: dict[str, PrivateKey],
    logged_in: FlaskClient,
) -> None:
    report = make_report(services, ["payoke"], message=MESSAGE)
    _post(logged_in, report.source_id, "reply", {"reply-text": REPLY})
    pagasa = add_account(services, centre_keys, "bruno", "pagasa")
    surya = add_account(services, centre_keys, "chloe", "surya")
    second = app.test_client()
    third = app.test_client()
    assert login(second, pagasa).status_code == 302
    assert login(third, surya).status_code == 302
    assert second.get(f"/cases/{report.source_id}").status_code == 404

    page = _post(logged_in, report.source_id, "forward", {"centre": "pagasa"})
    assert "The case was forwarded." in page

    readable = second.get(f"/cases/{report.source_id}")
    assert readable.status_code == 200
    assert MESSAGE in unescape(readable.text)
    assert REPLY in unescape(readable.text)
    assert report.source_id in second.get("/").text
    assert _state(services, report.source_id, "pagasa").forwarded_from == "payoke"

    assert third.get(f"/cases/{report.source_id}").status_code == 404
    assert report.source_id not in third.get("/").text
    assert "case.forward" in _actions(services)


def test_claiming_a_case_sent_to_all(
    app: Flask,
    services: Services,
    centre_keys: dict[str, PrivateKey],
    logged_in: FlaskClient,
) -> None:
    report = make_report(services, ["payoke", "pagasa", "surya"], sealed_to_all=True)
    other = add_account(services, centre_keys, "bruno", "pagasa")
    other_client = app.test_client()
    assert login(other_client, other).status_code == 302

    page = _post(logged_in, report.source_id, "claim", {})
    assert "You claimed this case." in page

    for centre_id in ("payoke", "pagasa", "surya"):
        assert _state(services, report.source_id, centre_id).claimed_by_id is not None
    other_inbox = other_client.get("/").text
    assert "anna (Payoke)" in other_inbox

    second_claim = _post(other_client, report.source_id, "claim", {})
    assert "This case has already been claimed." in second_claim
    assert "Withdraw the claim" in second_claim
    refused = _post(other_client, report.source_id, "release", {})
    assert "Only a claim made by your own centre can be withdrawn." in refused

    _post(logged_in, report.source_id, "release", {})
    assert _state(services, report.source_id, "pagasa").claimed_by_id is None


def test_case_sealed_to_one_centre_cannot_be_claimed(
    services: Services, logged_in: FlaskClient
) -> None:
    report = make_report(services, ["payoke"])

    page = _post(logged_in, report.source_id, "claim", {})

    assert "Only a case sent to every centre can be claimed." in page
    assert _state(services, report.source_id, "payoke").claimed_by_id is None


def test_case_page_in_dutch(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"], answers={"in_danger": False})

    page = logged_in.get(f"/cases/{report.source_id}?lang=nl")

    assert '<html lang="nl"' in page.text
    assert "Antwoord versturen" in page.text
    assert "Interne notities" in page.text


def test_opening_case_marks_it_read(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"])
    assert _state(services, report.source_id, "payoke").unread > 0

    unread = _state(services, report.source_id, "payoke").unread

    page = logged_in.get(f"/cases/{report.source_id}")

    assert page.status_code == 200
    # The page shows what was new before this visit, and the status it now has.
    assert f"<dt>Unread</dt><dd>{unread}</dd>" in page.text
    assert "In progress" in page.text
    state = _state(services, report.source_id, "payoke")
    assert state.unread == 0
    assert state.status == "in_progress"
    assert "case.mark_read" in _actions(services)


def test_answers_show_names_not_codes(services: Services, logged_in: FlaskClient) -> None:
    report = make_report(services, ["payoke"], answers={"centre": "surya", "reply_language": "fr"})

    page = logged_in.get(f"/cases/{report.source_id}?lang=en").text

    assert '<dd dir="auto">Sürya</dd>' in page
    assert '<dd dir="auto">Français</dd>' in page
    assert '<dd dir="auto">surya</dd>' not in page
