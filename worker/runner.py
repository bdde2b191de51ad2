"""``lumen worker``: an rq worker on the ``lumen`` queue, with rq's schedulers.

The worker runs with rq's scheduler (``with_scheduler=True``, which moves jobs queued
for later onto the queue) and a thread driving rq's :class:`~rq.cron.CronScheduler`,
which queues the periodic jobs of :data:`worker.registry.SCHEDULE`. Each worker
process runs its own cron thread. With several workers a periodic job is therefore
queued several times per interval, which costs only queries because the jobs are
idempotent.

Jobs run in the worker process itself (:class:`~rq.worker.SimpleWorker`), which keeps
one database engine per process instead of forking it for every job.

rq 3's worker stops when Redis fails outside its dequeue call, for example during its
maintenance tasks. :func:`run_worker` then starts a new worker after a pause, so a
Redis restart never ends ``lumen worker``; only SIGINT or SIGTERM does.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING, Final

from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.exceptions import StopRequested

from lumen.jobs import FAILURE_TTL_SECONDS, JOB_TIMEOUT_SECONDS, QUEUED_TTL_SECONDS, connect_redis
from worker.registry import SCHEDULE, PeriodicJob
from worker.rq_entry import FUNCTION_PATH, QUEUE_NAME, bind_services, run

if TYPE_CHECKING:
    from lumen.services import Services

logger = logging.getLogger(__name__)

MAX_RETRY_SECONDS: Final = 60.0


class LumenWorker(SimpleWorker):
    """An rq worker that records stop signals and has no channel for remote commands.

    Lumen sends no remote commands, and closing the subscription at shutdown can
    block for up to a minute while its thread waits for a message.
    """

    stop_signal_received = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Note that SIGINT or SIGTERM arrived, then let rq shut down warmly."""
        self.stop_signal_received = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def subscribe(self) -> None:
        """Skip the command channel."""

    def unsubscribe(self) -> None:
        """Skip the command channel."""


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


def _raise_stop_requested(_signal: int, _frame: FrameType | None) -> None:
    raise StopRequested


def run_worker(
    services: Services,
    redis_url: str,
    burst: bool = False,
    schedule: Sequence[PeriodicJob] = SCHEDULE,
    queue_name: str = QUEUE_NAME,
) -> bool:
    """Work on the queue until stopped (or, with ``burst``, until it is empty).

    Return whether any job ran. In burst mode each periodic job is queued once before
    the queue is drained, so that a burst run catches up with everything due, such as
    notifications whose enqueue failed while Redis was down.
    """
    bind_services(services)
    connection = connect_redis(redis_url, timeout=None)
    queue = Queue(queue_name, connection=connection)
    if burst:
        for job in schedule:
            queue.enqueue(
                FUNCTION_PATH,
                job.name,
                job_timeout=JOB_TIMEOUT_SECONDS,
                ttl=QUEUED_TTL_SECONDS,
                result_ttl=0,
                failure_ttl=FAILURE_TTL_SECONDS,
            )

    cron = None if burst else CronThread(redis_url, schedule, queue_name)
    if cron is not None:
        cron.start()
    logger.info("worker started", extra={"queue": queue_name, "burst": burst})
    worked = False
    retry = 1.0
    try:
        while True:
            worker = None
            try:
                worker = LumenWorker([queue], connection=connection, log_job_description=False)
                worked = (
                    worker.work(burst=burst, with_scheduler=True, logging_level="INFO") or worked
                )
            except RedisError as error:
                # Raised when Redis is down as a worker starts, before rq's own loop runs.
                logger.warning("worker cannot reach Redis", extra={"error": type(error).__name__})
            if burst or (worker is not None and worker.stop_signal_received):
                break

            logger.warning("worker loop ended; restarting", extra={"retry_seconds": retry})
            # rq's handlers would ask Redis for the worker state; these only stop.
            signal.signal(signal.SIGINT, _raise_stop_requested)
            signal.signal(signal.SIGTERM, _raise_stop_requested)
            try:
                time.sleep(retry)
            except StopRequested:
                break
            retry = min(retry * 2, MAX_RETRY_SECONDS)
    finally:
        if cron is not None:
            cron.stopping.set()
            cron.join(timeout=10)
        logger.info("worker stopped", extra={"queue": queue_name})
    return worked
