"""SQLAlchemy models.

Plaintext columns are the smallest set that routing and triage need: random ids,
recipient centres, sizes, workflow state set by caseworkers, and dates. Dates about
sources are kept at day granularity; rows are ordered by an autoincrement sequence,
never by a time. Everything a source wrote, and every reply and note, lives in an
envelope whose content key is sealed in :class:`KeySlot` rows.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def new_id() -> str:
    """Return a random, URL-safe identifier with 128 bits of entropy."""
    return secrets.token_urlsafe(16)


def today() -> dt.date:
    """Return the current UTC date, the granularity of every date about sources."""
    return dt.datetime.now(dt.UTC).date()


class Base(DeclarativeBase):
    pass


class Centre(Base):
    __tablename__ = "centres"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_version: Mapped[int] = mapped_column(Integer, default=1)


class Caseworker(Base):
    __tablename__ = "caseworkers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    passphrase_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str] = mapped_column(String(64))
    last_totp_counter: Mapped[int] = mapped_column(Integer, default=0)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    must_change_passphrase: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)

    centre: Mapped[Centre] = relationship()


class WrappedCentreKey(Base):
    """A centre private key wrapped under one caseworker's passphrase."""

    __tablename__ = "wrapped_centre_keys"
    __table_args__ = (UniqueConstraint("caseworker_id", "centre_id", "key_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    caseworker_id: Mapped[int] = mapped_column(ForeignKey("caseworkers.id", ondelete="CASCADE"))
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    key_version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    lookup_id: Mapped[str] = mapped_column(String(64), unique=True)
    reply_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    designation: Mapped[str] = mapped_column(String(64))
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)
    last_activity_on: Mapped[dt.date] = mapped_column(Date, default=today)
    has_submitted: Mapped[bool] = mapped_column(Boolean, default=False)


class Envelope(Base):
    """An encrypted record: a blob on disk for bodies, inline bytes for short values."""

    __tablename__ = "envelopes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    blob_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    inline: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer, default=0)

    slots: Mapped[list[KeySlot]] = relationship(
        back_populates="envelope", cascade="all, delete-orphan", passive_deletes=True
    )


class KeySlot(Base):
    """An envelope's content key sealed to one centre key or one source reply key."""

    __tablename__ = "key_slots"
    __table_args__ = (UniqueConstraint("envelope_id", "centre_id", "key_version", "for_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    envelope_id: Mapped[str] = mapped_column(
        ForeignKey("envelopes.id", ondelete="CASCADE"), index=True
    )
    centre_id: Mapped[str | None] = mapped_column(ForeignKey("centres.id"))
    key_version: Mapped[int] = mapped_column(Integer, default=0)
    for_source: Mapped[bool] = mapped_column(Boolean, default=False)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary(80))

    envelope: Mapped[Envelope] = relationship(back_populates="slots")


class Submission(Base):
    """Something a source sent: a message, the questionnaire answers or a file."""

    __tablename__ = "submissions"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "message", "answers" or "file"
    body_id: Mapped[str] = mapped_column(ForeignKey("envelopes.id"))
    # For a file: an envelope of the JSON {"name": ..., "type": ...}.
    meta_id: Mapped[str | None] = mapped_column(ForeignKey("envelopes.id"))
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)

    body: Mapped[Envelope] = relationship(foreign_keys=[body_id])
    meta: Mapped[Envelope | None] = relationship(foreign_keys=[meta_id])


class Reply(Base):
    """A centre's reply, sealed to the source's reply key and to the centre."""

    __tablename__ = "replies"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("caseworkers.id", ondelete="SET NULL"))
    body_id: Mapped[str] = mapped_column(ForeignKey("envelopes.id"))
    seen_by_source: Mapped[bool] = mapped_column(Boolean, default=False)
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)

    body: Mapped[Envelope] = relationship()


class CaseState(Base):
    """One centre's workflow state for one source's case."""

    __tablename__ = "case_states"
    __table_args__ = (UniqueConstraint("source_id", "centre_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    sealed_to_all: Mapped[bool] = mapped_column(Boolean, default=False)
    forwarded_from: Mapped[str | None] = mapped_column(ForeignKey("centres.id"))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="SET NULL")
    )
    claimed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="SET NULL")
    )
    unread: Mapped[int] = mapped_column(Integer, default=0)
    # A sequence number, not a time, so that "newest activity first" leaks no clock.
    activity_seq: Mapped[int] = mapped_column(Integer, default=0, index=True)

    tags: Mapped[list[CaseTag]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class CaseTag(Base):
    __tablename__ = "case_tags"
    __table_args__ = (UniqueConstraint("case_state_id", "tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_state_id: Mapped[int] = mapped_column(
        ForeignKey("case_states.id", ondelete="CASCADE"), index=True
    )
    tag: Mapped[str] = mapped_column(String(40), index=True)


class Note(Base):
    """An internal note of a centre on a case, sealed to that centre only."""

    __tablename__ = "notes"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("caseworkers.id", ondelete="SET NULL"))
    body_id: Mapped[str] = mapped_column(ForeignKey("envelopes.id"))
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)

    body: Mapped[Envelope] = relationship()


class AuditEvent(Base):
    """Who did what to which case, to the minute; never any content."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("caseworkers.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(64))
    centre_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(80), default="")
    detail: Mapped[str] = mapped_column(String(200), default="")


class PendingNotification(Base):
    """A notification that waits in the database until the job queue takes it."""

    __tablename__ = "pending_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))


class Setting(Base):
    """An instance setting an administrator changed at run time, stored as text."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000))
