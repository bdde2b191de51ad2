"""Load on loopback: many sources at once, and a flood of wrong codenames.

Both tests run the source app under the production waitress settings, with the
configuration's default of 8 waitress threads, in this process. Each loop is
bounded and stops by itself. Measured numbers are printed (run with ``-s``).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from nacl.public import PrivateKey
from sqlalchemy import func, select

from crypto import KdfParams
from lumen.config import MIB, Config
from lumen.services import Services, make_services
from store.models import Submission
from tests.conftest import install_centres
from tests.functional.caseworker.support import add_account, http_login
from tests.hardening.clients import SourceClient
from tests.hardening.conftest import serve
from tests.hardening.support import stored_texts

SOURCES = 50
REPORTS_PER_SOURCE = 10
FLOOD_LOGINS = 200
# Half the production Argon2id memory cost and one pass: 200 derivations at the
# default concurrency of 2 then take about 7 s on two idle cores.
FLOOD_KDF = KdfParams(opslimit=1, memlimit=32 * MIB)


class LoadFault(AssertionError):
    """The start page stopped responding during the login flood."""


def _one_source(url: str, number: int) -> list[tuple[int, str]]:
    """Report once and follow up nine times; return each send's status and marker."""
    source = SourceClient(url)
    source.start()
    results = []
    token = source.token("/report")
    for index in range(REPORTS_PER_SOURCE):
        marker = f"bron-{number:02d}-bericht-{index:02d}"
        path = "/report" if index == 0 else "/conversation"
        response = source.post(
            path,
            data={"csrf_token": token, "message": marker},
            files=[("files", (f"{marker}.txt", marker.encode() * 50))],
        )
        results.append((response.status_code, marker))
    return results


def _page_inbox(url: str, browser: requests.Session, stop: threading.Event) -> list[int]:
    """Page through the inbox until ``stop`` is set; return every status."""
    statuses = []
    page = 1
    while not stop.is_set() and len(statuses) < 2000:
        response = browser.get(f"{url}/?page={page}", timeout=30)
        statuses.append(response.status_code)
        page = page + 1 if 'rel="next"' in response.text else 1
    return statuses


def _log_in_caseworker(
    url: str, services: Services, keys: dict[str, PrivateKey]
) -> requests.Session:
    account = add_account(services, keys, "anna", "payoke")
    return http_login(url, account)


@pytest.mark.slow
def test_fifty_sources_lose_nothing(
    config: Config, services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    from journalist_app import create_app as create_caseworker_app
    from source_app import create_app as create_source_app

    started = time.monotonic()
    with (
        serve(create_source_app(config, services), config) as source_server,
        serve(create_caseworker_app(config, services), config) as caseworker_server,
    ):
        caseworker = _log_in_caseworker(caseworker_server.url, services, centre_keys)
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=SOURCES + 1) as pool:
            inbox = pool.submit(_page_inbox, caseworker_server.url, caseworker, stop)
            runs = list(pool.map(_one_source, [source_server.url] * SOURCES, range(SOURCES)))
            stop.set()
            inbox_statuses = inbox.result()
    elapsed = time.monotonic() - started

    statuses = [status for run in runs for status, _ in run]
    print(
        f"\n{SOURCES} sources x {REPORTS_PER_SOURCE} reports in {elapsed:.1f} s"
        f" ({len(statuses) / elapsed:.1f} reports/s); inbox pages read: {len(inbox_statuses)}"
    )
    assert [s for s in statuses if s >= 500] == []
    assert all(status in (302, 303) for status in statuses)
    assert inbox_statuses
    assert set(inbox_statuses) == {200}

    with services.sessions() as db:
        messages = int(db.scalar(select(func.count()).where(Submission.kind == "message")) or 0)
    assert messages == SOURCES * REPORTS_PER_SOURCE
    texts = stored_texts(services, centre_keys)
    stored_messages = {text.decode() for kind, text in texts if kind == "message"}
    stored_files = {text for kind, text in texts if kind == "file"}
    for run in runs:
        for _, marker in run:
            assert marker in stored_messages, f"{marker} was lost"
            assert marker.encode() * 50 in stored_files, f"the file of {marker} was lost"


def _throughput(
    url: str, seconds: float, clients: int, until: Callable[[], bool]
) -> tuple[float, float, list[int]]:
    """GET the start page from ``clients`` threads; return requests/s, max latency, statuses."""
    statuses: list[int] = []
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        while time.monotonic() < deadline and not until():
            began = time.monotonic()
            try:
                status = session.get(url + "/", timeout=10).status_code
            except requests.RequestException:
                status = 0
            with lock:
                statuses.append(status)
                latencies.append(time.monotonic() - began)

    began = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    return len(statuses) / elapsed, max(latencies, default=0.0), statuses


@pytest.mark.slow
def test_login_flood_keeps_start_page(
    tmp_path: Path, config: Config, centre_keys: dict[str, PrivateKey]
) -> None:
    from source_app import create_app

    flood_config = dataclasses.replace(config, source_kdf=FLOOD_KDF)
    services = make_services(flood_config)
    install_centres(services, centre_keys)
    with serve(create_app(flood_config, services), flood_config) as server:
        idle_rate, idle_latency, idle_statuses = _throughput(server.url, 3.0, 4, lambda: False)

        browsers = [SourceClient(server.url) for _ in range(FLOOD_LOGINS)]
        for browser in browsers:
            # A fresh connection per request: an idle one may be dropped meanwhile.
            browser.http.headers["Connection"] = "close"
        tokens = [browser.token("/login") for browser in browsers]
        barrier = threading.Barrier(FLOOD_LOGINS)
        done = threading.Event()
        flood_statuses: list[int] = []

        def wrong_login(browser: SourceClient, token: str) -> int:
            barrier.wait(timeout=30)
            return browser.post(
                "/login", data={"csrf_token": token, "codename": "verkeerd woord hier"}
            ).status_code

        with ThreadPoolExecutor(max_workers=FLOOD_LOGINS) as pool:
            futures = [
                pool.submit(wrong_login, b, t) for b, t in zip(browsers, tokens, strict=True)
            ]
            time.sleep(0.5)  # let the flood reach the server first

            def collect() -> None:
                flood_statuses.extend(future.result() for future in futures)
                done.set()

            watcher = threading.Thread(target=collect)
            watcher.start()
            flood_began = time.monotonic()
            flood_rate, flood_latency, flood_page = _throughput(server.url, 45.0, 4, done.is_set)
            watcher.join(timeout=60)
            flood_seconds = time.monotonic() - flood_began
    services.engine.dispose()

    print(
        f"\nstart page idle: {idle_rate:.1f} req/s (max {idle_latency * 1000:.0f} ms);"
        f" during {FLOOD_LOGINS} wrong logins ({flood_seconds:.1f} s):"
        f" {flood_rate:.1f} req/s (max {flood_latency * 1000:.0f} ms);"
        f" login answers {sorted(set(flood_statuses))}"
    )
    assert set(idle_statuses) == {200}
    assert len(flood_statuses) == FLOOD_LOGINS
    assert [s for s in flood_statuses if s >= 500 and s != 503] == []
    if not flood_page or set(flood_page) != {200} or flood_latency > 2.0:
        raise LoadFault(
            f"start page during the flood: {flood_rate:.1f} req/s, max latency"
            f" {flood_latency:.1f} s, statuses {sorted(set(flood_page))}"
        )
