"""``lumen serve source|caseworker`` as a process: serves, logs no request, stops on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from lumen.services import make_services
from tests.conftest import install_centres, make_test_config
from tests.functional.worker.conftest import LUMEN, write_config_file
from tests.unit.worker.support import free_port

pytestmark = pytest.mark.slow

MARKER_AGENT = "MarkerAgent/9.9"


@pytest.mark.parametrize(("app", "path"), [("source", "/"), ("caseworker", "/login")])
def test_serve_app_until_sigterm(
    tmp_path: Path, centre_keys: dict[str, PrivateKey], app: str, path: str
) -> None:
    port = free_port()
    config = make_test_config(
        tmp_path / "data",
        source_bind=f"127.0.0.1:{port}",
        caseworker_bind=f"127.0.0.1:{port}",
    )
    services = make_services(config)
    install_centres(services, centre_keys)
    services.engine.dispose()
    environ = write_config_file(config, tmp_path / "lumen.toml")
    log = tmp_path / "serve.log"

    with log.open("wb") as output:
        process = subprocess.Popen(
            [LUMEN, "serve", app, "--config", str(tmp_path / "lumen.toml")],
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "serving" not in log.read_text("utf-8"):
            assert process.poll() is None, log.read_text("utf-8")
            assert time.monotonic() < deadline, log.read_text("utf-8")
            time.sleep(0.1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"User-Agent": MARKER_AGENT}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
            server_header = response.headers.get("Server")
    finally:
        process.send_signal(signal.SIGTERM)
        exit_status = process.wait(30)

    output_text = log.read_text("utf-8")
    assert status == 200
    assert server_header is None
    assert exit_status == 0, output_text
    assert f"stopped app={app}" in output_text
    assert MARKER_AGENT not in output_text
    assert path == "/" or path not in output_text
    assert "GET" not in output_text
