"""``lumen worker``: an rq worker on the ``lumen`` queue, with rq's schedulers.

The worker runs with rq's scheduler (``with_scheduler=True``, which moves jobs queued
for later onto the queue) and a thread driving rq's :class:`~rq.cron.CronScheduler`,
which queues the periodic jobs of :data:`worker.registry.SCHEDULE`. Each worker
process runs its own cron thread. With several workers a periodic job is therefore
queued several times per interval, which costs only queries because the jobs are
idempotent.

Jobs run in the worker process itself (:class:`~rq.worker.SimpleWorker`), which keeps
one database engine per process instead of forking it for every job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler

from lumen.jobs import FAILURE_TTL_SECONDS, JOB_TIMEOUT_SECONDS, QUEUED_TTL_SECONDS, connect_redis
from worker.registry import SCHEDULE, PeriodicJob
from worker.rq_entry import QUEUE_NAME, bind_services, run

if TYPE_CHECKING:
    from lumen.services import Services

logger = logging.getLogger(__name__)

MAX_RETRY_SECONDS: Final = 60.0


class CronThread(threading.Thread):
    """Queue each periodic job at its interval, surviving Redis outages."""

    def __init__(self, redis_url: str, schedule: Sequence[PeriodicJob], queue_name: str) -> None:
        super().__init__(name="lumen-cron", daemon=True)
        self.scheduler = CronScheduler(connection=connect_redis(redis_url))
        for job in schedule:
            self.scheduler.register(
                run,
                queue_name=queue_name,
                args=(job.name,),
                interval=job.interval_seconds,
                job_timeout=JOB_TIMEOUT_SECONDS,
                ttl=QUEUED_TTL_SECONDS,
                result_ttl=0,
                failure_ttl=FAILURE_TTL_SECONDS,
                name=f"lumen:{job.name}",
            )
        self.stopping = threading.Event()

    def run(self) -> None:
        """Queue due jobs, then sleep until the next one is due or a retry."""
        retry = 1.0
        while not self.stopping.is_set():
            try:
                # A job whose enqueue failed keeps its old time and is retried next round.
                self.scheduler.enqueue_jobs()
                delay = self.scheduler.calculate_sleep_interval()
                retry = 1.0
            except RedisError as error:
                logger.warning(
                    "scheduler cannot reach Redis; retrying",
                    extra={"error": type(error).__name__, "retry_seconds": retry},
                )
                delay = retry
                retry = min(retry * 2, MAX_RETRY_SECONDS)
            self.stopping.wait(delay)


def run_worker(
    services: Services,
    redis_url: str,
    burst: bool = False,
    schedule: Sequence[PeriodicJob] = SCHEDULE,
    queue_name: str = QUEUE_NAME,
) -> bool:
    """Work on the queue until stopped (or, with ``burst``, until it is empty).

    Return whether any job ran. In burst mode no periodic job is queued.
    """
    bind_services(services)
    connection = connect_redis(redis_url, timeout=None)
    queue = Queue(queue_name, connection=connection)
    worker = SimpleWorker([queue], connection=connection, log_job_description=False)

    cron = None if burst else CronThread(redis_url, schedule, queue_name)
    if cron is not None:
        cron.start()
    logger.info("worker started", extra={"queue": queue_name, "burst": burst})
    try:
        worked: bool = worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        if cron is not None:
            cron.stopping.set()
            cron.join(timeout=10)
        logger.info("worker stopped", extra={"queue": queue_name})
    return worked
