"""Profile the source app under one benchmark's load, to find what limits it.

Usage, from the repository root::

    python benchmarks/profile.py {start-page,start-page-app,upload,login-flood} [--seconds S]

py-spy samples every thread of the waitress process while the load runs: the event
loop that reads request bodies and the worker threads. It changes nothing in the
code it samples. The script prints the functions the busy threads spent their
samples in, by self time (the function itself was running) and by total time (the
function was on the stack), as a share of all samples taken while not idle.
``start-page-app`` instead runs pyinstrument on the Flask test client in this
process, which leaves waitress out. py-spy is in the ``test`` extra; in a container
it needs the right to ptrace the server, which a parent process has by default.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

import codename_login
import harness
import sourceflow
import start_page

SAMPLE_RATE: Final = 250
TOP: Final = 15
# Leaf functions in which a thread waits for work rather than doing it.
IDLE_LEAVES: Final = frozenset(
    {"Condition.wait (threading.py)", "poll (waitress/wasyncore.py)", "select (selectors.py)"}
)


def record(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """Start py-spy on ``pid`` for ``seconds``, writing collapsed stacks to ``output``."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: run 'pip install py-spy'")
    process = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            str(SAMPLE_RATE),
            "--format",
            "raw",
            "--output",
            str(output),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # let py-spy attach before the load starts
    return process


def summarise(collapsed: Path) -> str:
    """Return the top functions by self and total samples, as a Markdown table."""
    self_samples: collections.Counter[str] = collections.Counter()
    total_samples: collections.Counter[str] = collections.Counter()
    all_samples = 0
    for line in collapsed.read_text("utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [shorten(frame) for frame in stack.split(";")]
        if frames[-1] in IDLE_LEAVES:
            continue
        all_samples += count
        self_samples[frames[-1]] += count
        for frame in set(frames):
            total_samples[frame] += count

    if not all_samples:
        return "py-spy recorded no samples."

    def table(counter: collections.Counter[str], heading: str) -> str:
        rows = [
            f"| {count / all_samples:.0%} | `{frame}` |"
            for frame, count in counter.most_common(TOP)
        ]
        return f"| {heading} | function (file) |\n| --- | --- |\n" + "\n".join(rows)

    return (
        f"{all_samples} samples of busy threads.\n\n"
        + table(self_samples, "self")
        + "\n\n"
        + table(total_samples, "total")
    )


def shorten(frame: str) -> str:
    """Turn ``function (/long/path/package/module.py:12)`` into ``function (package/module.py)``.

    Dropping the line number counts every call site of a function as one function.
    """
    function, _, location = frame.partition(" (")
    if not location:
        return frame
    path = location.rstrip(")").rpartition(":")[0] or location.rstrip(")")
    parts = Path(path).parts
    short = "/".join(parts[-2:]) if len(parts) > 1 else path
    if parts and parts[-2:-1] and parts[-2].startswith("python3."):
        short = parts[-1]
    return f"{function} ({short})"


def profile_start_page(folder: Path, seconds: float) -> str:
    """Profile the source app while wrk loads ``/``."""
    with harness.ServerProcess("source", folder / "data") as server:
        start_page.check_page(server.base_url + "/")
        harness.measure_rps(server.base_url + "/", 1, start_page.CONNECTIONS)
        output = folder / "stacks.txt"
        spy = record(server.pid, seconds, output)
        harness.measure_rps(server.base_url + "/", seconds, start_page.CONNECTIONS)
        spy.wait()
    return summarise(output)


def profile_start_page_app(folder: Path, seconds: float) -> str:
    """Profile the start page's Flask work alone with pyinstrument, through the test client.

    This leaves waitress out, so it shows what rendering the page costs in the app.
    """
    from pyinstrument import Profiler
    from serve import hello_app, source_app

    app, _config = source_app(folder / "data", production_kdf=False, max_request_bytes=0)
    lines = []
    for name, wsgi_app in (("source app", app), ("hello-world", hello_app())):
        client = wsgi_app.test_client()
        for _ in range(50):
            client.get("/")
        start = time.perf_counter()
        for _ in range(1000):
            client.get("/")
        lines.append(f"{name}: {time.perf_counter() - start:.3f} ms per GET / in the app")

    client = app.test_client()
    profiler = Profiler(interval=0.0005)
    deadline = time.monotonic() + seconds
    profiler.start()
    while time.monotonic() < deadline:
        client.get("/")
    profiler.stop()
    return "\n".join(lines) + "\n\n" + profiler.output_text(unicode=False, color=False)


def profile_upload(folder: Path, seconds: float) -> str:
    """Profile the source app while 100 MB files are posted one after another."""
    data = folder / "upload.bin"
    harness.write_random_file(data, 100_000_000)
    with harness.ServerProcess(
        "source", folder / "data", "--max-request-bytes", "1100000000"
    ) as server:
        output = folder / "stacks.txt"
        spy = record(server.pid, seconds, output)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            client = sourceflow.SourceClient(server.base_url)
            client.new_source()
            client.post_report(client.report_token(), "profile", [data])
        spy.wait()
    return summarise(output)


def profile_login_flood(folder: Path, seconds: float) -> str:
    """Profile the source app with production KDF settings during a login flood."""
    with harness.ServerProcess("source", folder / "data", "--production-kdf") as server:
        output = folder / "stacks.txt"
        spy = record(server.pid, seconds, output)
        codename_login.flooded_rps(server.base_url, seconds - 2, 16)
        spy.wait()
    return summarise(output)


SCENARIOS: Final = {
    "start-page": profile_start_page,
    "start-page-app": profile_start_page_app,
    "upload": profile_upload,
    "login-flood": profile_login_flood,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of the profile")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lumen-bench-profile-") as folder:
        print(SCENARIOS[arguments.scenario](Path(folder), arguments.seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
