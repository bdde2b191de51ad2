"""A full disk during a report: the data folder is a 20 MiB tmpfs of this test.

A report that no longer fits must get a clear page in the source's language, 507
or 503, and leave nothing half-stored: no new row, no new blob, no temporary file.
Once space is free again, the next report goes through.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from lumen.config import MIB, Config, Limits
from lumen.services import Services, make_services
from tests.conftest import install_centres
from tests.hardening.clients import SourceClient, multipart
from tests.hardening.conftest import serve
from tests.hardening.support import (
    assert_clean_rejection,
    raw_exchange,
    request_bytes,
    store_state,
)

LANGUAGE = "de"
TMPFS_MIB = 20


class DiskFullFault(AssertionError):
    """The response to a full disk was not a translated 507 or 503."""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """Mount a tmpfs of ``TMPFS_MIB`` MiB under ``tmp_path``; unmount it afterwards."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MIB}m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"mounting a tmpfs failed (root is needed): {result.stderr}"
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False, capture_output=True)
        if os.path.ismount(mount_point):
            subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def disk_services(
    small_disk: Path, config: Config, centre_keys: dict[str, PrivateKey]
) -> Iterator[Services]:
    limits = Limits(max_request_bytes=40 * MIB, max_file_bytes=30 * MIB, max_files=3)
    disk_config = dataclasses.replace(
        config,
        data_dir=small_disk / "data",
        database_url=f"sqlite:///{small_disk / 'data' / 'lumen.sqlite'}",
        limits=limits,
    )
    services = make_services(disk_config)
    install_centres(services, centre_keys)
    yield services
    services.engine.dispose()


def _fill(folder: Path, leave_bytes: int) -> Path:
    """Write a filler file until less than ``leave_bytes`` stay free on ``folder``'s disk."""
    filler = folder / "filler"
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with filler.open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave_bytes))
    return filler


def _send(server_port: int, source: SourceClient, fields: list, files: list) -> object:
    boundary, body = multipart(fields, files=files)
    request = request_bytes(
        "POST",
        "/report",
        [
            ("Accept-Language", LANGUAGE),
            ("Cookie", f"lumen_source={source.session_cookie}"),
            ("Content-Type", f"multipart/form-data; boundary={boundary.decode()}"),
        ],
        body,
    )
    return raw_exchange(server_port, request, timeout=60)


def _check_answer(response: object) -> None:
    status = getattr(response, "status", None)
    if status not in (503, 507):
        raise DiskFullFault(f"a full disk was answered with {status}")
    assert_clean_rejection(response, LANGUAGE, statuses=(503, 507))  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("filled", ["by the upload", "before the report"])
def test_full_disk_refused_cleanly(disk_services: Services, filled: str) -> None:
    from source_app import create_app

    config = disk_services.config
    with serve(create_app(config, disk_services), config) as server:
        source = SourceClient(server.url, language=LANGUAGE)
        source.start()
        token = source.token("/report").encode()
        before = store_state(disk_services)
        filler = None
        if filled == "by the upload":
            files = [(b"files", b"video.mp4", os.urandom(25 * MIB))]
        else:
            filler = _fill(config.data_dir, leave_bytes=0)
            files = [(b"files", b"foto.jpg", os.urandom(200_000))]

        response = _send(
            server.port, source, [(b"csrf_token", token), (b"message", b"voll")], files
        )

        if filler is not None:
            filler.unlink()
        after = store_state(disk_services)
        assert after.rows == before.rows
        assert after.files == before.files
        retry = source.report("wieder Platz")
        assert retry.status_code in (302, 303)
        _check_answer(response)
