"""Shared pieces of the benchmark scripts: statistics, servers, load, machine, results.

Every script in this folder runs as ``python benchmarks/<name>.py`` from the
repository root. Importing this module puts the root on ``sys.path`` so the scripts
can import the project and ``tests.conftest`` (for ``make_test_config``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

BENCH_DIR: Final = Path(__file__).resolve().parent
ROOT: Final = BENCH_DIR.parent
RESULTS_PATH: Final = BENCH_DIR / "RESULTS.md"
SERVE_SCRIPT: Final = BENCH_DIR / "serve.py"
LOADGEN_SCRIPT: Final = BENCH_DIR / "loadgen.py"
MB: Final = 1_000_000
MIB: Final = 1024 * 1024

# The root goes first: the scripts' own folder, which Python puts on sys.path, contains
# benchmarks/crypto.py, which would otherwise shadow the crypto package.
if str(ROOT) in sys.path:
    sys.path.remove(str(ROOT))
sys.path.insert(0, str(ROOT))


# --- command line -------------------------------------------------------------------


def base_parser(description: str, default_runs: int) -> argparse.ArgumentParser:
    """Return a parser with the options every benchmark script shares."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smallest inputs and shortest durations, to check that the script still works",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help=f"repetitions of each measurement (default {default_runs}, 1 with --quick)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS_PATH,
        help="Markdown file whose section this script replaces (default benchmarks/RESULTS.md)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="also write the measurements and targets as JSON to this file",
    )
    parser.set_defaults(default_runs=default_runs)
    return parser


def run_count(arguments: argparse.Namespace) -> int:
    """Return the number of runs the options ask for."""
    if arguments.runs is not None:
        if arguments.runs < 1:
            raise SystemExit(f"--runs must be at least 1, got {arguments.runs}")
        return int(arguments.runs)
    return 1 if arguments.quick else int(arguments.default_runs)


def config_default(name: str) -> Any:
    """Return the value a configuration gets for field ``name`` when it sets none."""
    from lumen.config import Config

    for config_field in dataclasses.fields(Config):
        if config_field.name != name:
            continue
        if callable(config_field.default_factory):
            return config_field.default_factory()
        return config_field.default
    raise LookupError(f"Config has no field {name!r}")


def production_source_kdf() -> Any:
    """Return the codename Argon2id cost (``KdfParams``) of a default configuration."""
    return config_default("source_kdf")


# --- statistics ---------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """Median and spread of repeated measurements of one quantity."""

    median: float
    low: float
    high: float
    q1: float
    q3: float
    count: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        """Summarise ``values``; at least one is needed."""
        if not values:
            raise ValueError("no values to summarise")
        ordered = sorted(values)
        if len(ordered) >= 4:
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            q1, q3 = ordered[0], ordered[-1]
        return cls(
            median=statistics.median(ordered),
            low=ordered[0],
            high=ordered[-1],
            q1=q1,
            q3=q3,
            count=len(ordered),
        )

    def format(self, digits: int = 1, unit: str = "") -> str:
        """Return ``median (min–max, n=…)`` for a table cell."""
        suffix = unit if unit in ("", "%") else f" {unit}"
        if self.count == 1:
            return f"{self.median:.{digits}f}{suffix} (n=1)"
        return (
            f"{self.median:.{digits}f}{suffix}"
            f" ({self.low:.{digits}f}–{self.high:.{digits}f}, n={self.count})"
        )


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the ``fraction`` percentile of ``values`` by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


# --- targets ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One stated goal and whether this run met it."""

    name: str
    goal: str
    measured: str
    met: bool

    def row(self) -> str:
        """Return the target as a Markdown table row."""
        verdict = "met" if self.met else "**missed**"
        cells = [cell.replace("|", "\\|") for cell in (self.name, self.goal, self.measured)]
        return f"| {' | '.join(cells)} | {verdict} |"


TARGET_HEADER: Final = "| target | goal | measured (median) | result |\n| --- | --- | --- | --- |"


def targets_table(targets: Sequence[Target]) -> str:
    """Return the Markdown table of ``targets``."""
    return "\n".join([TARGET_HEADER, *(target.row() for target in targets)])


@dataclass
class Outcome:
    """What one script hands to ``run_all.py``: its section and its targets."""

    section: str
    title: str
    markdown: str
    targets: list[Target] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def publish(outcome: Outcome, arguments: argparse.Namespace) -> None:
    """Write the outcome's section into the results file and, if asked, its JSON."""
    body = f"## {outcome.title}\n\n{outcome.markdown.strip()}\n"
    if outcome.targets:
        body += f"\n{targets_table(outcome.targets)}\n"
    replace_section(arguments.results, outcome.section, body)
    if arguments.json is not None:
        payload = {
            "section": outcome.section,
            "title": outcome.title,
            "targets": [asdict(target) for target in outcome.targets],
            "data": outcome.data,
        }
        arguments.json.write_text(json.dumps(payload, indent=2), "utf-8")
    print(body)


