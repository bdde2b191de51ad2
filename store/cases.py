"""Business operations on sources and their cases, shared by both apps and the worker."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nacl.public import PrivateKey, PublicKey
from sqlalchemy import Delete, delete, func, select, update
from sqlalchemy.orm import Session

from crypto import SourceKeys, open_key_slot, seal_key_slot, wordlist
from store.blobs import BlobStore
from store.envelopes import PendingEnvelope, Recipient, seal_value
from store.models import (
    AuditEvent,
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
    today,
)

logger = logging.getLogger(__name__)

STATUSES = ("new", "in_progress", "referred", "closed")


class CaseError(Exception):
    """An operation on a case cannot be done as asked."""


@dataclass(frozen=True)
class DeletionReport:
    """The counts of database rows and blob files a deletion removed."""

    rows: int
    blobs: int
    blob_failures: int = 0


def make_designation() -> str:
    """Return a pseudonymous, human-friendly label for a new case."""
    words = wordlist("en")
    return f"{secrets.choice(words)}-{secrets.choice(words)}-{secrets.randbelow(100):02d}"


def create_source(session: Session, keys: SourceKeys) -> Source:
    """Add a source for derived ``keys``; the caller commits."""
    source = Source(
        lookup_id=keys.lookup_id,
        reply_public_key=bytes(keys.reply_key.public_key),
        designation=make_designation(),
    )
    session.add(source)
    return source


def find_source(session: Session, lookup_id: str) -> Source | None:
    """Return the source whose lookup id is ``lookup_id``, if any."""
    return session.scalar(select(Source).where(Source.lookup_id == lookup_id))


def centre_recipients(session: Session, centre_ids: Iterable[str]) -> list[Recipient]:
    """Return the current public key of each centre in ``centre_ids``."""
    ids = list(centre_ids)
    centres = session.scalars(select(Centre).where(Centre.id.in_(ids))).all()
    if len(centres) != len(set(ids)):
        raise CaseError("unknown centre")
    return [
        Recipient(public_key=PublicKey(c.public_key), centre_id=c.id, key_version=c.key_version)
        for c in centres
    ]


def case_centre_ids(session: Session, source_id: str) -> list[str]:
    """Return the centres that hold a case for ``source_id``."""
    return list(
        session.scalars(select(CaseState.centre_id).where(CaseState.source_id == source_id))
    )


def next_activity_seq(session: Session) -> int:
    """Return a number larger than every case's activity number so far."""
    current = session.scalar(select(func.max(CaseState.activity_seq)))
    return (current or 0) + 1


def record_submissions(
    session: Session,
    source: Source,
    items: Sequence[tuple[str, PendingEnvelope, PendingEnvelope | None]],
    centre_ids: Sequence[str],
    sealed_to_all: bool = False,
) -> list[Submission]:
    """Add the rows for already written envelopes and seal them to ``centre_ids``.

    ``items`` holds ``(kind, body, meta)`` triples. Case states are created for
    centres that do not yet hold the case. The caller commits, and on failure
    deletes the blobs it wrote.
    """
    if not items:
        raise CaseError("nothing to submit")

    # A form may send the same centre twice, and the schema allows one case state per centre.
    centre_ids = list(dict.fromkeys(centre_ids))
    recipients = centre_recipients(session, centre_ids)
    submissions = []
    for kind, body, meta in items:
        session.add(body.to_row(source.id, recipients))
        if meta is not None:
            session.add(meta.to_row(source.id, recipients))
        submission = Submission(
            source_id=source.id,
            kind=kind,
            body_id=body.id,
            meta_id=meta.id if meta else None,
            size=body.size,
        )
        session.add(submission)
        submissions.append(submission)

    activity = next_activity_seq(session)
    existing = {state.centre_id: state for state in _states(session, source.id)}
    for centre_id in centre_ids:
        state = existing.get(centre_id)
        if state is None:
            state = CaseState(source_id=source.id, centre_id=centre_id, sealed_to_all=sealed_to_all)
            session.add(state)
        state.unread = (state.unread or 0) + len(items)
        state.activity_seq = activity
        session.add(PendingNotification(centre_id=centre_id))

    source.has_submitted = True
    source.last_activity_on = today()
    return submissions


