"""Getting a codename, confirming it, coming back with it and logging out."""

from __future__ import annotations

import unicodedata

from flask import Flask
from flask.testing import FlaskClient

from crypto import wordlist
from lumen.services import Services
from store.cases import create_source
from store.models import Source

from .helpers import count_rows, csrf_token, log_in, page_codename, start_source


def test_codename_page_repeats_pending_codename(client: FlaskClient) -> None:
    first = page_codename(client.get("/codename"))
    refreshed = page_codename(client.get("/codename"))

    assert refreshed == first
    assert len(first.split()) == 7


def test_codename_not_in_cookie(client: FlaskClient) -> None:
    page = client.get("/codename")
    codename = page_codename(page)
    cookie = client.get_cookie("lumen_source")

    assert cookie is not None
    for word in codename.split():
        assert word not in cookie.value


def test_codename_confirm_creates_working_source(client: FlaskClient, services: Services) -> None:
    codename = start_source(client)

    assert count_rows(services, Source) == 1
    assert client.get("/report").status_code == 200

    client.post("/logout", data={"csrf_token": csrf_token(client.get("/report"))})
    response = log_in(client, codename)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/report")


def test_codename_confirm_twice_is_idempotent(client: FlaskClient, services: Services) -> None:
    page = client.get("/codename")
    token = csrf_token(page)

    first = client.post("/codename", data={"csrf_token": token})
    second = client.post("/codename", data={"csrf_token": token})

    assert first.status_code == 302
    assert second.status_code == 302
    assert second.headers["Location"].endswith("/report")
    assert count_rows(services, Source) == 1


def test_codename_second_tab_gets_same_codename(app: Flask, services: Services) -> None:
    # Two tabs share one cookie jar, so one client stands for both.
    tabs = app.test_client()
    tab_one = tabs.get("/codename")
    tab_two = tabs.get("/codename")
    codename = page_codename(tab_one)
    assert page_codename(tab_two) == codename

    tabs.post("/codename", data={"csrf_token": csrf_token(tab_two)})
    again = tabs.post("/codename", data={"csrf_token": csrf_token(tab_one)})
    assert again.status_code == 302

    other = app.test_client()
    assert log_in(other, codename).status_code == 302
    assert count_rows(services, Source) == 1


def test_codename_back_button_after_confirm(client: FlaskClient, services: Services) -> None:
    codename = start_source(client)

    back = client.get("/codename")

    assert back.status_code == 302
    assert back.headers["Location"].endswith("/report")
    assert count_rows(services, Source) == 1
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/report"))})
    assert log_in(client, codename).status_code == 302


def test_login_field_attributes(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)

    assert 'autocapitalize="none"' in html
    assert 'autocorrect="off"' in html
    assert 'spellcheck="false"' in html
    assert 'autocomplete="off"' in html


def _variants(codename: str) -> list[str]:
    words = codename.split()
    return [
        f"  {codename}  ",
        f"{codename}\r\n",
        words[0] + "\t" + "  ".join(words[1:]),
        codename[0].upper() + codename[1:],
        codename.upper(),
        unicodedata.normalize("NFD", codename),
    ]


def test_login_accepts_typing_variants(app: Flask, services: Services) -> None:
    # The shipped word lists are ASCII, but a codename typed back is normalised
    # whatever it holds, so accented words show that NFD input still matches.
    plain = wordlist("fr")
    codename = " ".join(["élève", plain[0], "naïve", plain[1], "café", plain[2], plain[3]])
    with services.sessions() as db:
        source = create_source(db, services.deriver.derive(codename))
        db.commit()
        source_id = source.id

    for variant in _variants(codename):
        client = app.test_client()
        response = log_in(client, variant)
        assert response.status_code == 302, repr(variant)
        with client.session_transaction() as session:
            assert session["source"] == source_id


def test_login_generated_codename_variants(app: Flask) -> None:
    codename = start_source(app.test_client())

    for variant in _variants(codename):
        assert log_in(app.test_client(), variant).status_code == 302, repr(variant)


def test_login_wrong_codename_generic_answer(app: Flask) -> None:
    codename = start_source(app.test_client())
    words = codename.split()
    changed = " ".join([*words[:-1], "zzzz" if words[-1] != "zzzz" else "yyyy"])
    reordered = " ".join(reversed(words))
    answers = []

    for wrong in (changed, reordered, "not a codename at all"):
        response = log_in(app.test_client(), wrong)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "We do not recognise this codename" in html
        answers.append(html[html.index("<main>") : html.index("<form")])

    assert answers[0] == answers[1] == answers[2]


def test_login_blank_codename_translated_error(client: FlaskClient) -> None:
    page = client.get("/login?lang=nl")
    response = client.post("/login", data={"csrf_token": csrf_token(page), "codename": "   "})

    assert response.status_code == 200
    assert "Dit veld is verplicht." in response.get_data(as_text=True)


def test_logout_clears_session_and_stash(app: Flask, client: FlaskClient) -> None:
    start_source(client)
    stash = app.extensions["lumen_source_stash"]
    assert len(stash.backend) == 1

    response = client.post("/logout", data={"csrf_token": csrf_token(client.get("/report"))})

    assert response.status_code == 302
    assert len(stash.backend) == 0
    with client.session_transaction() as session:
        assert "source" not in session
        assert "ticket" not in session
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "New Identity" in page
    assert client.get("/conversation").status_code == 302
