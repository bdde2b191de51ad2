"""Wrapping centre keys under a passphrase, and key slots."""

from __future__ import annotations

import struct
import time

import nacl.pwhash.argon2id as argon2id
import pytest
from nacl.public import PrivateKey

from crypto import (
    ContentKey,
    DecryptionError,
    KdfParams,
    generate_private_key,
    open_key_slot,
    seal_key_slot,
    unwrap_private_key,
    wrap_private_key,
)
from crypto.keys import SLOT_SIZE

FAST = KdfParams(opslimit=1, memlimit=8192)
PASSPHRASE = "correct horse battery staple"
# magic (4) | version (1) | opslimit (u32 BE) | memlimit (u64 BE) | salt (16)
HEADER = struct.Struct(">4sBIQ16s")
SALT_AT = 17


@pytest.fixture(scope="module")
def private_key() -> PrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def wrapped(private_key: PrivateKey) -> bytes:
    return wrap_private_key(private_key, PASSPHRASE, FAST)


def with_header(wrapped: bytes, **fields: object) -> bytes:
    magic, version, opslimit, memlimit, salt = HEADER.unpack_from(wrapped)
    values = {
        "magic": magic,
        "version": version,
        "opslimit": opslimit,
        "memlimit": memlimit,
        "salt": salt,
        **fields,
    }
    header = HEADER.pack(
        values["magic"], values["version"], values["opslimit"], values["memlimit"], values["salt"]
    )
    return header + wrapped[HEADER.size :]


def test_wrap_round_trip(private_key: PrivateKey, wrapped: bytes) -> None:
    unwrapped = unwrap_private_key(wrapped, PASSPHRASE)

    assert bytes(unwrapped) == bytes(private_key)
    assert bytes(private_key) not in wrapped


def test_wrap_records_parameters(wrapped: bytes) -> None:
    magic, version, opslimit, memlimit, _salt = HEADER.unpack_from(wrapped)

    assert magic == b"LMNW"
    assert version == 1
    assert (opslimit, memlimit) == (FAST.opslimit, FAST.memlimit)
    # header, SecretBox nonce (24), 32-byte key, MAC (16)
    assert len(wrapped) == HEADER.size + 24 + 32 + 16


def test_wraps_use_fresh_salt(private_key: PrivateKey, wrapped: bytes) -> None:
    again = wrap_private_key(private_key, PASSPHRASE, FAST)

    assert again[SALT_AT : SALT_AT + 16] != wrapped[SALT_AT : SALT_AT + 16]
    assert bytes(unwrap_private_key(again, PASSPHRASE)) == bytes(private_key)


@pytest.mark.parametrize(
    "passphrase",
    ["", "correct horse battery stapl", "Correct horse battery staple", PASSPHRASE + " "],
)
def test_wrong_passphrase_rejected(passphrase: str, wrapped: bytes) -> None:
    with pytest.raises(DecryptionError) as raised:
        unwrap_private_key(wrapped, passphrase)

    assert PASSPHRASE not in str(raised.value)
    assert str(raised.value) == "decryption failed"


@pytest.mark.parametrize(
    "fields",
    [
        {"magic": b"LMNX"},
        {"magic": b"LMNE"},
        {"version": 0},
        {"version": 2},
        {"opslimit": FAST.opslimit + 1},
        {"opslimit": 0},
        {"memlimit": FAST.memlimit * 2},
        {"memlimit": FAST.memlimit - 1},
        {"memlimit": FAST.memlimit + 1},
        {"memlimit": FAST.memlimit + 1023},
        {"salt": b"\x00" * 16},
    ],
    ids=lambda fields: "-".join(f"{name}={value!r}" for name, value in fields.items()),
)
def test_tampered_header_rejected(fields: dict[str, object], wrapped: bytes) -> None:
    with pytest.raises(DecryptionError):
        unwrap_private_key(with_header(wrapped, **fields), PASSPHRASE)


