"""Login throttling: attempt counters per key over a fixed time window.

Counters live in Redis when the instance has one, so that every app process sees the
same counts, and in process memory otherwise. Keys are HMACs of the account name, so
Redis never holds a username.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol


class Throttle(Protocol):
    """Counts attempts per key in fixed windows of ``window_seconds``."""

    def hit(self, key: str, limit: int, window_seconds: int) -> int:
        """Count one attempt; return 0 if it is within ``limit``, else seconds to wait."""
        ...


class MemoryThrottle:
    """Attempt counters in this process's memory."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_seconds: int) -> int:
        now = self._clock()
        with self._lock:
            self._forget_expired(now)
            started, count = self._windows.get(key, (now, 0))
            if now - started >= window_seconds:
                started, count = now, 0
            count += 1
            self._windows[key] = (started, count)
            if count <= limit:
                return 0
            return max(1, int(started + window_seconds - now))

    def _forget_expired(self, now: float, window_seconds: int = 3600) -> None:
        # Windows are at most an hour long, so older entries can only be stale.
        stale = [
            key for key, (started, _) in self._windows.items() if now - started > window_seconds
        ]
        for key in stale:
            del self._windows[key]


class RedisThrottle:
    """Attempt counters in Redis, shared by every app process."""

    def __init__(self, redis: Any, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def hit(self, key: str, limit: int, window_seconds: int) -> int:
        name = self._prefix + key
        pipeline = self._redis.pipeline()
        pipeline.incr(name)
        pipeline.expire(name, window_seconds, nx=True)
        pipeline.ttl(name)
        count, _, ttl = pipeline.execute()
        if int(count) <= limit:
            return 0
        return max(1, int(ttl))


def account_key(secret: bytes, username: str) -> str:
    """Return the throttle key of an account name, an HMAC that hides the name."""
    digest = hmac.new(secret, b"login-account:" + username.encode("utf-8"), hashlib.sha256)
    return "account:" + digest.hexdigest()[:32]
