"""The streaming envelope: round trips, every tamper case, and flat memory."""

from __future__ import annotations

import io
import itertools
import random
import traceback
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    CHUNK_SIZE,
    ContentKey,
    DecryptionError,
    EnvelopeReader,
    EnvelopeWriter,
    decrypt_bytes,
    decrypt_stream,
    encrypt_bytes,
    encrypt_stream,
)
from crypto.envelope import HEADER_SIZE, MAGIC, VERSION

RECORD_ID = "record-0001"
# Ciphertext overhead of one secretstream chunk: an encrypted tag byte and a 16-byte MAC.
CHUNK_OVERHEAD = 17
SEALED_CHUNK = CHUNK_SIZE + CHUNK_OVERHEAD
SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 7]


def plaintext_of(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture(scope="module")
def key() -> ContentKey:
    return ContentKey.generate()


@pytest.fixture(scope="module")
def four_chunks(key: ContentKey) -> bytes:
    """An envelope of three full chunks and a final chunk of 7 bytes."""
    return encrypt_bytes(plaintext_of(3 * CHUNK_SIZE + 7), key, RECORD_ID)


def chunk_start(index: int) -> int:
    return HEADER_SIZE + index * SEALED_CHUNK


def flip_bit(data: bytes, offset: int, bit: int = 0) -> bytes:
    changed = bytearray(data)
    changed[offset] ^= 1 << bit
    return bytes(changed)


def expected_envelope_size(size: int) -> int:
    chunks = max(1, -(-size // CHUNK_SIZE))
    return HEADER_SIZE + size + chunks * CHUNK_OVERHEAD


@pytest.mark.parametrize("size", SIZES)
def test_stream_round_trip(size: int, key: ContentKey) -> None:
    plaintext = plaintext_of(size, seed=size)
    sink = io.BytesIO()

    writer = encrypt_stream(io.BytesIO(plaintext), sink, key, RECORD_ID)
    envelope = sink.getvalue()
    output = io.BytesIO()
    returned = decrypt_stream(io.BytesIO(envelope), output, key, RECORD_ID)

    assert output.getvalue() == plaintext
    assert returned == size
    assert writer.plaintext_size == size
    assert writer.ciphertext_size == len(envelope)
    assert len(envelope) == expected_envelope_size(size)


@pytest.mark.parametrize("size", SIZES)
def test_bytes_round_trip(size: int, key: ContentKey) -> None:
    plaintext = plaintext_of(size, seed=size + 1)

    envelope = encrypt_bytes(plaintext, key, RECORD_ID)

    assert decrypt_bytes(envelope, key, RECORD_ID) == plaintext
    assert envelope[: len(MAGIC)] == MAGIC
    assert envelope[len(MAGIC)] == VERSION


def test_same_plaintext_encrypts_differently(key: ContentKey) -> None:
    first = encrypt_bytes(b"same message", key, RECORD_ID)
    second = encrypt_bytes(b"same message", key, RECORD_ID)

    assert first != second
    assert first[HEADER_SIZE:] != second[HEADER_SIZE:]


def test_reader_yields_whole_chunks(key: ContentKey, four_chunks: bytes) -> None:
    chunks = list(EnvelopeReader(io.BytesIO(four_chunks), key, RECORD_ID))

    assert [len(chunk) for chunk in chunks] == [CHUNK_SIZE, CHUNK_SIZE, CHUNK_SIZE, 7]


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=4 * CHUNK_SIZE + 3),
    seed=st.integers(min_value=0, max_value=2**32),
    cuts=st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=12),
    chunk_aligned=st.booleans(),
    kinds=st.lists(st.sampled_from(["bytes", "bytearray", "memoryview"]), min_size=1),
)
def test_random_write_splits_round_trip(
    size: int, seed: int, cuts: list[float], chunk_aligned: bool, kinds: list[str]
) -> None:
    key = ContentKey.generate()
    plaintext = plaintext_of(size, seed)
    if chunk_aligned:
        # Whole-chunk writes take the writer's path that keeps bytes by reference.
        cuts = [*cuts, *(index * CHUNK_SIZE / size for index in range(1, 5) if size)]
    positions = sorted({0, size, *(min(size, round(cut * size)) for cut in cuts)})
    sink = io.BytesIO()

    writer = EnvelopeWriter(sink, key, RECORD_ID)
    for index, (start, end) in enumerate(itertools.pairwise(positions)):
        piece = memoryview(plaintext)[start:end]
        kind = kinds[index % len(kinds)]
        writer.write(
            bytes(piece) if kind == "bytes" else bytearray(piece) if kind == "bytearray" else piece
        )
    writer.write(b"")
    writer.close()

    envelope = sink.getvalue()
    assert decrypt_bytes(envelope, key, RECORD_ID) == plaintext
    assert len(envelope) == expected_envelope_size(size)
    # Splitting the writes differently changes nothing but the random header and nonces.
    assert len(envelope) == len(encrypt_bytes(plaintext, key, RECORD_ID))


