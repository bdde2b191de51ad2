"""Reading a centre's cases: the inbox page and the decrypted case.

Everything decrypted here lives only in the objects returned for one response. The
danger flag and the kinds of exploitation come from the encrypted questionnaire
answers, so the inbox decrypts the answers of the cases on the page being shown and
nothing else, and keeps no plaintext anywhere.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from nacl.public import PrivateKey
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crypto import DecryptionError, open_key_slot
from store.blobs import BlobError, BlobStore
from store.envelopes import centre_slot, open_slot, read_value
from store.models import (
    CaseState,
    CaseTag,
    Caseworker,
    Centre,
    Envelope,
    KeySlot,
    Note,
    Reply,
    Source,
    Submission,
)

logger = logging.getLogger(__name__)

PAGE_SIZE: Final = 50
# Keys of the answers JSON that the inbox summarises. The source app's questionnaire
# stores "danger" as "yes", "no" or "unsure" and "kinds" as a list of kind codes. The
# names "in_danger" (a boolean) and "exploitation" are read too.
DANGER_KEYS: Final = ("danger", "in_danger")
EXPLOITATION_KEYS: Final = ("kinds", "exploitation")


class CaseNotFound(LookupError):
    """The case does not exist or does not reach the caseworker's centre."""


@dataclass(frozen=True)
class CentreKey:
    """The key a caseworker acts with: their centre's id, key version and private key."""

    centre_id: str
    key_version: int
    private_key: PrivateKey = field(repr=False)


@dataclass(frozen=True)
class AnswersSummary:
    """Danger flag and kinds of exploitation of one case, for the inbox."""

    readable: bool
    danger: bool = False
    exploitation: tuple[str, ...] = ()


@dataclass(frozen=True)
class InboxRow:
    """One case in the inbox."""

    source_id: str
    designation: str
    status: str
    unread: int
    claimed_by: str | None
    assignee: str | None
    sealed_to_all: bool
    forwarded_from: str | None
    tags: tuple[str, ...]
    answers: AnswersSummary | None


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox with what the pager needs."""

    rows: list[InboxRow]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class InboxFilter:
    """Inbox filters; ``assignee`` is ``"me"``, ``"none"``, an account id or empty."""

    status: str = ""
    assignee: str = ""
    tag: str = ""


def decrypt_envelope(
    session: Session, blobs: BlobStore, envelope: Envelope, key: CentreKey
) -> bytes | None:
    """Return the plaintext of ``envelope`` for ``key``'s centre, or None if it cannot."""
    slot = centre_slot(session, envelope.id, key.centre_id, key.key_version)
    try:
        return read_value(envelope, open_slot(slot, key.private_key), blobs)
    except (DecryptionError, BlobError):
        logger.warning("an envelope could not be decrypted")
        return None


def summarise_answers(data: bytes | None) -> AnswersSummary:
    """Return the danger flag and kinds of exploitation from decrypted answers JSON."""
    if data is None:
        return AnswersSummary(readable=False)
    try:
        answers = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return AnswersSummary(readable=False)
    if not isinstance(answers, dict):
        return AnswersSummary(readable=False)

    danger = any(_truthy(answers.get(key)) for key in DANGER_KEYS)
    kinds = next((answers[key] for key in EXPLOITATION_KEYS if answers.get(key)), ())
    if isinstance(kinds, str):
        kinds = (kinds,)
    return AnswersSummary(
        readable=True,
        danger=danger,
        exploitation=tuple(
            str(kind) for kind in kinds if isinstance(kind, str | int) and kind != "unknown"
        ),
    )


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"yes", "true", "1", "ja", "oui"}
    return bool(value)


def _filtered_states(centre_id: str, filters: InboxFilter, me: int) -> Select[CaseState]:
    query = select(CaseState).where(CaseState.centre_id == centre_id)
    if filters.status:
        query = query.where(CaseState.status == filters.status)
    if filters.assignee == "me":
        query = query.where(CaseState.assignee_id == me)
    elif filters.assignee == "none":
        query = query.where(CaseState.assignee_id.is_(None))
    elif filters.assignee.isdigit():
        query = query.where(CaseState.assignee_id == int(filters.assignee))
    if filters.tag:
        tagged = select(CaseTag.case_state_id).where(CaseTag.tag == filters.tag)
        query = query.where(CaseState.id.in_(tagged))
    return query


