"""A process killed while it writes a submission leaves nothing visible behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from sqlalchemy import func, select

from lumen.services import Services
from store.models import Envelope, KeySlot, Submission

# The child writes the way the source app does: encrypt into a new blob with
# stream_to_blob, then add the rows with record_submissions and commit. It reports once
# 20 MiB are written, then keeps writing slowly until it is killed; it stops by itself
# after about 30 seconds if it is not killed.
CHILD = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path

    from nacl.public import PrivateKey

    from crypto import SourceKeys
    from store.blobs import BlobStore
    from store.cases import create_source, record_submissions
    from store.db import make_engine, make_session_factory
    from store.envelopes import stream_to_blob

    database_url, blob_folder = sys.argv[1:3]
    sessions = make_session_factory(make_engine(database_url))
    blobs = BlobStore(Path(blob_folder))
    piece = bytes(1024 * 1024)

    with sessions() as session:
        keys = SourceKeys(lookup_id="f" * 64, reply_key=PrivateKey.generate())
        source = create_source(session, keys)
        session.commit()
        with stream_to_blob(blobs) as (pending, writer):
            for index in range(3000):
                writer.write(piece)
                if index == 20:
                    print("writing", flush=True)
                if index >= 20:
                    time.sleep(0.01)
        record_submissions(session, source, [("file", pending, None)], ["payoke"])
        session.commit()
    print("committed", flush=True)
    """
)


def count(services: Services, model: type[object]) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_kill_mid_write_leaves_nothing(services: Services) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, services.config.database_url, str(services.blobs.folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        first_line = child.stdout.readline()
        assert first_line == "writing\n", child.stderr.read() if child.stderr else ""
        child.send_signal(signal.SIGKILL)
        remaining_output, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    assert child.returncode == -signal.SIGKILL
    assert "committed" not in remaining_output
    assert count(services, Submission) == 0
    assert count(services, Envelope) == 0
    assert count(services, KeySlot) == 0
    assert services.blobs.names() == set()

    leftovers = list(services.blobs.folder.iterdir())
    assert len(leftovers) == 1
    assert leftovers[0].stat().st_size > 20 * 1024 * 1024

    assert services.blobs.remove_temporary_files() == 1
    assert list(services.blobs.folder.iterdir()) == []
