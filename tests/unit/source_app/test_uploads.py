"""The encrypted upload file object and file name cleaning."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.exceptions import RequestEntityTooLarge

from crypto import ContentKey, EnvelopeReader
from source_app.uploads import EncryptedUpload, clean_filename
from store.blobs import BlobStore


def _plaintext(blobs: BlobStore, upload: EncryptedUpload) -> bytes:
    assert upload.pending is not None and upload.pending.blob_name is not None
    key: ContentKey = upload.pending.key
    with blobs.open(upload.pending.blob_name) as handle:
        return b"".join(EnvelopeReader(handle, key, upload.pending.id))


def test_upload_encrypts_into_blob(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    upload = EncryptedUpload(blobs, max_bytes=1000)

    upload.write(b"abc" * 100)
    upload.write(b"def")
    upload.seek(0)

    assert upload.size == 303
    assert _plaintext(blobs, upload) == b"abc" * 100 + b"def"
    assert b"abcabc" not in (tmp_path / upload.pending.blob_name).read_bytes()  # type: ignore[union-attr]


def test_upload_empty_writes_no_blob(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    upload = EncryptedUpload(blobs, max_bytes=1000)

    upload.write(b"")
    upload.seek(0)

    assert upload.pending is None
    assert list(tmp_path.iterdir()) == []


def test_upload_over_limit_leaves_nothing(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    upload = EncryptedUpload(blobs, max_bytes=10)
    upload.write(b"0123456789")

    with pytest.raises(RequestEntityTooLarge):
        upload.write(b"x")

    assert list(tmp_path.iterdir()) == []


def test_upload_discard_removes_finished_blob(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    upload = EncryptedUpload(blobs, max_bytes=100)
    upload.write(b"data")
    upload.seek(0)
    assert len(blobs.names()) == 1

    upload.discard()

    assert list(tmp_path.iterdir()) == []


def test_upload_kept_survives_discard(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    upload = EncryptedUpload(blobs, max_bytes=100)
    upload.write(b"data")
    upload.seek(0)
    upload.keep()

    upload.discard()

    assert len(blobs.names()) == 1


def test_upload_cannot_be_read_back(tmp_path: Path) -> None:
    upload = EncryptedUpload(BlobStore(tmp_path), max_bytes=100)
    upload.write(b"data")

    with pytest.raises(OSError):
        upload.read()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("verslag été 2024 💼 %22finaal%22.pdf", 'verslag été 2024 💼 "finaal".pdf'),
        ("صورة.jpg", "صورة.jpg"),
        ("evil%0D%0AX-Injected: 1.txt", "evilX-Injected: 1.txt"),
        ("evil\r\nX-Injected: 1.txt", "evilX-Injected: 1.txt"),
        ("C:\\Users\\an\\Desktop\\foto.jpg", "foto.jpg"),
        ("photo\u202egpj.exe", "photogpj.exe"),
        ("  ", ""),
        (None, ""),
    ],
)
def test_clean_filename(raw: str | None, expected: str) -> None:
    assert clean_filename(raw) == expected
