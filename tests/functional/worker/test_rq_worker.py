"""``lumen worker`` as a real process on a real Redis: queued and scheduled jobs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from rq import Queue
from sqlalchemy import func, select

from lumen.config import SmtpConfig
from lumen.jobs import RqJobQueue
from lumen.services import Services, make_services
from store.models import PendingNotification
from tests.conftest import install_centres, make_test_config
from tests.functional.worker.conftest import (
    LUMEN,
    start_worker,
    stop_process,
    write_config_file,
)
from tests.unit.worker.factories import submit
from tests.unit.worker.support import MailSink, smtp_server
from worker.rq_entry import QUEUE_NAME

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def mail() -> Iterator[tuple[MailSink, int]]:
    with smtp_server() as sink_and_port:
        yield sink_and_port


@pytest.fixture
def queued_services(
    tmp_path: Path,
    worker_redis_url: str,
    centre_keys: dict[str, PrivateKey],
    mail: tuple[MailSink, int],
) -> Iterator[Services]:
    smtp = SmtpConfig(host="127.0.0.1", port=mail[1], sender="lumen@instance.test")
    config = make_test_config(tmp_path / "data", redis_url=worker_redis_url, smtp=smtp)
    instance = make_services(config)
    install_centres(instance, centre_keys)
    yield instance
    instance.engine.dispose()


def pending_count(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count(PendingNotification.id))) or 0)


def test_redis_config_gives_rq_queue(queued_services: Services) -> None:
    assert isinstance(queued_services.jobs, RqJobQueue)


def test_burst_worker_runs_queued_flush(
    queued_services: Services, mail: tuple[MailSink, int], tmp_path: Path
) -> None:
    source_id = submit(queued_services, ["payoke"])
    jobs = queued_services.jobs
    assert isinstance(jobs, RqJobQueue)
    jobs.enqueue("flush_notifications")
    queue = Queue(QUEUE_NAME, connection=jobs.queue.connection)
    assert queue.count == 1

    environ = write_config_file(queued_services.config, tmp_path / "lumen.toml")
    log = tmp_path / "worker.log"
    process = start_worker(tmp_path / "lumen.toml", environ, log, "--burst")
    status = process.wait(60)

    output = log.read_text("utf-8")
    assert status == 0, output
    messages = mail[0].wait_for(1)
    assert [recipients for recipients, _ in messages] == [["intake@payoke.test"]]
    assert pending_count(queued_services) == 0
    assert queue.count == 0
    assert source_id not in output
    assert "worker started" in output
    assert "worker stopped" in output


def test_burst_worker_catches_up_pending(
    queued_services: Services, mail: tuple[MailSink, int], tmp_path: Path
) -> None:
    # As after a Redis outage: the rows exist, but no job was ever queued for them.
    submit(queued_services, ["payoke"])
    submit(queued_services, ["surya"])

    environ = write_config_file(queued_services.config, tmp_path / "lumen.toml")
    log = tmp_path / "worker.log"
    status = start_worker(tmp_path / "lumen.toml", environ, log, "--burst").wait(60)

    output = log.read_text("utf-8")
    assert status == 0, output
    messages = mail[0].wait_for(2)
    assert sorted(recipients[0] for recipients, _ in messages) == [
        "intake@payoke.test",
        "intake@surya.test",
    ]
    assert pending_count(queued_services) == 0


def test_worker_schedule_flushes_without_enqueue(
    queued_services: Services, mail: tuple[MailSink, int], tmp_path: Path
) -> None:
    environ = write_config_file(queued_services.config, tmp_path / "lumen.toml")
    log = tmp_path / "worker.log"
    process = start_worker(tmp_path / "lumen.toml", environ, log, "--flush-every", "1")
    try:
        submit(queued_services, ["surya"])
        messages = mail[0].wait_for(1, timeout=30)
    finally:
        status = stop_process(process)

    output = log.read_text("utf-8")
    assert [recipients for recipients, _ in messages] == [["intake@surya.test"]], output
    assert pending_count(queued_services) == 0
    assert status == 0, output


def test_worker_without_redis_url_fails(tmp_path: Path) -> None:
    config = make_test_config(tmp_path / "data")
    config_file = tmp_path / "lumen.toml"
    environ = write_config_file(config, config_file)

    result = subprocess.run(
        [LUMEN, "worker", "--config", str(config_file)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "needs redis_url" in result.stderr
