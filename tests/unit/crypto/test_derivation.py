"""Derivation of a source's lookup id and reply key, and its concurrency bound."""

from __future__ import annotations

import threading
import time
import unicodedata
from pathlib import Path

import pytest

import crypto.derivation as derivation
from crypto import DerivationBusy, KdfParams, SourceKeyDeriver, SourceKeys, derive_source_keys
from lumen.config import MIB, ConfigError, config_from_mapping

FAST = KdfParams(opslimit=1, memlimit=8192)
SALT = bytes(range(16))
CODENAME = "sept poissons rouges sautent sur le toit"

SAME_CODENAME = {
    "leading and trailing spaces": "   sept poissons rouges sautent sur le toit  ",
    "pasted crlf": "sept poissons rouges\r\nsautent sur le toit\r\n",
    "tab and double space": "sept\tpoissons  rouges sautent sur  le\ttoit",
    "capital first letter": "Sept poissons rouges sautent sur le toit",
    "all capitals": "SEPT POISSONS ROUGES SAUTENT SUR LE TOIT",
}
ACCENTED = "été déjà noël façade œuvre garçon élève"


@pytest.fixture(scope="module")
def reference() -> SourceKeys:
    return derive_source_keys(CODENAME, SALT, FAST)


def test_derivation_is_deterministic(reference: SourceKeys) -> None:
    again = derive_source_keys(CODENAME, SALT, FAST)

    assert again.lookup_id == reference.lookup_id
    assert bytes(again.reply_key) == bytes(reference.reply_key)
    assert len(reference.lookup_id) == 64
    int(reference.lookup_id, 16)


def test_lookup_id_independent_of_reply_key(reference: SourceKeys) -> None:
    assert reference.lookup_id != bytes(reference.reply_key).hex()
    assert reference.lookup_id != bytes(reference.reply_key.public_key).hex()


def test_keys_repr_hides_values(reference: SourceKeys) -> None:
    assert reference.lookup_id not in repr(reference)
    assert "redacted" in repr(reference)


@pytest.mark.parametrize("case", SAME_CODENAME)
def test_typing_variants_derive_same_keys(case: str, reference: SourceKeys) -> None:
    keys = derive_source_keys(SAME_CODENAME[case], SALT, FAST)

    assert keys.lookup_id == reference.lookup_id
    assert bytes(keys.reply_key.public_key) == bytes(reference.reply_key.public_key)


@pytest.mark.parametrize(
    "typed",
    [unicodedata.normalize("NFD", ACCENTED), ACCENTED.upper(), " " + ACCENTED.title() + "\r\n"],
    ids=["nfd accents", "all capitals", "title case and crlf"],
)
def test_accent_variants_derive_same_keys(typed: str) -> None:
    expected = derive_source_keys(ACCENTED, SALT, FAST)
    keys = derive_source_keys(typed, SALT, FAST)

    assert keys.lookup_id == expected.lookup_id
    assert bytes(keys.reply_key) == bytes(expected.reply_key)


@pytest.mark.parametrize(
    "other",
    [
        "sept poissons rouges sautent sur le toît",
        "sept poissons rouges sautent sur la toit",
        "poissons sept rouges sautent sur le toit",
        "sept poissons rouges sautent sur le",
        "septpoissons rouges sautent sur le toit",
    ],
    ids=["accent added", "changed word", "reordered words", "missing word", "joined words"],
)
def test_different_codename_derives_other_keys(other: str, reference: SourceKeys) -> None:
    keys = derive_source_keys(other, SALT, FAST)

    assert keys.lookup_id != reference.lookup_id
    assert bytes(keys.reply_key) != bytes(reference.reply_key)


def test_salt_changes_keys(reference: SourceKeys) -> None:
    keys = derive_source_keys(CODENAME, bytes(16), FAST)

    assert keys.lookup_id != reference.lookup_id
    assert bytes(keys.reply_key) != bytes(reference.reply_key)


def test_cost_changes_keys(reference: SourceKeys) -> None:
    keys = derive_source_keys(CODENAME, SALT, KdfParams(opslimit=2, memlimit=8192))

    assert keys.lookup_id != reference.lookup_id


def test_wrong_salt_size_rejected() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        derive_source_keys(CODENAME, b"short", FAST)
    with pytest.raises(ValueError, match="16 bytes"):
        SourceKeyDeriver(b"short", FAST, concurrency=1)


def test_kdf_params_below_minimum_rejected() -> None:
    with pytest.raises(ValueError, match="opslimit"):
        KdfParams(opslimit=0, memlimit=8192)
    with pytest.raises(ValueError, match="memlimit"):
        KdfParams(opslimit=1, memlimit=4096)


def test_deriver_rejects_zero_concurrency() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SourceKeyDeriver(SALT, FAST, concurrency=0)


def test_deriver_matches_direct_derivation(reference: SourceKeys) -> None:
    keys = SourceKeyDeriver(SALT, FAST, concurrency=1).derive(CODENAME)

    assert keys.lookup_id == reference.lookup_id
    assert bytes(keys.reply_key) == bytes(reference.reply_key)


class RunningCounter:
    """Wraps derive_source_keys and records how many calls run at the same time."""

    def __init__(self, hold: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._real = derivation.derive_source_keys
        self.hold = hold
        self.running = 0
        self.peak = 0
        self.calls = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self, codename: str, salt: bytes, params: KdfParams) -> SourceKeys:
        with self._lock:
            self.running += 1
            self.calls += 1
            self.peak = max(self.peak, self.running)
        self.entered.set()
        try:
            self.release.wait(timeout=10)
            time.sleep(self.hold)
            return self._real(codename, salt, params)
        finally:
            with self._lock:
                self.running -= 1


