"""A ``lumen serve`` process of a test: its configuration file, start and SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lumen.config import Config
from tests.hardening.processes import free_port, wait_for_port

LUMEN = str(Path(sys.executable).with_name("lumen"))


def write_config(
    config: Config, path: Path, source_port: int, caseworker_port: int
) -> dict[str, str]:
    """Write ``config`` as the TOML file ``lumen serve`` reads; return its environment.

    The secrets go into the environment, as in production. The KDF costs in the file
    are the lowest that ``load_config`` accepts.
    """
    limits = config.limits
    lines = [
        f'data_dir = "{config.data_dir}"',
        f'database_url = "{config.database_url}"',
        f'redis_url = "{config.redis_url or ""}"',
        "waitress_threads = 4",
        "",
        "[source]",
        f'bind = "127.0.0.1:{source_port}"',
        "",
        "[caseworker]",
        f'bind = "127.0.0.1:{caseworker_port}"',
        "",
        "[kdf]",
        "source_opslimit = 1",
        "passphrase_opslimit = 1",
        "",
        "[limits]",
        f"max_request_bytes = {limits.max_request_bytes}",
        f"max_file_bytes = {limits.max_file_bytes}",
        f"max_files = {limits.max_files}",
        f"max_message_chars = {limits.max_message_chars}",
    ]
    for centre in config.centres:
        lines += [
            "",
            "[[centres]]",
            f'id = "{centre.id}"',
            f'name = "{centre.name}"',
            f'city = "{centre.city}"',
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


@dataclass
class ServeProcess:
    """``lumen serve source`` in a child process, logging to a file."""

    config_file: Path
    environ: dict[str, str]
    log: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the process and wait until it accepts connections."""
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [LUMEN, "serve", "source", "--config", str(self.config_file)],
                env=self.environ,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, timeout=30)

    def kill(self) -> None:
        """End the process with SIGKILL, as a crash or the OOM killer would."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)
        self.process = None

    def stop(self) -> None:
        """Stop the process with SIGTERM if it still runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


def serve_process(config: Config, folder: Path) -> ServeProcess:
    """Prepare a ``lumen serve source`` process for ``config`` on a free port."""
    port = free_port()
    config_file = folder / "lumen.toml"
    environ = write_config(config, config_file, port, free_port())
    return ServeProcess(config_file, environ, folder / "serve.log", port)
