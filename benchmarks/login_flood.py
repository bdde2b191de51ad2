"""Flood the source app's codename login with wrong codenames; print the counts as JSON.

Each thread holds its own session: it loads ``/login`` once for the cookie and the
CSRF token, then posts random codenames in a loop until the time is up, so every
post costs the server one Argon2id derivation (or a wait for a derivation slot).
Run in its own process so that its work does not slow the load client beside it.
"""

from __future__ import annotations

import argparse
import collections
import json
import threading
import time

import harness  # noqa: F401 - puts the repository root on sys.path
import requests
import sourceflow


def flood(base_url: str, seconds: float, connections: int) -> dict[str, object]:
    """Post wrong codenames from ``connections`` threads for ``seconds``; return counts."""
    statuses: collections.Counter[str] = collections.Counter()
    durations: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        http = requests.Session()
        page = http.get(base_url + "/login", timeout=60)
        token = sourceflow.csrf_token(page.text)
        while time.perf_counter() < deadline:
            codename = sourceflow.random_text(40)
            start = time.perf_counter()
            try:
                response = http.post(
                    base_url + "/login",
                    data={"csrf_token": token, "codename": codename},
                    allow_redirects=False,
                    timeout=120,
                )
                status = str(response.status_code)
            except requests.RequestException as error:
                status = type(error).__name__
            with lock:
                statuses[status] += 1
                durations.append(time.perf_counter() - start)

    workers = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return {"statuses": dict(statuses), "durations": durations}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the source app, such as http://127.0.0.1:8080")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of the flood")
    parser.add_argument("--connections", type=int, default=8, help="concurrent login posts")
    arguments = parser.parse_args()
    print(json.dumps(flood(arguments.base_url, arguments.seconds, arguments.connections)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
