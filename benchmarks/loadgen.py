"""Load one URL with keep-alive GET requests from threads; print the counts as JSON.

The fallback load client when wrk is not installed. Each thread holds one HTTP/1.1
connection. Python threads share one interpreter lock, so this client saturates
sooner than wrk: compare only numbers measured with the same client.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from urllib.parse import urlsplit


def load(url: str, seconds: float, connections: int) -> dict[str, float]:
    """GET ``url`` from ``connections`` threads for ``seconds`` and return the counts."""
    parts = urlsplit(url)
    path = parts.path or "/"
    deadline = time.perf_counter() + seconds
    counts = {"requests": 0, "errors": 0}
    lock = threading.Lock()

    def worker() -> None:
        done = errors = 0
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
        while time.perf_counter() < deadline:
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status >= 400:
                    errors += 1
                done += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
        connection.close()
        with lock:
            counts["requests"] += done
            counts["errors"] += errors

    start = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return {**counts, "seconds": time.perf_counter() - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of the load")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    arguments = parser.parse_args()
    print(json.dumps(load(arguments.url, arguments.seconds, arguments.connections)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
