"""A full run of both apps and the worker leaves no identifying trace behind.

One run goes through every flow. A source takes a codename, reports with a file,
follows up, mistypes a codename, logs out and back in. A caseworker logs in, opens
the case, downloads the file, replies and adds a note. The worker sends the
notification. The source reads and deletes the reply. Requests come from
127.0.0.2, an address of the loopback network that nothing else in the run uses,
with a unique user agent.

Then every log record of the run (the root logger at DEBUG, waitress included),
the data folder, every file new in the temporary folders, the database and a dump
of Redis are searched for that run's markers. Logs must hold none of them, not
even the source id. The store may hold the source id and its derived public values,
because routing needs them, but none of the other markers.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from nacl.public import PrivateKey
from redis import Redis
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from crypto import normalize_codename
from lumen.config import Config, SmtpConfig
from lumen.services import make_services
from store.models import Source
from tests.conftest import install_centres
from tests.functional.caseworker.support import add_account
from tests.hardening.clients import SourceClient
from tests.hardening.conftest import serve
from tests.hardening.processes import RedisServer, free_port, redis_server
from tests.hardening.support import LOOPBACK, csrf_token

CLIENT_ADDRESS = "127.0.0.2"
TEMP_FOLDERS = (Path(tempfile.gettempdir()), Path("/var/tmp"), Path("/dev/shm"))
MAX_SCANNED_FILE_BYTES = 256 * 1024 * 1024
# Loggers of the test's own clients: requests' urllib3 and the aiosmtpd test server.
TEST_CLIENT_LOGGERS = frozenset({"urllib3", "mail", "asyncio"})


class FromAddress(HTTPAdapter):
    """Connect from ``CLIENT_ADDRESS``, so the client's address is a unique marker."""

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        kwargs["source_address"] = (CLIENT_ADDRESS, 0)
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]


class Recorder(logging.Handler):
    """Keep the full text of every record: message, extra fields and traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []
        self.formatter_ = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in TEST_CLIENT_LOGGERS:
            return
        text = self.formatter_.format(record)
        fields = {k: v for k, v in record.__dict__.items() if k not in ("msg", "args")}
        self.texts.append(f"{record.name} {text} {fields!r} {record.msg!r} {record.args!r}")


class Inbox:
    """An aiosmtpd handler that keeps each message it receives."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    handler = Recorder()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    waitress_logger = logging.getLogger("waitress")
    waitress_previous = waitress_logger.level
    waitress_logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        waitress_logger.setLevel(waitress_previous)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname=LOOPBACK, port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _browser(client: SourceClient | None = None) -> requests.Session:
    session = client.http if client else requests.Session()
    session.mount("http://", FromAddress())
    return session


def _files_since(folder: Path, since: float, skip: Path) -> Iterator[Path]:
    for root, _folders, names in os.walk(folder):
        if Path(root).is_relative_to(skip):
            continue
        for name in names:
            path = Path(root) / name
            try:
                info = path.lstat()
            except OSError:
                continue
            if path.is_file() and info.st_mtime >= since and info.st_size <= MAX_SCANNED_FILE_BYTES:
                yield path


def _hits(data: bytes, markers: dict[str, bytes]) -> list[str]:
    return [name for name, marker in markers.items() if marker in data]


def _redis_contents(server: RedisServer) -> bytes:
    """Return every key and value in Redis, read back value by value."""
    client = Redis.from_url(server.url)
    out = bytearray()
    try:
        for key in client.scan_iter(count=1000):
            out += key + b"\n"
            kind = client.type(key)
            if kind == b"string":
                out += client.get(key) or b""
            elif kind == b"hash":
                for field, value in client.hgetall(key).items():
                    out += field + b"=" + value + b"\n"
            elif kind == b"list":
                out += b"\n".join(client.lrange(key, 0, -1))
            elif kind == b"set":
                out += b"\n".join(client.smembers(key))
            elif kind == b"zset":
                out += b"\n".join(client.zrange(key, 0, -1))
            out += b"\n"
    finally:
        client.close()
    return bytes(out)