def _states(session: Session, source_id: str) -> Sequence[CaseState]:
    return session.scalars(select(CaseState).where(CaseState.source_id == source_id)).all()


def add_reply(
    session: Session, source: Source, centre_id: str, author: Caseworker, text: str
) -> Reply:
    """Seal ``text`` to the source's reply key and to every centre holding the case."""
    pending = seal_value(text.encode("utf-8"))
    recipients = centre_recipients(session, case_centre_ids(session, source.id))
    recipients.append(Recipient(public_key=PublicKey(source.reply_public_key)))
    session.add(pending.to_row(source.id, recipients))
    reply = Reply(source_id=source.id, centre_id=centre_id, author_id=author.id, body_id=pending.id)
    session.add(reply)
    # A reply is activity on the case, so retention does not purge a case in progress.
    source.last_activity_on = today()
    session.execute(
        update(CaseState)
        .where(CaseState.source_id == source.id)
        .values(activity_seq=next_activity_seq(session))
    )
    return reply


def add_note(
    session: Session, source: Source, centre_id: str, author: Caseworker, text: str
) -> Note:
    """Seal an internal note to ``centre_id`` alone."""
    pending = seal_value(text.encode("utf-8"))
    session.add(pending.to_row(source.id, centre_recipients(session, [centre_id])))
    note = Note(source_id=source.id, centre_id=centre_id, author_id=author.id, body_id=pending.id)
    session.add(note)
    return note


def shared_envelope_ids(session: Session, source_id: str) -> list[str]:
    """Return the envelopes a forwarded centre may read: submissions and replies, not notes."""
    bodies = select(Submission.body_id).where(Submission.source_id == source_id)
    metas = select(Submission.meta_id).where(
        Submission.source_id == source_id, Submission.meta_id.is_not(None)
    )
    replies = select(Reply.body_id).where(Reply.source_id == source_id)
    return [str(i) for i in session.scalars(bodies.union(metas, replies))]


def forward_case(
    session: Session,
    source: Source,
    from_centre: Centre,
    from_key: PrivateKey,
    to_centre_id: str,
) -> CaseState:
    """Give ``to_centre_id`` a slot for every shared envelope of the case.

    The bodies are not rewritten: each content key is opened with the forwarding
    centre's key and sealed again to the receiving centre's current public key.
    """
    if to_centre_id == from_centre.id:
        raise CaseError("a case cannot be forwarded to the centre that holds it")

    target = session.get(Centre, to_centre_id)
    if target is None:
        raise CaseError("unknown centre")

    for envelope_id in shared_envelope_ids(session, source.id):
        own = session.scalar(
            select(KeySlot).where(
                KeySlot.envelope_id == envelope_id,
                KeySlot.centre_id == from_centre.id,
                KeySlot.key_version == from_centre.key_version,
            )
        )
        if own is None:
            continue
        already = session.scalar(
            select(KeySlot.id).where(
                KeySlot.envelope_id == envelope_id,
                KeySlot.centre_id == target.id,
                KeySlot.key_version == target.key_version,
            )
        )
        if already is not None:
            continue
        content_key = open_key_slot(own.sealed_key, from_key)
        session.add(
            KeySlot(
                envelope_id=envelope_id,
                centre_id=target.id,
                key_version=target.key_version,
                sealed_key=seal_key_slot(content_key, PublicKey(target.public_key)),
            )
        )

    state = session.scalar(
        select(CaseState).where(CaseState.source_id == source.id, CaseState.centre_id == target.id)
    )
    if state is None:
        state = CaseState(source_id=source.id, centre_id=target.id, forwarded_from=from_centre.id)
        session.add(state)
    state.unread = (state.unread or 0) + 1
    state.activity_seq = next_activity_seq(session)
    session.add(PendingNotification(centre_id=target.id))
    return state


