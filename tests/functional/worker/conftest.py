"""Fixtures for running ``lumen worker`` as a real process against a real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from lumen.config import Config

# A database number of its own, so that emptying it touches no other suite's keys.
WORKER_REDIS_URL = os.environ.get("LUMEN_TEST_WORKER_REDIS_URL", "redis://127.0.0.1:6379/15")
LUMEN = str(Path(sys.executable).with_name("lumen"))


@pytest.fixture
def worker_redis_url() -> Iterator[str]:
    """The shared test Redis at a database emptied before and after the test."""
    client = Redis.from_url(WORKER_REDIS_URL)
    client.flushdb()
    yield WORKER_REDIS_URL
    client.flushdb()
    client.close()


def write_config_file(config: Config, path: Path) -> dict[str, str]:
    """Write ``config`` as a TOML file for a ``lumen`` process; return its environment."""
    lines = [
        f'data_dir = "{config.data_dir}"',
        f'database_url = "{config.database_url}"',
        f'redis_url = "{config.redis_url or ""}"',
        "",
        "[smtp]",
        f'host = "{config.smtp.host}"',
        f"port = {config.smtp.port}",
        f'sender = "{config.smtp.sender}"',
        "",
        "[source]",
        f'bind = "{config.source_bind}"',
        "",
        "[caseworker]",
        f'bind = "{config.caseworker_bind}"',
    ]
    for centre in config.centres:
        notify = ", ".join(f'"{address}"' for address in centre.notify)
        lines += [
            "",
            "[[centres]]",
            f'id = "{centre.id}"',
            f'name = "{centre.name}"',
            f'city = "{centre.city}"',
            f"notify = [{notify}]",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    environ = {key: value for key, value in os.environ.items() if not key.startswith("LUMEN_")}
    environ.update(
        LUMEN_CODENAME_SALT=config.secrets.codename_salt.hex(),
        LUMEN_SOURCE_SECRET_KEY=config.secrets.source_secret_key.hex(),
        LUMEN_CASEWORKER_SECRET_KEY=config.secrets.caseworker_secret_key.hex(),
        PYTHONUNBUFFERED="1",
    )
    return environ


def start_worker(
    config_file: Path, environ: dict[str, str], log: Path, *options: str
) -> subprocess.Popen[bytes]:
    """Start ``lumen worker`` with ``options``; its output goes to ``log``."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [LUMEN, "worker", "--config", str(config_file), *options],
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """Send SIGTERM and return the exit status, killing the process if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    return int(process.returncode)
