"""The function that every queued rq job names, and the services it runs with.

An rq job carries a function path and its arguments through Redis, so it can carry
nothing but the job name and ids. The services (database, blob store, configuration)
are bound once per worker process by ``lumen worker`` before it starts working.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from worker.registry import UnknownJob, run_job

if TYPE_CHECKING:
    from lumen.services import Services

logger = logging.getLogger(__name__)

QUEUE_NAME: Final = "lumen"
FUNCTION_PATH: Final = "worker.rq_entry.run"


class JobFailed(Exception):
    """A job raised; the message names the job and the error type, never values."""


class _Binding:
    services: Services | None = None


def bind_services(services: Services) -> None:
    """Make ``services`` the ones this process's jobs run with."""
    _Binding.services = services


def run(name: str, *ids: str) -> None:
    """Run job ``name`` with the bound services; the job itself is idempotent.

    Exceptions are replaced by :class:`JobFailed` carrying only the job name and the
    error type, because rq stores the failure text in Redis and driver errors can
    quote the SQL parameters, which may include ids of sources.
    """
    services = _Binding.services
    if services is None:
        raise RuntimeError("no services bound: start jobs with 'lumen worker'")

    try:
        run_job(services, name, *ids)
    except UnknownJob:
        raise
    except Exception as error:
        logger.error("job failed", extra={"job": name, "error": type(error).__name__})
        raise JobFailed(f"job {name!r} failed with {type(error).__name__}") from None