def inbox_page(
    session: Session,
    blobs: BlobStore,
    key: CentreKey,
    me: int,
    filters: InboxFilter,
    page: int,
) -> InboxPage:
    """Return page ``page`` (from 1) of the cases that reach ``key``'s centre.

    Newest activity comes first. Only the answers of the cases on this page are
    decrypted.
    """
    states_query = _filtered_states(key.centre_id, filters, me)
    total = session.scalar(select(func.count()).select_from(states_query.subquery())) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, page), pages)
    states = session.scalars(
        states_query.order_by(CaseState.activity_seq.desc(), CaseState.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()

    source_ids = [state.source_id for state in states]
    designations = dict(
        session.execute(
            select(Source.id, Source.designation).where(Source.id.in_(source_ids))
        ).all()
    )
    names = account_labels(
        session,
        {i for state in states for i in (state.assignee_id, state.claimed_by_id) if i is not None},
    )
    tags: dict[int, list[str]] = {}
    for state_id, tag in session.execute(
        select(CaseTag.case_state_id, CaseTag.tag)
        .where(CaseTag.case_state_id.in_([state.id for state in states]))
        .order_by(CaseTag.tag)
    ):
        tags.setdefault(state_id, []).append(tag)
    answers = _page_answers(session, blobs, key, source_ids)

    rows = [
        InboxRow(
            source_id=state.source_id,
            designation=designations.get(state.source_id, ""),
            status=state.status,
            unread=state.unread,
            claimed_by=names.get(state.claimed_by_id) if state.claimed_by_id else None,
            assignee=names.get(state.assignee_id) if state.assignee_id else None,
            sealed_to_all=state.sealed_to_all,
            forwarded_from=state.forwarded_from,
            tags=tuple(tags.get(state.id, ())),
            answers=answers.get(state.source_id),
        )
        for state in states
    ]
    return InboxPage(rows=rows, page=page, pages=pages, total=total)


def _page_answers(
    session: Session, blobs: BlobStore, key: CentreKey, source_ids: Sequence[str]
) -> dict[str, AnswersSummary]:
    if not source_ids:
        return {}

    latest = (
        select(func.max(Submission.seq))
        .where(Submission.source_id.in_(source_ids), Submission.kind == "answers")
        .group_by(Submission.source_id)
    )
    rows = session.execute(
        select(Submission.source_id, Envelope, KeySlot.sealed_key)
        .join(Envelope, Envelope.id == Submission.body_id)
        .outerjoin(
            KeySlot,
            (KeySlot.envelope_id == Envelope.id)
            & (KeySlot.centre_id == key.centre_id)
            & (KeySlot.key_version == key.key_version),
        )
        .where(Submission.seq.in_(latest))
    )

    summaries = {}
    for source_id, envelope, sealed_key in rows:
        plaintext = None
        if sealed_key is not None:
            try:
                plaintext = read_value(envelope, open_key_slot(sealed_key, key.private_key), blobs)
            except (DecryptionError, BlobError):
                logger.warning("answers could not be decrypted")
        summaries[source_id] = summarise_answers(plaintext)
    return summaries


def account_labels(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Return "username (centre)" for each account id."""
    account_ids = list(ids)
    if not account_ids:
        return {}
    rows = session.execute(
        select(Caseworker.id, Caseworker.username, Centre.name)
        .join(Centre, Centre.id == Caseworker.centre_id)
        .where(Caseworker.id.in_(account_ids))
    )
    return {account_id: f"{username} ({centre})" for account_id, username, centre in rows}


def case_state(session: Session, source_id: str, centre_id: str) -> CaseState:
    """Return ``centre_id``'s state of the case of ``source_id`` or raise CaseNotFound."""
    state = session.scalar(
        select(CaseState).where(CaseState.source_id == source_id, CaseState.centre_id == centre_id)
    )
    if state is None:
        raise CaseNotFound()
    return state


def tag_names(session: Session, centre_id: str) -> list[str]:
    """Return every tag in use at ``centre_id``, for the inbox filter."""
    return list(
        session.scalars(
            select(CaseTag.tag)
            .join(CaseState, CaseState.id == CaseTag.case_state_id)
            .where(CaseState.centre_id == centre_id)
            .distinct()
            .order_by(CaseTag.tag)
        )
    )


@dataclass(frozen=True)
class FileItem:
    """A file a source sent, with its decrypted original name and declared type."""

    submission_id: str
    name: str
    media_type: str
    size: int


@dataclass(frozen=True)
class ThreadItem:
    """A message, a file or a reply in the case's thread, in order."""

    kind: str
    item_id: str
    created_on: Any
    text: str | None = None
    file: FileItem | None = None
    author: str | None = None


@dataclass(frozen=True)
class NoteItem:
    """An internal note of the caseworker's centre."""

    author: str
    created_on: Any
    text: str | None


@dataclass
class CaseDetail:
    """Everything the case page shows, decrypted for one response."""

    source: Source
    state: CaseState
    answers: dict[str, Any] | None
    answers_readable: bool
    thread: list[ThreadItem]
    notes: list[NoteItem]
    centres: list[str]
    claimed_by: str | None
    assignee: str | None
    tags: list[str]


def file_meta(
    session: Session, blobs: BlobStore, submission: Submission, key: CentreKey
) -> FileItem:
    """Return the decrypted name and type of a file submission."""
    name, media_type = "", "application/octet-stream"
    if submission.meta is not None:
        plaintext = decrypt_envelope(session, blobs, submission.meta, key)
        if plaintext is not None:
            try:
                meta = json.loads(plaintext.decode("utf-8"))
                name = str(meta.get("name") or "")
                media_type = str(meta.get("type") or media_type)
            except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
                logger.warning("file metadata is not valid JSON")
    return FileItem(submission.id, name, media_type, submission.size)


def case_detail(session: Session, blobs: BlobStore, source_id: str, key: CentreKey) -> CaseDetail:
    """Decrypt the whole case of ``source_id`` as ``key``'s centre sees it."""
    state = case_state(session, source_id, key.centre_id)
    source = session.get(Source, source_id)
    if source is None:
        raise CaseNotFound()

    submissions = session.scalars(
        select(Submission).where(Submission.source_id == source_id).order_by(Submission.seq)
    ).all()
    replies = session.scalars(
        select(Reply).where(Reply.source_id == source_id).order_by(Reply.seq)
    ).all()
    notes = session.scalars(
        select(Note)
        .where(Note.source_id == source_id, Note.centre_id == key.centre_id)
        .order_by(Note.seq)
    ).all()
    authors = account_labels(
        session,
        {r.author_id for r in replies if r.author_id}
        | {n.author_id for n in notes if n.author_id}
        | {i for i in (state.assignee_id, state.claimed_by_id) if i},
    )
    centre_names = dict(session.execute(select(Centre.id, Centre.name)).all())

    answers: dict[str, Any] | None = None
    answers_readable = True
    thread: list[ThreadItem] = []
    for submission in submissions:
        if submission.kind == "answers":
            plaintext = decrypt_envelope(session, blobs, submission.body, key)
            answers, answers_readable = _parse_answers(plaintext)
        elif submission.kind == "file":
            thread.append(
                ThreadItem(
                    kind="file",
                    item_id=submission.id,
                    created_on=submission.created_on,
                    file=file_meta(session, blobs, submission, key),
                )
            )
        else:
            plaintext = decrypt_envelope(session, blobs, submission.body, key)
            thread.append(
                ThreadItem(
                    kind="message",
                    item_id=submission.id,
                    created_on=submission.created_on,
                    text=_text(plaintext),
                )
            )

    for reply in replies:
        plaintext = decrypt_envelope(session, blobs, reply.body, key)
        author = authors.get(reply.author_id) if reply.author_id else None
        thread.append(
            ThreadItem(
                kind="reply",
                item_id=reply.id,
                created_on=reply.created_on,
                text=_text(plaintext),
                author=author or centre_names.get(reply.centre_id, reply.centre_id),
            )
        )
    # NOTE: dates are kept per day only and submissions and replies are numbered apart,
    # so within one day the thread shows the source's items before the centres' replies.
    thread.sort(key=lambda item: (item.created_on, item.kind == "reply"))

    note_items = [
        NoteItem(
            author=authors.get(note.author_id, "") if note.author_id else "",
            created_on=note.created_on,
            text=_text(decrypt_envelope(session, blobs, note.body, key)),
        )
        for note in notes
    ]
    holders = session.scalars(
        select(CaseState.centre_id).where(CaseState.source_id == source_id)
    ).all()
    return CaseDetail(
        source=source,
        state=state,
        answers=answers,
        answers_readable=answers_readable,
        thread=thread,
        notes=note_items,
        centres=[centre_names.get(centre_id, centre_id) for centre_id in holders],
        claimed_by=authors.get(state.claimed_by_id) if state.claimed_by_id else None,
        assignee=authors.get(state.assignee_id) if state.assignee_id else None,
        tags=sorted(tag.tag for tag in state.tags),
    )


def _text(plaintext: bytes | None) -> str | None:
    if plaintext is None:
        return None
    return plaintext.decode("utf-8", errors="replace")


def _parse_answers(plaintext: bytes | None) -> tuple[dict[str, Any] | None, bool]:
    if plaintext is None:
        return None, False
    try:
        answers = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, False
    if not isinstance(answers, dict):
        return None, False
    return answers, True
