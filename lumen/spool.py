"""Waitress with request bodies that never reach a disk in plaintext.

Waitress reads a whole request body before it calls the app, which keeps worker
threads free while slow Tor clients upload. It holds the body in memory up to
``inbuf_overflow`` bytes and then moves it to a temporary file, so a large upload
would sit on disk in plaintext before the app could encrypt it. Holding every body in
memory instead would cost the full upload size per request in flight.

:class:`EncryptedSpoolBuffer` takes the place of waitress's body buffer. Up to
``inbuf_overflow`` bytes stay in memory; beyond that the body is written through the
envelope format (secretstream under a random key that exists only in this process's
memory) to an unlinked temporary file, and the app reads it back decrypted chunk by
chunk. Memory stays bounded by ``inbuf_overflow`` plus one chunk whatever the size
of the upload, and a copy of the disk shows only ciphertext.
"""

from __future__ import annotations

import io
import secrets
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from waitress.parser import HTTPRequestParser

from crypto import ContentKey, EnvelopeReader, EnvelopeWriter

RAW_HEAD_BYTES = 16 * 1024


class EncryptedSpoolBuffer:
    """A request body buffer: memory first, then an encrypted, unlinked temporary file.

    It implements the part of waitress's buffer interface that body receivers use:
    ``append``, ``getfile``, ``close`` and the length.
    """

    def __init__(self, memory_limit: int) -> None:
        self._memory_limit = memory_limit
        self._memory = bytearray()
        self._length = 0
        self._file: BinaryIO | None = None
        self._key: ContentKey | None = None
        self._record_id = f"request-body-{secrets.token_hex(8)}"
        self._writer: EnvelopeWriter | None = None
        self._finished = False

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._length > 0

    @property
    def spilled(self) -> bool:
        """Whether the body outgrew memory and went to the encrypted file."""
        return self._file is not None

    def append(self, data: bytes) -> None:
        """Add received body bytes."""
        self._length += len(data)
        if self._writer is not None:
            self._writer.write(data)
            return

        self._memory += data
        if len(self._memory) > self._memory_limit:
            self._spill()

    def _spill(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._key = ContentKey.generate()
        self._writer = EnvelopeWriter(self._file, self._key, self._record_id)
        self._writer.write(bytes(self._memory))
        self._memory = bytearray()

    def getfile(self) -> BinaryIO:
        """Return the whole body as a readable file, decrypting it if it was spilled."""
        if self._file is None or self._key is None or self._writer is None:
            return io.BytesIO(bytes(self._memory))

        if not self._finished:
            self._writer.close()
            self._finished = True
        self._file.seek(0)
        chunks = iter(EnvelopeReader(self._file, self._key, self._record_id))
        return io.BufferedReader(_ChunkReader(chunks), buffer_size=64 * 1024)

    def close(self) -> None:
        """Drop the body: the memory copy, the file and the key."""
        self._memory = bytearray()
        self._key = None
        self._writer = None
        if self._file is not None:
            self._file.close()
            self._file = None


class _ChunkReader(io.RawIOBase):
    """A raw, read-only stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0

        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class SpoolingRequestParser(HTTPRequestParser):
    """Waitress's request parser with :class:`EncryptedSpoolBuffer` for the body.

    It also keeps the first :data:`RAW_HEAD_BYTES` of the request head, so that an
    error page waitress sends itself can still be in the language the request asked
    for, even when the head was too large to parse.
    """

    def __init__(self, adj: Any) -> None:
        super().__init__(adj)
        self.raw_head = b""

    def received(self, data: bytes) -> int:
        if self.body_rcv is None and len(self.raw_head) < RAW_HEAD_BYTES:
            self.raw_head += data[: RAW_HEAD_BYTES - len(self.raw_head)]
        consumed: int = super().received(data)
        return consumed

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        receiver = self.body_rcv
        # The receiver was just made and has not seen a body byte yet.
        if receiver is not None:
            receiver.buf = EncryptedSpoolBuffer(self.adj.inbuf_overflow)  # type: ignore[assignment]
