"""Codename login: the derivation time, and the start page under a flood of logins.

* **Derivation**: ``crypto.derive_source_keys`` at the production cost a
  configuration gets by default (Argon2id, 3 passes over 64 MiB), timed in this
  process one derivation at a time.
* **Flood**: the source app under waitress in another process, with that production
  cost and the default derivation concurrency. Each run measures the start page's
  throughput idle, then while ``login_flood.py`` (a third process) posts wrong
  codenames from N connections, for each N in the flood levels. Target: the start
  page keeps at least 80% of its idle throughput during the heaviest flood.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import harness
import start_page

FLOOD_SCRIPT: Final = harness.BENCH_DIR / "login_flood.py"
TARGET_RATIO: Final = 0.8
CONNECTIONS: Final = start_page.CONNECTIONS
FLOOD_SETTLE_SECONDS: Final = 1.0
FLOOD_TABLE_HEADER: Final = (
    "| state | start page requests/s, median (min–max) | % of idle"
    " | login answers (status: count) | login p50, ms |\n| --- | --- | --- | --- | --- |"
)


def derivation_times(count: int) -> list[float]:
    """Return the duration in seconds of ``count`` production derivations in a row."""
    import os

    from crypto import derive_source_keys

    params = harness.production_source_kdf()
    salt = os.urandom(16)
    times = []
    for index in range(count):
        start = time.perf_counter()
        derive_source_keys(f"benchmark codename number {index}", salt, params)
        times.append(time.perf_counter() - start)
    return times


def flooded_rps(
    base_url: str, seconds: float, flood_connections: int
) -> tuple[float, dict[str, Any]]:
    """Measure the start page while a flood of logins runs; return its rate and counts."""
    flood = subprocess.Popen(
        [
            sys.executable,
            str(FLOOD_SCRIPT),
            base_url,
            "--seconds",
            str(seconds + 2 * FLOOD_SETTLE_SECONDS),
            "--connections",
            str(flood_connections),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(FLOOD_SETTLE_SECONDS)
        result = harness.measure_rps(base_url + "/", seconds, CONNECTIONS)
        output, _ = flood.communicate(timeout=300)
    finally:
        if flood.poll() is None:
            flood.kill()
            flood.wait()
    if flood.returncode != 0:
        raise RuntimeError(f"login_flood.py exited with {flood.returncode}")
    counts = json.loads(output)
    counts["start_page_errors"] = result.errors
    return result.requests_per_second, counts


def measure(
    runs: int, seconds: float, derivations: int, flood_levels: list[int], warm_up: bool = True
) -> harness.Outcome:
    """Measure derivation and flooded throughput; return the section."""
    derivation = harness.Summary.of([value * 1000 for value in derivation_times(derivations)])
    params = harness.production_source_kdf()

    idle_rates: list[float] = []
    flooded: dict[int, list[float]] = {level: [] for level in flood_levels}
    login_counts: dict[int, dict[str, int]] = {level: {} for level in flood_levels}
    login_durations: dict[int, list[float]] = {level: [] for level in flood_levels}
    start_page_errors = 0
    with (
        tempfile.TemporaryDirectory(prefix="lumen-bench-login-") as folder,
        harness.ServerProcess("source", Path(folder) / "data", "--production-kdf") as server,
    ):
        start_page.check_page(server.base_url + "/")
        if warm_up:
            harness.measure_rps(server.base_url + "/", 1, CONNECTIONS)
        for _run in range(runs):
            idle_rates.append(
                harness.measure_rps(server.base_url + "/", seconds, CONNECTIONS).requests_per_second
            )
            for level in flood_levels:
                rate, counts = flooded_rps(server.base_url, seconds, level)
                flooded[level].append(rate)
                for status, number in counts["statuses"].items():
                    login_counts[level][status] = login_counts[level].get(status, 0) + number
                login_durations[level].extend(counts["durations"])
                start_page_errors += counts["start_page_errors"]

    idle = harness.Summary.of(idle_rates)
    rows = [f"| idle | {idle.format(0)} | 100% | – | – |"]
    ratios: dict[int, harness.Summary] = {}
    for level in flood_levels:
        ratios[level] = harness.Summary.of(
            [rate / base * 100 for rate, base in zip(flooded[level], idle_rates, strict=True)]
        )
        statuses = ", ".join(
            f"{status}: {number}" for status, number in sorted(login_counts[level].items())
        )
        login_p50 = harness.percentile(login_durations[level], 0.5) if login_durations[level] else 0
        rows.append(
            f"| flood of {level} connections | {harness.Summary.of(flooded[level]).format(0)}"
            f" | {ratios[level].format(0, '%')} | {statuses} | {login_p50 * 1000:.0f} |"
        )

    heaviest = max(flood_levels)
    markdown = f"""
Derivation at the default production cost (Argon2id, opslimit {params.opslimit},
memlimit {params.memlimit // harness.MIB} MiB), one at a time in one process:
**{derivation.format(0, "ms")}**.

Start page `GET /` under load ({harness.load_client_name()}, {CONNECTIONS} connections,
{seconds:g} s a measurement), idle and during a flood of wrong-codename logins from
another process. The server has the production cost and the default derivation
concurrency ({harness.config_default("derivation_concurrency")} at once); waitress runs
{harness.config_default("waitress_threads")} worker threads. Errors on the start page
during the runs: {start_page_errors}.

{FLOOD_TABLE_HEADER}
{chr(10).join(rows)}
"""
    target = harness.Target(
        name=f"start page during a login flood ({heaviest} connections)",
        goal=">= 80% of idle",
        measured=f"{ratios[heaviest].median:.0f}%",
        met=ratios[heaviest].median >= TARGET_RATIO * 100,
    )
    return harness.Outcome(
        section="codename-login",
        title="Codename login",
        markdown=markdown,
        targets=[target],
        data={
            "derivation_ms": derivation.median,
            "idle_rps": idle_rates,
            "flooded_rps": {str(level): rates for level, rates in flooded.items()},
            "login_statuses": {str(level): counts for level, counts in login_counts.items()},
        },
    )


def main() -> int:
    parser = harness.base_parser(__doc__.splitlines()[0], default_runs=3)
    parser.add_argument(
        "--seconds", type=float, default=None, help="duration of each measurement (default 5)"
    )
    parser.add_argument(
        "--flood",
        type=int,
        nargs="+",
        default=None,
        help="concurrent login connections of each flood level (default 4 16, 4 with --quick)",
    )
    arguments = parser.parse_args()
    seconds = arguments.seconds or (1.0 if arguments.quick else 5.0)
    levels = arguments.flood or ([4] if arguments.quick else [4, 16])
    derivations = 2 if arguments.quick else 20
    runs = harness.run_count(arguments)
    outcome = measure(runs, seconds, derivations, levels, warm_up=not arguments.quick)
    harness.publish(outcome, arguments)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
