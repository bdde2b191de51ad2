"""Upload throughput: files posted through waitress into the store, beside two baselines.

For each file size, every run measures, in rotating order:

* **end to end**: the report form with one file, posted with ``requests`` (a streamed
  body) to the source app under waitress in another process, until the app answers
  with its redirect, which comes after the blob is renamed into place and the rows
  are committed. The server's idle RSS before the post and its peak RSS (VmHWM,
  reset before each post) come from ``/proc/<pid>/status``.
* **store only**: the same file through ``store.envelopes.stream_to_blob`` in this
  process, which is the envelope encryption and blob write without HTTP.
* **raw secretstream**: XChaCha20-Poly1305 secretstream over 64 KiB chunks straight
  to a file, with no envelope framing: the ceiling for any encrypted store.
* **gzip | gpg**: ``gzip -c FILE | gpg --encrypt`` to a Curve25519 key in a temporary
  GNUPGHOME, the way SecureDrop stores a file (gzip, then OpenPGP encryption to the
  instance key, each output fsynced).

Inputs are random bytes, which do not compress, like the photos, videos and PDFs
sources send. Every output is fsynced, as the blob store does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

import harness
import nacl.bindings as sodium
import sourceflow

SIZES: Final = {"1 MB": 1_000_000, "100 MB": 100_000_000}
SIZE_1GB: Final = ("1 GB", 1_000_000_000)
SERVER_LIMIT: Final = 1_100_000_000
CHUNK: Final = 64 * 1024
TARGET_MBPS: Final = 200.0
TARGET_GPG_FACTOR: Final = 4.0
TARGET_RSS_BYTES: Final = 64 * harness.MB
METHODS: Final = ("end to end", "store only", "raw secretstream", "gzip | gpg")


def raw_secretstream(source: Path, target: Path) -> None:
    """Encrypt ``source`` into ``target`` with bare secretstream, 64 KiB chunks."""
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    key = sodium.crypto_secretstream_xchacha20poly1305_keygen()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    size = source.stat().st_size
    done = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        writer.write(header)
        while True:
            block = reader.read(CHUNK)
            done += len(block)
            last = done >= size
            tag = (
                sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
                if last
                else sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
            )
            writer.write(sodium.crypto_secretstream_xchacha20poly1305_push(state, block, None, tag))
            if last:
                break
        writer.flush()
        os.fsync(writer.fileno())


def store_only(source: Path, blobs_folder: Path) -> None:
    """Encrypt ``source`` into a new blob with the store's envelope writer."""
    from store.blobs import BlobStore
    from store.envelopes import stream_to_blob

    blobs = BlobStore(blobs_folder)
    with source.open("rb") as reader, stream_to_blob(blobs) as (_pending, writer):
        while block := reader.read(CHUNK):
            writer.write(block)


