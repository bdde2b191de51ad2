"""Security invariants of the source app: no plaintext at rest, no centre private key."""

from __future__ import annotations

import gc
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from nacl.public import PrivateKey
from sqlalchemy import select

from crypto import generate_private_key
from lumen.services import Services, make_services
from source_app import create_app
from store.db import upgrade_schema
from store.models import Centre
from tests.conftest import make_test_config

from .conftest import LiveServer
from .helpers import (
    csrf_token,
    log_in,
    make_caseworker,
    only_source_id,
    read_as_centre,
    reply_as_centre,
    send_report,
    start_source,
)
from .live import live_source, post_form

MARKER_FILE_BYTES = 20 * 1024 * 1024


def _files_containing(folder: Path, marker: bytes, newer_than: float | None = None) -> list[Path]:
    found = []
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            try:
                if newer_than is not None and path.stat().st_mtime < newer_than:
                    continue
                if marker in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found


@pytest.mark.security
@pytest.mark.slow
def test_marker_upload_leaves_no_plaintext(
    live_server: LiveServer,
    services: Services,
    centre_keys: dict[str, PrivateKey],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    started = time.time() - 1
    marker = b"LUMEN-MARKER-" + os.urandom(12).hex().encode()
    content = (marker + b"\n") * (MARKER_FILE_BYTES // (len(marker) + 1))
    message = f"Bericht met {marker.decode()} erin"
    browser, codename = live_source(live_server.url)

    response = post_form(
        browser,
        f"{live_server.url}/report",
        "/report",
        {"message": message, "where": marker.decode(), "centre": "payoke"},
        [(f"{marker.decode()}.txt", "text/plain", content)],
    )

    assert response.status_code == 302
    received = read_as_centre(services, centre_keys["payoke"], "payoke")
    assert [item.body for item in received if item.kind == "file"] == [content]

    assert _files_containing(services.config.data_dir, marker) == []
    assert _files_containing(Path(tempfile.gettempdir()), marker, newer_than=started) == []
    database = Path(services.config.database_url.removeprefix("sqlite:///"))
    for path in database.parent.glob(database.name + "*"):
        assert marker not in path.read_bytes(), path
    assert marker.decode() not in caplog.text
    assert codename not in caplog.text
    for record in caplog.records:
        assert marker.decode() not in str(record.__dict__)


@pytest.fixture
def public_only_services(tmp_path: Path) -> Iterator[tuple[Services, dict[str, bytes]]]:
    """An instance whose centre rows exist while this process keeps no private key."""
    config = make_test_config(tmp_path / "data")
    services = make_services(config)
    upgrade_schema(services.engine)
    public_keys: dict[str, bytes] = {}
    with services.sessions() as db:
        for centre in config.centres:
            public = bytes(generate_private_key().public_key)
            public_keys[centre.id] = public
            db.add(Centre(id=centre.id, name=centre.name, public_key=public))
        db.commit()
    gc.collect()
    yield services, public_keys
    services.engine.dispose()


def _run_full_flow(app: Flask, services: Services) -> None:
    client = app.test_client()
    codename = start_source(client)
    send_report(client, message="Hallo", files=[(b"bestand", "a.txt")])
    make_caseworker(services, "payoke", "an")
    reply_as_centre(services, only_source_id(services), "payoke", "Antwoord")
    page = client.get("/conversation")
    assert "Antwoord" in page.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert log_in(client, codename).status_code == 302


@pytest.mark.security
def test_source_app_holds_no_centre_private_key(
    public_only_services: tuple[Services, dict[str, bytes]],
) -> None:
    services, public_keys = public_only_services
    app = create_app(services.config, services)
    _run_full_flow(app, services)
    gc.collect()

    centre_publics = set(public_keys.values())
    # A key that the walk must find proves that it reaches PrivateKey objects at all.
    control = generate_private_key()
    private_keys = [obj for obj in gc.get_objects() if isinstance(obj, PrivateKey)]
    assert any(key is control for key in private_keys)
    assert [key for key in private_keys if bytes(key.public_key) in centre_publics] == []

    with services.sessions() as db:
        stored = {bytes(key) for key in db.scalars(select(Centre.public_key))}
    assert stored == centre_publics
    held = repr(services.config) + repr(dict(app.config)) + repr(app.extensions)
    for centre_id in public_keys:
        assert f"{centre_id}_private" not in held
    assert not any(isinstance(value, PrivateKey) for value in app.config.values())
    assert not any(isinstance(value, PrivateKey) for value in vars(services.config).values())
