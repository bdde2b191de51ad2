"""File downloads: a safe Content-Disposition and decryption that never serves a partial file.

A download is authenticated before the first byte is sent: a first pass decrypts the
whole envelope and discards the plaintext, so a tampered or truncated file gets an
error page instead of a truncated attachment. The second pass streams the plaintext
chunk by chunk and authenticates each chunk again. If the blob changes between the
passes, the stream stops short of the announced Content-Length, so the client sees an
incomplete download rather than a file that looks whole. Memory stays at one chunk whatever the
file size, at the price of decrypting twice (XChaCha20-Poly1305 is fast next to the
network).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterator
from typing import Final
from urllib.parse import quote

from crypto import ContentKey, DecryptionError, EnvelopeReader
from store.blobs import BlobError, BlobStore
from store.envelopes import open_ciphertext
from store.models import Envelope

logger = logging.getLogger(__name__)

FALLBACK_NAME: Final = "file"
_MAX_NAME_CHARS: Final = 200
_UNSAFE_ASCII: Final = frozenset('"\\;/%*?<>|:')


def clean_filename(name: str) -> str:
    """Return ``name`` without control characters, path separators or surrounding dots."""
    characters = []
    for char in unicodedata.normalize("NFC", name):
        category = unicodedata.category(char)
        if category.startswith("C") or category in ("Zl", "Zp"):
            continue
        characters.append("_" if char in "/\\" else char)
    cleaned = " ".join("".join(characters).split()).strip(". ")
    return cleaned[:_MAX_NAME_CHARS] or FALLBACK_NAME


def ascii_filename(name: str) -> str:
    """Return an ASCII stand-in for ``name`` for clients that ignore ``filename*``.

    Accents are dropped, any other run of non-ASCII or unsafe characters becomes one
    ``_``, and a short alphanumeric extension is kept, so ``صورة.jpg`` becomes
    ``file.jpg``.
    """
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem and extension.isascii() and extension.isalnum() and len(extension) <= 10):
        stem, extension = name, ""

    characters: list[str] = []
    for char in unicodedata.normalize("NFKD", stem):
        if unicodedata.combining(char):
            continue
        if 0x20 <= ord(char) < 0x7F and char not in _UNSAFE_ASCII:
            characters.append(char)
        elif not characters or characters[-1] != "_":
            characters.append("_")

    ascii_stem = "".join(characters).strip("_ .") or FALLBACK_NAME
    return f"{ascii_stem}.{extension}" if extension else ascii_stem


def content_disposition(name: str) -> str:
    """Return an ``attachment`` Content-Disposition value for ``name`` (RFC 6266).

    The quoted ``filename`` contains only printable ASCII other than quote and
    backslash. ``filename*`` carries the full UTF-8 name percent-encoded, so no
    character of ``name`` can end the header or start another.
    """
    cleaned = clean_filename(name)
    return (
        f'attachment; filename="{ascii_filename(cleaned)}"; '
        f"filename*=UTF-8''{quote(cleaned, safe='')}"
    )


def verify_envelope(envelope: Envelope, key: ContentKey, blobs: BlobStore) -> int:
    """Decrypt the whole envelope, discarding the plaintext, and return its size.

    Raises :class:`crypto.DecryptionError` or :class:`store.blobs.BlobError` when the
    envelope cannot be read in full.
    """
    return sum(len(chunk) for chunk in iter_plaintext(envelope, key, blobs))


def iter_plaintext(envelope: Envelope, key: ContentKey, blobs: BlobStore) -> Iterator[bytes]:
    """Yield the plaintext of an envelope chunk by chunk, each chunk authenticated."""
    with open_ciphertext(envelope, blobs) as handle:
        yield from EnvelopeReader(handle, key, envelope.id)


def stream_plaintext(envelope: Envelope, key: ContentKey, blobs: BlobStore) -> Iterator[bytes]:
    """Yield the plaintext of an envelope that :func:`verify_envelope` passed, for a response."""
    try:
        yield from iter_plaintext(envelope, key, blobs)
    except (DecryptionError, BlobError):
        # Headers are sent, so the only honest signal left is a short response.
        logger.error("a file failed authentication while it was being sent")
        raise