@pytest.mark.parametrize("offset", range(HEADER.size))
def test_every_header_bit_flip_rejected(offset: int, wrapped: bytes) -> None:
    changed = bytearray(wrapped)
    # The low bit of each byte keeps the KDF cheap where the byte is part of a cost field.
    changed[offset] ^= 0x01
    started = time.perf_counter()

    with pytest.raises(DecryptionError):
        unwrap_private_key(bytes(changed), PASSPHRASE)

    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    "fields",
    [
        {"memlimit": 2**62},
        {"memlimit": argon2id.MEMLIMIT_MAX},
        {"memlimit": 2 * 1024**3 + 1},
        {"opslimit": 2**32 - 1},
        {"opslimit": 21},
    ],
    ids=lambda fields: "-".join(f"{name}={value!r}" for name, value in fields.items()),
)
def test_absurd_cost_rejected_fast(fields: dict[str, object], wrapped: bytes) -> None:
    started = time.perf_counter()

    with pytest.raises(DecryptionError):
        unwrap_private_key(with_header(wrapped, **fields), PASSPHRASE)

    # Rejected from the header alone: no Argon2id run over gigabytes.
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "params",
    [
        KdfParams(opslimit=21, memlimit=8192),
        KdfParams(opslimit=1, memlimit=2 * 1024**3 + 1024),
        KdfParams(opslimit=1, memlimit=8192 + 512),
    ],
    ids=["opslimit", "memlimit", "memlimit-not-whole-kib"],
)
def test_wrap_rejects_cost_unwrap_refuses(params: KdfParams, private_key: PrivateKey) -> None:
    # A wrap that unwrap_private_key would reject would lock the caseworker out for good.
    with pytest.raises(ValueError, match="unwrap accepts at most"):
        wrap_private_key(private_key, PASSPHRASE, params)


@pytest.mark.parametrize("offset", [HEADER.size, HEADER.size + 23, HEADER.size + 24, -17, -1])
def test_ciphertext_bit_flip_rejected(offset: int, wrapped: bytes) -> None:
    changed = bytearray(wrapped)
    changed[offset] ^= 0x80

    with pytest.raises(DecryptionError):
        unwrap_private_key(bytes(changed), PASSPHRASE)


def test_every_truncation_rejected(wrapped: bytes) -> None:
    for cut in range(len(wrapped)):
        with pytest.raises(DecryptionError):
            unwrap_private_key(wrapped[:cut], PASSPHRASE)


def test_appended_bytes_rejected(wrapped: bytes) -> None:
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped + b"\x00", PASSPHRASE)


@pytest.fixture(scope="module")
def content_key() -> ContentKey:
    return ContentKey.generate()


def test_slot_opens_with_right_key(content_key: ContentKey, private_key: PrivateKey) -> None:
    slot = seal_key_slot(content_key, private_key.public_key)

    assert len(slot) == SLOT_SIZE
    assert bytes(open_key_slot(slot, private_key)) == bytes(content_key)
    assert bytes(content_key) not in slot


def test_slots_differ_per_seal(content_key: ContentKey, private_key: PrivateKey) -> None:
    first = seal_key_slot(content_key, private_key.public_key)
    second = seal_key_slot(content_key, private_key.public_key)

    assert first != second


def test_slot_wrong_key_rejected(content_key: ContentKey, private_key: PrivateKey) -> None:
    slot = seal_key_slot(content_key, private_key.public_key)

    with pytest.raises(DecryptionError):
        open_key_slot(slot, generate_private_key())


def test_slot_truncated_or_extended_rejected(
    content_key: ContentKey, private_key: PrivateKey
) -> None:
    slot = seal_key_slot(content_key, private_key.public_key)

    for cut in range(len(slot)):
        with pytest.raises(DecryptionError):
            open_key_slot(slot[:cut], private_key)
    with pytest.raises(DecryptionError):
        open_key_slot(slot + b"\x00", private_key)


@pytest.mark.parametrize("offset", [0, 31, 32, 40, SLOT_SIZE - 1])
def test_slot_bit_flip_rejected(
    offset: int, content_key: ContentKey, private_key: PrivateKey
) -> None:
    slot = bytearray(seal_key_slot(content_key, private_key.public_key))
    slot[offset] ^= 0x04

    with pytest.raises(DecryptionError):
        open_key_slot(bytes(slot), private_key)
