"""Requests per second of the source app's start page beside a bare Flask hello-world.

Both apps run in their own waitress process on 127.0.0.1 with the same settings
(``serve.py``); the load comes from another process (wrk, or ``loadgen.py`` when wrk
is missing). Each run measures both, in alternating order, so both numbers share the
machine's state. Target: the start page reaches at least 50% of hello-world.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import harness
import requests

TARGET_RATIO = 0.5
CONNECTIONS = 8


def check_page(url: str) -> None:
    """Fail unless ``url`` answers 200 without a redirect, so the load measures the page."""
    response = requests.get(url, allow_redirects=False, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} returned {response.status_code}, expected 200")


def measure(runs: int, seconds: float, warm_up: bool = True) -> harness.Outcome:
    """Measure both apps ``runs`` times and return the section."""
    source_rates: list[float] = []
    hello_rates: list[float] = []
    ratios: list[float] = []
    errors = 0
    with (
        tempfile.TemporaryDirectory(prefix="lumen-bench-") as folder,
        harness.ServerProcess("source", Path(folder) / "data") as source,
        harness.ServerProcess("hello") as hello,
    ):
        check_page(source.base_url + "/")
        check_page(hello.base_url + "/")
        if warm_up:
            # One short load each, so lazy imports and template compilation are done.
            harness.measure_rps(source.base_url + "/", 1, CONNECTIONS)
            harness.measure_rps(hello.base_url + "/", 1, CONNECTIONS)

        for run in range(runs):
            order = [("source", source), ("hello", hello)]
            if run % 2:
                order.reverse()
            rates: dict[str, float] = {}
            for name, server in order:
                result = harness.measure_rps(server.base_url + "/", seconds, CONNECTIONS)
                rates[name] = result.requests_per_second
                errors += result.errors
            source_rates.append(rates["source"])
            hello_rates.append(rates["hello"])
            ratios.append(rates["source"] / rates["hello"])

    source_summary = harness.Summary.of(source_rates)
    hello_summary = harness.Summary.of(hello_rates)
    ratio_summary = harness.Summary.of([ratio * 100 for ratio in ratios])
    client = harness.load_client_name()
    markdown = f"""
Load client: {client}, {CONNECTIONS} keep-alive connections, {seconds:g} s per
measurement, both apps in one run in alternating order. Errors (non-2xx responses
or socket errors): {errors}.

| app | requests/s, median (min–max) |
| --- | --- |
| source app, `GET /` | {source_summary.format(0)} |
| bare Flask hello-world | {hello_summary.format(0)} |
| start page as % of hello-world | {ratio_summary.format(0, "%")} |
"""
    target = harness.Target(
        name="start page throughput",
        goal=">= 50% of hello-world",
        measured=f"{ratio_summary.median:.0f}%",
        met=ratio_summary.median >= TARGET_RATIO * 100,
    )
    return harness.Outcome(
        section="start-page",
        title="Start page requests per second",
        markdown=markdown,
        targets=[target],
        data={
            "client": client,
            "source_rps": source_rates,
            "hello_rps": hello_rates,
            "errors": errors,
        },
    )


def main() -> int:
    parser = harness.base_parser(__doc__.splitlines()[0], default_runs=5)
    parser.add_argument(
        "--seconds", type=float, default=None, help="duration of each measurement (default 5)"
    )
    arguments = parser.parse_args()
    seconds = arguments.seconds or (1.0 if arguments.quick else 5.0)
    outcome = measure(harness.run_count(arguments), seconds, warm_up=not arguments.quick)
    harness.publish(outcome, arguments)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
