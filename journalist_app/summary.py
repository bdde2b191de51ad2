"""The plain-text parts of a referral export: summary, answers and conversation."""

from __future__ import annotations

import datetime as dt
import json

from flask_babel import gettext as _

from journalist_app.casework import CaseDetail
from journalist_app.labels import status_label


def export_texts(
    detail: CaseDetail, digests: dict[str, str], exported_by: str, day: dt.date
) -> list[tuple[str, bytes]]:
    """Return ``(member name, UTF-8 content)`` for the text members of an export."""
    texts = [
        ("summary.txt", _summary(detail, digests, exported_by, day).encode("utf-8")),
        ("conversation.txt", _conversation(detail).encode("utf-8")),
    ]
    if detail.answers is not None:
        answers = json.dumps(detail.answers, ensure_ascii=False, indent=2, sort_keys=True)
        texts.append(("answers.json", (answers + "\n").encode("utf-8")))
    return texts


def _summary(detail: CaseDetail, digests: dict[str, str], exported_by: str, day: dt.date) -> str:
    messages = sum(1 for item in detail.thread if item.kind == "message")
    replies = sum(1 for item in detail.thread if item.kind == "reply")
    lines = [
        _("Case %(designation)s", designation=detail.source.designation),
        "",
        _("WARNING: this export is not encrypted. Keep it safe and delete it after use."),
        "",
        _("Exported on %(day)s by %(user)s", day=day.isoformat(), user=exported_by),
        _("Status: %(status)s", status=status_label(detail.state.status)),
        _("Centres: %(centres)s", centres=", ".join(detail.centres)),
        _("First contact: %(day)s", day=detail.source.created_on.isoformat()),
        _("Last activity: %(day)s", day=detail.source.last_activity_on.isoformat()),
        _("Assigned to: %(name)s", name=detail.assignee or "-"),
        _("Claimed by: %(name)s", name=detail.claimed_by or "-"),
        _("Tags: %(tags)s", tags=", ".join(detail.tags) or "-"),
        _("Messages: %(count)d", count=messages),
        _("Replies: %(count)d", count=replies),
        _("Questionnaire answers: %(state)s", state=_("included") if detail.answers else _("none")),
        "",
        _("Files (SHA-256):"),
    ]
    for name, digest in digests.items():
        lines.append(f"  {name}  {digest}")
    if not digests:
        lines.append("  -")
    return "\n".join(lines) + "\n"


def _conversation(detail: CaseDetail) -> str:
    blocks = []
    for item in detail.thread:
        day = item.created_on.isoformat()
        if item.kind == "message":
            header = _("%(day)s, message from the source", day=day)
            body = item.text if item.text is not None else _("(could not be decrypted)")
        elif item.kind == "reply":
            header = _("%(day)s, reply from %(author)s", day=day, author=item.author or "")
            body = item.text if item.text is not None else _("(could not be decrypted)")
        else:
            assert item.file is not None
            header = _("%(day)s, file from the source", day=day)
            body = f"{item.file.name} ({item.file.size} B)"
        blocks.append(f"--- {header}\n{body}\n")
    return "\n".join(blocks) if blocks else _("No messages.") + "\n"
