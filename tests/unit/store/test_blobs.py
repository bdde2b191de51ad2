"""The blob store: atomic writes, clean-up of interrupted writes, confined names."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from store.blobs import BlobError, BlobStore

NAME = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def listing(store: BlobStore) -> set[str]:
    return {entry.name for entry in store.folder.iterdir()}


def test_folder_private(blobs: BlobStore) -> None:
    assert stat.S_IMODE(blobs.folder.stat().st_mode) == 0o700


def test_blob_visible_only_after_block(blobs: BlobStore) -> None:
    with blobs.create() as (name, handle):
        handle.write(b"first part ")
        assert name not in listing(blobs)
        assert blobs.names() == set()
        temporary = [entry for entry in listing(blobs) if entry != name]
        assert len(temporary) == 1
        assert temporary[0].startswith(".")
        handle.write(b"second part")

    assert listing(blobs) == {name}
    assert blobs.names() == {name}
    with blobs.open(name) as reader:
        assert reader.read() == b"first part second part"
    assert stat.S_IMODE(blobs.path(name).stat().st_mode) == 0o600


def test_failure_leaves_nothing(blobs: BlobStore) -> None:
    seen: list[str] = []

    with pytest.raises(RuntimeError, match="upload aborted"), blobs.create() as (name, handle):
        seen.append(name)
        handle.write(b"partial ciphertext")
        raise RuntimeError("upload aborted")

    assert listing(blobs) == set()
    assert not blobs.path(seen[0]).exists()


def test_keyboard_interrupt_leaves_nothing(blobs: BlobStore) -> None:
    with pytest.raises(KeyboardInterrupt), blobs.create() as (_name, handle):
        handle.write(b"partial")
        raise KeyboardInterrupt

    assert listing(blobs) == set()


def test_names_are_random(blobs: BlobStore) -> None:
    names = set()
    for _ in range(20):
        with blobs.create() as (name, handle):
            handle.write(b"x")
        names.add(name)

    assert len(names) == 20
    assert blobs.names() == names


def test_remove_temporary_files(blobs: BlobStore) -> None:
    with blobs.create() as (kept, handle):
        handle.write(b"complete")
    for index in range(3):
        (blobs.folder / f".tmp-{index:032x}").write_bytes(b"interrupted write")

    removed = blobs.remove_temporary_files()

    assert removed == 3
    assert listing(blobs) == {kept}
    assert blobs.remove_temporary_files() == 0


def test_delete(blobs: BlobStore) -> None:
    with blobs.create() as (name, handle):
        handle.write(b"to delete")

    assert blobs.delete(name) is True
    assert listing(blobs) == set()
    assert blobs.delete(name) is False


def test_open_missing_blob(blobs: BlobStore) -> None:
    with pytest.raises(BlobError, match="not found"), blobs.open(NAME):
        pass


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../x",
        "A" * 32,
        "a" * 31,
        "a" * 33,
        "g" * 32,
        "../" + "a" * 29,
        "/etc/passwd",
        ".tmp-" + NAME,
        NAME + "\n",
        NAME + "/",
        NAME[:-1] + "\x00",
        "０" * 32,
    ],
)
def test_invalid_name_rejected(name: str, blobs: BlobStore) -> None:
    with pytest.raises(BlobError, match="invalid blob name"):
        blobs.path(name)
    with pytest.raises(BlobError, match="invalid blob name"):
        blobs.delete(name)
    with pytest.raises(BlobError, match="invalid blob name"), blobs.open(name):
        pass


def test_valid_name_stays_in_folder(blobs: BlobStore) -> None:
    path = blobs.path(NAME)

    assert path.parent == blobs.folder
    assert path.name == NAME
