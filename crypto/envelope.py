"""The envelope: one streaming format for every encrypted record Lumen stores.

Layout of an envelope::

    magic b"LMNE" | version (1 byte) | secretstream header (24 bytes) | chunks...

Each chunk is secretstream XChaCha20-Poly1305 over at most ``CHUNK_SIZE`` bytes of
plaintext. Every chunk but the last holds exactly ``CHUNK_SIZE`` bytes and carries
``TAG_MESSAGE``; the last holds 0 to ``CHUNK_SIZE`` bytes and carries ``TAG_FINAL``.
Every chunk binds, as associated data, the magic, the version and the record id, so a
body moved to another record, or given another version byte, fails authentication.

The content key is random per envelope and never stored in the clear: callers seal it
to each recipient with :func:`crypto.keys.seal_key_slot` and keep those slots apart
from the body, so a recipient can be added without rewriting the body.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from typing import BinaryIO, Final

import nacl.bindings as sodium
from nacl.exceptions import CryptoError as NaclCryptoError

from crypto.errors import DecryptionError

MAGIC: Final = b"LMNE"
VERSION: Final = 1
CHUNK_SIZE: Final = 64 * 1024
KEY_SIZE: Final = sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES
_ABYTES: Final = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
_STREAM_HEADER_SIZE: Final = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
HEADER_SIZE: Final = len(MAGIC) + 1 + _STREAM_HEADER_SIZE
_TAG_MESSAGE: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_MAX_RECORD_ID_BYTES: Final = 255


class ContentKey:
    """A random secretstream key that encrypts exactly one envelope."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != KEY_SIZE:
            raise ValueError(f"a content key is {KEY_SIZE} bytes")
        self._key = key

    @classmethod
    def generate(cls) -> ContentKey:
        """Create a fresh key from the operating system's CSPRNG."""
        return cls(secrets.token_bytes(KEY_SIZE))

    def __bytes__(self) -> bytes:
        return self._key

    def __repr__(self) -> str:
        return "ContentKey(<redacted>)"


def _associated_data(record_id: str, version: int) -> bytes:
    encoded = record_id.encode("utf-8")
    if not encoded or len(encoded) > _MAX_RECORD_ID_BYTES:
        raise ValueError(f"a record id is 1 to {_MAX_RECORD_ID_BYTES} bytes of UTF-8")

    return MAGIC + bytes([version, len(encoded)]) + encoded


