"""The blob store: encrypted envelopes as files with random names.

A blob is written under a temporary name in the blob folder, fsynced, renamed into
place and the folder fsynced; only then may the database row that names it commit.
Names come from :func:`secrets.token_hex` and are checked against a strict pattern
before they become a path, so no name from outside can reach the file system.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
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
        self._held: dict[str, int] = {}
        self._held_lock = threading.Lock()

    def path(self, name: str) -> Path:
        """Return the path of blob ``name`` after checking that the name is one of ours."""
        if not _NAME.fullmatch(name):
            raise BlobError("invalid blob name")
        return self.folder / name

    @contextmanager
    def create(self, hold: bool = False) -> Iterator[tuple[str, BinaryIO]]:
        """Open a new blob for writing and yield ``(name, file)``.

        The blob appears under its name only when the block ends without an error;
        on an error the temporary file is removed and nothing is visible.

        While it is written, the file carries an exclusive ``flock``, which tells the
        clean-up of any process that the file is in use; the kernel drops the lock
        when this process dies. With ``hold``, the lock stays after the block, until
        :meth:`release`: a writer holds it until the row that names the blob is
        committed, so a blob is an orphan only when no live process holds it.
        """
        name = secrets.token_hex(16)
        temporary = self.folder / f"{_TEMP_PREFIX}{name}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        # A duplicate shares the open file and its lock, and outlives the handle below.
        lock = os.dup(descriptor) if hold else None
        try:
            with os.fdopen(descriptor, "wb") as handle:
                yield name, handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.folder / name)
            self._fsync_folder()
        except BaseException:
            temporary.unlink(missing_ok=True)
            if lock is not None:
                os.close(lock)
            raise
        if lock is not None:
            with self._held_lock:
                self._held[name] = lock

    def release(self, name: str) -> None:
        """Drop the lock that :meth:`create` with ``hold`` kept on blob ``name``."""
        with self._held_lock:
            lock = self._held.pop(name, None)
        if lock is not None:
            os.close(lock)

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        """Open blob ``name`` for reading."""
        try:
            with self.path(name).open("rb") as handle:
                yield handle
        except FileNotFoundError:
            raise BlobError("blob not found") from None

    def delete(self, name: str) -> bool:
        """Remove blob ``name``, releasing it first; return whether it existed."""
        path = self.path(name)
        self.release(name)
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

        A file that a live process is still writing is locked and stays. Files
        modified less than ``min_age_seconds`` ago stay too.
        """
        removed = 0
        cutoff = time.time() - min_age_seconds
        for entry in self.folder.iterdir():
            if not entry.name.startswith(_TEMP_PREFIX):
                continue
            if min_age_seconds > 0 and not _modified_before(entry, cutoff):
                continue
            if _remove_if_unlocked(entry, lambda: False):
                removed += 1
        if removed:
            logger.info("removed leftover temporary blob files", extra={"count": removed})
        return removed

    def remove_orphans(self, referenced: Callable[[set[str]], set[str]]) -> int:
        """Remove complete blobs that no row names and no live process holds.

        ``referenced`` takes a set of blob names and returns those that a database
        row names. It is asked again after a blob's lock is taken, because the
        writer commits its row before it releases the lock.
        """
        candidates = self.names()
        orphans = candidates - referenced(candidates)
        removed = 0
        for name in sorted(orphans):

            def still_referenced(name: str = name) -> bool:
                return bool(referenced({name}))

            if _remove_if_unlocked(self.path(name), still_referenced):
                removed += 1
        if removed:
            self._fsync_folder()
            logger.info("removed orphan blobs", extra={"count": removed})
        return removed

    def _fsync_folder(self) -> None:
        descriptor = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _remove_if_unlocked(path: Path, still_needed: Callable[[], bool]) -> bool:
    """Unlink ``path`` unless a process holds its lock or ``still_needed()`` is true."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        if still_needed():
            return False
        path.unlink(missing_ok=True)
        return True
    finally:
        os.close(descriptor)


def _modified_before(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False
