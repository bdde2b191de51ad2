"""The jobs' log records carry counts, centre ids and error types, never a source's data."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from lumen.jobs import InProcessJobQueue
from lumen.services import Services
from store.models import Source
from tests.unit.worker.factories import age, submit
from tests.unit.worker.support import MailSink
from worker.registry import JOBS


def test_job_logs_hold_no_source_data(
    mailing_services: Services, mail: tuple[MailSink, int], caplog: pytest.LogCaptureFixture
) -> None:
    kept = submit(mailing_services, ["payoke"], with_file=True)
    expired = submit(mailing_services, ["surya"], with_file=True)
    age(mailing_services, expired, mailing_services.config.retention_days + 1)
    with mailing_services.sessions() as session:
        designations = list(session.scalars(select(Source.designation)))
    queue = InProcessJobQueue(mailing_services)

    with caplog.at_level(logging.DEBUG):
        for name in JOBS:
            if name == "verify_key_rotation":
                queue.enqueue(name, "payoke")
            else:
                queue.enqueue(name)
        assert queue.wait_until_idle(30)
    queue.stop()

    assert len(mail[0].wait_for(2)) == 2
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "notification e-mail sent" in logged
    assert "retention purge deleted sources" in logged
    for secret in [kept, expired, *designations, "a message nobody may see", "photo.jpg"]:
        assert secret not in logged
