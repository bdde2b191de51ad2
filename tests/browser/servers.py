"""Serve a WSGI app with waitress on a free loopback port, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

from lumen.serving import create_server


class LiveServer:
    """A real waitress server on 127.0.0.1, started by ``start`` and stopped by ``stop``.

    Port 0 lets the kernel pick a free port, so parallel runs and other suites'
    servers never collide.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", **options: Any) -> None:
        """Bind ``app``; ``options`` are waitress settings, without host and port."""
        settings = {"threads": 4, "ident": "", **options, "host": host, "port": 0}
        self._server = create_server(app, **settings)
        self.host = host
        self.port = int(self._server.effective_port)  # type: ignore[union-attr]
        self._thread = threading.Thread(
            target=self._server.run, name=f"waitress-{self.port}", daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        """Start serving and wait until the port accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"waitress on {self.url} did not accept connections within 10 s")

    def stop(self) -> None:
        """Close the listening socket and every open connection, then end the threads.

        Chromium keeps connections alive, and waitress's loop runs as long as any
        channel is open, so the loop thread itself closes all of them.
        """
        server = self._server

        def close_every_channel() -> None:
            for channel in list(server._map.values()):  # type: ignore[union-attr]
                channel.close()

        server.trigger.pull_trigger(close_every_channel)  # type: ignore[union-attr]
        self._thread.join(timeout=5)
        server.task_dispatcher.shutdown()
        if self._thread.is_alive():
            raise RuntimeError(f"waitress on {self.url} did not stop within 5 s")

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
