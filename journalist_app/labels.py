"""Translated labels for stored codes: case statuses, kinds of exploitation, audit actions."""

from __future__ import annotations

from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from lumen.config import Config
from lumen.web import LANGUAGE_NAMES

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
    "unknown": _l("Does not know"),
}

# Questions of the source app's questionnaire, by the key its answers JSON uses.
QUESTION_LABELS: dict[str, LazyString] = {
    "who": _l("Who is reporting"),
    "kinds": _l("Kinds of exploitation"),
    "exploitation": _l("Kinds of exploitation"),
    "where": _l("Where"),
    "danger": _l("In danger now"),
    "in_danger": _l("In danger now"),
    "centre": _l("Centre chosen by the source"),
    "reply_language": _l("Language for replies"),
    "contact": _l("How to get in touch"),
}

ANSWER_LABELS: dict[str, dict[str, LazyString]] = {
    "who": {
        "victim": _l("It happened to them"),
        "relative": _l("Family member or friend of someone affected"),
        "witness": _l("Saw or heard something"),
        "professional": _l("Meets it in their work"),
        "unsaid": _l("Would rather not say"),
    },
    "danger": {"yes": _l("Yes"), "no": _l("No"), "unsure": _l("Not sure")},
    "centre": {"any": _l("Left to the reporting point")},
}


def status_label(status: str) -> str:
    """Return the translated name of a case status, or the code itself if unknown."""
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def answer_rows(answers: dict[str, object]) -> list[tuple[str, str]]:
    """Return ``(question, answer)`` pairs in the caseworker's language, empty answers left out.

    Unknown keys and values are shown as stored, so a newer questionnaire still shows
    everything.
    """
    rows = []
    for key, value in answers.items():
        if value in (None, "", [], {}):
            continue
        question = QUESTION_LABELS.get(key)
        rows.append((str(question) if question is not None else key, _answer_text(key, value)))
    return rows


def _answer_text(key: str, value: object) -> str:
    if key == "reply_language":
        return LANGUAGE_NAMES.get(str(value), str(value))
    if key == "centre" and value != "any":
        return _centre_name(str(value))
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, list):
        if key in ("kinds", "exploitation"):
            return ", ".join(exploitation_label(str(item)) for item in value)
        return ", ".join(str(item) for item in value)
    label = ANSWER_LABELS.get(key, {}).get(str(value))
    return str(label) if label is not None else str(value)


def _centre_name(centre_id: str) -> str:
    config: Config = current_app.extensions["lumen"].config
    try:
        return config.centre(centre_id).name
    except KeyError:
        return centre_id


def exploitation_label(kind: str) -> str:
    """Return the translated name of a kind of exploitation, or the code itself."""
    label = EXPLOITATION_LABELS.get(kind)
    return str(label) if label is not None else kind
