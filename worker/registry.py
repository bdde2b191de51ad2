"""The job names a :class:`~lumen.services.JobQueue` accepts, and their schedule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from worker.cleanup import clean_up_blobs
from worker.notifications import flush_notifications
from worker.retention import purge_expired_sources
from worker.rotation import verify_key_rotation

if TYPE_CHECKING:
    from lumen.services import Services

JobFunction = Callable[..., object]

# Each job is called as ``function(services, *ids)``.
JOBS: Final[dict[str, JobFunction]] = {
    "flush_notifications": flush_notifications,
    "purge_expired_sources": purge_expired_sources,
    "clean_up_blobs": clean_up_blobs,
    "verify_key_rotation": verify_key_rotation,
}
ID_COUNTS: Final = {
    "flush_notifications": 0,
    "purge_expired_sources": 0,
    "clean_up_blobs": 0,
    "verify_key_rotation": 1,
}


class UnknownJob(ValueError):
    """A job name is not in :data:`JOBS`, or it got the wrong number of ids."""


@dataclass(frozen=True)
class PeriodicJob:
    """A job without ids that runs every ``interval_seconds``."""

    name: str
    interval_seconds: int


# Notifications that could not be enqueued or sent go out within a minute; dates
# about sources are whole days, so hourly purges are early enough.
FLUSH_INTERVAL_SECONDS: Final = 60
SCHEDULE: Final = (
    PeriodicJob("flush_notifications", FLUSH_INTERVAL_SECONDS),
    PeriodicJob("purge_expired_sources", 60 * 60),
    PeriodicJob("clean_up_blobs", 6 * 60 * 60),
)


def check_job(name: str, ids: tuple[str, ...]) -> None:
    """Raise :class:`UnknownJob` unless ``name`` is a job that takes ``len(ids)`` ids."""
    if name not in JOBS:
        raise UnknownJob(f"unknown job {name!r}; known jobs: {sorted(JOBS)}")
    if len(ids) != ID_COUNTS[name]:
        raise UnknownJob(f"job {name!r} expects {ID_COUNTS[name]} id arguments, got {len(ids)}")
    if not all(isinstance(value, str) for value in ids):
        raise UnknownJob(f"job {name!r} takes ids as strings")


def run_job(services: Services, name: str, *ids: str) -> object:
    """Check and run job ``name`` with ``services``; return what the job returns."""
    check_job(name, ids)
    return JOBS[name](services, *ids)


def schedule_with_flush_interval(seconds: int) -> tuple[PeriodicJob, ...]:
    """Return :data:`SCHEDULE` with the notification flush every ``seconds``."""
    if seconds < 1:
        raise ValueError("the flush interval must be at least one second")
    return tuple(
        PeriodicJob(job.name, seconds) if job.name == "flush_notifications" else job
        for job in SCHEDULE
    )