@pytest.mark.parametrize(
    "writes",
    [
        [CHUNK_SIZE],
        [CHUNK_SIZE, CHUNK_SIZE],
        [CHUNK_SIZE, 0, CHUNK_SIZE, 1],
        [1, CHUNK_SIZE, CHUNK_SIZE - 1],
        [CHUNK_SIZE, 5, CHUNK_SIZE],
        [2 * CHUNK_SIZE, CHUNK_SIZE],
    ],
    ids=str,
)
def test_whole_chunk_writes_round_trip(writes: list[int], key: ContentKey) -> None:
    plaintext = plaintext_of(sum(writes), seed=len(writes))
    sink = io.BytesIO()
    writer = EnvelopeWriter(sink, key, RECORD_ID)

    offset = 0
    for size in writes:
        writer.write(plaintext[offset : offset + size])
        offset += size
    writer.close()

    assert decrypt_bytes(sink.getvalue(), key, RECORD_ID) == plaintext
    assert len(sink.getvalue()) == expected_envelope_size(len(plaintext))
    assert writer.plaintext_size == len(plaintext)


def test_writer_rejects_use_after_close(key: ContentKey) -> None:
    writer = EnvelopeWriter(io.BytesIO(), key, RECORD_ID)
    writer.close()

    with pytest.raises(ValueError, match="closed"):
        writer.write(b"late")
    with pytest.raises(ValueError, match="already closed"):
        writer.close()


def test_unclosed_envelope_does_not_decrypt(key: ContentKey) -> None:
    sink = io.BytesIO()
    writer = EnvelopeWriter(sink, key, RECORD_ID)
    writer.write(plaintext_of(2 * CHUNK_SIZE + 5))

    with pytest.raises(DecryptionError):
        decrypt_bytes(sink.getvalue(), key, RECORD_ID)


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE + 1])
def test_record_id_is_bound(size: int, key: ContentKey) -> None:
    envelope = encrypt_bytes(plaintext_of(size), key, RECORD_ID)

    with pytest.raises(DecryptionError):
        decrypt_bytes(envelope, key, "record-0002")


def test_wrong_key_rejected(key: ContentKey, four_chunks: bytes) -> None:
    with pytest.raises(DecryptionError):
        decrypt_bytes(four_chunks, ContentKey.generate(), RECORD_ID)


def test_content_key_checks_length() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        ContentKey(b"\x00" * 31)
    assert "redacted" in repr(ContentKey.generate())


def _tamper_cases() -> dict[str, Callable[[bytes], bytes]]:
    last = 3
    cases: dict[str, Callable[[bytes], bytes]] = {
        "empty input": lambda e: b"",
        "header only": lambda e: e[:HEADER_SIZE],
        "magic bit": lambda e: flip_bit(e, 0),
        "magic last byte": lambda e: flip_bit(e, len(MAGIC) - 1, 7),
        "version byte": lambda e: flip_bit(e, len(MAGIC)),
        "version zero": lambda e: e[: len(MAGIC)] + b"\x00" + e[len(MAGIC) + 1 :],
        "stream header first byte": lambda e: flip_bit(e, len(MAGIC) + 1),
        "stream header last byte": lambda e: flip_bit(e, HEADER_SIZE - 1, 5),
        "two chunks swapped": lambda e: (
            e[: chunk_start(0)]
            + e[chunk_start(1) : chunk_start(2)]
            + e[chunk_start(0) : chunk_start(1)]
            + e[chunk_start(2) :]
        ),
        "first chunk dropped": lambda e: e[: chunk_start(0)] + e[chunk_start(1) :],
        "middle chunk dropped": lambda e: e[: chunk_start(1)] + e[chunk_start(2) :],
        "final chunk dropped": lambda e: e[: chunk_start(last)],
        "middle chunk duplicated": lambda e: (
            e[: chunk_start(2)] + e[chunk_start(1) : chunk_start(2)] + e[chunk_start(2) :]
        ),
        "one trailing byte": lambda e: e + b"\x00",
        "trailing chunk copy": lambda e: e + e[chunk_start(last) :],
    }
    for index in range(last + 1):
        start = chunk_start(index)
        end = start + SEALED_CHUNK if index < last else None
        cases[f"chunk {index} tag byte"] = lambda e, s=start: flip_bit(e, s)
        cases[f"chunk {index} body"] = lambda e, s=start: flip_bit(e, s + 3, 2)
        cases[f"chunk {index} mac"] = lambda e, s=start, n=end: flip_bit(
            e, (n if n is not None else len(e)) - 1, 6
        )
        cases[f"cut mid chunk {index} after 1 byte"] = lambda e, s=start: e[: s + 1]
        cases[f"cut mid chunk {index} before mac"] = lambda e, s=start, n=end: e[
            : (n if n is not None else len(e)) - 16
        ]
        cases[f"cut mid chunk {index} last byte"] = lambda e, s=start, n=end: e[
            : (n if n is not None else len(e)) - 1
        ]
    for boundary in range(last + 1):
        cases[f"cut at chunk boundary {boundary}"] = lambda e, b=boundary: e[: chunk_start(b)]
    for cut in (1, len(MAGIC), len(MAGIC) + 1, HEADER_SIZE - 1):
        cases[f"cut inside header at {cut}"] = lambda e, c=cut: e[:c]
    return cases


