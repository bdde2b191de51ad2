"""The referral export: a zip of a decrypted case, streamed to the caseworker.

The zip is written into the response as it is produced (zip members with data
descriptors need no seeking), so no plaintext reaches the server's disk and memory
stays at one chunk per file. Every file is authenticated in full before the response
starts; see :mod:`journalist_app.downloads` for why that is enough.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from crypto import ContentKey
from journalist_app.downloads import clean_filename, iter_plaintext, stream_plaintext
from store.blobs import BlobStore
from store.models import Envelope


@dataclass(frozen=True)
class ExportFile:
    """A file to put in the export, with the content key that opens it."""

    member_name: str
    envelope: Envelope
    key: ContentKey = field(repr=False)


def member_name(index: int, original: str) -> str:
    """Return the zip member name of the ``index``-th file, free of any path."""
    return f"files/{index:02d}-{clean_filename(original)}"


def verify_files(files: Sequence[ExportFile], blobs: BlobStore) -> dict[str, str]:
    """Authenticate every file in full and return the SHA-256 of each, by member name."""
    digests = {}
    for item in files:
        digest = hashlib.sha256()
        for chunk in iter_plaintext(item.envelope, item.key, blobs):
            digest.update(chunk)
        digests[item.member_name] = digest.hexdigest()
    return digests


class _ResponsePipe(io.RawIOBase):
    """A write-only, unseekable buffer that the generator empties after each write."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def stream_zip(
    texts: Sequence[tuple[str, bytes]],
    files: Sequence[ExportFile],
    blobs: BlobStore,
    day: dt.date,
) -> Iterator[bytes]:
    """Yield a zip of ``texts`` (name, content) and the decrypted ``files``.

    Every member is dated ``day`` at midnight, so the archive tells no time of day.
    """
    stamp = (max(day.year, 1980), day.month, day.day, 0, 0, 0)
    pipe = _ResponsePipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in texts:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, zipfile.ZIP_DEFLATED)
            yield pipe.drain()

        for item in files:
            info = zipfile.ZipInfo(item.member_name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                for chunk in stream_plaintext(item.envelope, item.key, blobs):
                    member.write(chunk)
                    yield pipe.drain()
            yield pipe.drain()
    yield pipe.drain()
