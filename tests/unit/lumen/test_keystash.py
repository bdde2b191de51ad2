"""The key stash: sealed server-side copies, and Redis outages."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from crypto import generate_private_key
from lumen.keystash import KeyStash, MemoryStashBackend, RedisStashBackend
from tests.conftest import REDIS_URL

TTL = 60


@pytest.fixture
def live_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"test-stash-{secrets.token_hex(4)}:"
    yield client
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def _unreachable() -> redis.Redis:
    # Nothing listens on port 1 of loopback, so every command fails at once.
    return redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))


def test_memory_stash_round_trip() -> None:
    stash = KeyStash(MemoryStashBackend(), TTL)
    key = generate_private_key()

    ticket = stash.put(key)

    opened = stash.get(ticket)
    assert opened is not None
    assert bytes(opened) == bytes(key)


def test_stash_copy_alone_opens_nothing() -> None:
    backend = MemoryStashBackend()
    stash = KeyStash(backend, TTL)
    key = generate_private_key()
    ticket = stash.put(key)

    sealed = backend.get(ticket.stash_id)

    assert sealed is not None
    assert bytes(key) not in sealed
    forged = type(ticket)(stash_id=ticket.stash_id, session_key=secrets.token_hex(32))
    assert stash.get(forged) is None


@pytest.mark.redis
def test_redis_stash_survives_outage(live_redis: redis.Redis) -> None:
    backend = RedisStashBackend(live_redis, f"test-stash-{secrets.token_hex(4)}:")
    stash = KeyStash(backend, TTL)
    key = generate_private_key()
    ticket = stash.put(key)

    backend._redis = _unreachable()
    during = stash.get(ticket)

    assert during is not None
    assert bytes(during) == bytes(key)


@pytest.mark.redis
def test_key_stored_in_outage_moves_to_redis(live_redis: redis.Redis) -> None:
    prefix = f"test-stash-{secrets.token_hex(4)}:"
    backend = RedisStashBackend(_unreachable(), prefix)
    stash = KeyStash(backend, TTL)
    key = generate_private_key()
    ticket = stash.put(key)

    backend._redis = live_redis
    after = stash.get(ticket)

    assert after is not None
    assert bytes(after) == bytes(key)
    assert live_redis.get(prefix + ticket.stash_id) is not None


@pytest.mark.redis
def test_logout_elsewhere_ends_session_here(live_redis: redis.Redis) -> None:
    prefix = f"test-stash-{secrets.token_hex(4)}:"
    here = KeyStash(RedisStashBackend(live_redis, prefix), TTL)
    elsewhere = KeyStash(RedisStashBackend(live_redis, prefix), TTL)
    ticket = here.put(generate_private_key())

    elsewhere.destroy(ticket)

    assert here.get(ticket) is None
