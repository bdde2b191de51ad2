"""Case operations on SQLite and PostgreSQL: who can open what, and what deletion removes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from nacl.public import PrivateKey
from sqlalchemy import LargeBinary, String, func, inspect, select
from sqlalchemy.orm import Session

from crypto import ContentKey, DecryptionError, SourceKeys, derive_source_keys, open_key_slot
from lumen.services import Services
from store.cases import (
    CaseError,
    add_note,
    add_reply,
    audit,
    create_source,
    delete_reply,
    delete_source,
    delete_submission,
    find_source,
    forward_case,
    record_submissions,
)
from store.envelopes import (
    PendingEnvelope,
    centre_slot,
    open_slot,
    read_value,
    seal_value,
    source_slot,
    stream_to_blob,
)
from store.models import (
    AuditEvent,
    Base,
    CaseState,
    CaseTag,
    Caseworker,
    Centre,
    Envelope,
    KeySlot,
    Note,
    PendingNotification,
    Reply,
    Source,
    Submission,
)
from tests.conftest import FAST_KDF

# Every plaintext carries this token, which no word list or random id can contain.
TOKEN = "Qz7PLAIN"
MESSAGE = f"{TOKEN}-message: we were kept in a house in Gent".encode()
FILE_BODY = f"{TOKEN}-file ".encode() * 20_000
FILE_META = json.dumps({"name": f"{TOKEN}-photo.jpg", "type": "image/jpeg"}).encode()
REPLY_TEXT = f"{TOKEN}-reply: please call us, we can help"
NOTE_TEXT = f"{TOKEN}-note: internal only"
LATER_REPLY = f"{TOKEN}-later reply".encode()
CODENAME = "zeven rode vissen springen over het dak"
SOURCE_TABLES = (Submission, Reply, Note, CaseState, Envelope, Source)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Iterator[Services]:
    """The services on SQLite, then on PostgreSQL."""
    name = "services" if request.param == "sqlite" else "postgres_services"
    yield request.getfixturevalue(name)


@dataclass
class Case:
    """A source with a message and a file submitted to the listed centres."""

    keys: SourceKeys
    source_id: str
    message_id: str
    file_id: str
    envelope_ids: list[str]
    blob_names: list[str]


def derive(codename: str, services: Services) -> SourceKeys:
    return derive_source_keys(codename, services.config.secrets.codename_salt, FAST_KDF)


def add_caseworker(session: Session, username: str, centre_id: str) -> Caseworker:
    caseworker = Caseworker(
        username=username, centre_id=centre_id, passphrase_hash="unused", totp_secret="unused"
    )
    session.add(caseworker)
    session.flush()
    return caseworker


def write_file(services: Services, data: bytes) -> PendingEnvelope:
    with stream_to_blob(services.blobs) as (pending, writer):
        for start in range(0, len(data), 50_000):
            writer.write(data[start : start + 50_000])
    return pending


def submit(services: Services, codename: str, centre_ids: list[str]) -> Case:
    keys = derive(codename, services)
    with services.sessions() as session:
        source = create_source(session, keys)
        session.flush()
        message = seal_value(MESSAGE)
        body = write_file(services, FILE_BODY)
        meta = seal_value(FILE_META)
        submissions = record_submissions(
            session, source, [("message", message, None), ("file", body, meta)], centre_ids
        )
        session.commit()
        assert body.blob_name is not None
        return Case(
            keys=keys,
            source_id=source.id,
            message_id=submissions[0].id,
            file_id=submissions[1].id,
            envelope_ids=[message.id, body.id, meta.id],
            blob_names=[body.blob_name],
        )


def open_as_centre(services: Services, envelope_id: str, centre_id: str, key: PrivateKey) -> bytes:
    with services.sessions() as session:
        envelope = session.get_one(Envelope, envelope_id)
        content_key = open_slot(centre_slot(session, envelope_id, centre_id, 1), key)
        return read_value(envelope, content_key, services.blobs)


def open_as_source(services: Services, envelope_id: str, reply_key: PrivateKey) -> bytes:
    with services.sessions() as session:
        envelope = session.get_one(Envelope, envelope_id)
        content_key = open_slot(source_slot(session, envelope_id), reply_key)
        return read_value(envelope, content_key, services.blobs)


def rows_of(session: Session, model: type[Base], source_id: str) -> int:
    column = model.id if model is Source else model.source_id  # type: ignore[attr-defined]
    return int(session.scalar(select(func.count()).select_from(model).where(column == source_id)))


def total_rows(session: Session, model: type[Base]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_create_and_find_source(store: Services) -> None:
    keys = derive(CODENAME, store)
    with store.sessions() as session:
        created = create_source(session, keys)
        session.commit()
        source_id = created.id

    with store.sessions() as session:
        found = find_source(
            session, derive(" ZEVEN rode vissen springen over het dak ", store).lookup_id
        )
        assert found is not None
        assert found.id == source_id
        assert found.reply_public_key == bytes(keys.reply_key.public_key)
        assert found.has_submitted is False
        assert (
            find_source(session, derive("zeven rode vissen springen over het dek", store).lookup_id)
            is None
        )


def test_submissions_sealed_per_centre(store: Services, centre_keys: dict[str, PrivateKey]) -> None:
    case = submit(store, CODENAME, ["payoke", "pagasa"])

    with store.sessions() as session:
        for envelope_id in case.envelope_ids:
            slots = session.scalars(select(KeySlot).where(KeySlot.envelope_id == envelope_id)).all()
            assert sorted(slot.centre_id or "" for slot in slots) == ["pagasa", "payoke"]
            assert all(slot.key_version == 1 for slot in slots)
            assert not any(slot.for_source for slot in slots)
        states = session.scalars(select(CaseState).where(CaseState.source_id == case.source_id))
        assert {state.centre_id: state.unread for state in states} == {"payoke": 2, "pagasa": 2}
        assert total_rows(session, PendingNotification) == 2
        source = session.get_one(Source, case.source_id)
        assert source.has_submitted is True

    message, body, meta = case.envelope_ids
    for centre_id in ("payoke", "pagasa"):
        key = centre_keys[centre_id]
        assert open_as_centre(store, message, centre_id, key) == MESSAGE
        assert open_as_centre(store, body, centre_id, key) == FILE_BODY
        assert open_as_centre(store, meta, centre_id, key) == FILE_META


def test_third_centre_cannot_open(store: Services, centre_keys: dict[str, PrivateKey]) -> None:
    case = submit(store, CODENAME, ["payoke", "pagasa"])

    for envelope_id in case.envelope_ids:
        with pytest.raises(DecryptionError):
            open_as_centre(store, envelope_id, "surya", centre_keys["surya"])
        with store.sessions() as session:
            for slot in session.scalars(select(KeySlot).where(KeySlot.envelope_id == envelope_id)):
                with pytest.raises(DecryptionError):
                    open_key_slot(slot.sealed_key, centre_keys["surya"])
        # The source reads replies, not what it submitted: no slot is sealed to it.
        with pytest.raises(DecryptionError):
            open_as_source(store, envelope_id, case.keys.reply_key)


def test_blob_bound_to_its_envelope(store: Services, centre_keys: dict[str, PrivateKey]) -> None:
    first = submit(store, CODENAME, ["payoke"])
    second = submit(store, "another codename of seven words here", ["payoke"])

    with store.sessions() as session:
        body_id = first.envelope_ids[1]
        key = open_slot(centre_slot(session, body_id, "payoke", 1), centre_keys["payoke"])
    # The right content key and record id over another record's blob must not decrypt.
    moved = Envelope(id=body_id, blob_name=second.blob_names[0], inline=None)

    with pytest.raises(DecryptionError):
        read_value(moved, key, store.blobs)


def test_unknown_centre_rejected(store: Services) -> None:
    keys = derive(CODENAME, store)
    with store.sessions() as session:
        source = create_source(session, keys)
        session.flush()
        with pytest.raises(CaseError, match="unknown centre"):
            record_submissions(session, source, [("message", seal_value(b"x"), None)], ["nowhere"])
        with pytest.raises(CaseError, match="nothing to submit"):
            record_submissions(session, source, [], ["payoke"])


def test_reply_readable_by_source_and_centre(
    store: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    case = submit(store, CODENAME, ["payoke"])
    with store.sessions() as session:
        author = add_caseworker(session, "anna", "payoke")
        source = session.get_one(Source, case.source_id)
        reply = add_reply(session, source, "payoke", author, REPLY_TEXT)
        session.commit()
        reply_envelope = reply.body_id

    again = derive("Zeven Rode Vissen Springen Over Het Dak", store)
    assert open_as_source(store, reply_envelope, again.reply_key) == REPLY_TEXT.encode()
    assert open_as_centre(store, reply_envelope, "payoke", centre_keys["payoke"]) == (
        REPLY_TEXT.encode()
    )
    with pytest.raises(DecryptionError):
        open_as_centre(store, reply_envelope, "pagasa", centre_keys["pagasa"])
    with pytest.raises(DecryptionError):
        open_as_source(store, reply_envelope, derive("some other codename", store).reply_key)


def test_reply_counts_as_activity(store: Services) -> None:
    case = submit(store, CODENAME, ["payoke"])
    long_ago = dt.date(2020, 1, 1)
    with store.sessions() as session:
        author = add_caseworker(session, "anna", "payoke")
        source = session.get_one(Source, case.source_id)
        source.last_activity_on = long_ago
        add_reply(session, source, "payoke", author, REPLY_TEXT)
        session.commit()

    with store.sessions() as session:
        assert session.get_one(Source, case.source_id).last_activity_on > long_ago


def test_forward_shares_submissions_and_replies(
    store: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    case = submit(store, CODENAME, ["payoke"])
    with store.sessions() as session:
        author = add_caseworker(session, "anna", "payoke")
        source = session.get_one(Source, case.source_id)
        reply = add_reply(session, source, "payoke", author, REPLY_TEXT)
        note = add_note(session, source, "payoke", author, NOTE_TEXT)
        session.commit()
        reply_id, note_id = reply.body_id, note.body_id

    with pytest.raises(DecryptionError):
        open_as_centre(store, case.envelope_ids[0], "pagasa", centre_keys["pagasa"])

    with store.sessions() as session:
        source = session.get_one(Source, case.source_id)
        payoke = session.get_one(Centre, "payoke")
        state = forward_case(session, source, payoke, centre_keys["payoke"], "pagasa")
        session.commit()
        assert state.forwarded_from == "payoke"
        assert state.centre_id == "pagasa"

    shared = [*case.envelope_ids, reply_id]
    expected = [MESSAGE, FILE_BODY, FILE_META, REPLY_TEXT.encode()]
    for envelope_id, plaintext in zip(shared, expected, strict=True):
        assert open_as_centre(store, envelope_id, "pagasa", centre_keys["pagasa"]) == plaintext
        assert open_as_centre(store, envelope_id, "payoke", centre_keys["payoke"]) == plaintext
        with pytest.raises(DecryptionError):
            open_as_centre(store, envelope_id, "surya", centre_keys["surya"])

    assert open_as_centre(store, note_id, "payoke", centre_keys["payoke"]) == NOTE_TEXT.encode()
    with pytest.raises(DecryptionError):
        open_as_centre(store, note_id, "pagasa", centre_keys["pagasa"])
    with pytest.raises(DecryptionError):
        open_as_centre(store, note_id, "surya", centre_keys["surya"])

    # A reply written after the forward is sealed to both centres and the source.
    with store.sessions() as session:
        author = add_caseworker(session, "bert", "pagasa")
        source = session.get_one(Source, case.source_id)
        later = add_reply(session, source, "pagasa", author, LATER_REPLY.decode())
        session.commit()
        later_id = later.body_id
    assert open_as_centre(store, later_id, "payoke", centre_keys["payoke"]) == LATER_REPLY
    assert open_as_centre(store, later_id, "pagasa", centre_keys["pagasa"]) == LATER_REPLY
    assert open_as_source(store, later_id, case.keys.reply_key) == LATER_REPLY


def test_forward_twice_adds_no_slots(store: Services, centre_keys: dict[str, PrivateKey]) -> None:
    case = submit(store, CODENAME, ["payoke"])

    slot_counts = []
    for _ in range(2):
        with store.sessions() as session:
            source = session.get_one(Source, case.source_id)
            payoke = session.get_one(Centre, "payoke")
            forward_case(session, source, payoke, centre_keys["payoke"], "pagasa")
            session.commit()
            slot_counts.append(total_rows(session, KeySlot))

    assert slot_counts == [6, 6]


def test_forward_rejects_bad_target(store: Services, centre_keys: dict[str, PrivateKey]) -> None:
    case = submit(store, CODENAME, ["payoke"])

    with store.sessions() as session:
        source = session.get_one(Source, case.source_id)
        payoke = session.get_one(Centre, "payoke")
        with pytest.raises(CaseError, match="centre that holds it"):
            forward_case(session, source, payoke, centre_keys["payoke"], "payoke")
        with pytest.raises(CaseError, match="unknown centre"):
            forward_case(session, source, payoke, centre_keys["payoke"], "nowhere")
        with pytest.raises(DecryptionError):
            forward_case(session, source, payoke, centre_keys["surya"], "pagasa")


def populated_case(store: Services) -> tuple[Case, Case, str, str]:
    """Return a case with a reply, a note and a tag, and an unrelated case."""
    case = submit(store, CODENAME, ["payoke", "pagasa"])
    other = submit(store, "another codename of seven words here", ["payoke"])
    with store.sessions() as session:
        author = add_caseworker(session, "anna", "payoke")
        source = session.get_one(Source, case.source_id)
        reply = add_reply(session, source, "payoke", author, REPLY_TEXT)
        add_note(session, source, "payoke", author, NOTE_TEXT)
        state = session.scalars(
            select(CaseState).where(
                CaseState.source_id == case.source_id, CaseState.centre_id == "payoke"
            )
        ).one()
        state.tags.append(CaseTag(tag="labour"))
        session.commit()
        return case, other, reply.id, reply.body_id


def test_delete_source_removes_everything(
    store: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    case, other, _reply_id, _reply_envelope = populated_case(store)
    with store.sessions() as session:
        expected_rows = sum(rows_of(session, model, case.source_id) for model in SOURCE_TABLES)
        envelope_ids = select(Envelope.id).where(Envelope.source_id == case.source_id)
        expected_rows += int(
            session.scalar(
                select(func.count())
                .select_from(KeySlot)
                .where(KeySlot.envelope_id.in_(envelope_ids))
            )
        )
        expected_rows += total_rows(session, CaseTag)
        assert expected_rows > 0

    with store.sessions() as session:
        report = delete_source(session, store.blobs, case.source_id)

    assert report.rows == expected_rows
    assert report.blobs == 1
    assert report.blob_failures == 0
    with store.sessions() as session:
        for model in SOURCE_TABLES:
            assert rows_of(session, model, case.source_id) == 0, model.__name__
        assert total_rows(session, CaseTag) == 0
        remaining = set(session.scalars(select(KeySlot.envelope_id)))
        assert remaining == set(other.envelope_ids)
    for name in case.blob_names:
        assert not store.blobs.path(name).exists()
    assert store.blobs.names() == set(other.blob_names)
    # The unrelated case is untouched and still opens.
    assert open_as_centre(store, other.envelope_ids[1], "payoke", centre_keys["payoke"]) == (
        FILE_BODY
    )


def test_delete_submission_removes_rows_and_blob(
    store: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    case = submit(store, CODENAME, ["payoke", "pagasa"])
    message, body, meta = case.envelope_ids

    with store.sessions() as session:
        submission = session.scalars(select(Submission).where(Submission.id == case.file_id)).one()
        report = delete_submission(session, store.blobs, submission)

    # One submission row, two envelopes (body and meta), each with two slots.
    assert report.rows == 1 + 2 + 4
    assert report.blobs == 1
    assert report.blob_failures == 0
    with store.sessions() as session:
        assert session.get(Envelope, body) is None
        assert session.get(Envelope, meta) is None
        assert (
            session.scalars(select(KeySlot).where(KeySlot.envelope_id.in_([body, meta]))).all()
            == []
        )
        assert session.scalars(select(Submission.id)).all() == [case.message_id]
    assert store.blobs.names() == set()
    assert open_as_centre(store, message, "payoke", centre_keys["payoke"]) == MESSAGE


def test_delete_reply_removes_rows(store: Services, centre_keys: dict[str, PrivateKey]) -> None:
    case, _other, reply_id, reply_envelope = populated_case(store)

    with store.sessions() as session:
        reply = session.scalars(select(Reply).where(Reply.id == reply_id)).one()
        report = delete_reply(session, reply)

    # The reply row, its envelope, and slots for payoke, pagasa and the source.
    assert report.rows == 1 + 1 + 3
    assert report.blobs == 0
    with store.sessions() as session:
        assert session.scalars(select(Reply).where(Reply.source_id == case.source_id)).all() == []
        assert session.get(Envelope, reply_envelope) is None
        assert (
            session.scalars(select(KeySlot).where(KeySlot.envelope_id == reply_envelope)).all()
            == []
        )
    assert open_as_centre(store, case.envelope_ids[0], "payoke", centre_keys["payoke"]) == MESSAGE


def test_no_plaintext_in_any_row(store: Services) -> None:
    case, _other, reply_id, _reply_envelope = populated_case(store)
    with store.sessions() as session:
        actor = session.scalars(select(Caseworker)).first()
        source = session.get_one(Source, case.source_id)
        for action in ("case.read", "case.reply", "case.forward", "file.download", "case.delete"):
            audit(session, actor, action, target=source.designation, detail=reply_id)
        audit(session, None, "retention.purge", target=source.designation)
        session.commit()

    with store.sessions() as session:
        assert total_rows(session, AuditEvent) == 6
        events = session.scalars(select(AuditEvent)).all()
        assert {event.actor_name for event in events} == {"anna", "system"}
        assert all(event.at.second == 0 and event.at.microsecond == 0 for event in events)
        found = list(scan_for_plaintext(session))

    assert found == []


def scan_for_plaintext(session: Session) -> Iterator[str]:
    """Yield ``table.column`` for every stored value that contains plaintext or the codename."""
    forbidden = [TOKEN.lower().encode(), CODENAME.encode()]
    for table in Base.metadata.sorted_tables:
        columns = [
            column for column in table.columns if isinstance(column.type, String | LargeBinary)
        ]
        for row in session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                raw = value.encode() if isinstance(value, str) else bytes(value)
                if any(marker in raw.lower() for marker in forbidden):
                    yield f"{table.name}.{column.name}"


def test_schema_has_no_plaintext_time_columns() -> None:
    # Dates about sources are kept at day granularity; only the audit trail has a time.
    for mapper in Base.registry.mappers:
        for column in inspect(mapper.class_).columns:
            if column.type.python_type.__name__ == "datetime":
                assert mapper.class_ is AuditEvent, f"{mapper.class_.__name__}.{column.name}"


def test_content_key_never_stored(store: Services, centre_keys: dict[str, PrivateKey]) -> None:
    case = submit(store, CODENAME, ["payoke"])

    with store.sessions() as session:
        slot = centre_slot(session, case.envelope_ids[0], "payoke", 1)
        key: ContentKey = open_slot(slot, centre_keys["payoke"])
        raw = bytes(key)
        for table in Base.metadata.sorted_tables:
            binaries = [c for c in table.columns if isinstance(c.type, LargeBinary)]
            for row in session.execute(select(*binaries)) if binaries else []:
                assert all(value is None or raw not in bytes(value) for value in row)
    with store.blobs.open(case.blob_names[0]) as handle:
        assert raw not in handle.read()


def test_plaintext_scan_finds_planted_value(store: Services) -> None:
    with store.sessions() as session:
        audit(session, None, "case.read", detail=f"{TOKEN} pasted by mistake")
        session.commit()

        found = list(scan_for_plaintext(session))

    assert found == ["audit_events.detail"]


def test_duplicate_centre_counted_once(store: Services, centre_keys: dict[str, PrivateKey]) -> None:
    keys = derive(CODENAME, store)
    with store.sessions() as session:
        source = create_source(session, keys)
        session.flush()
        message = seal_value(MESSAGE)
        record_submissions(session, source, [("message", message, None)], ["payoke", "payoke"])
        session.commit()

        states = session.scalars(select(CaseState)).all()
        assert [(state.centre_id, state.unread) for state in states] == [("payoke", 1)]
        assert total_rows(session, PendingNotification) == 1
        assert total_rows(session, KeySlot) == 1
    assert open_as_centre(store, message.id, "payoke", centre_keys["payoke"]) == MESSAGE
