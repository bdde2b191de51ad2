"""Throwaway servers of the hardening suite: Redis and PostgreSQL on free loopback ports.

Each lives in a temporary folder and is stopped by the process id it was started
with, so the machine's own Redis and PostgreSQL are never touched.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    """Wait until something accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listened on {LOOPBACK}:{port} within {timeout} s")


@dataclass
class RedisServer:
    """A redis-server of this test, with its dump file in ``folder``."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def dump_file(self) -> Path:
        return self.folder / "dump.rdb"

    def start(self) -> None:
        """Start the server on its port; a restart reuses the port and the dump."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                LOOPBACK,
                "--port",
                str(self.port),
                "--dir",
                str(self.folder),
                "--dbfilename",
                "dump.rdb",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        """Stop the server by its process id and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)
        self.process = None

    def dump(self) -> bytes:
        """Write the whole data set to the dump file with SAVE and return its bytes."""
        subprocess.run(
            ["redis-cli", "-h", LOOPBACK, "-p", str(self.port), "SAVE"],
            check=True,
            capture_output=True,
            timeout=15,
        )
        return self.dump_file.read_bytes()


@contextmanager
def redis_server(folder: Path) -> Iterator[RedisServer]:
    """Run a throwaway redis-server until the block ends."""
    if shutil.which("redis-server") is None:
        raise AssertionError("redis-server is not installed; .ci/run installs it")
    folder.mkdir(parents=True, exist_ok=True)
    server = RedisServer(port=free_port(), folder=folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def postgres_binaries() -> Path | None:
    """Return the folder of the newest installed PostgreSQL server binaries, if any."""
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    for folder in reversed(folders):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


@dataclass
class PostgresCluster:
    """A PostgreSQL cluster of this test in its own folder, on its own port."""

    binaries: Path
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{LOOPBACK}:{self.port}/postgres"

    def _run(self, *arguments: str, timeout: float = 60) -> None:
        command = [str(self.binaries / arguments[0]), *arguments[1:]]
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root, so the cluster belongs to "postgres".
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def init(self) -> None:
        """Create the cluster with trust authentication on loopback only."""
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.folder / "db"),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses={LOOPBACK} -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.folder / "db"),
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "start",
        )
        wait_for_port(self.port)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``immediate`` ends it like a crash."""
        self._run("pg_ctl", "-D", str(self.folder / "db"), "-m", mode, "-w", "stop")


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """Run a throwaway PostgreSQL cluster in a new folder under /tmp until the block ends.

    The folder is not under pytest's ``tmp_path``, whose parents only root may enter.
    """
    binaries = postgres_binaries()
    if binaries is None:
        raise AssertionError("no PostgreSQL server binaries under /usr/lib/postgresql")
    folder = Path(tempfile.mkdtemp(prefix="lumen-pg-"))
    cluster = PostgresCluster(binaries=binaries, folder=folder, port=free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        # The cluster may not run: it never started, or the test stopped it.
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
