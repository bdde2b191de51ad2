"""Writing and opening envelopes together with their key slots."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from nacl.public import PrivateKey, PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import (
    ContentKey,
    DecryptionError,
    EnvelopeReader,
    EnvelopeWriter,
    encrypt_bytes,
    open_key_slot,
    seal_key_slot,
)
from store.blobs import BlobStore
from store.models import Envelope, KeySlot, new_id

# Values shorter than this are kept inline in the database row; longer ones are blobs.
INLINE_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Recipient:
    """A public key that may open an envelope: a centre's (at a key version) or a source's."""

    public_key: PublicKey
    centre_id: str | None = None
    key_version: int = 0

    @property
    def for_source(self) -> bool:
        return self.centre_id is None


@dataclass
class PendingEnvelope:
    """An envelope whose ciphertext exists but whose row and slots do not yet."""

    id: str
    key: ContentKey
    blob_name: str | None = None
    inline: bytes | None = None
    size: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    def to_row(self, source_id: str, recipients: Iterable[Recipient]) -> Envelope:
        """Build the row and one sealed slot per recipient."""
        envelope = Envelope(
            id=self.id,
            source_id=source_id,
            blob_name=self.blob_name,
            inline=self.inline,
            size=self.size,
        )
        for recipient in recipients:
            envelope.slots.append(
                KeySlot(
                    centre_id=recipient.centre_id,
                    key_version=recipient.key_version,
                    for_source=recipient.for_source,
                    sealed_key=seal_key_slot(self.key, recipient.public_key),
                )
            )
        return envelope


def seal_value(data: bytes) -> PendingEnvelope:
    """Encrypt a short value in memory under a fresh content key."""
    if len(data) > INLINE_LIMIT:
        raise ValueError(f"inline values are at most {INLINE_LIMIT} bytes")

    envelope_id = new_id()
    key = ContentKey.generate()
    return PendingEnvelope(
        id=envelope_id, key=key, inline=encrypt_bytes(data, key, envelope_id), size=len(data)
    )


@contextmanager
def stream_to_blob(
    blobs: BlobStore, hold: bool = False
) -> Iterator[tuple[PendingEnvelope, EnvelopeWriter]]:
    """Yield a pending envelope and a writer that encrypts straight into a new blob.

    The blob becomes visible only when the block ends without an error. With
    ``hold``, it stays locked until ``blobs.release``, as :meth:`BlobStore.create`
    describes.
    """
    envelope_id = new_id()
    key = ContentKey.generate()
    with blobs.create(hold=hold) as (name, handle):
        writer = EnvelopeWriter(handle, key, envelope_id)
        pending = PendingEnvelope(id=envelope_id, key=key, blob_name=name)
        yield pending, writer
        writer.close()
        pending.size = writer.plaintext_size


def centre_slot(
    session: Session, envelope_id: str, centre_id: str, key_version: int
) -> KeySlot | None:
    """Return the slot that seals ``envelope_id`` to a centre key, if there is one."""
    return session.scalar(
        select(KeySlot).where(
            KeySlot.envelope_id == envelope_id,
            KeySlot.centre_id == centre_id,
            KeySlot.key_version == key_version,
        )
    )


def source_slot(session: Session, envelope_id: str) -> KeySlot | None:
    """Return the slot that seals ``envelope_id`` to its source's reply key."""
    return session.scalar(
        select(KeySlot).where(KeySlot.envelope_id == envelope_id, KeySlot.for_source.is_(True))
    )


def open_slot(slot: KeySlot | None, private_key: PrivateKey) -> ContentKey:
    """Open ``slot`` or raise :class:`DecryptionError` when it is missing or foreign."""
    if slot is None:
        raise DecryptionError()
    return open_key_slot(slot.sealed_key, private_key)


@contextmanager
def open_ciphertext(envelope: Envelope, blobs: BlobStore) -> Iterator[BinaryIO]:
    """Yield the envelope's ciphertext as a readable file."""
    if envelope.inline is not None:
        yield io.BytesIO(envelope.inline)
        return

    if envelope.blob_name is None:
        raise DecryptionError()
    with blobs.open(envelope.blob_name) as handle:
        yield handle


def read_value(envelope: Envelope, key: ContentKey, blobs: BlobStore) -> bytes:
    """Decrypt a whole envelope into memory; for messages, answers, names and replies."""
    with open_ciphertext(envelope, blobs) as handle:
        return b"".join(EnvelopeReader(handle, key, envelope.id))
