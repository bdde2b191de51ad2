"""No plaintext byte of a submission reaches a file: blobs, database or temporary files."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from sqlalchemy import select

from crypto import CHUNK_SIZE, EnvelopeReader, SourceKeys
from lumen.services import Services
from store.cases import create_source, record_submissions
from store.envelopes import centre_slot, open_slot, read_value, seal_value, stream_to_blob
from store.models import Envelope

STREAM_SIZE = 50 * 1024 * 1024
WRITE_SIZE = 100_003
MARKER_SPACING = 4096
SCAN_BLOCK = 1024 * 1024


def marked_piece(marker: bytes) -> bytes:
    """Return one write of filler with ``marker`` every ``MARKER_SPACING`` bytes."""
    piece = bytearray(b"." * WRITE_SIZE)
    for offset in range(0, WRITE_SIZE - len(marker), MARKER_SPACING):
        piece[offset : offset + len(marker)] = marker
    return bytes(piece)


def files_under(folder: Path) -> Iterator[Path]:
    for root, _folders, names in os.walk(folder, followlinks=False):
        for name in names:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path


def file_contains(path: Path, needle: bytes) -> bool:
    """Search a file block by block, with an overlap so no match is cut in two."""
    tail = b""
    try:
        with path.open("rb") as handle:
            while block := handle.read(SCAN_BLOCK):
                if needle in tail + block:
                    return True
                tail = block[-(len(needle) - 1) :]
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        return False
    return False


@pytest.mark.security
def test_no_plaintext_on_disk(services: Services, centre_keys: dict[str, PrivateKey]) -> None:
    temporary_folder = Path(tempfile.gettempdir())
    before = set(files_under(temporary_folder))
    marker = f"LUMEN-PLAINTEXT-{secrets.token_hex(16)}".encode()
    piece = marked_piece(marker)

    with services.sessions() as session:
        source = create_source(session, SourceKeys("e" * 64, PrivateKey.generate()))
        session.flush()
        with stream_to_blob(services.blobs) as (body, writer):
            written = 0
            while written < STREAM_SIZE:
                part = piece[: STREAM_SIZE - written]
                writer.write(part)
                written += len(part)
        meta = seal_value(json.dumps({"name": marker.decode() + ".pdf"}).encode())
        message = seal_value(b"message " + marker)
        record_submissions(
            session, source, [("file", body, meta), ("message", message, None)], ["payoke"]
        )
        session.commit()

    # The marker is really in the plaintext: decrypting gives it back.
    with services.sessions() as session:
        envelope = session.scalars(select(Envelope).where(Envelope.id == body.id)).one()
        key = open_slot(centre_slot(session, body.id, "payoke", 1), centre_keys["payoke"])
        assert body.blob_name is not None
        plaintext_size = 0
        marked_chunks = 0
        with services.blobs.open(body.blob_name) as handle:
            for chunk in EnvelopeReader(handle, key, body.id):
                plaintext_size += len(chunk)
                marked_chunks += marker in chunk
        assert plaintext_size == STREAM_SIZE
        assert marked_chunks == STREAM_SIZE // CHUNK_SIZE
        message_envelope = session.get_one(Envelope, message.id)
        message_key = open_slot(
            centre_slot(session, message.id, "payoke", 1), centre_keys["payoke"]
        )
        assert marker in read_value(message_envelope, message_key, services.blobs)
        assert envelope.size == STREAM_SIZE

    services.engine.dispose()
    data_files = set(files_under(services.config.data_dir))
    database = Path(services.config.database_url.removeprefix("sqlite:///"))
    new_temporary = set(files_under(temporary_folder)) - before
    scanned = data_files | new_temporary | {database}

    assert database.is_file()
    assert services.blobs.path(body.blob_name) in scanned
    assert [path for path in sorted(scanned) if file_contains(path, marker)] == []


def test_scan_finds_marker_across_blocks(tmp_path: Path) -> None:
    marker = b"LUMEN-PLAINTEXT-split"
    path = tmp_path / "straddle"
    path.write_bytes(b"x" * (SCAN_BLOCK - 5) + marker + b"y" * 10)

    assert file_contains(path, marker) is True
    assert file_contains(path, b"LUMEN-PLAINTEXT-other") is False
