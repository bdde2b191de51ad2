"""Changes a caseworker makes to a case; each one writes an audit event and commits.

Audit events name the case by its pseudonymous designation and never hold content.
"""

from __future__ import annotations

import logging
import re
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from journalist_app.casework import CaseNotFound, CentreKey, case_state
from store import cases
from store.blobs import BlobStore
from store.cases import STATUSES, CaseError, DeletionReport, audit
from store.models import CaseState, CaseTag, Caseworker, Centre, Reply, Source, Submission

logger = logging.getLogger(__name__)

TAG_PATTERN: Final = re.compile(r"[\w][\w .:/-]{0,39}")


class ActionError(Exception):
    """A change cannot be made; ``code`` names the reason for the message shown."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _source(session: Session, source_id: str) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise CaseNotFound()
    return source


def record_read(
    session: Session, actor: Caseworker, source_id: str, what: str = "case.read"
) -> None:
    """Write an audit event for reading a case or one of its files, and commit."""
    audit(session, actor, what, target=_source(session, source_id).designation)
    session.commit()


def reply(session: Session, actor: Caseworker, key: CentreKey, source_id: str, text: str) -> None:
    """Send a reply to the source, sealed to its reply key and to every centre on the case."""
    state = case_state(session, source_id, key.centre_id)
    source = _source(session, source_id)
    cases.add_reply(session, source, key.centre_id, actor, text)
    if state.status == "new":
        state.status = "in_progress"
    audit(session, actor, "case.reply", target=source.designation)
    session.commit()


def add_note(
    session: Session, actor: Caseworker, key: CentreKey, source_id: str, text: str
) -> None:
    """Add an internal note that only the caseworker's centre can read."""
    case_state(session, source_id, key.centre_id)
    source = _source(session, source_id)
    cases.add_note(session, source, key.centre_id, actor, text)
    audit(session, actor, "case.note", target=source.designation)
    session.commit()


def set_status(
    session: Session, actor: Caseworker, key: CentreKey, source_id: str, status: str
) -> None:
    """Move the centre's case to ``status``, one of :data:`store.cases.STATUSES`."""
    if status not in STATUSES:
        raise ActionError("invalid_status")
    state = case_state(session, source_id, key.centre_id)
    state.status = status
    audit(
        session, actor, "case.status", target=_source(session, source_id).designation, detail=status
    )
    session.commit()


def mark_read(session: Session, actor: Caseworker, key: CentreKey, source_id: str) -> None:
    """Set the case's unread count at the caseworker's centre to zero."""
    state = case_state(session, source_id, key.centre_id)
    state.unread = 0
    audit(session, actor, "case.mark_read", target=_source(session, source_id).designation)
    session.commit()


def claim(session: Session, actor: Caseworker, key: CentreKey, source_id: str) -> None:
    """Claim a case that was sent to every centre; every centre then sees who claimed it."""
    state = case_state(session, source_id, key.centre_id)
    if not state.sealed_to_all:
        raise ActionError("not_shared")

    states = session.scalars(select(CaseState).where(CaseState.source_id == source_id)).all()
    if any(other.claimed_by_id is not None for other in states):
        raise ActionError("already_claimed")

    for other in states:
        other.claimed_by_id = actor.id
    audit(session, actor, "case.claim", target=_source(session, source_id).designation)
    session.commit()


def release(session: Session, actor: Caseworker, key: CentreKey, source_id: str) -> None:
    """Withdraw a claim made by someone of the caseworker's own centre."""
    state = case_state(session, source_id, key.centre_id)
    claimer = session.get(Caseworker, state.claimed_by_id) if state.claimed_by_id else None
    if claimer is None or claimer.centre_id != key.centre_id:
        raise ActionError("not_claimed_here")

    for other in session.scalars(select(CaseState).where(CaseState.source_id == source_id)):
        other.claimed_by_id = None
    audit(session, actor, "case.release", target=_source(session, source_id).designation)
    session.commit()