def _delete_envelopes(session: Session, envelope_ids: Sequence[str]) -> tuple[int, list[str]]:
    if not envelope_ids:
        return 0, []
    blob_names = [
        name
        for name in session.scalars(
            select(Envelope.blob_name).where(
                Envelope.id.in_(envelope_ids), Envelope.blob_name.is_not(None)
            )
        )
        if name
    ]
    rows = _count(session, delete(KeySlot).where(KeySlot.envelope_id.in_(envelope_ids)))
    rows += _count(session, delete(Envelope).where(Envelope.id.in_(envelope_ids)))
    return rows, blob_names


def _count(session: Session, statement: Delete) -> int:
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0))


def _remove_blobs(blobs: BlobStore, names: Iterable[str]) -> tuple[int, int]:
    removed = failed = 0
    for name in names:
        try:
            if blobs.delete(name):
                removed += 1
        except OSError as error:
            failed += 1
            logger.error("blob deletion failed", extra={"error": type(error).__name__})
    return removed, failed


def delete_submission(session: Session, blobs: BlobStore, submission: Submission) -> DeletionReport:
    """Delete one submission's rows, commit, then remove its blobs."""
    envelope_ids = [submission.body_id] + ([submission.meta_id] if submission.meta_id else [])
    session.delete(submission)
    session.flush()
    rows, names = _delete_envelopes(session, envelope_ids)
    session.commit()
    removed, failed = _remove_blobs(blobs, names)
    return DeletionReport(rows=rows + 1, blobs=removed, blob_failures=failed)


def delete_reply(session: Session, reply: Reply) -> DeletionReport:
    """Delete one reply and its inline envelope, then commit."""
    envelope_id = reply.body_id
    session.delete(reply)
    session.flush()
    rows, _ = _delete_envelopes(session, [envelope_id])
    session.commit()
    return DeletionReport(rows=rows + 1, blobs=0)


def delete_source(session: Session, blobs: BlobStore, source_id: str) -> DeletionReport:
    """Delete a source with every row that refers to it, commit, then remove its blobs.

    The rows go first so that a crash between the two steps leaves only orphan blobs,
    which the clean-up job removes, and never a row pointing at a missing blob.
    """
    envelope_ids = list(session.scalars(select(Envelope.id).where(Envelope.source_id == source_id)))
    rows = 0
    for model in (Submission, Reply, Note):
        rows += _count(session, delete(model).where(model.source_id == source_id))
    state_ids = list(session.scalars(select(CaseState.id).where(CaseState.source_id == source_id)))
    if state_ids:
        rows += _count(session, delete(CaseTag).where(CaseTag.case_state_id.in_(state_ids)))
    rows += _count(session, delete(CaseState).where(CaseState.source_id == source_id))
    envelope_rows, names = _delete_envelopes(session, envelope_ids)
    rows += envelope_rows
    rows += _count(session, delete(Source).where(Source.id == source_id))
    session.commit()
    removed, failed = _remove_blobs(blobs, names)
    return DeletionReport(rows=rows, blobs=removed, blob_failures=failed)


def _audit_centre(centre_id: str | None, actor: Caseworker | None) -> str | None:
    if centre_id is not None:
        return centre_id
    if actor is not None:
        return actor.centre_id
    return None


def audit(
    session: Session,
    actor: Caseworker | None,
    action: str,
    target: str = "",
    detail: str = "",
    centre_id: str | None = None,
) -> None:
    """Record who did what to which case; never pass content as ``detail``."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0, tzinfo=None)
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id if actor else None,
            actor_name=actor.username if actor else "system",
            centre_id=_audit_centre(centre_id, actor),
            action=action,
            target=target,
            detail=detail,
        )
    )
