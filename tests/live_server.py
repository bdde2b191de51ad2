"""Run a WSGI app under a real waitress server on a free loopback port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from waitress import wasyncore

from lumen.serving import create_server


@contextmanager
def serve_wsgi(app: Any, factory: Any = create_server, **settings: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a thread and yield its base URL, without a slash.

    ``factory`` is Lumen's server factory unless a test compares it with another.
    """
    settings = {"threads": 4, **settings, "host": "127.0.0.1", "port": 0}
    server = factory(app, **settings)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):
            # Closing the sockets below can interrupt the poll in progress.
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        server.task_dispatcher.shutdown()
        # Closing every channel, the trigger and the listener empties the map, which
        # ends the server's loop.
        wasyncore.close_all(server._map)
        thread.join(timeout=5)
        assert not thread.is_alive(), "the waitress thread did not stop"