# --- the results file ---------------------------------------------------------------

_BEGIN: Final = "<!-- BEGIN {name} -->"
_END: Final = "<!-- END {name} -->"


def replace_section(path: Path, name: str, body: str, first: bool = False) -> None:
    """Replace the text between this section's markers in ``path``, or add the section.

    Text outside the markers, including sections other scripts write, is kept as it
    is. A new section goes at the end, or at the top when ``first`` is true.
    """
    begin = _BEGIN.format(name=name)
    end = _END.format(name=name)
    block = f"{begin}\n{body.strip()}\n{end}"
    text = path.read_text("utf-8") if path.exists() else ""

    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: block, text, count=1)
    elif first:
        text = f"{block}\n\n{text.lstrip()}"
    else:
        text = f"{text.rstrip()}\n\n{block}\n" if text.strip() else f"{block}\n"
    path.write_text(text if text.endswith("\n") else text + "\n", "utf-8")


# --- machine ------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    """Return the CPU model, core count, RAM, kernel and Python of this machine."""
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    ram = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count() or "unknown"),
        "ram": ram,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


# --- servers ------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def proc_status(pid: int) -> dict[str, int]:
    """Return the memory fields of ``/proc/<pid>/status`` in bytes."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if key.startswith("Vm") and len(parts) == 2 and parts[1] == "kB":
            values[key] = int(parts[0]) * 1024
    return values


def reset_peak_rss(pid: int) -> bool:
    """Reset the peak RSS (VmHWM) of ``pid`` to its current RSS; return whether it worked.

    Writing ``5`` to ``/proc/<pid>/clear_refs`` does this on Linux 4.0 and later.
    """
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class ServerProcess:
    """A waitress server started by ``serve.py`` in its own process on 127.0.0.1."""

    def __init__(self, app: str, data_dir: Path | None = None, *options: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, str(SERVE_SCRIPT), app, "--port", str(self.port)]
        if data_dir is not None:
            command += ["--data-dir", str(data_dir)]
        command += list(options)
        self.data_dir = data_dir
        # A file, not a pipe: a pipe nobody reads would block a server that logs much.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_until_listening()

    @property
    def pid(self) -> int:
        return self.process.pid

    def memory(self) -> dict[str, int]:
        """Return the server process's ``Vm*`` fields in bytes."""
        return proc_status(self.pid)

    def _wait_until_listening(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"benchmark server exited with {self.process.returncode}:\n{self.output()}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"benchmark server did not listen on port {self.port} in {timeout} s")

    def output(self) -> str:
        """Return what the server printed so far."""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        """Stop the server and wait for it to exit."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# --- load ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    """Requests per second measured against one URL by one client tool."""

    requests_per_second: float
    requests: int
    errors: int
    tool: str


def load_client_name() -> str:
    """Return the load client in use: wrk if installed, else the threaded Python client."""
    return "wrk" if shutil.which("wrk") else "python-threads"


def measure_rps(url: str, seconds: float, connections: int, threads: int = 1) -> LoadResult:
    """Load ``url`` for ``seconds`` from another process and return the throughput."""
    if shutil.which("wrk"):
        return _measure_with_wrk(url, seconds, connections, threads)
    return _measure_with_python(url, seconds, connections)


def _measure_with_wrk(url: str, seconds: float, connections: int, threads: int) -> LoadResult:
    duration = max(1, round(seconds))
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if rps is None or total is None:
        raise RuntimeError(f"could not read the wrk output:\n{output}")
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(value) for value in socket_errors.groups())
    return LoadResult(float(rps.group(1)), int(total.group(1)), errors, "wrk")


def _measure_with_python(url: str, seconds: float, connections: int) -> LoadResult:
    output = subprocess.run(
        [
            sys.executable,
            str(LOADGEN_SCRIPT),
            url,
            "--seconds",
            str(seconds),
            "--connections",
            str(connections),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(output)
    return LoadResult(
        result["requests"] / result["seconds"],
        result["requests"],
        result["errors"],
        "python-threads",
    )


# --- files --------------------------------------------------------------------------


def write_random_file(path: Path, size: int, block: int = 4 * MIB) -> None:
    """Write ``size`` random bytes to ``path`` in blocks, so memory stays small.

    Random bytes do not compress, like the photos, videos and PDFs sources upload.
    """
    with path.open("wb") as handle:
        remaining = size
        while remaining:
            step = min(block, remaining)
            handle.write(os.urandom(step))
            remaining -= step


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    """Yield a one-element list that holds the elapsed seconds once the block ends."""
    elapsed = [0.0]
    start = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.perf_counter() - start


def today() -> str:
    """Return the current UTC time to the minute, for the results page."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
