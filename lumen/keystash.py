"""Server-side storage of a session's private key, sealed under a key the cookie carries.

A caseworker's unwrapped centre key, or a source's derived reply key, must outlive a
request but never reach a cookie or a disk. The key is encrypted with SecretBox under
a random per-session key; the sealed copy stays on the server (in Redis when
configured, in process memory otherwise) with a time-to-live, and only the session
cookie holds the per-session key. A copy of Redis alone reveals nothing, a cookie
alone opens nothing, and deleting the server copy ends access at once.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import nacl.secret
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class StashBackend(Protocol):
    """The storage where sealed keys wait between requests."""

    def put(self, stash_id: str, sealed: bytes, ttl_seconds: int) -> None: ...

    def get(self, stash_id: str) -> bytes | None: ...

    def touch(self, stash_id: str, ttl_seconds: int) -> None: ...

    def delete(self, stash_id: str) -> None: ...


class MemoryStashBackend:
    """Sealed keys in this process's memory; for a single-process instance."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def put(self, stash_id: str, sealed: bytes, ttl_seconds: int) -> None:
        with self._lock:
            self._expire()
            self._items[stash_id] = (sealed, time.monotonic() + ttl_seconds)

    def get(self, stash_id: str) -> bytes | None:
        with self._lock:
            self._expire()
            item = self._items.get(stash_id)
            return item[0] if item else None

    def touch(self, stash_id: str, ttl_seconds: int) -> None:
        with self._lock:
            item = self._items.get(stash_id)
            if item:
                self._items[stash_id] = (item[0], time.monotonic() + ttl_seconds)

    def delete(self, stash_id: str) -> None:
        with self._lock:
            self._items.pop(stash_id, None)

    def remaining_seconds(self, stash_id: str) -> int:
        """Return how long ``stash_id`` has left, in whole seconds (at least 1)."""
        with self._lock:
            item = self._items.get(stash_id)
            if item is None:
                return 1
            return max(1, int(item[1] - time.monotonic()))

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._items)

    def _expire(self) -> None:
        now = time.monotonic()
        for stash_id in [k for k, (_, expires) in self._items.items() if expires <= now]:
            del self._items[stash_id]


class RedisStashBackend:
    """Sealed keys in Redis, so that several app processes can serve one session.

    Each key is also kept in this process's memory, used only while Redis cannot be
    reached: a person who logged in here before an outage stays logged in, and a
    newcomer can still log in and send a report. Keys stored during an outage move to
    Redis when it answers again. While Redis answers, it alone decides, so a logout
    on another process ends the session here too. A warning is logged when an outage
    starts and a notice when it ends.
    """

    def __init__(self, redis: object, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._memory = MemoryStashBackend()
        self._stored_during_outage: set[str] = set()
        self._degraded = False

    def put(self, stash_id: str, sealed: bytes, ttl_seconds: int) -> None:
        self._memory.put(stash_id, sealed, ttl_seconds)
        try:
            self._redis.set(self._prefix + stash_id, sealed, ex=ttl_seconds)  # type: ignore[attr-defined]
        except RedisError as error:
            self._note_outage(error)
            self._stored_during_outage.add(stash_id)
            return
        self._note_recovery()

    def get(self, stash_id: str) -> bytes | None:
        try:
            value = self._redis.get(self._prefix + stash_id)  # type: ignore[attr-defined]
        except RedisError as error:
            self._note_outage(error)
            return self._memory.get(stash_id)

        self._note_recovery()
        if value is not None:
            return bytes(value)
        if stash_id not in self._stored_during_outage:
            return None

        sealed = self._memory.get(stash_id)
        self._stored_during_outage.discard(stash_id)
        if sealed is not None:
            self.put(stash_id, sealed, self._memory.remaining_seconds(stash_id))
        return sealed

    def touch(self, stash_id: str, ttl_seconds: int) -> None:
        self._memory.touch(stash_id, ttl_seconds)
        try:
            self._redis.expire(self._prefix + stash_id, ttl_seconds)  # type: ignore[attr-defined]
        except RedisError as error:
            self._note_outage(error)

    def delete(self, stash_id: str) -> None:
        self._memory.delete(stash_id)
        self._stored_during_outage.discard(stash_id)
        try:
            self._redis.delete(self._prefix + stash_id)  # type: ignore[attr-defined]
        except RedisError as error:
            # The Redis copy expires with the session; the memory copy is gone already.
            self._note_outage(error)

    def _note_outage(self, error: RedisError) -> None:
        if not self._degraded:
            self._degraded = True
            logger.warning(
                "redis unreachable; session keys kept in memory",
                extra={"error": type(error).__name__},
            )

    def _note_recovery(self) -> None:
        if self._degraded:
            self._degraded = False
            logger.info("redis reachable again")


@dataclass(frozen=True, repr=False)
class StashTicket:
    """The session cookie's part: the stash id and the per-session key, in hex."""

    stash_id: str
    session_key: str

    def __repr__(self) -> str:
        return "StashTicket(<redacted>)"


class KeyStash:
    """Seal private keys for the server side and open them with a cookie's ticket."""

    def __init__(self, backend: StashBackend, ttl_seconds: int) -> None:
        self.backend = backend
        self.ttl_seconds = ttl_seconds

    def put(self, private_key: PrivateKey) -> StashTicket:
        """Seal ``private_key`` under a fresh session key and return the cookie's ticket."""
        session_key = secrets.token_bytes(nacl.secret.SecretBox.KEY_SIZE)
        sealed = nacl.secret.SecretBox(session_key).encrypt(bytes(private_key))
        stash_id = secrets.token_urlsafe(24)
        self.backend.put(stash_id, bytes(sealed), self.ttl_seconds)
        return StashTicket(stash_id=stash_id, session_key=session_key.hex())

    def get(self, ticket: StashTicket) -> PrivateKey | None:
        """Return the stashed key and extend its life, or None once it is gone."""
        sealed = self.backend.get(ticket.stash_id)
        if sealed is None:
            return None
        try:
            raw = nacl.secret.SecretBox(bytes.fromhex(ticket.session_key)).decrypt(sealed)
        except (NaclCryptoError, ValueError):
            return None
        self.backend.touch(ticket.stash_id, self.ttl_seconds)
        return PrivateKey(raw)

    def destroy(self, ticket: StashTicket) -> None:
        """Delete the server copy, so that the ticket opens nothing any more."""
        self.backend.delete(ticket.stash_id)
