"""A Redis outage: the submission is kept, and the notification goes out once Redis is back.

The test runs its own redis-server on a free port, so that stopping it touches no
other suite.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from sqlalchemy import func, select

from lumen.config import SmtpConfig
from lumen.jobs import RqJobQueue
from lumen.services import Services, make_services
from store.models import PendingNotification
from tests.conftest import install_centres, make_test_config
from tests.functional.worker.conftest import start_worker, stop_process, write_config_file
from tests.unit.worker.factories import submit
from tests.unit.worker.support import RedisServer, smtp_server

pytestmark = [pytest.mark.slow]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def wait_for_text(path: Path, text: str, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text("utf-8"):
            return True
        time.sleep(0.1)
    return False


def pending_count(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count(PendingNotification.id))) or 0)


def test_notification_survives_redis_outage(
    tmp_path: Path,
    redis_server: RedisServer,
    centre_keys: dict[str, PrivateKey],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with smtp_server() as (sink, smtp_port):
        smtp = SmtpConfig(host="127.0.0.1", port=smtp_port, sender="lumen@instance.test")
        config = make_test_config(tmp_path / "data", redis_url=redis_server.url, smtp=smtp)
        services = make_services(config)
        install_centres(services, centre_keys)
        assert isinstance(services.jobs, RqJobQueue)

        environ = write_config_file(config, tmp_path / "lumen.toml")
        log = tmp_path / "worker.log"
        worker = start_worker(tmp_path / "lumen.toml", environ, log, "--flush-every", "1")
        try:
            assert wait_for_text(log, "Listening on"), log.read_text("utf-8")

            redis_server.stop()
            # A flush the worker took just before the outage may still be running.
            time.sleep(2)
            with caplog.at_level(logging.WARNING, logger="lumen.jobs"):
                source_id = submit(services, ["pagasa"])
                services.jobs.enqueue("flush_notifications")

            assert pending_count(services) == 1
            assert sink.wait_for(1, timeout=1) == []

            redis_server.start()
            messages = sink.wait_for(1, timeout=60)
        finally:
            status = stop_process(worker)
            services.engine.dispose()

    output = log.read_text("utf-8")
    assert [recipients for recipients, _ in messages] == [["intake@pagasa.test"]], output
    assert pending_count(services) == 0
    assert status == 0, output

    warnings = [r for r in caplog.records if r.name == "lumen.jobs"]
    assert [r.getMessage() for r in warnings] == [
        "job queue unreachable; the scheduled run will do the work"
    ]
    assert warnings[0].__dict__["job"] == "flush_notifications"
    for record in warnings:
        assert source_id not in str(record.__dict__)
    assert source_id not in output


def test_worker_waits_for_redis_at_start(
    tmp_path: Path, redis_server: RedisServer, centre_keys: dict[str, PrivateKey]
) -> None:
    with smtp_server() as (sink, smtp_port):
        smtp = SmtpConfig(host="127.0.0.1", port=smtp_port, sender="lumen@instance.test")
        config = make_test_config(tmp_path / "data", redis_url=redis_server.url, smtp=smtp)
        services = make_services(config)
        install_centres(services, centre_keys)
        submit(services, ["payoke"])
        redis_server.stop()

        environ = write_config_file(config, tmp_path / "lumen.toml")
        log = tmp_path / "worker.log"
        worker = start_worker(tmp_path / "lumen.toml", environ, log, "--flush-every", "1")
        try:
            assert wait_for_text(log, "cannot reach Redis"), log.read_text("utf-8")
            assert worker.poll() is None

            redis_server.start()
            messages = sink.wait_for(1, timeout=60)
        finally:
            status = stop_process(worker)
            services.engine.dispose()

    output = log.read_text("utf-8")
    assert [recipients for recipients, _ in messages] == [["intake@payoke.test"]], output
    assert status == 0, output
