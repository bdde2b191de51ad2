"""The services an app or the worker uses, built once from the configuration.

``create_app`` binds one :class:`Services` to the app (``app.extensions["lumen"]``);
nothing here is a module global, so tests build as many instances as they like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crypto import SourceKeyDeriver
from lumen.config import Config, ConfigError
from store.blobs import BlobStore
from store.db import make_engine, make_session_factory


class JobQueue(Protocol):
    """Hands work to the worker: by rq on Redis, or in this process."""

    def enqueue(self, job: str, *ids: str) -> None:
        """Run job ``job`` with id arguments only, never content or credentials."""
        ...


@dataclass
class Services:
    """Everything a request handler needs besides the request."""

    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    source_deriver: SourceKeyDeriver | None
    jobs: JobQueue | None = None

    @property
    def deriver(self) -> SourceKeyDeriver:
        """The bounded codename deriver; only a process holding the codename salt has one."""
        if self.source_deriver is None:
            raise ConfigError("this process has no codename salt; only the source app derives")
        return self.source_deriver


def _make_deriver(config: Config) -> SourceKeyDeriver | None:
    if not config.secrets.codename_salt:
        return None
    return SourceKeyDeriver(
        config.secrets.codename_salt,
        config.source_kdf,
        config.derivation_concurrency,
        timeout=config.derivation_wait_seconds,
    )


def make_services(config: Config) -> Services:
    """Connect to the database, the blob store and the job queue described by ``config``."""
    engine = make_engine(config.database_url)
    services = Services(
        config=config,
        engine=engine,
        sessions=make_session_factory(engine),
        blobs=BlobStore(config.blob_dir),
        source_deriver=_make_deriver(config),
    )

    from lumen.jobs import make_job_queue

    services.jobs = make_job_queue(services)
    return services
