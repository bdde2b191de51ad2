"""Redis stops while sources are using the site through real waitress.

The worker's own outage test submits through the store layer. This one goes
through the source app with Redis configured, as in a scaled-out install, where
Redis also stores each logged-in source's sealed reply key. Sources that logged in
before the outage send follow-ups during it, and new sources arrive. Every
submission must be accepted with no 5xx, and the notifications go out once Redis
is back and the worker runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from sqlalchemy import func, select

from lumen.config import Config, SmtpConfig
from lumen.services import make_services
from store.models import PendingNotification, Submission
from tests.conftest import install_centres
from tests.hardening.clients import SourceClient
from tests.hardening.conftest import serve
from tests.hardening.processes import RedisServer, redis_server
from tests.hardening.support import csrf_token
from tests.unit.worker.support import smtp_server

SOURCES = 6
REPORTS_DURING_OUTAGE = 3


class OutageFault(AssertionError):
    """A request failed with a 5xx, or a submission was lost, while Redis was down."""


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path / "redis") as server:
        yield server


def _follow_ups(source: SourceClient, number: int) -> list[int]:
    """Send follow-ups; return every status, the form pages' included."""
    statuses = []
    for index in range(REPORTS_DURING_OUTAGE):
        page = source.get("/conversation")
        statuses.append(page.status_code)
        if page.status_code != 200:
            continue
        response = source.post(
            "/conversation",
            data={"csrf_token": csrf_token(page.text), "message": f"storing {number}-{index}"},
            files=[("files", (f"foto-{number}-{index}.jpg", b"jpeg" * 100))],
        )
        statuses.append(response.status_code)
    return statuses


def _newcomer(url: str) -> list[int]:
    """Take a codename and report; return every status."""
    source = SourceClient(url)
    page = source.get("/codename")
    statuses = [page.status_code]
    if page.status_code != 200:
        return statuses
    confirmed = source.post("/codename", data={"csrf_token": csrf_token(page.text)})
    statuses.append(confirmed.status_code)
    form = source.get("/report")
    statuses.append(form.status_code)
    if form.status_code == 200:
        sent = source.post(
            "/report", data={"csrf_token": csrf_token(form.text), "message": "nieuw"}
        )
        statuses.append(sent.status_code)
    return statuses


@pytest.mark.slow
def test_submissions_accepted_during_outage(
    tmp_path: Path, config: Config, centre_keys: dict[str, PrivateKey], redis: RedisServer
) -> None:
    from source_app import create_app
    from worker.runner import run_worker

    with smtp_server() as (mail, smtp_port):
        run_config = dataclasses.replace(
            config,
            redis_url=redis.url,
            smtp=SmtpConfig(host="127.0.0.1", port=smtp_port, sender="lumen@instance.test"),
        )
        services = make_services(run_config)
        install_centres(services, centre_keys)

        with serve(create_app(run_config, services), run_config) as server:
            sources = [SourceClient(server.url) for _ in range(SOURCES)]
            for number, source in enumerate(sources):
                source.start()
                assert source.report(f"voor de storing {number}").status_code in (302, 303)
            with services.sessions() as db:
                before = int(db.scalar(select(func.count(Submission.id))) or 0)

            redis.stop()
            with ThreadPoolExecutor(max_workers=SOURCES + 2) as pool:
                follow_ups = list(pool.map(_follow_ups, sources, range(SOURCES)))
                newcomers = list(pool.map(_newcomer, [server.url] * 2))
            redis.start()

        failed = [s for run in follow_ups + newcomers for s in run if s >= 500]
        if failed:
            raise OutageFault(f"{len(failed)} requests failed with {sorted(set(failed))}")
        assert all(s in (200, 302, 303) for run in follow_ups + newcomers for s in run)

        with services.sessions() as db:
            after = int(db.scalar(select(func.count(Submission.id))) or 0)
        # Each follow-up stores a message and a file. Each newcomer stores a message and
        # the questionnaire answers.
        expected = before + SOURCES * REPORTS_DURING_OUTAGE * 2 + 2 * 2
        if after != expected:
            raise OutageFault(f"{expected - after} submissions were lost")

        run_worker(services, redis.url, burst=True)
        run_worker(services, redis.url, burst=True)
        with services.sessions() as db:
            waiting = int(db.scalar(select(func.count(PendingNotification.id))) or 0)
        assert waiting == 0
        assert mail.wait_for(1)
        services.engine.dispose()