@pytest.mark.parametrize("slots", [1, 2, 3])
def test_deriver_bounds_concurrency(slots: int, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = RunningCounter(hold=0.03)
    monkeypatch.setattr(derivation, "derive_source_keys", counter)
    thread_count = 4 * slots + 2
    deriver = SourceKeyDeriver(SALT, FAST, concurrency=slots, timeout=10, max_waiting=thread_count)
    start = threading.Barrier(thread_count)
    results: list[str] = []
    errors: list[BaseException] = []

    def login() -> None:
        start.wait()
        try:
            results.append(deriver.derive(CODENAME).lookup_id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=login) for _ in range(thread_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert counter.calls == thread_count
    assert len(results) == thread_count
    assert counter.peak <= slots
    # The bound is a limit, not serialisation: with enough callers every slot is used.
    assert counter.peak == slots


def test_deriver_busy_after_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = RunningCounter()
    counter.release.clear()
    monkeypatch.setattr(derivation, "derive_source_keys", counter)
    deriver = SourceKeyDeriver(SALT, FAST, concurrency=1, timeout=0.2)
    holder = threading.Thread(target=deriver.derive, args=(CODENAME,))
    holder.start()
    assert counter.entered.wait(timeout=5)

    started = time.monotonic()
    with pytest.raises(DerivationBusy):
        deriver.derive(CODENAME)
    waited = time.monotonic() - started

    counter.release.set()
    holder.join(timeout=10)
    assert waited >= 0.19
    assert counter.calls == 1
    # The slot is free again once the holder finished.
    assert deriver.derive(CODENAME).lookup_id == derive_source_keys(CODENAME, SALT, FAST).lookup_id


def test_deriver_turns_away_beyond_waiters(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = RunningCounter()
    counter.release.clear()
    monkeypatch.setattr(derivation, "derive_source_keys", counter)
    deriver = SourceKeyDeriver(SALT, FAST, concurrency=1, timeout=10, max_waiting=1)
    holder = threading.Thread(target=deriver.derive, args=(CODENAME,))
    holder.start()
    assert counter.entered.wait(timeout=5)
    waiter = threading.Thread(target=deriver.derive, args=(CODENAME,))
    waiter.start()
    deadline = time.monotonic() + 5
    while deriver._waiting < 1 and time.monotonic() < deadline:
        time.sleep(0.01)

    started = time.monotonic()
    with pytest.raises(DerivationBusy):
        deriver.derive(CODENAME)
    turned_away_after = time.monotonic() - started

    counter.release.set()
    holder.join(timeout=10)
    waiter.join(timeout=10)
    assert deriver._waiting == 0
    # The third caller did not wait for the ten-second timeout.
    assert turned_away_after < 1.0
    assert counter.calls == 2


@pytest.mark.parametrize(
    ("derivation_seconds", "timeout", "cap", "expected"),
    [
        (None, 1.0, None, 2),
        (None, 1.0, 3, 3),
        (0.001, 1.0, None, 200),
        (0.05, 1.0, None, 4),
        (0.5, 0.2, None, 1),
        (0.001, 1.0, 3, 3),
        (0.5, 0.2, 3, 1),
    ],
)
def test_queue_fits_what_clears_in_time(
    derivation_seconds: float | None, timeout: float, cap: int | None, expected: int
) -> None:
    deriver = SourceKeyDeriver(SALT, FAST, concurrency=2, timeout=timeout, max_waiting=cap)
    if derivation_seconds is not None:
        deriver._record_duration(derivation_seconds)

    assert deriver._queue_limit() == expected


def test_busy_message_names_no_codename() -> None:
    assert CODENAME not in str(DerivationBusy())


def _config_mapping(**kdf: object) -> dict[str, object]:
    return {
        "data_dir": "data",
        "centres": [{"id": "payoke", "name": "Payoke", "city": "Antwerpen"}],
        "kdf": kdf,
    }


SECRETS_ENV = {
    "LUMEN_CODENAME_SALT": "00" * 16,
    "LUMEN_SOURCE_SECRET_KEY": "11" * 32,
    "LUMEN_CASEWORKER_SECRET_KEY": "22" * 32,
}


@pytest.mark.parametrize("name", ["source_memlimit_mib", "passphrase_memlimit_mib"])
@pytest.mark.parametrize("mib", [0, 8, 63])
def test_production_config_rejects_small_memlimit(name: str, mib: int, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 64"):
        config_from_mapping(_config_mapping(**{name: mib}), SECRETS_ENV, base=tmp_path)


def test_production_config_accepts_64_mib(tmp_path: Path) -> None:
    config = config_from_mapping(
        _config_mapping(source_memlimit_mib=64, passphrase_memlimit_mib=128),
        SECRETS_ENV,
        base=tmp_path,
    )

    assert config.source_kdf.memlimit == 64 * MIB
    assert config.passphrase_kdf.memlimit == 128 * MIB


def test_production_config_default_memlimit(tmp_path: Path) -> None:
    config = config_from_mapping(_config_mapping(), SECRETS_ENV, base=tmp_path)

    assert config.source_kdf.memlimit >= 64 * MIB
    assert config.passphrase_kdf.memlimit >= 64 * MIB
