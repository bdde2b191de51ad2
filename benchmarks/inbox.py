"""Latency of the caseworker inbox with 10,000 cases in a SQLite instance.

The script builds an instance in a temporary folder with ``tests.conftest``'s test
configuration (three centres, new keys). It writes 10,000 cases for one centre straight
into the store, each with encrypted questionnaire answers, a status, and for some a tag
or an assignee, as the source app and caseworkers would leave them. It logs a caseworker in
through the login form with CSRF on, and then times ``GET`` requests of inbox pages
through Flask's test client: the first page, a page deep in the list, and the first
page filtered by status, by tag and by assignee. Each page decrypts the answers of its
50 cases. The time covers the whole request in process: session and stash check,
the queries, decryption and rendering. Target: p50 <= 200 ms for every page.

Usage, from the repository root::

    python benchmarks/inbox.py [--quick] [--runs N] [--cases N]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

import harness

DEFAULT_CASES: Final = 10_000
TARGET_P50_MS: Final = 200.0
REQUESTS_PER_PAGE: Final = 20
BATCH: Final = 1000
PAGES: Final = {
    "first page": "/",
    "page 100": "/?page=100",
    "status filter": "/?status=in_progress",
    "tag filter": "/?tag=urgent",
    "assignee filter": "/?assignee=me",
}


def build_instance(data_dir: Path, cases: int) -> tuple[object, object]:
    """Create an instance with ``cases`` cases for centre payoke; return app and account."""
    from nacl.public import PrivateKey
    from sqlalchemy.orm import Session

    from crypto import generate_private_key
    from journalist_app import create_app
    from lumen.services import make_services
    from store.cases import STATUSES, make_designation
    from store.envelopes import Recipient, seal_value
    from store.models import CaseState, CaseTag, Source, Submission, new_id
    from tests.conftest import install_centres, make_test_config
    from tests.functional.caseworker.support import add_account

    config = make_test_config(data_dir)
    services = make_services(config)
    keys: dict[str, PrivateKey] = {c.id: generate_private_key() for c in config.centres}
    install_centres(services, keys)
    account = add_account(services, keys, "bench", "payoke")
    recipient = Recipient(public_key=keys["payoke"].public_key, centre_id="payoke", key_version=1)
    kinds = ["labour", "sexual", "domestic", "begging", "crime"]

    session: Session
    with services.sessions() as session:
        for start in range(0, cases, BATCH):
            indexes = range(start, min(start + BATCH, cases))
            sources = [
                Source(
                    id=new_id(),
                    lookup_id=new_id() + new_id(),
                    reply_public_key=bytes(generate_private_key().public_key),
                    designation=make_designation(),
                    has_submitted=True,
                )
                for _ in indexes
            ]
            session.add_all(sources)
            session.flush()  # the other rows refer to the sources
            for index, source in zip(indexes, sources, strict=True):
                answers = {"in_danger": index % 7 == 0, "exploitation": [kinds[index % len(kinds)]]}
                pending = seal_value(json.dumps(answers).encode("utf-8"))
                session.add(pending.to_row(source.id, [recipient]))
                session.add(
                    Submission(
                        source_id=source.id, kind="answers", body_id=pending.id, size=pending.size
                    )
                )
                state = CaseState(
                    source_id=source.id,
                    centre_id="payoke",
                    status=STATUSES[index % len(STATUSES)],
                    unread=index % 3,
                    activity_seq=index + 1,
                    assignee_id=account.id if index % 5 == 0 else None,
                )
                if index % 10 == 0:
                    state.tags.append(CaseTag(tag="urgent"))
                session.add(state)
            session.commit()

    return create_app(config, services), account


def login(client: object, account: object) -> None:
    """Log ``account`` in through the form, CSRF token included."""
    from tests.functional.caseworker.support import login as form_login

    response = form_login(client, account)  # type: ignore[arg-type]
    if response.status_code != 302:
        raise RuntimeError(f"login failed with status {response.status_code}")


def measure(runs: int, cases: int, requests_per_page: int) -> harness.Outcome:
    """Time every inbox page ``requests_per_page`` times in each of ``runs`` runs."""
    p50s: dict[str, list[float]] = {name: [] for name in PAGES}
    p95s: dict[str, list[float]] = {name: [] for name in PAGES}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="lumen-bench-inbox-") as folder:
        started = time.perf_counter()
        app, account = build_instance(Path(folder) / "data", cases)
        build_seconds = time.perf_counter() - started
        client = app.test_client()  # type: ignore[attr-defined]
        login(client, account)
        for url in PAGES.values():  # warm-up, and a check that each page works
            response = client.get(url)
            if response.status_code != 200 or b"<table" not in response.data:
                raise RuntimeError(f"{url} returned status {response.status_code}")

        for _run in range(runs):
            for name, url in PAGES.items():
                latencies = []
                for _request in range(requests_per_page):
                    begin = time.perf_counter()
                    response = client.get(url)
                    latencies.append(time.perf_counter() - begin)
                    if response.status_code != 200:
                        raise RuntimeError(f"{url} returned status {response.status_code}")
                p50s[name].append(harness.percentile(latencies, 0.50) * 1000)
                p95s[name].append(harness.percentile(latencies, 0.95) * 1000)

    rows = ["| page | URL | p50 | p95 |", "| --- | --- | --- | --- |"]
    for name, url in PAGES.items():
        rows.append(
            f"| {name} | `{url}` | {harness.Summary.of(p50s[name]).format(1, 'ms')} "
            f"| {harness.Summary.of(p95s[name]).format(1, 'ms')} |"
        )
    load_after = os.getloadavg()[0]
    machine = harness.machine_info()
    command = "python benchmarks/inbox.py " + " ".join(sys.argv[1:])
    markdown = "\n".join(
        [
            f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine['cpu']},"
            f" {machine['cores']} cores, {machine['ram']} RAM, {machine['kernel']},"
            f" Python {machine['python']}.",
            f"Command: `{command.strip()}`. Load average (1 min) {load_before:.1f} before,"
            f" {load_after:.1f} after: other work on the machine slows every number.",
            "",
            f"{cases:,} cases of one centre in SQLite (built in {build_seconds:.0f} s), 50 a page,"
            f" the answers of each shown case decrypted. Each cell is the median over {runs}"
            f" runs of {requests_per_page} requests through Flask's test client (min–max).",
            "",
            *rows,
        ]
    )
    worst = max(harness.Summary.of(values).median for values in p50s.values())
    target = harness.Target(
        name="inbox page p50, 10,000 cases"
        if cases == DEFAULT_CASES
        else f"inbox page p50, {cases} cases",
        goal=f"<= {TARGET_P50_MS:.0f} ms",
        measured=f"{worst:.1f} ms (slowest page)",
        met=worst <= TARGET_P50_MS,
    )
    return harness.Outcome(
        section="inbox",
        title="Inbox",
        markdown=markdown,
        targets=[target],
        data={"p50_ms": p50s, "p95_ms": p95s, "cases": cases},
    )


def main() -> int:
    """Run the benchmark and write its section of the results file."""
    parser = harness.base_parser(__doc__.splitlines()[0], default_runs=5)
    parser.add_argument(
        "--cases",
        type=int,
        default=None,
        help=f"cases to generate (default {DEFAULT_CASES:,}, 500 with --quick)",
    )
    arguments = parser.parse_args()
    cases = arguments.cases or (500 if arguments.quick else DEFAULT_CASES)
    requests_per_page = 3 if arguments.quick else REQUESTS_PER_PAGE
    outcome = measure(harness.run_count(arguments), cases, requests_per_page)
    harness.publish(outcome, arguments)
    return 0 if all(target.met for target in outcome.targets) else 1


if __name__ == "__main__":
    raise SystemExit(main())
