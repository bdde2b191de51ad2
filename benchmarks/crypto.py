"""Measure envelope encryption against raw secretstream and gpg, side by side.

Usage, from the repository root::

    python benchmarks/crypto.py [--sizes 10MB 100MB] [--runs N] [--with-1gb] [--quick]

The default run (10 MB and 100 MB, 5 runs) took 61 seconds on a shared 2-core AMD EPYC.

For each input size and run, every method encrypts the same random input file in its
own child process, whose peak RSS (``VmHWM`` in ``/proc/<pid>/status``) is recorded:

* ``envelope``: :func:`crypto.encrypt_stream`, as the blob store uses it;
* ``raw secretstream``: a bare libsodium push loop over the same chunk size, the floor
  the envelope is measured against;
* ``gpg``: ``gpg --encrypt`` to a Curve25519 (cv25519) key in a temporary GNUPGHOME,
  once with gpg's default compression and once with ``--compress-algo none``.

Each method writes to ``/dev/null`` and to a file in the temporary folder (not
fsynced, for any method). The Python children time only their encryption loop, which
leaves interpreter start-up out. gpg is timed from outside, so its start-up, measured
on an empty input in the same run, is subtracted. The script replaces the "Crypto"
section of benchmarks/RESULTS.md and prints progress as it goes.

``ru_maxrss`` from ``os.wait4`` is not used for peak RSS: on Linux a child keeps the
larger of its own peak and the parent's peak at fork time across ``execve``, so every
child would report at least this script's RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO, Final

BENCH_DIR: Final = Path(__file__).resolve().parent
ROOT: Final = BENCH_DIR.parent
# Python puts this script's folder first on sys.path, where this file would shadow the
# project's crypto package: replace that entry with the repository root.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

RESULTS_PATH: Final = BENCH_DIR / "RESULTS.md"
SECTION: Final = "crypto"
MB: Final = 1_000_000
MIB: Final = 1024 * 1024
DEFAULT_SIZES: Final = ("10MB", "100MB")
ONE_GB: Final = "1GB"
DEFAULT_RUNS: Final = 5
GPG_RECIPIENT: Final = "bench@lumen.invalid"
# Targets: the envelope keeps at least 90% of raw secretstream throughput, and the
# peak RSS of an envelope child grows by less than this between the smallest and the
# largest input.
ENVELOPE_FLOOR: Final = 0.90
RSS_GROWTH_LIMIT: Final = 4 * MIB
SINKS: Final = ("null", "file")


# --- the work each child process does -----------------------------------------------


def encrypt_envelope(source: BinaryIO, sink: BinaryIO) -> None:
    from crypto import ContentKey, encrypt_stream

    encrypt_stream(source, sink, ContentKey.generate(), "benchmark-record")


def encrypt_raw(source: BinaryIO, sink: BinaryIO) -> None:
    import nacl.bindings as sodium

    from crypto import CHUNK_SIZE, ContentKey

    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sink.write(
        sodium.crypto_secretstream_xchacha20poly1305_init_push(state, bytes(ContentKey.generate()))
    )
    message = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
    final = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
    chunk = source.read(CHUNK_SIZE)
    while True:
        following = source.read(CHUNK_SIZE)
        tag = message if following else final
        sink.write(sodium.crypto_secretstream_xchacha20poly1305_push(state, chunk, None, tag))
        if not following:
            return
        chunk = following


WORKERS: Final[dict[str, Callable[[BinaryIO, BinaryIO], None]]] = {
    "envelope": encrypt_envelope,
    "raw": encrypt_raw,
}


def run_worker(method: str, input_path: str, output_path: str) -> None:
    """Encrypt ``input_path`` into ``output_path``; print times and peak RSS as JSON."""
    work = WORKERS[method]
    # Import before the clock starts, so that only the encryption loop is timed.
    import nacl.bindings  # noqa: F401

    import crypto  # noqa: F401

    with open(input_path, "rb") as source, open(output_path, "wb") as sink:
        started = time.perf_counter()
        cpu_started = time.process_time()
        work(source, sink)
        sink.flush()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    peak_rss = read_peak_rss("self")
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_rss": peak_rss}))


def read_peak_rss(pid: int | str) -> int:
    """Return ``VmHWM`` of ``/proc/<pid>/status`` in bytes, or 0 once the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


# --- measuring children -------------------------------------------------------------


@dataclass
class Sample:
    """One child's wall time, CPU time and peak RSS for one input."""

    seconds: float
    cpu_seconds: float
    peak_rss: int