TAMPER_CASES = _tamper_cases()


@pytest.mark.parametrize("case", TAMPER_CASES)
def test_tampered_envelope_rejected(case: str, key: ContentKey, four_chunks: bytes) -> None:
    tampered = TAMPER_CASES[case](four_chunks)
    assert tampered != four_chunks

    with pytest.raises(DecryptionError) as raised:
        decrypt_bytes(tampered, key, RECORD_ID)

    _assert_error_hides_key(raised.value, key)


@pytest.mark.parametrize("case", TAMPER_CASES)
def test_tampered_stream_writes_nothing_after_failure(
    case: str, key: ContentKey, four_chunks: bytes
) -> None:
    tampered = TAMPER_CASES[case](four_chunks)
    released: list[bytes] = []

    with pytest.raises(DecryptionError):
        for chunk in EnvelopeReader(io.BytesIO(tampered), key, RECORD_ID):
            released.append(chunk)

    plaintext = plaintext_of(3 * CHUNK_SIZE + 7)
    # Whatever came out before the failure is an authentic prefix, never altered bytes.
    assert plaintext.startswith(b"".join(released))


def _assert_error_hides_key(error: DecryptionError, key: ContentKey) -> None:
    raw = bytes(key)
    text = "".join(traceback.format_exception(error))
    for form in (raw.hex(), raw.hex().upper(), repr(raw), str(list(raw))):
        assert form not in text
        assert form not in repr(error)
    assert str(error) == "decryption failed"
    assert error.__cause__ is None
    assert error.__suppress_context__ or error.__context__ is None


def test_every_truncation_rejected(key: ContentKey) -> None:
    envelope = encrypt_bytes(plaintext_of(CHUNK_SIZE + 40), key, RECORD_ID)

    # Every prefix near the header, the chunk boundary and the end, and every 251st
    # byte in between: testing all 65,000 prefixes costs seconds and adds no new case.
    cuts = set(range(0, len(envelope), 251))
    for edge in (0, HEADER_SIZE, chunk_start(1), len(envelope)):
        cuts |= set(range(max(0, edge - 40), min(len(envelope), edge + 40)))
    assert len(envelope) - 1 in cuts

    for cut in sorted(cuts):
        with pytest.raises(DecryptionError):
            decrypt_bytes(envelope[:cut], key, RECORD_ID)


class _CountingSink(io.RawIOBase):
    """A sink that discards what it gets and counts the bytes."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        size = len(data)  # type: ignore[arg-type]
        self.size += size
        return size


def _writer_peak(size: int, piece: bytes, key: ContentKey, sink: io.RawIOBase) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        writer = EnvelopeWriter(sink, key, RECORD_ID)  # type: ignore[arg-type]
        written = 0
        while written < size:
            part = piece[: size - written]
            writer.write(part)
            written += len(part)
        writer.close()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _reader_peak(path: Path, key: ContentKey) -> tuple[int, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        total = 0
        with path.open("rb") as handle:
            for chunk in EnvelopeReader(handle, key, RECORD_ID):
                total += len(chunk)
        return tracemalloc.get_traced_memory()[1], total
    finally:
        tracemalloc.stop()


def test_memory_flat_over_50_mb(tmp_path: Path, key: ContentKey) -> None:
    big = 50 * 1024 * 1024
    small = 5 * 1024 * 1024
    # An odd write size, so that writes straddle chunk boundaries.
    piece = plaintext_of(100_003)

    counting = _CountingSink()
    small_peak = _writer_peak(small, piece, key, counting)
    big_peak = _writer_peak(big, piece, key, _CountingSink())
    assert big_peak < 1024 * 1024
    assert big_peak <= small_peak + CHUNK_SIZE
    assert counting.size == expected_envelope_size(small)

    path = tmp_path / "big.envelope"
    with path.open("wb") as handle:
        _writer_peak(big, piece, key, handle)  # type: ignore[arg-type]
    assert path.stat().st_size == expected_envelope_size(big)

    read_peak, total = _reader_peak(path, key)
    assert total == big
    assert read_peak < 1024 * 1024
