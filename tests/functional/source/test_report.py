"""Making a report and writing again: what is stored, for whom, and what is refused."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey

from lumen.services import Services
from source_app import create_app
from store.models import CaseState, Envelope, PendingNotification, Submission

from .helpers import (
    count_rows,
    csrf_token,
    make_caseworker,
    only_source_id,
    read_as_centre,
    reply_as_centre,
    send_report,
    start_source,
)

C01_SOURCE_TEXT = (
    "Ik werk in de keuken van een café in Luik. De chef (Jürgen) houdt onze paspoorten"
    ' — "voor de veiligheid". Ça fait 3 mois. 😟 مرحبا'
)
C01_REPLY_TEXT = (
    "Merci pour votre message. Wij nemen contact op — ne répondez pas depuis le"
    " téléphone de l'employeur. ✅"
)


class RecordingJobs:
    """A job queue that records what was enqueued."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple[str, ...]]] = []

    def enqueue(self, job: str, *ids: str) -> None:
        self.jobs.append((job, ids))


def _blob_count(services: Services) -> int:
    return len(services.blobs.names())


def test_report_sealed_to_chosen_centre(
    client: FlaskClient, services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    start_source(client)

    response = send_report(
        client,
        message="Er wonen tien mensen in één kamer.",
        files=[(b"%PDF-1.4 contract", "contract.pdf")],
        centre="pagasa",
        who="witness",
        kinds=["labour", "begging"],
        where="Antwerpen",
        danger="no",
        reply_language="nl",
        contact="Niet bellen. Alleen via deze site.",
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/report/sent")
    received = read_as_centre(services, centre_keys["pagasa"], "pagasa")
    assert [item.kind for item in received] == ["message", "answers", "file"]
    assert received[0].body.decode("utf-8") == "Er wonen tien mensen in één kamer."
    answers = json.loads(received[1].body)
    assert answers["who"] == "witness"
    assert answers["kinds"] == ["labour", "begging"]
    assert answers["where"] == "Antwerpen"
    assert answers["centre"] == "pagasa"
    assert answers["reply_language"] == "nl"
    assert answers["contact"] == "Niet bellen. Alleen via deze site."
    assert received[2].body == b"%PDF-1.4 contract"
    assert received[2].meta == {"name": "contract.pdf", "type": "application/pdf"}
    assert read_as_centre(services, centre_keys["payoke"], "payoke") == []
    assert count_rows(services, CaseState) == 1


def test_report_let_reporting_point_decide(
    client: FlaskClient, services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    start_source(client)

    send_report(client, message="Help", centre="any")

    for centre_id, key in centre_keys.items():
        received = read_as_centre(services, key, centre_id)
        assert [item.body for item in received if item.kind == "message"] == [b"Help"]
    with services.sessions() as db:
        assert all(state.sealed_to_all for state in db.query(CaseState))


def test_report_enqueues_notification_after_commit(services: Services) -> None:
    jobs = RecordingJobs()
    services.jobs = jobs
    client = create_app(services.config, services).test_client()
    start_source(client)

    send_report(client, message="Hallo")

    assert jobs.jobs == [("flush_notifications", ())]
    assert count_rows(services, PendingNotification) == 3


def test_report_sent_page_then_conversation(client: FlaskClient) -> None:
    start_source(client)
    response = send_report(client, message="Hallo")

    sent = client.get(response.headers["Location"])
    assert sent.status_code == 200
    assert "I have a codename" in sent.get_data(as_text=True)
    assert client.get("/report").headers["Location"].endswith("/conversation")


def test_report_non_ascii_end_to_end(
    client: FlaskClient, services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    start_source(client)
    response = send_report(client, message=C01_SOURCE_TEXT, centre="surya")
    assert response.status_code == 302

    received = read_as_centre(services, centre_keys["surya"], "surya")
    assert received[0].body.decode("utf-8") == C01_SOURCE_TEXT

    make_caseworker(services, "surya", "marie")
    reply_as_centre(services, only_source_id(services), "surya", C01_REPLY_TEXT)
    page = client.get("/conversation")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<div class="text" dir="auto">' in html
    expected = C01_REPLY_TEXT.replace("'", "&#39;")
    assert expected in html


BLANK_MESSAGES = ["", "   ", "\n", "\t", "\u00a0", " \n\t\u00a0 "]


@pytest.mark.parametrize("message", BLANK_MESSAGES, ids=repr)
def test_report_blank_message_refused(
    client: FlaskClient, services: Services, message: str
) -> None:
    start_source(client)
    blobs_before = _blob_count(services)

    response = send_report(client, message=message)

    assert response.status_code == 200
    assert "Write a message or choose a file" in response.get_data(as_text=True)
    assert count_rows(services, Submission) == 0
    assert count_rows(services, CaseState) == 0
    assert _blob_count(services) == blobs_before


def test_report_empty_file_field_refused(client: FlaskClient, services: Services) -> None:
    start_source(client)
    page = client.get("/report")

    response = client.post(
        "/report",
        data={"csrf_token": csrf_token(page), "message": "", "files": (BytesIO(b""), "")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 200
    assert "Write a message or choose a file" in response.get_data(as_text=True)
    assert count_rows(services, Submission) == 0
    assert _blob_count(services) == 0


def test_report_zero_byte_file_own_message(client: FlaskClient, services: Services) -> None:
    start_source(client)

    response = send_report(client, message="Zie bijlage", files=[(b"", "leeg.jpg")])

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The file “leeg.jpg” is empty. Choose another file." in html
    assert count_rows(services, Submission) == 0
    assert count_rows(services, Envelope) == 0
    assert _blob_count(services) == 0


def test_report_zero_byte_file_translated(client: FlaskClient, services: Services) -> None:
    start_source(client)
    client.get("/report?lang=de")

    response = send_report(client, files=[(b"", "leer.png")])

    assert "Die Datei „leer.png“ ist leer. Wählen Sie eine andere Datei." in response.get_data(
        as_text=True
    )


def test_report_invalid_choice_translated(client: FlaskClient, services: Services) -> None:
    start_source(client)
    client.get("/report?lang=fr")

    response = send_report(client, message="Bonjour", who="boss", kinds=["x"])

    html = response.get_data(as_text=True)
    assert "Ce choix n’est pas valable." in html
    assert "« x » n’est pas un choix valable pour ce champ." in html
    assert count_rows(services, Submission) == 0


def test_report_danger_puts_emergency_first(client: FlaskClient) -> None:
    start_source(client)
    before = client.get("/report").get_data(as_text=True)
    assert 'class="emergency"' not in before

    send_report(client, message="Ik ben bang", danger="yes")

    for path in ("/report/sent", "/conversation", "/info", "/"):
        html = client.get(path).get_data(as_text=True)
        body = html[html.index("<body>") :]
        exit_at = body.index('class="quick-exit"')
        emergency_at = body.index('class="emergency"')
        assert exit_at < emergency_at < body.index("<main>"), path
        assert "112" in body[emergency_at : body.index("<main>")]


def test_follow_up_sealed_to_case_centres(
    client: FlaskClient, services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    start_source(client)
    send_report(client, message="Eerste bericht", centre="payoke")
    page = client.get("/conversation")

    response = client.post(
        "/conversation",
        data={
            "csrf_token": csrf_token(page),
            "message": "Tweede bericht",
            "files": (BytesIO(b"\x89PNG foto"), "foto.png"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    assert "Thank you. Your message has been sent." in client.get("/conversation").get_data(
        as_text=True
    )
    received = read_as_centre(services, centre_keys["payoke"], "payoke")
    assert [item.body for item in received if item.kind == "message"] == [
        b"Eerste bericht",
        b"Tweede bericht",
    ]
    assert received[-1].meta == {"name": "foto.png", "type": "image/png"}
    assert read_as_centre(services, centre_keys["surya"], "surya") == []


def test_follow_up_blank_refused(client: FlaskClient, services: Services) -> None:
    start_source(client)
    send_report(client, message="Eerste bericht")
    submissions = count_rows(services, Submission)
    page = client.get("/conversation")

    response = client.post(
        "/conversation", data={"csrf_token": csrf_token(page), "message": " \u00a0\n"}
    )

    assert response.status_code == 200
    assert "Write a message or choose a file" in response.get_data(as_text=True)
    assert count_rows(services, Submission) == submissions


def test_report_too_many_files_refused(app: Flask, services: Services) -> None:
    limit = services.config.limits.max_files
    client = app.test_client()
    start_source(client)

    files = [(f"file {index}".encode(), f"f{index}.txt") for index in range(limit + 1)]
    response = send_report(client, message="Veel", files=files)

    assert response.status_code == 200
    assert f"You can send at most {limit} files at a time." in response.get_data(as_text=True)
    assert count_rows(services, Submission) == 0
    assert _blob_count(services) == 0