@dataclass
class Series:
    """Every sample of one method, sink and size."""

    method: str
    sink: str
    size: int
    samples: list[Sample] = field(default_factory=list)

    def throughputs(self, cpu: bool = False) -> list[float]:
        return [
            self.size / MB / (sample.cpu_seconds if cpu else sample.seconds)
            for sample in self.samples
        ]

    def median_throughput(self, cpu: bool = False) -> float:
        return statistics.median(self.throughputs(cpu))

    def median_rss(self) -> float:
        return statistics.median(sample.peak_rss for sample in self.samples)


@dataclass(frozen=True)
class ChildRun:
    """Output, times and sampled peak RSS of one finished child."""

    output: str
    seconds: float
    cpu_seconds: float
    peak_rss: int


def run_child(command: Sequence[str]) -> ChildRun:
    """Run ``command``; sample its peak RSS every 10 ms until it exits.

    The sampled peak is a lower bound when the process peaks in its last 10 ms.
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors, tempfile.TemporaryFile() as output:
        # Popen returns once the child has called execve, so /proc shows its own memory.
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=errors)
        peak_rss = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak_rss = max(peak_rss, read_peak_rss(process.pid))
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise RuntimeError(f"{command[0]} exited with {process.returncode}: {message}")
        output.seek(0)
        text = output.read().decode()

    return ChildRun(
        output=text,
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss=peak_rss,
    )


def measure_python(method: str, input_path: Path, output_path: str) -> Sample:
    """Run one Python worker, which times its own loop and reads its own peak RSS."""
    script = str(Path(__file__).resolve())
    child = run_child([sys.executable, script, "--worker", method, str(input_path), output_path])
    timings = json.loads(child.output)
    return Sample(
        seconds=float(timings["seconds"]),
        cpu_seconds=float(timings["cpu_seconds"]),
        peak_rss=int(timings["peak_rss"]),
    )


class Gpg:
    """gpg with a fresh Curve25519 key in a temporary GNUPGHOME."""

    def __init__(self, folder: Path) -> None:
        self.home = folder / "gnupg"
        self.home.mkdir(mode=0o700)
        user_id = f"Lumen benchmark <{GPG_RECIPIENT}>"
        generate = ["--passphrase", "", "--quick-gen-key", user_id, "future-default"]
        subprocess.run([*self._base(), *generate], check=True, capture_output=True)
        listing = subprocess.run(
            [*self._base(), "--list-keys", GPG_RECIPIENT],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        if "cv25519" not in listing:
            raise RuntimeError(f"gpg created no cv25519 encryption key:\n{listing}")

        version = subprocess.run(["gpg", "--version"], check=True, capture_output=True, text=True)
        self.version = version.stdout.splitlines()[0]
        self.startup: ChildRun | None = None

    def _base(self) -> list[str]:
        return ["gpg", "--homedir", str(self.home), "--batch", "--yes", "--quiet"]

    def measure_startup(self, folder: Path, runs: int) -> list[ChildRun]:
        """Time gpg on an empty input; the median is subtracted from every measurement."""
        empty = folder / "empty"
        empty.write_bytes(b"")
        startups = [self._run(empty, os.devnull, compress=False) for _ in range(runs)]
        ordered = sorted(startups, key=lambda child: child.seconds)
        self.startup = ordered[len(ordered) // 2]
        return startups

    def measure(self, input_path: Path, output_path: str, compress: bool) -> Sample:
        child = self._run(input_path, output_path, compress)
        seconds, cpu_seconds = child.seconds, child.cpu_seconds
        # On inputs so small that a run is no slower than start-up, nothing is subtracted.
        if self.startup is not None and seconds > self.startup.seconds:
            seconds -= self.startup.seconds
        if self.startup is not None and cpu_seconds > self.startup.cpu_seconds:
            cpu_seconds -= self.startup.cpu_seconds
        return Sample(seconds=seconds, cpu_seconds=max(cpu_seconds, 1e-6), peak_rss=child.peak_rss)

    def _run(self, input_path: Path, output_path: str, compress: bool) -> ChildRun:
        options = [] if compress else ["--compress-algo", "none"]
        encrypt = ["--trust-model", "always", *options, "--encrypt", "--recipient"]
        return run_child(
            [*self._base(), *encrypt, GPG_RECIPIENT, "--output", output_path, str(input_path)]
        )

    def close(self) -> None:
        subprocess.run(
            ["gpgconf", "--homedir", str(self.home), "--kill", "gpg-agent"],
            check=False,
            capture_output=True,
        )


# --- inputs and sizes ---------------------------------------------------------------


def parse_size(text: str) -> int:
    """Parse ``10MB``, ``1GB`` or a byte count; MB and GB are powers of ten."""
    match = re.fullmatch(r"(\d+)\s*(B|KB|MB|GB)?", text.strip(), re.IGNORECASE)
    if match is None:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}; use e.g. 10MB, 100MB or 1GB")
    units = {"B": 1, "KB": 1000, "MB": MB, "GB": 1000 * MB}
    return int(match.group(1)) * units[(match.group(2) or "B").upper()]


def label(size: int) -> str:
    if size >= 1000 * MB and size % (1000 * MB) == 0:
        return f"{size // (1000 * MB)} GB"
    return f"{size / MB:g} MB"


def write_random_file(path: Path, size: int) -> None:
    block = os.urandom(4 * MIB)
    with path.open("wb") as handle:
        remaining = size
        while remaining:
            part = block[: min(remaining, len(block))]
            handle.write(part)
            remaining -= len(part)


# --- the run ------------------------------------------------------------------------

METHOD_NAMES: Final = {
    "envelope": "envelope (encrypt_stream)",
    "raw": "raw secretstream loop",
    "gpg": "gpg --encrypt",
    "gpg-nocompress": "gpg --encrypt --compress-algo none",
}
SINK_NAMES: Final = {"null": "/dev/null", "file": "file"}


@dataclass
class Results:
    """Every series of one run of this script."""

    sizes: list[int]
    runs: int
    series: dict[tuple[str, str, int], Series] = field(default_factory=dict)
    gpg_version: str = "absent"
    gpg_startup: list[ChildRun] = field(default_factory=list)

    def add(self, method: str, sink: str, size: int, sample: Sample) -> None:
        key = (method, sink, size)
        self.series.setdefault(key, Series(method, sink, size)).samples.append(sample)

    def get(self, method: str, sink: str, size: int) -> Series | None:
        return self.series.get((method, sink, size))


def measure_all(sizes: list[int], runs: int, folder: Path) -> Results:
    """Measure every method, sink and size; methods take turns within each run."""
    results = Results(sizes=sizes, runs=runs)
    gpg: Gpg | None = None
    if shutil.which("gpg"):
        print("generating a Curve25519 gpg key", flush=True)
        gpg = Gpg(folder)
        results.gpg_version = gpg.version
        results.gpg_startup = gpg.measure_startup(folder, max(3, runs))
        startup = statistics.median(child.seconds for child in results.gpg_startup)
        print(f"gpg start-up on an empty input: {startup * 1000:.1f} ms", flush=True)
    else:
        print("gpg not found: its rows are reported as absent", flush=True)

    try:
        for size in sizes:
            input_path = folder / f"input-{size}"
            print(f"writing {label(size)} of random input", flush=True)
            write_random_file(input_path, size)
            output_path = folder / "output"
            for run in range(1, runs + 1):
                for sink in SINKS:
                    target = os.devnull if sink == "null" else str(output_path)
                    for method in WORKERS:
                        sample = measure_python(method, input_path, target)
                        record(results, method, sink, size, sample, f"{run}/{runs}")
                    if gpg is not None:
                        for compress, method in ((True, "gpg"), (False, "gpg-nocompress")):
                            sample = gpg.measure(input_path, target, compress)
                            record(results, method, sink, size, sample, f"{run}/{runs}")
                    output_path.unlink(missing_ok=True)
            input_path.unlink()
    finally:
        if gpg is not None:
            gpg.close()
    return results


def record(results: Results, method: str, sink: str, size: int, sample: Sample, run: str) -> None:
    results.add(method, sink, size, sample)
    print(
        f"  {label(size):>7} run {run} {METHOD_NAMES[method]:<36} -> {SINK_NAMES[sink]:<9}"
        f" {size / MB / sample.seconds:8.1f} MB/s wall"
        f" {size / MB / sample.cpu_seconds:8.1f} MB/s CPU"
        f"  peak RSS {sample.peak_rss / MIB:6.1f} MiB",
        flush=True,
    )


# --- the report ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One stated goal and whether this run met it."""

    name: str
    goal: str
    measured: str
    met: bool


