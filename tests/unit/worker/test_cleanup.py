"""The clean-up job: orphan blobs and leftover temporary files go, nothing in use does."""

from __future__ import annotations

import fcntl
import os

from lumen.services import Services
from tests.unit.worker.factories import submit
from worker.cleanup import clean_up_blobs


def write_orphan(services: Services, hold: bool = False) -> str:
    with services.blobs.create(hold=hold) as (name, handle):
        handle.write(b"ciphertext without a row")
    return name


def test_cleanup_removes_orphan(services: Services) -> None:
    orphan = write_orphan(services)

    report = clean_up_blobs(services)

    assert report.orphan_blobs == 1
    assert orphan not in services.blobs.names()


def test_cleanup_keeps_held_orphan(services: Services) -> None:
    # A writer holds its blob until the row that names it is committed.
    orphan = write_orphan(services, hold=True)

    report = clean_up_blobs(services)

    assert report.orphan_blobs == 0
    assert orphan in services.blobs.names()
    services.blobs.release(orphan)
    assert clean_up_blobs(services).orphan_blobs == 1


def test_cleanup_keeps_referenced_blob(services: Services) -> None:
    submit(services, ["payoke"], with_file=True)
    [name] = services.blobs.names()

    report = clean_up_blobs(services)

    assert report.orphan_blobs == 0
    assert services.blobs.names() == {name}


def test_cleanup_keeps_temporary_file_in_use(services: Services) -> None:
    left = services.blobs.folder / ".tmp-0123456789abcdef0123456789abcdef"
    writing = services.blobs.folder / ".tmp-fedcba9876543210fedcba9876543210"
    left.write_bytes(b"interrupted")
    writing.write_bytes(b"still uploading")
    descriptor = os.open(writing, os.O_RDONLY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        report = clean_up_blobs(services)
    finally:
        os.close(descriptor)

    assert report.temporary_files == 1
    assert not left.exists()
    assert writing.exists()


def test_cleanup_is_idempotent(services: Services) -> None:
    write_orphan(services)

    first = clean_up_blobs(services)
    second = clean_up_blobs(services)

    assert first.orphan_blobs == 1
    assert second.orphan_blobs == 0
