"""Run every benchmark on loopback and write benchmarks/RESULTS.md.

Usage, from the repository root::

    python benchmarks/run_all.py [--quick] [--runs N] [--with-1gb]

Each script runs in its own process and replaces its own section of the results
file; this runner then writes the header section: machine, date, command, duration
and one line per target saying met or missed. ``crypto.py`` and ``inbox.py`` run too
when they exist. Every script gets whichever of ``--quick``, ``--runs``,
``--with-1gb``, ``--results`` and ``--json`` its ``--help`` lists.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import harness

OWN_SCRIPTS: Final = (
    "start_page.py",
    "report_latency.py",
    "upload.py",
    "codename_login.py",
    "page_weight.py",
)
OTHER_SCRIPTS: Final = ("crypto.py", "inbox.py")


@dataclass
class ScriptRun:
    """How one script's run went and the targets it reported."""

    name: str
    status: str
    seconds: float = 0.0
    targets: list[harness.Target] = field(default_factory=list)


def script_options(script: Path) -> str:
    """Return the ``--help`` text of ``script``, to see which options it takes."""
    result = subprocess.run(
        [sys.executable, str(script), "--help"],
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.stdout


def build_command(
    script: Path, arguments: argparse.Namespace, json_path: Path
) -> tuple[list[str], str]:
    """Return the command line for ``script``, or an empty one and the reason to skip it."""
    command = [sys.executable, str(script)]
    options = script_options(script)
    if arguments.quick and "--quick" in options:
        command.append("--quick")
    if arguments.runs is not None and "--runs" in options:
        command += ["--runs", str(arguments.runs)]
    if arguments.with_1gb and "--with-1gb" in options:
        command.append("--with-1gb")
    if "--results" in options:
        command += ["--results", str(arguments.results)]
    elif arguments.results.resolve() != harness.RESULTS_PATH.resolve():
        return [], "skipped: it has no --results option, so it would write benchmarks/RESULTS.md"
    if "--json" in options:
        command += ["--json", str(json_path)]
    return command, ""


def run_script(script: Path, arguments: argparse.Namespace, folder: Path) -> ScriptRun:
    """Run one benchmark script and collect its targets from its JSON output."""
    json_path = folder / f"{script.stem}.json"
    command, skip_reason = build_command(script, arguments, json_path)
    if not command:
        return ScriptRun(script.name, skip_reason)

    print(f"== {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=harness.ROOT, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        return ScriptRun(script.name, f"**failed** (exit status {result.returncode})", seconds)

    targets = []
    if json_path.exists():
        payload = json.loads(json_path.read_text("utf-8"))
        targets = [harness.Target(**target) for target in payload.get("targets", [])]
    return ScriptRun(script.name, "ran", seconds, targets)


def source_version() -> str:
    """Return the commit the run measured, flagged when the working tree differed."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=harness.ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=harness.ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit} with uncommitted changes" if changes else commit


def load_average() -> str:
    """Return the 1-minute load average, which shows whether other work shared the CPU."""
    return f"{os.getloadavg()[0]:.2f}"


def header(
    arguments: argparse.Namespace,
    runs: list[ScriptRun],
    seconds: float,
    load_before: str,
    version: str,
) -> str:
    """Return the header section: machine, date, command, scripts and targets."""
    machine = harness.machine_info()
    command = "python benchmarks/run_all.py " + " ".join(arguments.argv)
    script_rows = "\n".join(f"| `{run.name}` | {run.status} | {run.seconds:.0f} |" for run in runs)
    targets = [target for run in runs for target in run.targets]
    target_lines = harness.targets_table(targets) if targets else "No target was reported."
    missed = sum(not target.met for target in targets)
    verdict = (
        f"{len(targets) - missed} of {len(targets)} targets met, {missed} missed."
        if targets
        else ""
    )
    return f"""# Benchmark results

Written by `benchmarks/run_all.py`; each section below is replaced by the script that
measures it. How to run them and what each measures: [README.md](README.md).

| | |
| --- | --- |
| date | {harness.today()} |
| command | `{command.strip()}` |
| commit at the start | {version} |
| total duration | {seconds / 60:.1f} min |
| CPU | {machine["cpu"]}, {machine["cores"]} cores |
| RAM | {machine["ram"]} |
| kernel | {machine["kernel"]} |
| Python | {machine["python"]} |
| load client | {harness.load_client_name()} |
| 1-min load average, before → after | {load_before} → {load_average()} |

Every number is a median over the runs with its spread (min–max and the number of
runs, n); every comparison was measured side by side in the same run. Servers and
clients share the machine's cores over 127.0.0.1.

| script | status | seconds |
| --- | --- | --- |
{script_rows}

### Targets

{verdict}

{target_lines}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smallest inputs and shortest durations (~20 s)"
    )
    parser.add_argument("--runs", type=int, default=None, help="repetitions of each measurement")
    parser.add_argument(
        "--with-1gb",
        action="store_true",
        help="add the 1 GB upload (several minutes more, most of it in gzip | gpg)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=harness.RESULTS_PATH,
        help="results file to write (default benchmarks/RESULTS.md)",
    )
    parser.add_argument(
        "--skip", nargs="+", default=[], metavar="SCRIPT", help="scripts to leave out, by file name"
    )
    arguments = parser.parse_args()
    arguments.argv = sys.argv[1:]
    if arguments.runs is not None and arguments.runs < 1:
        parser.error(f"--runs must be at least 1, got {arguments.runs}")

    scripts = [harness.BENCH_DIR / name for name in OWN_SCRIPTS]
    scripts += [
        harness.BENCH_DIR / name for name in OTHER_SCRIPTS if (harness.BENCH_DIR / name).exists()
    ]
    load_before = load_average()
    version = source_version()
    start = time.perf_counter()
    runs: list[ScriptRun] = []
    with tempfile.TemporaryDirectory(prefix="lumen-bench-run-") as folder:
        for script in scripts:
            if script.name in arguments.skip:
                runs.append(ScriptRun(script.name, "skipped (--skip)"))
                continue
            runs.append(run_script(script, arguments, Path(folder)))

    harness.replace_section(
        arguments.results,
        "run",
        header(arguments, runs, time.perf_counter() - start, load_before, version),
        first=True,
    )
    print(f"wrote {arguments.results}")
    failed = [run.name for run in runs if run.status.startswith("**failed")]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