def spread(values: Sequence[float], digits: int = 0) -> str:
    """Return ``median (min–max, n=…)`` for a table cell."""
    ordered = sorted(values)
    median = statistics.median(ordered)
    if len(ordered) == 1:
        return f"{median:.{digits}f} (n=1)"
    return (
        f"{median:.{digits}f} ({ordered[0]:.{digits}f}–{ordered[-1]:.{digits}f}, n={len(ordered)})"
    )


def ratio(
    results: Results, top: str, bottom: str, sink: str, size: int, cpu: bool = False
) -> float | None:
    upper = results.get(top, sink, size)
    lower = results.get(bottom, sink, size)
    if upper is None or lower is None:
        return None
    return upper.median_throughput(cpu) / lower.median_throughput(cpu)


def format_ratio(value: float | None) -> str:
    return "absent" if value is None else f"{value:.2f}"


def targets(results: Results) -> list[Target]:
    """Judge the two targets: envelope throughput near raw, and RSS flat in size."""
    found = []
    for sink in SINKS:
        cpu_ratios = [
            ratio(results, "envelope", "raw", sink, size, cpu=True) for size in results.sizes
        ]
        wall_ratios = [ratio(results, "envelope", "raw", sink, size) for size in results.sizes]
        measured = ", ".join(
            f"{label(size)}: {format_ratio(cpu_value)} CPU, {format_ratio(wall_value)} wall"
            for size, cpu_value, wall_value in zip(
                results.sizes, cpu_ratios, wall_ratios, strict=True
            )
        )
        found.append(
            Target(
                name=f"envelope within 10% of raw secretstream, to {SINK_NAMES[sink]}",
                goal=f"envelope / raw MB/s (CPU time) ≥ {ENVELOPE_FLOOR:.2f} at every size",
                measured=measured,
                met=all(value is not None and value >= ENVELOPE_FLOOR for value in cpu_ratios),
            )
        )

    smallest, largest = min(results.sizes), max(results.sizes)
    for sink in SINKS:
        low = results.get("envelope", sink, smallest)
        high = results.get("envelope", sink, largest)
        assert low is not None and high is not None
        growth = high.median_rss() - low.median_rss()
        found.append(
            Target(
                name=f"envelope peak RSS flat in file size, to {SINK_NAMES[sink]}",
                goal=(
                    f"grows < {RSS_GROWTH_LIMIT / MIB:.0f} MiB from the smallest to the"
                    " largest input"
                ),
                measured=(
                    f"{label(smallest)}: {low.median_rss() / MIB:.1f} MiB,"
                    f" {label(largest)}: {high.median_rss() / MIB:.1f} MiB"
                    if largest > smallest
                    else "not measured: needs two sizes"
                ),
                met=largest > smallest and growth < RSS_GROWTH_LIMIT,
            )
        )
    return found


