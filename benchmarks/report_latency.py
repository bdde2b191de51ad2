"""Latency of a 10 KB report: the form post until its rows are committed.

Each sample is one ``POST /report`` with a 10,000-character message and no file,
from a fresh source (codename confirmed beforehand, not timed), to the source app
under waitress in another process. The app answers with its redirect only after the
submission's rows are committed, so the time until that answer covers parsing, CSRF,
sealing to the centres and the commit. After the runs the script counts the
committed submissions in the instance's database. Target: p50 <= 50 ms.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Final

import harness
import sourceflow

MESSAGE_CHARS: Final = 10_000
TARGET_P50_MS: Final = 50.0


def count_messages(data_dir: Path) -> int:
    """Return how many message submissions the instance in ``data_dir`` has committed."""
    from sqlalchemy import create_engine, func, select

    from store.models import Submission

    engine = create_engine(f"sqlite:///{data_dir / 'lumen.sqlite'}")
    try:
        with engine.connect() as connection:
            query = select(func.count()).select_from(Submission).where(Submission.kind == "message")
            return int(connection.scalar(query) or 0)
    finally:
        engine.dispose()


def measure(runs: int, posts_per_run: int) -> harness.Outcome:
    """Post ``posts_per_run`` reports in each of ``runs`` runs and return the section."""
    p50s: list[float] = []
    p95s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="lumen-bench-report-") as folder:
        data_dir = Path(folder) / "data"
        with harness.ServerProcess("source", data_dir) as server:
            before = count_messages(data_dir)
            post_report(server.base_url, "warm-up")
            for _run in range(runs):
                latencies = []
                for _post in range(posts_per_run):
                    message = sourceflow.random_text(MESSAGE_CHARS)
                    latencies.append(post_report(server.base_url, message))
                p50s.append(harness.percentile(latencies, 0.50) * 1000)
                p95s.append(harness.percentile(latencies, 0.95) * 1000)
            committed = count_messages(data_dir) - before

    expected = runs * posts_per_run + 1
    if committed != expected:
        raise RuntimeError(f"{committed} messages committed, expected {expected}")

    p50 = harness.Summary.of(p50s)
    p95 = harness.Summary.of(p95s)
    markdown = f"""
{runs} run(s) of {posts_per_run} posts, each from a fresh source; a message of
{MESSAGE_CHARS:,} characters of ASCII words and no file, sealed to all three centres
("let the reporting point decide"). Time from sending the form to receiving the
app's redirect; {committed} messages (warm-up included) were found committed afterwards.

| statistic | ms, median over runs (min–max) |
| --- | --- |
| p50 | {p50.format(1)} |
| p95 | {p95.format(1)} |
"""
    target = harness.Target(
        name="10 KB report p50",
        goal="<= 50 ms",
        measured=f"{p50.median:.1f} ms",
        met=p50.median <= TARGET_P50_MS,
    )
    return harness.Outcome(
        section="report",
        title="A 10 KB report end to end",
        markdown=markdown,
        targets=[target],
        data={"p50_ms": p50s, "p95_ms": p95s, "committed": committed},
    )


def post_report(base_url: str, message: str) -> float:
    """Create a source, post one report and return the post's duration in seconds."""
    client = sourceflow.SourceClient(base_url)
    client.new_source()
    token = client.report_token()
    start = time.perf_counter()
    client.post_report(token, message)
    return time.perf_counter() - start


def main() -> int:
    parser = harness.base_parser(__doc__.splitlines()[0], default_runs=5)
    parser.add_argument(
        "--posts", type=int, default=None, help="posts per run (default 40, 5 with --quick)"
    )
    arguments = parser.parse_args()
    posts = arguments.posts or (5 if arguments.quick else 40)
    harness.publish(measure(harness.run_count(arguments), posts), arguments)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
