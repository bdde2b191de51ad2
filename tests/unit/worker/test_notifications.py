"""The notification job against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from lumen.config import SmtpConfig
from lumen.services import Services
from store.models import PendingNotification
from tests.unit.worker.factories import submit
from tests.unit.worker.support import MailSink, free_port
from worker.notifications import flush_notifications


def pending_count(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count(PendingNotification.id))) or 0)


def test_flush_sends_one_mail_per_centre(
    mailing_services: Services, mail: tuple[MailSink, int]
) -> None:
    submit(mailing_services, ["payoke"])
    submit(mailing_services, ["payoke", "surya"])

    sent = flush_notifications(mailing_services)

    assert sent == 2
    messages = mail[0].wait_for(2)
    assert len(messages) == 2
    by_recipient = {tuple(recipients): message for recipients, message in messages}
    assert set(by_recipient) == {("intake@payoke.test",), ("intake@surya.test",)}
    assert pending_count(mailing_services) == 0


def test_flush_mail_has_count_only(mailing_services: Services, mail: tuple[MailSink, int]) -> None:
    source_ids = [submit(mailing_services, ["pagasa"]) for _ in range(3)]

    flush_notifications(mailing_services)

    [(_, message)] = mail[0].wait_for(1)
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode("utf-8")
    assert "3" in text
    assert "message nobody may see" not in text
    for source_id in source_ids:
        assert source_id not in text
        assert source_id not in str(message)
    assert message["From"] == "lumen@instance.test"


def test_flush_uses_centre_language(mailing_services: Services, mail: tuple[MailSink, int]) -> None:
    submit(mailing_services, ["surya"])

    flush_notifications(mailing_services)

    [(_, message)] = mail[0].wait_for(1)
    assert message["Subject"] == "Nouvelle activité dans Lumen pour Sürya"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert "Il y a 1 nouvel élément" in body.decode("utf-8")


def test_second_flush_sends_nothing(mailing_services: Services, mail: tuple[MailSink, int]) -> None:
    submit(mailing_services, ["payoke"])

    assert flush_notifications(mailing_services) == 1
    assert flush_notifications(mailing_services) == 0
    assert len(mail[0].wait_for(2, timeout=0.5)) == 1


def test_failed_send_keeps_rows(mailing_services: Services) -> None:
    submit(mailing_services, ["payoke"])
    submit(mailing_services, ["payoke"])
    unreachable = SmtpConfig(host="127.0.0.1", port=free_port())
    broken = dataclasses.replace(
        mailing_services, config=dataclasses.replace(mailing_services.config, smtp=unreachable)
    )

    assert flush_notifications(broken) == 0

    assert pending_count(mailing_services) == 2


def test_no_smtp_host_keeps_rows(services: Services) -> None:
    submit(services, ["payoke"])

    assert flush_notifications(services) == 0

    assert pending_count(services) == 1
