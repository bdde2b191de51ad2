"""Test data for the worker suites: sources with submissions, written as the apps do."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import update

from crypto import derive_source_keys, generate_codename
from lumen.services import Services
from store.cases import create_source, record_submissions
from store.envelopes import seal_value, stream_to_blob
from store.models import Source, today


def submit(services: Services, centre_ids: list[str], with_file: bool = False) -> str:
    """Store a new source with one message (and one file blob) for ``centre_ids``."""
    keys = derive_source_keys(
        generate_codename("en"), services.config.secrets.codename_salt, services.config.source_kdf
    )
    items = [("message", seal_value(b"a message nobody may see in a log"), None)]
    if with_file:
        with stream_to_blob(services.blobs) as (pending, writer):
            writer.write(secrets.token_bytes(1000))
        items.append(("file", pending, seal_value(b'{"name": "photo.jpg"}')))
    with services.sessions() as session:
        source = create_source(session, keys)
        session.flush()
        record_submissions(session, source, items, centre_ids)
        session.commit()
        return source.id


def source_exists(services: Services, source_id: str) -> bool:
    with services.sessions() as session:
        return session.get(Source, source_id) is not None


def age(services: Services, source_id: str, days: int) -> None:
    past = today() - dt.timedelta(days=days)
    with services.sessions() as session:
        session.execute(
            update(Source)
            .where(Source.id == source_id)
            .values(created_on=past, last_activity_on=past)
        )
        session.commit()


def silent_source(services: Services) -> str:
    keys = derive_source_keys(
        generate_codename("en"), services.config.secrets.codename_salt, services.config.source_kdf
    )
    with services.sessions() as session:
        source = create_source(session, keys)
        session.commit()
        return source.id
