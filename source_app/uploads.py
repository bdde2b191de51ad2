"""Multipart uploads encrypted while they stream in, so no plaintext reaches a disk.

Werkzeug's default stream factory (3.1) keeps a file part in memory up to 500 KiB, then
spools it to a temporary file. :class:`StreamingRequest` replaces that factory: each
file part is written chunk by chunk into an envelope blob (``store.envelopes``)
whose content key exists only in memory. The per-file limit is enforced while the
bytes arrive, and the request limit before they do. Every blob a request writes is registered on the
request and deleted when the request closes, unless the view kept it after the
database rows that point to it were committed.
"""

from __future__ import annotations

import logging
import unicodedata
from contextlib import ExitStack
from typing import IO, Any

from flask import Request, current_app
from werkzeug.exceptions import RequestEntityTooLarge

from crypto import EnvelopeWriter
from lumen.config import Limits
from source_app.settings import live_config
from store.blobs import BlobStore
from store.envelopes import PendingEnvelope, stream_to_blob

logger = logging.getLogger(__name__)


class EncryptedUpload:
    """A writable file object that encrypts everything written into one new blob.

    The blob is opened on the first non-empty write, so an empty file field
    (``filename=""``) or a 0-byte file leaves no blob behind. Werkzeug calls
    ``seek(0)`` when the part has ended; that closes the envelope and renames the
    blob into place.
    """

    def __init__(self, blobs: BlobStore, max_bytes: int) -> None:
        self._blobs = blobs
        self._max_bytes = max_bytes
        self._stack: ExitStack | None = None
        self._writer: EnvelopeWriter | None = None
        self.pending: PendingEnvelope | None = None
        self.size = 0
        self.finished = False
        self.kept = False

    def write(self, data: bytes) -> int:
        """Encrypt ``data`` into the blob; raise 413 past the per-file limit."""
        if self.finished:
            raise ValueError("write to a finished upload")
        if not data:
            return 0

        self.size += len(data)
        if self.size > self._max_bytes:
            self.discard()
            raise RequestEntityTooLarge()

        if self._writer is None:
            self._stack = ExitStack()
            self.pending, self._writer = self._stack.enter_context(
                stream_to_blob(self._blobs, hold=True)
            )
        self._writer.write(data)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Finish the upload; Werkzeug seeks to 0 once the part is complete."""
        if offset != 0 or whence != 0:
            raise ValueError("an encrypted upload can only be finished, not sought")
        self.finish()
        return 0

    def read(self, size: int = -1) -> bytes:
        """Refuse reading: the plaintext is gone once it has been encrypted."""
        raise OSError("an encrypted upload cannot be read back")

    def finish(self) -> None:
        """Close the envelope and make the blob visible under its name."""
        if self.finished:
            return
        self.finished = True
        if self._stack is not None:
            self._stack.close()

    def discard(self) -> None:
        """Remove the blob, finished or not, unless the view kept it.

        A kept blob is only released: its row is committed, so the clean-up of any
        process may now see it as referenced.
        """
        if self.kept:
            if self.pending is not None and self.pending.blob_name is not None:
                self._blobs.release(self.pending.blob_name)
            return
        if not self.finished and self._stack is not None:
            # Exiting with an exception makes stream_to_blob unlink the temporary file.
            error = RuntimeError("upload discarded")
            self._stack.__exit__(type(error), error, None)
        elif self.pending is not None and self.pending.blob_name is not None:
            self._blobs.delete(self.pending.blob_name)
        self.finished = True
        self.pending = None

    def keep(self) -> None:
        """Mark the blob as referred to by a committed row."""
        self.kept = True

    def close(self) -> None:
        """Do nothing; :meth:`StreamingRequest.close` discards what was not kept."""


# Browsers escape these in multipart file names (HTML Living Standard, "multipart/
# form-data encoding algorithm"): a double quote as %22, CR and LF as %0D and %0A.
_BROWSER_ESCAPES = {"%22": '"', "%0D": "", "%0A": "", "%0d": "", "%0a": ""}
MAX_FILENAME_CHARS = 255
# Bidirectional embeddings, overrides and isolates can disguise a file's extension.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_filename(raw: str | None) -> str:
    """Return the file name a source chose, without path or control characters.

    The name keeps the source's script and is only ever stored encrypted. The
    caseworker app must still treat it as untrusted when it builds a download header.
    """
    name = raw or ""
    for escaped, plain in _BROWSER_ESCAPES.items():
        name = name.replace(escaped, plain)
    # Some old browsers send the whole local path.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        char for char in name if unicodedata.category(char) != "Cc" and char not in _BIDI_CONTROLS
    )
    return name.strip()[:MAX_FILENAME_CHARS]


def limit_config(limits: Limits) -> dict[str, Any]:
    """Return the Flask settings that size-limit request bodies for ``limits``.

    Werkzeug 3.1 caps each non-file multipart field at 500 kB by default, which
    would reject a long message long before the character limit. The cap is raised
    to four UTF-8 bytes per allowed character plus room for line breaks sent as CR LF,
    so the message's own character limit, which the form states, decides.
    """
    return {
        "MAX_CONTENT_LENGTH": limits.max_request_bytes,
        "MAX_FORM_MEMORY_SIZE": limits.max_message_chars * 4 + 64 * 1024,
        "MAX_FORM_PARTS": limits.max_files + 50,
    }


class StreamingRequest(Request):
    """A request whose file parts are encrypted into blobs while they are parsed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.uploads: list[EncryptedUpload] = []

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        # The form checks the number of files, so that the page can name the limit.
        # MAX_FORM_PARTS bounds how many parts reach this point.
        limits: Limits = live_config().limits
        blobs: BlobStore = current_app.extensions["lumen"].blobs
        upload = self.new_upload(blobs, limits.max_file_bytes)
        return upload  # type: ignore[return-value]

    def new_upload(self, blobs: BlobStore, max_bytes: int) -> EncryptedUpload:
        """Register a new encrypted upload that is discarded unless kept."""
        upload = EncryptedUpload(blobs, max_bytes)
        self.uploads.append(upload)
        return upload

    def close(self) -> None:
        """Close the request and remove every blob it wrote that no row refers to."""
        try:
            super().close()
        finally:
            for upload in self.uploads:
                try:
                    upload.discard()
                except OSError as error:
                    logger.error(
                        "removing an uploaded blob failed", extra={"error": type(error).__name__}
                    )
