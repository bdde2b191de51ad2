"""The clean-up job: old orphan blobs and stale temporary files go, nothing else."""

from __future__ import annotations

import os
import time

from lumen.services import Services
from tests.unit.worker.factories import submit
from worker.cleanup import GRACE_SECONDS, clean_up_blobs


def write_orphan(services: Services) -> str:
    with services.blobs.create() as (name, handle):
        handle.write(b"ciphertext without a row")
    return name


def make_old(path: os.PathLike[str]) -> None:
    past = time.time() - GRACE_SECONDS - 60
    os.utime(path, (past, past))


def test_cleanup_removes_old_orphan(services: Services) -> None:
    orphan = write_orphan(services)
    make_old(services.blobs.path(orphan))

    report = clean_up_blobs(services)

    assert report.orphan_blobs == 1
    assert orphan not in services.blobs.names()


def test_cleanup_keeps_young_orphan(services: Services) -> None:
    orphan = write_orphan(services)

    report = clean_up_blobs(services)

    assert report.orphan_blobs == 0
    assert orphan in services.blobs.names()


def test_cleanup_keeps_referenced_blob(services: Services) -> None:
    submit(services, ["payoke"], with_file=True)
    [name] = services.blobs.names()
    make_old(services.blobs.path(name))

    report = clean_up_blobs(services)

    assert report.orphan_blobs == 0
    assert services.blobs.names() == {name}


def test_cleanup_removes_only_stale_temporary_files(services: Services) -> None:
    stale = services.blobs.folder / ".tmp-0123456789abcdef0123456789abcdef"
    fresh = services.blobs.folder / ".tmp-fedcba9876543210fedcba9876543210"
    stale.write_bytes(b"interrupted")
    fresh.write_bytes(b"still uploading")
    make_old(stale)

    report = clean_up_blobs(services)

    assert report.temporary_files == 1
    assert not stale.exists()
    assert fresh.exists()


def test_cleanup_is_idempotent(services: Services) -> None:
    make_old(services.blobs.path(write_orphan(services)))

    first = clean_up_blobs(services)
    second = clean_up_blobs(services)

    assert first.orphan_blobs == 1
    assert second.orphan_blobs == 0