class EnvelopeWriter:
    """Encrypt a stream into ``sink`` chunk by chunk; memory stays at one chunk.

    Call :meth:`write` any number of times, then :meth:`close` exactly once, which
    writes the final chunk. An unclosed envelope is truncated and will not decrypt.
    """

    def __init__(self, sink: BinaryIO, key: ContentKey, record_id: str) -> None:
        self._sink = sink
        self._ad = _associated_data(record_id, VERSION)
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        stream_header = sodium.crypto_secretstream_xchacha20poly1305_init_push(
            self._state, bytes(key)
        )
        self._buffer = bytearray()
        # A whole chunk written as one bytes object, not yet pushed; then _buffer is empty.
        self._held: bytes | None = None
        self._closed = False
        self.plaintext_size = 0
        self.ciphertext_size = HEADER_SIZE
        sink.write(MAGIC + bytes([VERSION]) + stream_header)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Encrypt ``data``, emitting every chunk that is complete."""
        if self._closed:
            raise ValueError("write to a closed envelope")

        if not data:
            return
        self.plaintext_size += len(data)
        # More data follows, so a held chunk is not the final one.
        if self._held is not None:
            self._push(self._held, _TAG_MESSAGE)
            self._held = None
        # A whole chunk of immutable bytes is kept by reference, not copied, because
        # encrypt_stream writes whole chunks and each copy costs throughput.
        if not self._buffer and type(data) is bytes and len(data) == CHUNK_SIZE:
            self._held = data
            return

        self._buffer += data
        # Keep at least one byte back, so that the final chunk is never a full chunk
        # followed by an empty one only because the input ended on a chunk boundary.
        while len(self._buffer) > CHUNK_SIZE:
            self._push(bytes(self._buffer[:CHUNK_SIZE]), _TAG_MESSAGE)
            del self._buffer[:CHUNK_SIZE]

    def close(self) -> None:
        """Write the final chunk. Closing twice is an error."""
        if self._closed:
            raise ValueError("envelope already closed")

        if self._held is not None:
            self._push(self._held, _TAG_FINAL)
            self._held = None
        else:
            self._push(bytes(self._buffer), _TAG_FINAL)
            self._buffer.clear()
        self._closed = True

    def _push(self, chunk: bytes, tag: int) -> None:
        ciphertext = sodium.crypto_secretstream_xchacha20poly1305_push(
            self._state, chunk, self._ad, tag
        )
        self._sink.write(ciphertext)
        self.ciphertext_size += len(ciphertext)


class EnvelopeReader:
    """Iterate over the authenticated plaintext chunks of an envelope.

    No byte is released before its chunk has been authenticated. A wrong key, a
    changed header or record id, a reordered or missing chunk, a missing final chunk
    and data after the final chunk all raise :class:`DecryptionError`; a caller that
    streams the plaintext onwards must treat that error as "discard everything".
    """

    def __init__(self, source: BinaryIO, key: ContentKey, record_id: str) -> None:
        self._source = source
        self._key = key
        self._record_id = record_id

    def __iter__(self) -> Iterator[bytes]:
        header = _read_exactly(self._source, HEADER_SIZE)
        if len(header) != HEADER_SIZE or header[: len(MAGIC)] != MAGIC:
            raise DecryptionError()

        version = header[len(MAGIC)]
        if version != VERSION:
            raise DecryptionError()

        ad = _associated_data(self._record_id, version)
        state = sodium.crypto_secretstream_xchacha20poly1305_state()
        try:
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(
                state, header[len(MAGIC) + 1 :], bytes(self._key)
            )
        except NaclCryptoError:
            raise DecryptionError() from None

        while True:
            ciphertext = _read_exactly(self._source, CHUNK_SIZE + _ABYTES)
            if len(ciphertext) < _ABYTES:
                raise DecryptionError()  # truncated: the stream ended before TAG_FINAL

            try:
                plaintext, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                    state, ciphertext, ad
                )
            except NaclCryptoError:
                raise DecryptionError() from None

            if tag == _TAG_FINAL:
                if self._source.read(1):
                    raise DecryptionError()  # trailing data after the final chunk
                yield plaintext
                return

            if tag != _TAG_MESSAGE or len(plaintext) != CHUNK_SIZE:
                raise DecryptionError()
            yield plaintext


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    parts = []
    remaining = size
    while remaining:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)

    return b"".join(parts)


def encrypt_stream(
    source: BinaryIO, sink: BinaryIO, key: ContentKey, record_id: str
) -> EnvelopeWriter:
    """Encrypt everything ``source`` yields into ``sink`` and return the closed writer."""
    writer = EnvelopeWriter(sink, key, record_id)
    while chunk := source.read(CHUNK_SIZE):
        writer.write(chunk)
    writer.close()
    return writer


def decrypt_stream(source: BinaryIO, sink: BinaryIO, key: ContentKey, record_id: str) -> int:
    """Decrypt an envelope into ``sink`` and return the plaintext size.

    ``sink`` may hold a prefix of the plaintext when this raises; write to a
    temporary place and discard it on :class:`DecryptionError`.
    """
    size = 0
    for chunk in EnvelopeReader(source, key, record_id):
        sink.write(chunk)
        size += len(chunk)
    return size


def encrypt_bytes(data: bytes, key: ContentKey, record_id: str) -> bytes:
    """Return the envelope of a short in-memory value such as a message or a name."""
    sink = io.BytesIO()
    encrypt_stream(io.BytesIO(data), sink, key, record_id)
    return sink.getvalue()


def decrypt_bytes(envelope: bytes, key: ContentKey, record_id: str) -> bytes:
    """Return the whole plaintext of an in-memory envelope, or raise DecryptionError."""
    return b"".join(EnvelopeReader(io.BytesIO(envelope), key, record_id))
