"""Derivation of a source's lookup id and reply key pair from a codename.

Argon2id over the normalised codename, salted with an instance-wide secret, gives 64
bytes. Keyed BLAKE2b with distinct personalisation splits them into two values that
reveal nothing about each other: a lookup id, which is stored, and the seed of the
source's X25519 reply key pair, whose public half alone is stored.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Final

import nacl.hash
import nacl.pwhash.argon2id as argon2id
from nacl.encoding import RawEncoder
from nacl.public import PrivateKey

from crypto.codenames import normalize_codename
from crypto.errors import DerivationBusy

SALT_SIZE: Final = argon2id.SALTBYTES
_MASTER_SIZE: Final = 64
_LOOKUP_PERSON: Final = b"lumen-lookup-v1\0"
_REPLY_PERSON: Final = b"lumen-reply-v1\0\0"
PRODUCTION_MIN_MEMLIMIT: Final = 64 * 1024 * 1024


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: ``opslimit`` passes over ``memlimit`` bytes of memory."""

    opslimit: int
    memlimit: int

    def __post_init__(self) -> None:
        if self.opslimit < argon2id.OPSLIMIT_MIN:
            raise ValueError(f"opslimit {self.opslimit!r} is below {argon2id.OPSLIMIT_MIN}")
        if self.memlimit < argon2id.MEMLIMIT_MIN:
            raise ValueError(f"memlimit {self.memlimit!r} is below {argon2id.MEMLIMIT_MIN}")


@dataclass(frozen=True, repr=False)
class SourceKeys:
    """The values a codename derives: the stored lookup id and the reply key pair."""

    lookup_id: str
    reply_key: PrivateKey

    def __repr__(self) -> str:
        return "SourceKeys(<redacted>)"


def derive_source_keys(codename: str, salt: bytes, params: KdfParams) -> SourceKeys:
    """Derive a source's keys from ``codename`` after normalising it."""
    if len(salt) != SALT_SIZE:
        raise ValueError(f"the codename salt is {SALT_SIZE} bytes")

    master = argon2id.kdf(
        _MASTER_SIZE,
        normalize_codename(codename).encode("utf-8"),
        salt,
        opslimit=params.opslimit,
        memlimit=params.memlimit,
    )
    lookup = nacl.hash.blake2b(
        b"", digest_size=32, key=master, person=_LOOKUP_PERSON, encoder=RawEncoder
    )
    seed = nacl.hash.blake2b(
        b"", digest_size=32, key=master, person=_REPLY_PERSON, encoder=RawEncoder
    )
    return SourceKeys(lookup_id=lookup.hex(), reply_key=PrivateKey.from_seed(seed))


class SourceKeyDeriver:
    """Derive source keys with at most ``concurrency`` derivations running at once.

    Each derivation holds ``memlimit`` bytes and a core for its duration, so a flood
    of logins would otherwise exhaust memory and every worker thread. A caller that
    finds every slot taken may wait up to ``timeout`` seconds, but only while the queue
    is short enough to clear within a tenth of that time at the measured speed of a
    derivation; any further caller gets :class:`DerivationBusy` at once. Waiting
    callers each hold a server thread, so a flood then holds them only briefly and
    other pages keep being served. ``max_waiting``, when given, caps the queue too.
    """

    def __init__(
        self,
        salt: bytes,
        params: KdfParams,
        concurrency: int,
        timeout: float = 30.0,
        max_waiting: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"derivation concurrency {concurrency!r} must be at least 1")
        if len(salt) != SALT_SIZE:
            raise ValueError(f"the codename salt is {SALT_SIZE} bytes")

        self._salt = salt
        self.params = params
        self._slots = threading.BoundedSemaphore(concurrency)
        self._timeout = timeout
        self._concurrency = concurrency
        self._max_waiting = max_waiting
        self._waiting = 0
        self._waiting_lock = threading.Lock()
        # Moving average of one derivation's duration, in seconds; None until measured.
        self._average_seconds: float | None = None

    def derive(self, codename: str) -> SourceKeys:
        """Derive keys for ``codename`` or raise :class:`DerivationBusy`."""
        if not self._slots.acquire(blocking=False):
            self._wait_for_slot()
        started = time.monotonic()
        try:
            return derive_source_keys(codename, self._salt, self.params)
        finally:
            self._slots.release()
            self._record_duration(time.monotonic() - started)

    def _queue_limit(self) -> int:
        if not self._average_seconds:
            # Nothing measured yet: the cap alone applies.
            limit = self._max_waiting if self._max_waiting is not None else self._concurrency
        else:
            budget = self._timeout / 10
            limit = max(1, int(self._concurrency * budget / self._average_seconds))
        if self._max_waiting is not None:
            limit = min(limit, self._max_waiting)
        return limit

    def _record_duration(self, seconds: float) -> None:
        with self._waiting_lock:
            if self._average_seconds is None:
                self._average_seconds = seconds
            else:
                self._average_seconds = 0.8 * self._average_seconds + 0.2 * seconds

    def _wait_for_slot(self) -> None:
        with self._waiting_lock:
            if self._waiting >= self._queue_limit():
                raise DerivationBusy()
            self._waiting += 1
        try:
            acquired = self._slots.acquire(timeout=self._timeout)
        finally:
            with self._waiting_lock:
                self._waiting -= 1
        if not acquired:
            raise DerivationBusy()
