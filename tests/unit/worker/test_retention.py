"""The retention purge: expired sources go with their rows and blobs, others stay."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from lumen.services import Services
from store.models import AuditEvent, today
from store.retention import select_expired_sources
from store.settings import defaults, save_settings
from tests.unit.worker.factories import age, silent_source, source_exists, submit
from worker.retention import purge_expired_sources


def test_purge_deletes_inactive_source_and_blob(services: Services) -> None:
    old = submit(services, ["payoke"], with_file=True)
    age(services, old, services.config.retention_days + 1)
    assert len(services.blobs.names()) == 1

    report = purge_expired_sources(services)

    assert report.sources == 1
    assert report.blobs == 1
    assert not source_exists(services, old)
    assert services.blobs.names() == set()


def test_purge_keeps_recent_source(services: Services) -> None:
    recent = submit(services, ["payoke"], with_file=True)
    age(services, recent, services.config.retention_days)

    report = purge_expired_sources(services)

    assert report.sources == 0
    assert source_exists(services, recent)
    assert len(services.blobs.names()) == 1


def test_purge_deletes_unsubmitted_after_a_day(services: Services) -> None:
    fresh = silent_source(services)
    stale = silent_source(services)
    age(services, stale, services.config.unsubmitted_retention_days + 1)

    purge_expired_sources(services)

    assert source_exists(services, fresh)
    assert not source_exists(services, stale)


def test_purge_is_idempotent(services: Services) -> None:
    old = submit(services, ["surya"])
    age(services, old, services.config.retention_days + 5)

    first = purge_expired_sources(services)
    second = purge_expired_sources(services)

    assert first.sources == 1
    assert second.sources == 0
    with services.sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.purge")
        ).all()
    assert len(events) == 1


def test_purge_audits_count_not_ids(services: Services) -> None:
    old = submit(services, ["payoke"])
    age(services, old, services.config.retention_days + 1)

    purge_expired_sources(services)

    with services.sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.purge")
        ).all()
    assert len(events) == 1
    assert events[0].detail == "1 sources"
    assert old not in events[0].target
    assert old not in events[0].detail


def test_purge_follows_retention_setting(services: Services) -> None:
    source_id = submit(services, ["payoke"])
    age(services, source_id, 40)
    with services.sessions() as session:
        shorter = dataclasses.replace(defaults(services.config), retention_days=30)
        save_settings(session, services.config, shorter)
        session.commit()

    report = purge_expired_sources(services)

    assert report.sources == 1
    assert not source_exists(services, source_id)


def test_select_expired_uses_day_boundaries(services: Services) -> None:
    source_id = submit(services, ["payoke"])
    day = today()
    with services.sessions() as session:
        on_boundary = select_expired_sources(session, 10, 1, on=day + dt.timedelta(days=10))
        after_boundary = select_expired_sources(session, 10, 1, on=day + dt.timedelta(days=11))
    assert source_id not in on_boundary
    assert source_id in after_boundary