class Gpg:
    """A throwaway GNUPGHOME with one Curve25519 key (Ed25519 primary, Cv25519 subkey)."""

    def __init__(self, folder: Path) -> None:
        self.home = folder / "gnupg"
        self.home.mkdir(mode=0o700)
        self.environment = {**os.environ, "GNUPGHOME": str(self.home)}
        self.user_id = "Lumen benchmark <benchmark@lumen.invalid>"
        self._gpg(
            "--passphrase",
            "",
            "--quick-gen-key",
            self.user_id,
            "future-default",
            "default",
            "never",
        )
        listing = self._gpg("--with-colons", "--list-keys", self.user_id)
        algorithms = [
            line.split(":")[16] for line in listing.splitlines() if line.startswith("sub:")
        ]
        if algorithms != ["cv25519"]:
            raise RuntimeError(f"expected one cv25519 encryption subkey, gpg made {algorithms}")
        self.version = self._gpg("--version").splitlines()[0]

    def _gpg(self, *arguments: str) -> str:
        return subprocess.run(
            ["gpg", "--batch", "--quiet", *arguments],
            env=self.environment,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def encrypt(self, source: Path, target: Path) -> None:
        """Run ``gzip -c source | gpg --encrypt`` into ``target`` and fsync it."""
        gzip = subprocess.Popen(["gzip", "-c", str(source)], stdout=subprocess.PIPE)
        gpg = subprocess.run(
            [
                "gpg",
                "--batch",
                "--yes",
                "--trust-model",
                "always",
                "--encrypt",
                "--recipient",
                self.user_id,
                "--output",
                str(target),
            ],
            stdin=gzip.stdout,
            env=self.environment,
            check=False,
            capture_output=True,
        )
        assert gzip.stdout is not None
        gzip.stdout.close()
        if gzip.wait() != 0 or gpg.returncode != 0:
            raise RuntimeError(f"gzip | gpg failed: {gpg.stderr.decode(errors='replace')}")
        descriptor = os.open(target, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def close(self) -> None:
        """Stop the gpg-agent this home started."""
        subprocess.run(
            ["gpgconf", "--kill", "gpg-agent"],
            env=self.environment,
            check=False,
            capture_output=True,
        )


def timed_mbps(size: int, action: Callable[[], object]) -> float:
    """Run ``action`` and return ``size`` bytes over its duration, in MB/s."""
    with harness.timed() as elapsed:
        action()
    return size / elapsed[0] / harness.MB


def measure(sizes: dict[str, int], runs_for: Callable[[int], int]) -> harness.Outcome:
    """Measure every method for every size and return the section."""
    rows: list[str] = []
    targets: list[harness.Target] = []
    data: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="lumen-bench-upload-") as folder_name:
        folder = Path(folder_name)
        gpg = Gpg(folder)
        try:
            with harness.ServerProcess(
                "source", folder / "data", "--max-request-bytes", str(SERVER_LIMIT)
            ) as server:
                warm_up(server, folder)
                idle_after_warm_up = server.memory()["VmRSS"]
                for label, size in sizes.items():
                    results = measure_size(server, gpg, folder, size, runs_for(size))
                    data[label] = results
                    rows.extend(size_rows(label, results))
                    targets.extend(size_targets(label, size, results))
        finally:
            gpg.close()

    markdown = f"""
Random (incompressible) files; MB = 10^6 bytes. The source app runs from a fresh
instance with cheap Argon2id settings (the KDF is not what is measured here) and
request and file limits raised to {SERVER_LIMIT / harness.MB:,.0f} MB so that 1 GB
fits. Peak RSS is the server process's VmHWM, reset before each post, minus its
VmRSS just before the post (the server's RSS after its warm-up post was
{idle_after_warm_up / harness.MB:.0f} MB). gpg: {gpg.version}, key Ed25519 with a
Cv25519 encryption subkey, gzip at its default level 6, gpg's own default compression
left on.

| size | method | MB/s, median (min–max) | server peak RSS above idle, MB |
| --- | --- | --- | --- |
{chr(10).join(rows)}
"""
    return harness.Outcome(
        section="upload",
        title="Upload throughput and memory",
        markdown=markdown,
        targets=targets,
        data=data,
    )


def warm_up(server: harness.ServerProcess, folder: Path) -> None:
    """Run every method once on a small file, so imports and first calls are not measured."""
    path = folder / "warm-up.bin"
    harness.write_random_file(path, 100_000)
    client = sourceflow.SourceClient(server.base_url)
    client.new_source()
    client.post_report(client.report_token(), "warm-up", [path])
    remove_blobs(server)
    store_only(path, folder / "warm-up-blobs")
    shutil.rmtree(folder / "warm-up-blobs")
    raw_secretstream(path, folder / "warm-up.out")
    (folder / "warm-up.out").unlink()
    path.unlink()


def measure_size(
    server: harness.ServerProcess, gpg: Gpg, folder: Path, size: int, runs: int
) -> dict[str, list[float]]:
    """Measure every method ``runs`` times on one random file of ``size`` bytes."""
    source = folder / f"input-{size}.bin"
    harness.write_random_file(source, size)
    output = folder / "output.bin"
    scratch_blobs = folder / "scratch-blobs"
    results: dict[str, list[float]] = {
        "end to end": [],
        "store only": [],
        "raw secretstream": [],
        "gzip | gpg": [],
        "idle_rss": [],
        "peak_rss": [],
    }

    def end_to_end() -> None:
        client = sourceflow.SourceClient(server.base_url)
        client.new_source()
        token = client.report_token()
        idle = server.memory()["VmRSS"]
        if not harness.reset_peak_rss(server.pid):
            raise RuntimeError("cannot reset VmHWM through /proc/<pid>/clear_refs")
        results["end to end"].append(
            timed_mbps(size, lambda: client.post_report(token, "upload benchmark", [source]))
        )
        results["idle_rss"].append(idle)
        results["peak_rss"].append(server.memory()["VmHWM"])
        remove_blobs(server)

    def store() -> None:
        results["store only"].append(timed_mbps(size, lambda: store_only(source, scratch_blobs)))
        shutil.rmtree(scratch_blobs)

    def raw() -> None:
        results["raw secretstream"].append(
            timed_mbps(size, lambda: raw_secretstream(source, output))
        )
        output.unlink()

    def pipeline() -> None:
        results["gzip | gpg"].append(timed_mbps(size, lambda: gpg.encrypt(source, output)))
        output.unlink()

    methods = [end_to_end, store, raw, pipeline]
    for run in range(runs):
        shift = run % len(methods)
        for method in methods[shift:] + methods[:shift]:
            method()
    source.unlink()
    return results


def remove_blobs(server: harness.ServerProcess) -> None:
    """Delete the blobs the server stored, so large runs do not fill the disk."""
    assert server.data_dir is not None
    blobs = list((server.data_dir / "blobs").iterdir())
    if not any(path.stat().st_size > 0 for path in blobs):
        raise RuntimeError("the upload left no blob in the store")
    for path in blobs:
        path.unlink()


def size_rows(label: str, results: dict[str, list[float]]) -> list[str]:
    """Return the table rows of one size."""
    growth = harness.Summary.of(
        [
            (peak - idle) / harness.MB
            for peak, idle in zip(results["peak_rss"], results["idle_rss"], strict=True)
        ]
    )
    rows = []
    for method in METHODS:
        memory = growth.format(0) if method == "end to end" else ""
        shown = method.replace("|", "\\|")  # a bare | would end the table cell
        rows.append(
            f"| {label} | {shown} | {harness.Summary.of(results[method]).format(0)} | {memory} |"
        )
    return rows


def size_targets(label: str, size: int, results: dict[str, list[float]]) -> list[harness.Target]:
    """Return the targets that apply to one size: speed for 100 MB and up, RSS for 1 GB."""
    if size < 100_000_000:
        return []
    end_to_end = harness.Summary.of(results["end to end"]).median
    gpg = harness.Summary.of(results["gzip | gpg"]).median
    targets = [
        harness.Target(
            f"upload {label} end to end",
            ">= 200 MB/s",
            f"{end_to_end:.0f} MB/s",
            end_to_end >= TARGET_MBPS,
        ),
        harness.Target(
            f"upload {label} vs gzip | gpg",
            ">= 4x",
            f"{end_to_end / gpg:.1f}x",
            end_to_end >= TARGET_GPG_FACTOR * gpg,
        ),
    ]
    if size >= 1_000_000_000:
        growth = [
            peak - idle for peak, idle in zip(results["peak_rss"], results["idle_rss"], strict=True)
        ]
        median_growth = harness.Summary.of(growth).median
        targets.append(
            harness.Target(
                f"upload {label} peak RSS",
                "<= idle + 64 MB",
                f"idle + {median_growth / harness.MB:.0f} MB",
                median_growth <= TARGET_RSS_BYTES,
            )
        )
    return targets


def main() -> int:
    parser = harness.base_parser(__doc__.splitlines()[0], default_runs=5)
    parser.add_argument(
        "--with-1gb",
        action="store_true",
        help="add the 1 GB file (about 1 minute a run, most of it in gzip | gpg)",
    )
    parser.add_argument(
        "--runs-1gb", type=int, default=3, help="repetitions for the 1 GB file (default 3)"
    )
    arguments = parser.parse_args()
    runs = harness.run_count(arguments)
    sizes = {"1 MB": SIZES["1 MB"]} if arguments.quick else dict(SIZES)
    if arguments.with_1gb:
        sizes[SIZE_1GB[0]] = SIZE_1GB[1]

    def runs_for(size: int) -> int:
        return min(runs, arguments.runs_1gb) if size >= SIZE_1GB[1] else runs

    harness.publish(measure(sizes, runs_for), arguments)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
