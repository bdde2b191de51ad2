"""Helpers of the hardening suite: a live waitress server, raw HTTP, store snapshots.

Every connection goes to a server the test started itself on 127.0.0.1.
"""

from __future__ import annotations

import html
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import func, select
from waitress import wasyncore

from lumen.services import Services
from lumen.serving import create_server
from store.envelopes import open_slot, read_value
from store.models import Base, Submission

LOOPBACK = "127.0.0.1"
_CSRF_FIELD = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)
_HTML_LANG = re.compile(r'<html[^>]*\blang="([^"]+)"')
_TRACEBACK_MARKERS = (b"Traceback (most recent call last)", b'File "/', b"werkzeug.exceptions")


@dataclass
class LiveServer:
    """A waitress server running a WSGI app in a thread of the test process."""

    port: int
    server: Any
    thread: threading.Thread
    stopping: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


@contextmanager
def live_server(
    app: Any, factory: Callable[..., Any] = create_server, **adjustments: Any
) -> Iterator[LiveServer]:
    """Serve ``app`` on a free loopback port until the block ends.

    ``factory`` builds the server: Lumen's, unless a test compares it with another.
    """
    settings = {"threads": 8, "ident": "", "channel_timeout": 20, **adjustments}
    server = factory(app, host=LOOPBACK, port=0, **settings)
    live = LiveServer(port=server.effective_port, server=server, thread=threading.Thread())

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError) as error:
            # Closing the sockets from another thread can interrupt the poll loop.
            if not live.stopping.is_set():
                live.errors.append(error)

    live.thread = threading.Thread(target=run, name=f"waitress-{live.port}", daemon=True)
    live.thread.start()
    try:
        yield live
    finally:
        live.stopping.set()
        server.task_dispatcher.shutdown()
        # A single waitress server's close() leaves open keep-alive connections in
        # the loop's map, so the loop would run on. Close them all from the loop thread.
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError:
            # The loop has ended already and closed its trigger; close what is left here.
            wasyncore.close_all(server._map)
        live.thread.join(timeout=10)
    assert not live.errors, f"the waitress loop failed: {live.errors!r}"


@dataclass
class RawResponse:
    """What came back on a raw connection; ``status`` is None when nothing did."""

    status: int | None
    headers: dict[str, str]
    body: bytes
    raw: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def raw_exchange(
    port: int,
    pieces: bytes | Iterable[bytes],
    timeout: float = 15.0,
    pause: float = 0.0,
    half_close: bool = False,
) -> RawResponse:
    """Send ``pieces`` on one connection, then read until the server closes it.

    ``pause`` waits between pieces, so a body can trickle in. ``half_close`` shuts
    the sending side after the last piece, as a client that gave up would.
    """
    if isinstance(pieces, bytes):
        pieces = [pieces]

    received = bytearray()
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        try:
            for index, piece in enumerate(pieces):
                if index and pause:
                    time.sleep(pause)
                sock.sendall(piece)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading; its response is still read below

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            except TimeoutError:
                raise AssertionError(f"no end of response within {timeout} s") from None
            if not part:
                break
            received += part

    return parse_response(bytes(received))


def parse_response(raw: bytes) -> RawResponse:
    """Split a raw HTTP/1.1 response into status, headers and a de-chunked body."""
    if not raw:
        return RawResponse(status=None, headers={}, body=b"", raw=raw)

    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()

    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return RawResponse(status=status, headers=headers, body=body, raw=raw)


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


def request_bytes(
    method: str,
    path: str,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    body: bytes = b"",
    content_length: int | None = None,
) -> bytes:
    """Build a raw HTTP/1.1 request that closes the connection after its response."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {name.lower() for name, _ in pairs}
    if "host" not in names:
        pairs.insert(0, ("Host", LOOPBACK))
    if "connection" not in names:
        pairs.append(("Connection", "close"))
    if body or content_length is not None:
        pairs.append(
            ("Content-Length", str(len(body) if content_length is None else content_length))
        )

    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in pairs)
    return head.encode("latin-1") + b"\r\n" + body


def csrf_token(page: str) -> str:
    """Return the CSRF token of the first form on ``page``."""
    match = _CSRF_FIELD.search(page)
    assert match, "the page has no csrf_token field"
    return html.unescape(match.group(1) or match.group(2))


def html_language(page: str) -> str | None:
    """Return the ``lang`` attribute of the page's ``<html>`` element."""
    match = _HTML_LANG.search(page)
    return match.group(1) if match else None


def assert_clean_rejection(
    response: RawResponse, language: str, statuses: range | tuple[int, ...] = range(400, 500)
) -> None:
    """Check a rejected request: a translated page with one of ``statuses``, or a closed
    connection. The default is any 4xx."""
    if response.status is None:
        return

    assert response.status in statuses, f"expected one of {statuses}, got {response.status}"
    for marker in _TRACEBACK_MARKERS:
        assert marker not in response.body, f"the body shows {marker!r}"
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("text/html"), (
        f"status {response.status} came as {content_type!r}, not a page: {response.body[:200]!r}"
    )
    assert html_language(response.text) == language


@dataclass(frozen=True)
class StoreState:
    """Row counts per table and the names of every file in the blob folder."""

    rows: dict[str, int]
    files: frozenset[str]


def store_state(services: Services) -> StoreState:
    """Count every table's rows and list the blob folder, temporary files included."""
    with services.engine.connect() as connection:
        rows = {
            table.name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }
    return StoreState(rows=rows, files=frozenset(_files(services.blobs.folder)))


def _files(folder: Path) -> Iterator[str]:
    if folder.is_dir():
        for entry in folder.iterdir():
            yield entry.name


def stored_texts(services: Services, keys: dict[str, PrivateKey]) -> list[tuple[str, bytes]]:
    """Decrypt every submission with a centre key; return ``(kind, plaintext)`` pairs.

    A file's metadata comes first, as ``("meta", json)``, then its body.
    """
    texts = []
    with services.sessions() as db:
        for submission in db.scalars(select(Submission).order_by(Submission.seq)):
            envelopes = [("meta", submission.meta)] if submission.meta is not None else []
            envelopes.append((submission.kind, submission.body))
            for kind, envelope in envelopes:
                slot = next(s for s in envelope.slots if s.centre_id is not None)
                key = open_slot(slot, keys[str(slot.centre_id)])
                texts.append((kind, read_value(envelope, key, services.blobs)))
    return texts