def markdown(results: Results, command: str, found: list[Target]) -> str:
    """Return the Crypto section: set-up, measurements, ratios and targets."""
    machine = machine_info()
    startup = (
        spread([child.seconds * 1000 for child in results.gpg_startup], 1) + " ms"
        if results.gpg_startup
        else "absent"
    )
    lines = [
        "## Crypto",
        "",
        "Written by `benchmarks/crypto.py`. Each method encrypts the same random input in",
        "its own child process, and the methods take turns within each run. Peak RSS is",
        "the child's `VmHWM`: the Python workers read their own at the end, and the",
        "script samples gpg's every 10 ms (a lower bound). The Python workers time only",
        "their encryption loop (wall clock and `time.process_time`). gpg is timed from",
        "outside (wall clock, and user plus system time from `os.wait4`), with the median",
        "of its runs on an empty input subtracted. File outputs go to the temporary",
        "folder and are not fsynced. MB is 10^6 bytes. Other work shared the machine",
        "while this ran, so the wall-clock figures vary widely; CPU-time throughput is",
        "the steadier comparison, and the targets are judged on it.",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC |",
        f"| command | `{command}` |",
        f"| CPU | {machine['cpu']}, {machine['cores']} cores |",
        f"| RAM | {machine['ram']} |",
        f"| kernel | {machine['kernel']} |",
        f"| Python, PyNaCl | {machine['python']}, {machine['pynacl']} |",
        f"| gpg | {results.gpg_version} |",
        f"| gpg start-up, empty input | {startup} |",
        f"| runs per cell | {results.runs} |",
        "",
        "| size | method | sink | MB/s wall, median (min–max, n) | MB/s CPU, median"
        " (min–max, n) | peak RSS MiB, median (min–max, n) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for size in results.sizes:
        for method, method_name in METHOD_NAMES.items():
            for sink, sink_name in SINK_NAMES.items():
                series = results.get(method, sink, size)
                row = f"| {label(size)} | {method_name} | {sink_name} |"
                if series is None:
                    lines.append(f"{row} absent | absent | absent |")
                    continue
                rss = [sample.peak_rss / MIB for sample in series.samples]
                lines.append(
                    f"{row} {spread(series.throughputs())} | {spread(series.throughputs(True))}"
                    f" | {spread(rss, 1)} |"
                )

    lines += [
        "",
        "Ratios of median throughput, CPU time (wall clock in brackets); above 1 the",
        "envelope is faster:",
        "",
        "| size | envelope / raw, /dev/null | envelope / raw, file | envelope / gpg, file"
        " | envelope / gpg without compression, file |",
        "| --- | --- | --- | --- | --- |",
    ]
    pairs = [("raw", "null"), ("raw", "file"), ("gpg", "file"), ("gpg-nocompress", "file")]
    for size in results.sizes:
        cells = [
            f"{format_ratio(ratio(results, 'envelope', other, sink, size, cpu=True))}"
            f" ({format_ratio(ratio(results, 'envelope', other, sink, size))})"
            for other, sink in pairs
        ]
        lines.append(f"| {label(size)} | " + " | ".join(cells) + " |")

    lines += ["", "| target | goal | measured (median) | result |", "| --- | --- | --- | --- |"]
    for target in found:
        verdict = "met" if target.met else "**missed**"
        lines.append(f"| {target.name} | {target.goal} | {target.measured} | {verdict} |")
    return "\n".join(lines) + "\n"


def machine_info() -> dict[str, str]:
    """Return the CPU model, core count, RAM, kernel, Python and PyNaCl versions."""
    import nacl

    cpu = platform.processor() or "unknown"
    ram = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
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
        "pynacl": f"PyNaCl {nacl.__version__}",
    }


