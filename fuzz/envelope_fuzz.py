"""Coverage-guided fuzzing of the envelope parser, key unwrapping and key slots.

Run it with atheris (see README.md beside this file). The first input byte picks a
target, the rest is its input:

0. the input is an envelope for a fixed key and record id;
1. the input is XORed onto a valid multi-chunk envelope, so the fuzzer reaches the
   chunk and tag checks past the first MAC;
2. the input is a wrapped private key (its Argon2id cost fields are clamped to the
   cheapest values, because a stored header may ask for up to 2 GiB);
3. the input is a key slot.

Each target fails on any exception other than :class:`crypto.DecryptionError`, and on
any plaintext returned from bytes that differ from the valid original.
"""

from __future__ import annotations

import hashlib
import struct
import sys

import atheris

with atheris.instrument_imports():
    from nacl.public import PrivateKey

    from crypto import (
        CHUNK_SIZE,
        ContentKey,
        DecryptionError,
        KdfParams,
        decrypt_bytes,
        encrypt_bytes,
        open_key_slot,
        seal_key_slot,
        unwrap_private_key,
        wrap_private_key,
    )

RECORD_ID = "fuzz-record"
KEY = ContentKey(bytes(range(32)))
RECIPIENT = PrivateKey(bytes(range(32, 64)))
PASSPHRASE = "fuzz passphrase"  # noqa: S105 (a fixed test value, not a secret)
CHEAP_KDF = KdfParams(opslimit=1, memlimit=8192)

PLAINTEXT = hashlib.shake_128(b"lumen fuzz").digest(2 * CHUNK_SIZE + 100)
ENVELOPE = encrypt_bytes(PLAINTEXT, KEY, RECORD_ID)
WRAPPED = wrap_private_key(RECIPIENT, PASSPHRASE, CHEAP_KDF)
SLOT = seal_key_slot(KEY, RECIPIENT.public_key)
CHEAP_COST_FIELDS = struct.pack(">IQ", CHEAP_KDF.opslimit, CHEAP_KDF.memlimit)


def check_envelope(envelope: bytes) -> None:
    """Fail unless ``envelope`` is rejected or is the valid original."""
    try:
        plaintext = decrypt_bytes(envelope, KEY, RECORD_ID)
    except DecryptionError:
        return
    if envelope != ENVELOPE or plaintext != PLAINTEXT:
        raise AssertionError("a changed envelope decrypted")


def check_mutated_envelope(mask: bytes) -> None:
    """XOR ``mask`` onto the valid envelope, appending what runs past its end."""
    head = bytes(a ^ b for a, b in zip(ENVELOPE, mask, strict=False))
    check_envelope(head + ENVELOPE[len(head) :] + mask[len(ENVELOPE) :])


def check_wrapped_key(wrapped: bytes) -> None:
    """Fail unless ``wrapped`` is rejected or opens to the original key."""
    if len(wrapped) >= 17:
        wrapped = wrapped[:5] + CHEAP_COST_FIELDS + wrapped[17:]
    try:
        key = unwrap_private_key(wrapped, PASSPHRASE)
    except DecryptionError:
        return
    if bytes(key) != bytes(RECIPIENT):
        raise AssertionError("a changed wrapped key opened to another key")


def check_slot(slot: bytes) -> None:
    """Fail unless ``slot`` is rejected or is the valid original."""
    try:
        key = open_key_slot(slot, RECIPIENT)
    except DecryptionError:
        return
    if slot != SLOT or bytes(key) != bytes(KEY):
        raise AssertionError("a changed key slot opened")


TARGETS = (check_envelope, check_mutated_envelope, check_wrapped_key, check_slot)


def test_one_input(data: bytes) -> None:
    """Run the target that the first byte selects on the remaining bytes."""
    if not data:
        return
    TARGETS[data[0] % len(TARGETS)](data[1:])


def main() -> None:
    """Hand the target to atheris with the command-line arguments of libFuzzer."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
