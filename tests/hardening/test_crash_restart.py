"""SIGKILL of ``lumen serve source`` in the middle of a 100 MB upload, then a restart.

The upload carries two 50 MB files. The process is killed once the first file's
blob is complete and the second one is being written, the worst moment: a complete
blob that no row names and a temporary file both exist. After the restart, the
start-up clean-up must have removed both, and no submission row may exist.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import pytest

from lumen.config import Config
from lumen.services import Services
from tests.conftest import make_test_config
from tests.hardening.clients import SourceClient, multipart
from tests.hardening.instance import serve_process
from tests.hardening.support import raw_exchange, request_bytes, store_state

FILE_BYTES = 50 * 1000 * 1000
TEMPORARY_PREFIX = ".tmp-"


class LeftoverFiles(AssertionError):
    """Files an interrupted upload wrote were still there after the restart."""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    # The production limits: 100 MiB per file, 110 MiB per request.
    return make_test_config(tmp_path / "data")


def _upload_in_background(port: int, request: bytes) -> threading.Thread:
    def send() -> None:
        # The server is killed under the upload, so the exchange ends in an error.
        with contextlib.suppress(OSError, AssertionError):
            raw_exchange(port, [request], timeout=120)

    thread = threading.Thread(target=send, name="upload", daemon=True)
    thread.start()
    return thread


def _wait_for_crash_window(folder: Path, before: frozenset[str], upload: threading.Thread) -> None:
    """Wait until a new complete blob and a temporary file exist side by side."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        names = set(folder.iterdir()) if folder.is_dir() else set()
        temporary = [p for p in names if p.name.startswith(TEMPORARY_PREFIX)]
        complete = [p for p in names if not p.name.startswith(TEMPORARY_PREFIX)]
        if temporary and {p.name for p in complete} - before:
            return
        assert upload.is_alive(), "the upload ended before the second file was being written"
        time.sleep(0.002)
    raise AssertionError("the upload never reached its second file")


@pytest.mark.slow
def test_killed_upload_leaves_nothing(tmp_path: Path, config: Config, services: Services) -> None:
    server = serve_process(config, tmp_path)
    server.start()
    try:
        source = SourceClient(server.url)
        source.start()
        boundary, body = multipart(
            [(b"csrf_token", source.token("/report").encode()), (b"message", b"groot bestand")],
            files=[
                (b"files", b"eerste.bin", b"1" * FILE_BYTES),
                (b"files", b"tweede.bin", b"2" * FILE_BYTES),
            ],
        )
        request = request_bytes(
            "POST",
            "/report",
            [
                ("Cookie", f"lumen_source={source.session_cookie}"),
                ("Content-Type", f"multipart/form-data; boundary={boundary.decode()}"),
            ],
            body,
        )
        before = store_state(services)

        upload = _upload_in_background(server.port, request)
        _wait_for_crash_window(services.blobs.folder, before.files, upload)
        server.kill()
        upload.join(timeout=30)

        crashed = store_state(services)
        assert crashed.rows == before.rows
        assert any(name.startswith(TEMPORARY_PREFIX) for name in crashed.files - before.files)

        server.start()
        assert SourceClient(server.url).get("/").status_code == 200
        after = store_state(services)
    finally:
        server.stop()

    assert after.rows == before.rows
    if after.files != before.files:
        raise LeftoverFiles(f"left after the restart: {sorted(after.files - before.files)}")