def replace_section(path: Path, body: str) -> None:
    """Replace this script's section of ``path`` between its markers, or append it."""
    begin = f"<!-- BEGIN {SECTION} -->"
    end = f"<!-- END {SECTION} -->"
    block = f"{begin}\n{body.strip()}\n{end}"
    text = path.read_text("utf-8") if path.exists() else ""
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: block, text, count=1)
    elif text.strip():
        text = f"{text.rstrip()}\n\n{block}\n"
    else:
        text = f"{block}\n"
    path.write_text(text, "utf-8")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=parse_size,
        default=None,
        metavar="SIZE",
        help=f"input sizes such as 10MB 100MB 1GB (default {' '.join(DEFAULT_SIZES)})",
    )
    parser.add_argument(
        "--with-1gb",
        action="store_true",
        help=(
            "add a 1 GB input; with it, 5 runs took 11 minutes on a shared 2-core AMD EPYC,"
            " most of it in gpg"
        ),
    )
    parser.add_argument(
        "--runs", type=int, default=None, help=f"runs per measurement (default {DEFAULT_RUNS})"
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 MB and 10 MB, one run: checks the script works"
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS_PATH,
        help="Markdown file whose Crypto section is replaced (default benchmarks/RESULTS.md)",
    )
    parser.add_argument(
        "--json", type=Path, default=None, help="also write the targets as JSON to this file"
    )
    arguments = parser.parse_args()
    if arguments.runs is not None and arguments.runs < 1:
        parser.error(f"--runs must be at least 1, got {arguments.runs}")
    return arguments


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        run_worker(sys.argv[2], sys.argv[3], sys.argv[4])
        return 0

    arguments = parse_arguments()
    if arguments.quick:
        sizes = [parse_size("1MB"), parse_size("10MB")]
        runs = arguments.runs or 1
    else:
        sizes = arguments.sizes or [parse_size(size) for size in DEFAULT_SIZES]
        runs = arguments.runs or DEFAULT_RUNS
    if arguments.with_1gb:
        sizes.append(parse_size(ONE_GB))
    sizes = sorted(set(sizes))

    command = " ".join(["python benchmarks/crypto.py", *sys.argv[1:]])
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lumen-bench-crypto-") as folder:
        results = measure_all(sizes, runs, Path(folder))
    found = targets(results)
    body = markdown(results, command, found)
    replace_section(arguments.results, body)
    if arguments.json is not None:
        payload = {
            "section": SECTION,
            "title": "Crypto",
            "targets": [asdict(target) for target in found],
        }
        arguments.json.write_text(json.dumps(payload, indent=2), "utf-8")
    print(body)
    print(f"finished in {time.perf_counter() - started:.0f} s; wrote {arguments.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
