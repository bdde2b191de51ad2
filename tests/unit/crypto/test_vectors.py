"""Known-answer vectors: stored envelopes, derivations and wraps must still open.

The files under tests/vectors were written once by tests/vectors/make_vectors.py. A
change to the envelope layout, the associated data, the chunk size, the derivation or
the wrap format makes these tests fail; data stored by an older release would then
no longer open either.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey

from crypto import (
    CHUNK_SIZE,
    ContentKey,
    DecryptionError,
    KdfParams,
    decrypt_bytes,
    derive_source_keys,
    unwrap_private_key,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
# magic b"LMNE" and version 1
ENVELOPE_PREFIX = bytes.fromhex("4c4d4e4501")
ENVELOPE_HEADER_SIZE = 5 + 24
CHUNK_OVERHEAD = 17


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text("utf-8"))
    return data


ENVELOPES = load("envelope.json")
DERIVATIONS = load("derivation.json")
WRAP = load("wrap.json")


def expected_plaintext(size: int) -> bytes:
    return bytes((index * 7 + 3) % 256 for index in range(size))


def envelope_case_id(case: dict[str, Any]) -> str:
    return f"size-{case['size']}"


def test_envelope_vectors_cover_chunk_edges() -> None:
    sizes = {case["size"] for case in ENVELOPES["cases"]}

    assert ENVELOPES["chunk_size"] == CHUNK_SIZE
    assert {0, 1, CHUNK_SIZE, CHUNK_SIZE + 1} <= sizes


@pytest.mark.parametrize("case", ENVELOPES["cases"], ids=envelope_case_id)
def test_envelope_vector_decrypts(case: dict[str, Any]) -> None:
    key = ContentKey(bytes.fromhex(ENVELOPES["content_key"]))
    envelope = bytes.fromhex(case["envelope"])

    plaintext = decrypt_bytes(envelope, key, ENVELOPES["record_id"])

    assert len(plaintext) == case["size"]
    assert hashlib.sha256(plaintext).hexdigest() == case["plaintext_sha256"]
    assert plaintext == expected_plaintext(case["size"])
    if "plaintext" in case:
        assert plaintext.hex() == case["plaintext"]


@pytest.mark.parametrize("case", ENVELOPES["cases"], ids=envelope_case_id)
def test_envelope_vector_layout(case: dict[str, Any]) -> None:
    envelope = bytes.fromhex(case["envelope"])
    chunks = max(1, -(-case["size"] // CHUNK_SIZE))

    assert envelope[:5] == ENVELOPE_PREFIX
    assert len(envelope) == ENVELOPE_HEADER_SIZE + case["size"] + chunks * CHUNK_OVERHEAD


@pytest.mark.parametrize("case", ENVELOPES["cases"], ids=envelope_case_id)
def test_envelope_vector_bound_to_record(case: dict[str, Any]) -> None:
    key = ContentKey(bytes.fromhex(ENVELOPES["content_key"]))
    envelope = bytes.fromhex(case["envelope"])

    with pytest.raises(DecryptionError):
        decrypt_bytes(envelope, key, ENVELOPES["record_id"] + "x")
    with pytest.raises(DecryptionError):
        decrypt_bytes(envelope, ContentKey(bytes(32)), ENVELOPES["record_id"])


@pytest.mark.parametrize("case", DERIVATIONS["cases"], ids=lambda case: case["lookup_id"][:8])
def test_derivation_vector(case: dict[str, Any]) -> None:
    params = KdfParams(opslimit=DERIVATIONS["opslimit"], memlimit=DERIVATIONS["memlimit"])

    keys = derive_source_keys(case["codename"], bytes.fromhex(DERIVATIONS["salt"]), params)

    assert keys.lookup_id == case["lookup_id"]
    assert bytes(keys.reply_key.public_key).hex() == case["reply_public_key"]


def test_derivation_vector_parameters() -> None:
    # The vectors use the production memory cost with two passes to stay fast.
    assert DERIVATIONS["opslimit"] == 2
    assert DERIVATIONS["memlimit"] == 64 * 1024 * 1024


def test_wrap_vector_unwraps() -> None:
    wrapped = bytes.fromhex(WRAP["wrapped"])

    private_key = unwrap_private_key(wrapped, WRAP["passphrase"])

    assert bytes(private_key).hex() == WRAP["private_key"]
    assert bytes(private_key.public_key).hex() == WRAP["public_key"]
    assert (
        bytes(PrivateKey(bytes.fromhex(WRAP["private_key"])).public_key).hex()
        == (WRAP["public_key"])
    )


def test_wrap_vector_header() -> None:
    wrapped = bytes.fromhex(WRAP["wrapped"])

    assert wrapped[:5] == b"LMNW\x01"
    assert int.from_bytes(wrapped[5:9], "big") == WRAP["opslimit"]
    assert int.from_bytes(wrapped[9:17], "big") == WRAP["memlimit"]


def test_wrap_vector_wrong_passphrase() -> None:
    with pytest.raises(DecryptionError):
        unwrap_private_key(bytes.fromhex(WRAP["wrapped"]), WRAP["passphrase"].upper())