def assign(
    session: Session, actor: Caseworker, key: CentreKey, source_id: str, assignee_id: int | None
) -> None:
    """Assign the case to a caseworker of the same centre, or to nobody."""
    state = case_state(session, source_id, key.centre_id)
    detail = ""
    if assignee_id is not None:
        assignee = session.get(Caseworker, assignee_id)
        if assignee is None or assignee.centre_id != key.centre_id:
            raise ActionError("invalid_assignee")
        detail = assignee.username
    state.assignee_id = assignee_id
    audit(
        session, actor, "case.assign", target=_source(session, source_id).designation, detail=detail
    )
    session.commit()


def normalize_tag(tag: str) -> str:
    """Return ``tag`` trimmed, lower-cased and with single spaces, or raise ActionError."""
    normalized = " ".join(tag.split()).lower()
    if not TAG_PATTERN.fullmatch(normalized):
        raise ActionError("invalid_tag")
    return normalized


def add_tag(session: Session, actor: Caseworker, key: CentreKey, source_id: str, tag: str) -> None:
    """Add ``tag`` to the centre's case; adding a tag twice changes nothing."""
    normalized = normalize_tag(tag)
    state = case_state(session, source_id, key.centre_id)
    if normalized not in {existing.tag for existing in state.tags}:
        state.tags.append(CaseTag(tag=normalized))
        audit(session, actor, "case.tag_added", target=_source(session, source_id).designation)
    session.commit()


def remove_tag(
    session: Session, actor: Caseworker, key: CentreKey, source_id: str, tag: str
) -> None:
    """Remove ``tag`` from the centre's case."""
    state = case_state(session, source_id, key.centre_id)
    for existing in list(state.tags):
        if existing.tag == tag:
            state.tags.remove(existing)
            audit(
                session, actor, "case.tag_removed", target=_source(session, source_id).designation
            )
    session.commit()


def forward(
    session: Session, actor: Caseworker, key: CentreKey, source_id: str, to_centre_id: str
) -> None:
    """Give another centre access to the case by sealing its content keys to that centre."""
    case_state(session, source_id, key.centre_id)
    source = _source(session, source_id)
    centre = session.get(Centre, key.centre_id)
    if centre is None:
        raise CaseNotFound()
    try:
        cases.forward_case(session, source, centre, key.private_key, to_centre_id)
    except CaseError:
        session.rollback()
        raise ActionError("invalid_centre") from None
    audit(session, actor, "case.forward", target=source.designation, detail=f"to {to_centre_id}")
    session.commit()


def delete_item(
    session: Session,
    blobs: BlobStore,
    actor: Caseworker,
    key: CentreKey,
    source_id: str,
    item_id: str,
) -> DeletionReport:
    """Delete one message, file or reply of the case; its blobs are gone on return."""
    case_state(session, source_id, key.centre_id)
    source = _source(session, source_id)
    submission = session.scalar(
        select(Submission).where(Submission.id == item_id, Submission.source_id == source_id)
    )
    if submission is not None:
        audit(session, actor, f"case.delete_{submission.kind}", target=source.designation)
        report = cases.delete_submission(session, blobs, submission)
    else:
        reply_row = session.scalar(
            select(Reply).where(Reply.id == item_id, Reply.source_id == source_id)
        )
        if reply_row is None:
            raise CaseNotFound()
        audit(session, actor, "case.delete_reply", target=source.designation)
        report = cases.delete_reply(session, reply_row)
    _check_blobs(report)
    return report


def delete_case(
    session: Session, blobs: BlobStore, actor: Caseworker, key: CentreKey, source_id: str
) -> DeletionReport:
    """Delete the whole case for every centre; the source's codename stops working."""
    case_state(session, source_id, key.centre_id)
    source = _source(session, source_id)
    audit(session, actor, "case.delete", target=source.designation)
    report = cases.delete_source(session, blobs, source_id)
    _check_blobs(report)
    return report


def _check_blobs(report: DeletionReport) -> None:
    if report.blob_failures:
        logger.error("deleted rows but not every blob", extra={"failures": report.blob_failures})
        raise ActionError("blob_failure")
