"""TOTP matching, throttles and the answers summary, without an app."""

from __future__ import annotations

import datetime as dt
import json

import pyotp
import pytest
import redis

from journalist_app.casework import summarise_answers
from journalist_app.login import match_totp
from journalist_app.throttle import MemoryThrottle, RedisThrottle, account_key
from tests.conftest import REDIS_URL

SECRET = pyotp.random_base32()
NOW = 1_800_000_015.0


def _code(offset_steps: int) -> str:
    return pyotp.TOTP(SECRET).at(NOW + 30 * offset_steps)


def test_totp_accepts_one_step_either_side() -> None:
    current = pyotp.TOTP(SECRET).timecode(dt.datetime.fromtimestamp(NOW, dt.UTC))

    for offset in (-1, 0, 1):
        assert match_totp(SECRET, _code(offset), 0, NOW) == current + offset
    assert match_totp(SECRET, _code(2), 0, NOW) is None
    assert match_totp(SECRET, _code(-2), 0, NOW) is None


def test_totp_rejects_used_and_older_steps() -> None:
    step = match_totp(SECRET, _code(0), 0, NOW)
    assert step is not None

    assert match_totp(SECRET, _code(0), step, NOW) is None
    assert match_totp(SECRET, _code(-1), step, NOW) is None
    assert match_totp(SECRET, _code(1), step, NOW) == step + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_totp_rejects_malformed_codes(code: str) -> None:
    assert match_totp(SECRET, code, 0, NOW) is None


def test_totp_accepts_spaces_in_code() -> None:
    code = _code(0)
    assert match_totp(SECRET, f" {code[:3]} {code[3:]} ", 0, NOW) is not None


def test_memory_throttle_window() -> None:
    now = [100.0]
    throttle = MemoryThrottle(clock=lambda: now[0])

    assert [throttle.hit("k", 2, 60) for _ in range(2)] == [0, 0]
    assert throttle.hit("k", 2, 60) == 60
    assert throttle.hit("other", 2, 60) == 0
    now[0] += 30
    assert throttle.hit("k", 2, 60) == 30
    now[0] += 31
    assert throttle.hit("k", 2, 60) == 0


@pytest.mark.redis
def test_redis_throttle_window() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"lumen:test:{pyotp.random_base32()}:"
    throttle = RedisThrottle(client, prefix)
    try:
        assert [throttle.hit("k", 2, 60) for _ in range(2)] == [0, 0]
        retry = throttle.hit("k", 2, 60)
        assert 0 < retry <= 60
        assert throttle.hit("other", 2, 60) == 0
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


def test_account_key_hides_the_name() -> None:
    key = account_key(b"s" * 32, "anna")

    assert "anna" not in key
    assert key == account_key(b"s" * 32, "anna")
    assert key != account_key(b"t" * 32, "anna")


@pytest.mark.parametrize(
    "answers, danger, kinds",
    [
        ({"in_danger": True, "exploitation": ["labour", "sexual"]}, True, ("labour", "sexual")),
        ({"in_danger": "yes"}, True, ()),
        ({"danger": False, "exploitation": "begging"}, False, ("begging",)),
        ({}, False, ()),
    ],
)
def test_summarise_answers(
    answers: dict[str, object], danger: bool, kinds: tuple[str, ...]
) -> None:
    summary = summarise_answers(json.dumps(answers).encode())

    assert summary.readable
    assert summary.danger is danger
    assert summary.exploitation == kinds


@pytest.mark.parametrize("data", [None, b"\xff", b"[1, 2]", b"not json"])
def test_summarise_unreadable_answers(data: bytes | None) -> None:
    assert not summarise_answers(data).readable
