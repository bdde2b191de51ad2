"""The in-process job queue: a background thread that runs jobs and the schedule."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from sqlalchemy import func, select

from lumen.jobs import InProcessJobQueue, make_job_queue
from lumen.services import Services
from store.models import PendingNotification
from tests.unit.worker.factories import submit
from tests.unit.worker.support import MailSink
from worker.registry import PeriodicJob, UnknownJob


def test_make_job_queue_without_redis(services: Services) -> None:
    assert isinstance(make_job_queue(services), InProcessJobQueue)
    assert isinstance(services.jobs, InProcessJobQueue)


def test_enqueue_runs_flush_in_background(
    mailing_services: Services, mail: tuple[MailSink, int]
) -> None:
    submit(mailing_services, ["payoke"])
    queue = InProcessJobQueue(mailing_services)

    queue.enqueue("flush_notifications")

    assert queue.wait_until_idle(10)
    assert len(mail[0].wait_for(1)) == 1
    queue.stop()


def test_enqueue_does_not_block_caller(mailing_services: Services) -> None:
    submit(mailing_services, ["payoke"])
    queue = InProcessJobQueue(mailing_services)
    caller = threading.current_thread()
    ran_on: list[threading.Thread] = []
    original = mailing_services.sessions

    def record_thread() -> object:
        ran_on.append(threading.current_thread())
        return original()

    mailing_services.sessions = record_thread  # type: ignore[assignment]
    queue.enqueue("flush_notifications")
    assert queue.wait_until_idle(10)
    mailing_services.sessions = original
    queue.stop()

    assert ran_on
    assert all(thread is not caller for thread in ran_on)


def test_enqueue_rejects_unknown_job(services: Services) -> None:
    queue = InProcessJobQueue(services)

    with pytest.raises(UnknownJob):
        queue.enqueue("send_everything")
    with pytest.raises(UnknownJob):
        queue.enqueue("flush_notifications", "an-extra-id")
    with pytest.raises(UnknownJob):
        queue.enqueue("verify_key_rotation")


def test_failing_job_is_logged_without_values(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    queue = InProcessJobQueue(services)

    with caplog.at_level(logging.ERROR, logger="lumen.jobs"):
        queue.enqueue("verify_key_rotation", "no-such-centre")
        assert queue.wait_until_idle(10)
    queue.stop()

    [record] = [r for r in caplog.records if r.message == "job failed"]
    assert record.__dict__["job"] == "verify_key_rotation"
    assert record.__dict__["error"] == "UnknownCentre"
    assert "no-such-centre" not in record.getMessage()


def test_thread_ends_when_idle(services: Services) -> None:
    queue = InProcessJobQueue(services, idle_seconds=0.2)

    queue.enqueue("clean_up_blobs")
    assert queue.wait_until_idle(10)
    deadline = time.monotonic() + 5
    while queue._thread is not None and time.monotonic() < deadline:
        time.sleep(0.05)

    assert queue._thread is None


def test_schedule_runs_periodic_jobs(
    mailing_services: Services, mail: tuple[MailSink, int]
) -> None:
    queue = InProcessJobQueue(mailing_services, schedule=[PeriodicJob("flush_notifications", 1)])
    queue.start()
    try:
        submit(mailing_services, ["surya"])
        messages = mail[0].wait_for(1, timeout=10)
    finally:
        queue.stop()

    assert len(messages) == 1
    with mailing_services.sessions() as session:
        assert session.scalar(select(func.count(PendingNotification.id))) == 0