@pytest.mark.security
@pytest.mark.slow
def test_full_run_leaves_no_trace(
    tmp_path: Path,
    config: Config,
    centre_keys: dict[str, PrivateKey],
    recorder: Recorder,
    redis: RedisServer,
    smtp: tuple[Inbox, int],
) -> None:
    started = time.time() - 1
    inbox, smtp_port = smtp
    run_config = make_run_config(config, redis.url, smtp_port)
    services = make_services(run_config)
    install_centres(services, centre_keys)
    anna = add_account(services, centre_keys, "anna", "payoke")

    run_id = secrets.token_hex(6)
    user_agent = f"LumenProbe/{run_id} (X11; Linux x86_64)"
    message = f"bericht-{run_id} Mijn baas houdt mijn paspoort."
    follow_up = f"vervolg-{run_id}"
    file_name = f"bewijs-{run_id}.jpg"
    file_content = f"bestand-{run_id}".encode() * 2000
    reply_text = f"antwoord-{run_id}"
    note_text = f"notitie-{run_id}"
    wrong_codename = f"fout codewoord {run_id}"

    from journalist_app import create_app as create_caseworker_app
    from source_app import create_app as create_source_app

    source_app = create_source_app(run_config, services)
    caseworker_app = create_caseworker_app(run_config, services)
    with (
        serve(source_app, run_config) as source_server,
        serve(caseworker_app, run_config) as caseworker_server,
    ):
        source = SourceClient(source_server.url, language="nl", user_agent=user_agent)
        _browser(source)
        assert source.get("/").status_code == 200
        assert source.get("/info").status_code == 200
        codename = source.start()
        sent = source.report(message, [(file_name, file_content)])
        assert sent.status_code in (302, 303)
        assert source.get("/report/sent").status_code == 200
        followed = source.report(follow_up, path="/conversation")
        assert followed.status_code in (302, 303)
        assert source.get("/does-not-exist").status_code == 404
        assert source.post(
            "/logout", data={"csrf_token": source.token("/conversation")}
        ).status_code in (302, 303)

        stranger = SourceClient(source_server.url, language="fr", user_agent=user_agent)
        _browser(stranger)
        assert stranger.login(wrong_codename).status_code == 200

        with services.sessions() as db:
            source_row = db.scalar(select(Source))
            assert source_row is not None
            source_id = source_row.id
            lookup_id = source_row.lookup_id

        caseworker = _browser()
        caseworker.headers["User-Agent"] = user_agent
        base = caseworker_server.url
        login_page = caseworker.get(f"{base}/login", timeout=10)
        logged_in = caseworker.post(
            f"{base}/login",
            data={
                "csrf_token": csrf_token(login_page.text),
                "username": anna.username,
                "passphrase": anna.passphrase,
                "code": anna.code(),
            },
            allow_redirects=False,
            timeout=30,
        )
        assert logged_in.status_code == 302
        assert caseworker.get(f"{base}/", timeout=10).status_code == 200
        case_page = caseworker.get(f"{base}/cases/{source_id}", timeout=10)
        assert case_page.status_code == 200
        assert message.split()[0] in case_page.text
        download_paths = [
            line.split('"')[1]
            for line in case_page.text.split("href=")[1:]
            if line.startswith(f'"/cases/{source_id}/files/')
        ]
        assert download_paths, "the case page links no file"
        download = caseworker.get(base + download_paths[0], timeout=30)
        assert download.content == file_content
        token = csrf_token(case_page.text)
        replied = caseworker.post(
            f"{base}/cases/{source_id}/reply",
            data={"csrf_token": token, "reply-text": reply_text},
            allow_redirects=False,
            timeout=30,
        )
        assert replied.status_code == 302
        noted = caseworker.post(
            f"{base}/cases/{source_id}/note",
            data={"csrf_token": token, "note-text": note_text},
            allow_redirects=False,
            timeout=30,
        )
        assert noted.status_code == 302

        from worker.runner import run_worker

        run_worker(services, redis.url, burst=True)
        assert inbox.messages, "the worker sent no notification"

        source.http.cookies.clear()
        back = source.login(f"  {codename.upper()}\t ")
        assert back.status_code in (302, 303)
        conversation = source.get("/conversation")
        assert reply_text in conversation.text
        reply_ids = [
            part.split("/")[0] for part in conversation.text.split("/conversation/replies/")[1:]
        ]
        assert reply_ids
        deleted = source.post(
            f"/conversation/replies/{reply_ids[0]}/delete",
            data={"csrf_token": csrf_token(conversation.text)},
        )
        assert deleted.status_code in (302, 303)
        assert source.post("/logout", data={"csrf_token": source.token("/login")}).status_code in (
            302,
            303,
        )

    keys = services.deriver.derive(codename)
    reply_secret = bytes(keys.reply_key)
    content_markers = {
        "codename": codename.encode(),
        "normalised codename": normalize_codename(codename).encode(),
        "wrong codename": wrong_codename.encode(),
        "reply key (hex)": reply_secret.hex().encode(),
        "reply key (base64)": base64.b64encode(reply_secret),
        "reply key (url-safe base64)": base64.urlsafe_b64encode(reply_secret).rstrip(b"="),
        "reply key (raw)": reply_secret,
        "client address": CLIENT_ADDRESS.encode(),
        "user agent": user_agent.encode(),
        "run id in content": run_id.encode(),
    }
    log_markers = {
        **content_markers,
        "source id": source_id.encode(),
        "lookup id": lookup_id.encode(),
        "reply public key (hex)": bytes(keys.reply_key.public_key).hex().encode(),
        "server address": LOOPBACK.encode(),
    }

    log_text = "\n".join(recorder.texts).encode("utf-8", "backslashreplace")
    assert recorder.texts, "no log record was captured"
    leaking = [
        text
        for text in recorder.texts
        if _hits(text.encode("utf-8", "backslashreplace"), log_markers)
    ]
    assert leaking == []
    assert _hits(log_text, log_markers) == []

    for path in _files_since(run_config.data_dir, 0, skip=Path("/nonexistent")):
        assert _hits(path.read_bytes(), content_markers) == [], str(path)
    for folder in TEMP_FOLDERS:
        if folder.is_dir():
            for path in _files_since(folder, started, skip=run_config.data_dir):
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                assert _hits(data, content_markers) == [], str(path)

    redis_markers = {**content_markers, "source id": source_id.encode()}
    assert _hits(redis.dump(), redis_markers) == []
    assert _hits(_redis_contents(redis), redis_markers) == []
    for mail in inbox.messages:
        assert _hits(mail, log_markers) == []
    services.engine.dispose()


def make_run_config(config: Config, redis_url: str, smtp_port: int) -> Config:
    """Return ``config`` with this run's Redis and SMTP server."""
    return dataclasses.replace(
        config,
        redis_url=redis_url,
        smtp=SmtpConfig(host=LOOPBACK, port=smtp_port, sender="lumen@localhost"),
    )
