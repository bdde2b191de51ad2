"""The two job queues: rq on Redis, and a background thread in this process.

``make_services`` picks one: :class:`RqJobQueue` when ``redis_url`` is configured,
otherwise :class:`InProcessJobQueue`. Both accept the job names of
:data:`worker.registry.JOBS` with id arguments only.

The in-process queue runs jobs on one background thread, not in the request after the
response is written. So a request never waits for an SMTP server, and its response
time does not depend on whether a notification goes out. The thread
runs one job at a time, drops a job that is already waiting with the same
arguments, and, when given a schedule, also runs the periodic jobs.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from worker.registry import PeriodicJob, check_job, run_job
from worker.rq_entry import FUNCTION_PATH, QUEUE_NAME

if TYPE_CHECKING:
    from lumen.services import Services

logger = logging.getLogger(__name__)

# A request waits at most this long for Redis before it gives up on enqueuing.
ENQUEUE_CONNECT_TIMEOUT_SECONDS: Final = 2.0
ENQUEUE_TIMEOUT_SECONDS: Final = 5.0
JOB_TIMEOUT_SECONDS: Final = 60 * 60
# A queued job that no worker takes within a day is dropped, because the schedule
# redoes its work anyway.
QUEUED_TTL_SECONDS: Final = 24 * 60 * 60
FAILURE_TTL_SECONDS: Final = 7 * 24 * 60 * 60


def connect_redis(url: str, timeout: float | None = ENQUEUE_TIMEOUT_SECONDS) -> Redis:
    """Return a Redis client for ``url`` that fails fast when Redis is unreachable.

    The worker passes ``timeout=None`` because rq blocks on the queue for minutes.
    """
    client: Redis = Redis.from_url(
        url, socket_connect_timeout=ENQUEUE_CONNECT_TIMEOUT_SECONDS, socket_timeout=timeout
    )
    return client


class RqJobQueue:
    """Jobs queued on Redis for ``lumen worker``.

    When Redis cannot be reached, :meth:`enqueue` logs a warning and returns. No
    work is lost by that. Notifications wait as rows in the database, and every job
    without ids also runs on the worker's schedule, which catches up once Redis is
    back. A ``verify_key_rotation`` request is lost, but it only reads.
    """

    def __init__(self, redis_url: str, queue_name: str = QUEUE_NAME) -> None:
        self.queue = Queue(queue_name, connection=connect_redis(redis_url))

    def enqueue(self, job: str, *ids: str) -> None:
        """Queue job ``job`` with id arguments only; a Redis error is logged, not raised."""
        check_job(job, ids)
        try:
            self.queue.enqueue(
                FUNCTION_PATH,
                job,
                *ids,
                ttl=QUEUED_TTL_SECONDS,
                result_ttl=0,
                failure_ttl=FAILURE_TTL_SECONDS,
                job_timeout=JOB_TIMEOUT_SECONDS,
            )
        except RedisError as error:
            logger.warning(
                "job queue unreachable; the scheduled run will do the work",
                extra={"job": job, "error": type(error).__name__},
            )


class InProcessJobQueue:
    """Jobs run one at a time on a background thread of this process.

    Without a schedule the thread starts on the first :meth:`enqueue` and ends after
    ``idle_seconds`` with nothing to do. With a schedule, :meth:`start` starts it at
    once, every periodic job runs right away and then at its interval, and the
    thread lives until :meth:`stop`.
    """

    def __init__(
        self,
        services: Services,
        schedule: Sequence[PeriodicJob] = (),
        idle_seconds: float = 5.0,
    ) -> None:
        self.services = services
        self.schedule = tuple(schedule)
        self.idle_seconds = idle_seconds
        self._waiting: collections.deque[tuple[str, tuple[str, ...]]] = collections.deque()
        self._next_run = {job.name: 0.0 for job in self.schedule}
        self._running = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._condition = threading.Condition()

    def enqueue(self, job: str, *ids: str) -> None:
        """Queue job ``job`` with id arguments; it runs soon on the background thread."""
        check_job(job, ids)
        with self._condition:
            if (job, ids) not in self._waiting:
                self._waiting.append((job, ids))
            self._ensure_thread()
            self._condition.notify_all()

    def start(self) -> None:
        """Start the background thread now, and with it the schedule."""
        with self._condition:
            self._stopping = False
            self._ensure_thread()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the running job finish, drop waiting ones and end the thread."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """Block until no job is waiting or running; return False on timeout."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._waiting or self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
        return True

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="lumen-jobs", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._next_job()
            if item is None:
                return
            name, ids = item
            try:
                run_job(self.services, name, *ids)
            except Exception as error:
                # The thread must outlive a failing job; the message names the job and
                # the error type only, because driver errors can quote SQL parameters.
                logger.error("job failed", extra={"job": name, "error": type(error).__name__})
            finally:
                with self._condition:
                    self._running = False
                    self._condition.notify_all()

    def _next_job(self) -> tuple[str, tuple[str, ...]] | None:
        idle_since = time.monotonic()
        with self._condition:
            while True:
                if self._stopping:
                    self._waiting.clear()
                    self._thread = None
                    self._condition.notify_all()
                    return None

                if self._waiting:
                    self._running = True
                    return self._waiting.popleft()

                now = time.monotonic()
                due = self._due_periodic(now)
                if due is not None:
                    self._running = True
                    return due, ()

                if self.schedule:
                    wait = min(self._next_run.values()) - now
                else:
                    wait = idle_since + self.idle_seconds - now
                    if wait <= 0:
                        self._thread = None
                        return None
                self._condition.wait(max(wait, 0.01))

    def _due_periodic(self, now: float) -> str | None:
        for job in self.schedule:
            if self._next_run[job.name] <= now:
                self._next_run[job.name] = now + job.interval_seconds
                return job.name
        return None


def make_job_queue(services: Services) -> RqJobQueue | InProcessJobQueue:
    """Return the queue that ``services.config`` selects, without starting any schedule."""
    redis_url = services.config.redis_url
    if redis_url:
        return RqJobQueue(redis_url)
    return InProcessJobQueue(services)
