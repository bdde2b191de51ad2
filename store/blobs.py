"""The blob store: encrypted envelopes as files with random names.

A blob is written under a temporary name in the blob folder, fsynced, renamed into
place and the folder fsynced; only then may the database row that names it commit.
Names come from :func:`secrets.token_hex` and are checked against a strict pattern
before they become a path, so no name from outside can reach the file system.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Final

logger = logging.getLogger(__name__)

_NAME: Final = re.compile(r"[0-9a-f]{32}")
_TEMP_PREFIX: Final = ".tmp-"


class BlobError(Exception):
    """A blob name is invalid or a blob is missing."""


class BlobStore:
    """Blobs in one folder, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path(self, name: str) -> Path:
        """Return the path of blob ``name`` after checking that the name is one of ours."""
        if not _NAME.fullmatch(name):
            raise BlobError("invalid blob name")
        return self.folder / name

    @contextmanager
    def create(self) -> Iterator[tuple[str, BinaryIO]]:
        """Open a new blob for writing and yield ``(name, file)``.

        The blob appears under its name only when the block ends without an error;
        on an error the temporary file is removed and nothing is visible.
        """
        name = secrets.token_hex(16)
        temporary = self.folder / f"{_TEMP_PREFIX}{name}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                yield name, handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.folder / name)
            self._fsync_folder()
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        """Open blob ``name`` for reading."""
        try:
            with self.path(name).open("rb") as handle:
                yield handle
        except FileNotFoundError:
            raise BlobError("blob not found") from None

    def delete(self, name: str) -> bool:
        """Remove blob ``name``; return whether it existed."""
        path = self.path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        self._fsync_folder()
        return True

    def names(self) -> set[str]:
        """Return the names of every complete blob."""
        return {entry.name for entry in self.folder.iterdir() if _NAME.fullmatch(entry.name)}

    def remove_temporary_files(self, min_age_seconds: float = 0.0) -> int:
        """Remove what interrupted writes left behind; return how many files went.

        While apps are serving, pass ``min_age_seconds`` longer than any upload can
        last, so that files still being written are left alone.
        """
        removed = 0
        cutoff = time.time() - min_age_seconds
        for entry in self.folder.iterdir():
            if not entry.name.startswith(_TEMP_PREFIX):
                continue
            if min_age_seconds <= 0 or _modified_before(entry, cutoff):
                entry.unlink(missing_ok=True)
                removed += 1
        if removed:
            logger.info("removed leftover temporary blob files", extra={"count": removed})
        return removed

    def _fsync_folder(self) -> None:
        descriptor = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _modified_before(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False
