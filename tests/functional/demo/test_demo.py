"""``lumen demo`` as a user runs it: a subprocess on free ports, stopped with Ctrl-C (SIGINT).

A clean stop exits with status 0.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.unit.worker.support import free_port

pytestmark = pytest.mark.slow

LUMEN = str(Path(sys.executable).with_name("lumen"))
READY = "Press Ctrl-C to stop."


@dataclass
class DemoRun:
    folder: Path
    output: str
    status: int
    source_status: int
    caseworker_status: int
    source_port: int
    caseworker_port: int


def clean_environment() -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("LUMEN_")}
    environ["PYTHONUNBUFFERED"] = "1"
    return environ


def get_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return int(response.status)


def run_demo(folder: Path, log: Path, source_port: int, caseworker_port: int) -> DemoRun:
    """Start the demo, fetch one page of each app, then stop it with SIGINT."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                LUMEN,
                "demo",
                "--data",
                str(folder),
                "--source-port",
                str(source_port),
                "--caseworker-port",
                str(caseworker_port),
            ],
            env=clean_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while READY not in log.read_text("utf-8"):
            assert process.poll() is None, log.read_text("utf-8")
            assert time.monotonic() < deadline, log.read_text("utf-8")
            time.sleep(0.2)
        source_status = get_status(f"http://127.0.0.1:{source_port}/")
        caseworker_status = get_status(f"http://127.0.0.1:{caseworker_port}/login")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            status = process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise

    return DemoRun(
        folder,
        log.read_text("utf-8"),
        status,
        source_status,
        caseworker_status,
        source_port,
        caseworker_port,
    )


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    base = tmp_path_factory.mktemp("demo")
    return run_demo(base / "lumen-demo", base / "first.log", free_port(), free_port())


def account_lines(output: str) -> list[str]:
    return [
        line.strip()
        for line in output.splitlines()
        if "username" in line or "passphrase:" in line or "TOTP secret:" in line
    ]


def test_demo_serves_both_apps(first_run: DemoRun) -> None:
    assert first_run.source_status == 200
    assert first_run.caseworker_status == 200


def test_demo_says_which_url_is_which(first_run: DemoRun) -> None:
    assert (
        f"Source site (people who report):  http://127.0.0.1:{first_run.source_port}/"
        in first_run.output
    )
    assert (
        f"Caseworker app (help centres):     http://127.0.0.1:{first_run.caseworker_port}/"
        in first_run.output
    )


def test_demo_prints_caseworker_per_centre(first_run: DemoRun) -> None:
    for centre, username in [
        ("Payoke", "demo-payoke"),
        ("PAG-ASA", "demo-pagasa"),
        ("Sürya", "demo-surya"),
    ]:
        assert f"{centre} caseworker: username {username}" in first_run.output
    assert len(re.findall(r"passphrase: \S+( \S+){5,}", first_run.output)) == 6
    assert len(re.findall(r"TOTP secret: [A-Z2-7]{32}", first_run.output)) == 6


def test_demo_stops_cleanly_on_sigint(first_run: DemoRun) -> None:
    assert first_run.status == 0, first_run.output
    assert "demo stopped" in first_run.output
    assert "Traceback" not in first_run.output


def test_demo_folder_layout(first_run: DemoRun) -> None:
    folder = first_run.folder

    assert (folder / "lumen.toml").is_file()
    assert (folder / "lumen.sqlite").is_file()
    assert (folder / "blobs").is_dir()
    for name in ("codename_salt", "source_secret_key", "caseworker_secret_key"):
        assert (folder / "secrets" / name).stat().st_mode & 0o777 == 0o600
    assert (folder / "demo-credentials.json").stat().st_mode & 0o777 == 0o600


def test_second_start_reuses_folder(first_run: DemoRun, tmp_path: Path) -> None:
    second = run_demo(first_run.folder, tmp_path / "second.log", free_port(), free_port())

    assert second.status == 0, second.output
    assert second.source_status == 200
    assert account_lines(second.output) == account_lines(first_run.output)
    assert "demo folder created" not in second.output


def test_busy_port_is_reported(first_run: DemoRun) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                LUMEN,
                "demo",
                "--data",
                str(first_run.folder),
                "--source-port",
                str(port),
                "--caseworker-port",
                str(free_port()),
            ],
            env=clean_environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port} for the source app" in result.stderr
