"""Translated labels for stored codes: case statuses, kinds of exploitation, audit actions."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

STATUS_LABELS: dict[str, LazyString] = {
    "new": _l("New"),
    "in_progress": _l("In progress"),
    "referred": _l("Referred"),
    "closed": _l("Closed"),
}

# Codes the source questionnaire stores for the kinds of exploitation.
EXPLOITATION_LABELS: dict[str, LazyString] = {
    "labour": _l("Labour"),
    "sexual": _l("Sexual"),
    "domestic": _l("Domestic work"),
    "begging": _l("Forced begging"),
    "crime": _l("Forced crime"),
    "organs": _l("Organ removal"),
    "marriage": _l("Forced marriage"),
    "other": _l("Other"),
}


def status_label(status: str) -> str:
    """Return the translated name of a case status, or the code itself if unknown."""
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def exploitation_label(kind: str) -> str:
    """Return the translated name of a kind of exploitation, or the code itself."""
    label = EXPLOITATION_LABELS.get(kind)
    return str(label) if label is not None else kind
