"""Centre key pairs, their wrapping under a passphrase, and key slots.

A wrapped key has this layout::

    magic b"LMNW" | version (1) | opslimit (u32 BE) | memlimit (u64 BE) | salt (16)
    | SecretBox nonce and ciphertext of the 32-byte X25519 private key

The Argon2id parameters travel with the ciphertext so that they can be raised later
without breaking old wraps. A changed parameter yields another key, so tampering with
the header fails authentication like any other change. Argon2id counts memory in whole
KiB, so a memlimit that is not a multiple of 1024 is rejected: otherwise two headers
that differ in the low bits of memlimit would derive the same key.
"""

from __future__ import annotations

import struct
from typing import Final

import nacl.pwhash.argon2id as argon2id
import nacl.secret
import nacl.utils
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from crypto.derivation import KdfParams
from crypto.envelope import ContentKey
from crypto.errors import DecryptionError

_WRAP_MAGIC: Final = b"LMNW"
_WRAP_VERSION: Final = 1
_WRAP_HEADER: Final = struct.Struct(">4sBIQ16s")
# Upper bounds on what a stored header may ask for, so that a tampered header cannot
# ask for an unbounded KDF run. At the bounds one unwrap still allocates 2 GiB and took
# 42 seconds on a 2-core AMD EPYC (PyNaCl 1.6, one Argon2id lane).
_MAX_OPSLIMIT: Final = 20
_MAX_MEMLIMIT: Final = 2 * 1024**3
_MEMLIMIT_UNIT: Final = 1024
SLOT_SIZE: Final = 32 + 48  # ephemeral public key + sealed 32-byte content key


def generate_private_key() -> PrivateKey:
    """Create a centre or test X25519 key pair from the CSPRNG."""
    return PrivateKey.generate()


def wrap_private_key(private_key: PrivateKey, passphrase: str, params: KdfParams) -> bytes:
    """Encrypt ``private_key`` under a key derived from ``passphrase``.

    :raises ValueError: when ``params`` lie outside what :func:`unwrap_private_key`
        accepts, because such a wrap could never be opened again.
    """
    if not _cost_accepted(params.opslimit, params.memlimit):
        raise ValueError(
            f"cannot wrap with {params!r}: unwrap accepts at most opslimit {_MAX_OPSLIMIT}"
            f" and memlimit {_MAX_MEMLIMIT} bytes, in whole KiB"
        )

    salt = nacl.utils.random(argon2id.SALTBYTES)
    wrapping_key = argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode("utf-8"),
        salt,
        opslimit=params.opslimit,
        memlimit=params.memlimit,
    )
    header = _WRAP_HEADER.pack(_WRAP_MAGIC, _WRAP_VERSION, params.opslimit, params.memlimit, salt)
    box = nacl.secret.SecretBox(wrapping_key)
    return header + bytes(box.encrypt(bytes(private_key)))


def unwrap_private_key(wrapped: bytes, passphrase: str) -> PrivateKey:
    """Return the private key inside ``wrapped``, or raise :class:`DecryptionError`."""
    if len(wrapped) <= _WRAP_HEADER.size:
        raise DecryptionError()

    magic, version, opslimit, memlimit, salt = _WRAP_HEADER.unpack_from(wrapped)
    if magic != _WRAP_MAGIC or version != _WRAP_VERSION or not _cost_accepted(opslimit, memlimit):
        raise DecryptionError()

    wrapping_key = argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode("utf-8"),
        salt,
        opslimit=opslimit,
        memlimit=memlimit,
    )
    try:
        raw = nacl.secret.SecretBox(wrapping_key).decrypt(wrapped[_WRAP_HEADER.size :])
    except NaclCryptoError:
        raise DecryptionError() from None

    return PrivateKey(raw)


def _cost_accepted(opslimit: int, memlimit: int) -> bool:
    return (
        argon2id.OPSLIMIT_MIN <= opslimit <= _MAX_OPSLIMIT
        and argon2id.MEMLIMIT_MIN <= memlimit <= _MAX_MEMLIMIT
        and memlimit % _MEMLIMIT_UNIT == 0
    )


def seal_key_slot(content_key: ContentKey, recipient: PublicKey) -> bytes:
    """Seal ``content_key`` to ``recipient``; only its private key can open the slot."""
    return bytes(SealedBox(recipient).encrypt(bytes(content_key)))


def open_key_slot(slot: bytes, private_key: PrivateKey) -> ContentKey:
    """Open a key slot sealed to ``private_key``, or raise :class:`DecryptionError`."""
    if len(slot) != SLOT_SIZE:
        raise DecryptionError()

    try:
        return ContentKey(SealedBox(private_key).decrypt(slot))
    except NaclCryptoError:
        raise DecryptionError() from None
