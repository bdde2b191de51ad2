"""The logged-in source of a session: its id and reply key.

The reply key is derived once, at login, and kept server-side in a
:class:`~lumen.keystash.KeyStash` for the session. The signed session cookie carries
only the stash ticket. Deriving the key again on every page would cost one Argon2id
run per request (``source_kdf.memlimit`` bytes, 64 MiB by default, and a noticeable
delay), and it would need the codename, which must never go into a cookie. The stash
holds the key sealed under a key that only the cookie holds, so a copy of the stash
alone opens nothing. Logging out deletes the server copy, which otherwise expires
after the session lifetime without use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from nacl.public import PrivateKey

from lumen.keystash import KeyStash, StashTicket
from lumen.web import LANGUAGE_COOKIE

SOURCE_ID = "source"
TICKET = "ticket"
DANGER = "danger"
CSRF_FIELD = "csrf_token"  # the session key Flask-WTF keeps its raw token under

View = TypeVar("View", bound=Callable[..., Any])


class SessionExpired(Exception):
    """A form was sent to a page that needs a login, but the session has ended."""


@dataclass(frozen=True, repr=False)
class LoggedIn:
    """The source of this session and its reply key, opened from the stash."""

    source_id: str
    reply_key: PrivateKey

    def __repr__(self) -> str:
        return "LoggedIn(<redacted>)"


def key_stash() -> KeyStash:
    """Return the app's key stash."""
    return cast(KeyStash, current_app.extensions["lumen_source_stash"])


def _ticket() -> StashTicket | None:
    raw = session.get(TICKET)
    if not isinstance(raw, list) or len(raw) != 2:
        return None
    return StashTicket(stash_id=str(raw[0]), session_key=str(raw[1]))


def reset_session() -> None:
    """Destroy the stashed key and empty the session, keeping the chosen language."""
    ticket = _ticket()
    if ticket is not None:
        key_stash().destroy(ticket)
    language = session.get(LANGUAGE_COOKIE)
    session.clear()
    if language:
        session[LANGUAGE_COOKIE] = language


def log_in(source_id: str, reply_key: PrivateKey) -> None:
    """Start a fresh session for ``source_id``, stashing its reply key server-side.

    The CSRF token survives, so that a form still open in a second tab, such as the
    same codename confirmed twice, is accepted.
    """
    danger = bool(session.get(DANGER))
    csrf = session.get(CSRF_FIELD)
    reset_session()
    if csrf:
        session[CSRF_FIELD] = csrf
    ticket = key_stash().put(reply_key)
    session[TICKET] = [ticket.stash_id, ticket.session_key]
    session[SOURCE_ID] = source_id
    if danger:
        session[DANGER] = True


def logged_in() -> LoggedIn | None:
    """Return the source of this session, or None when nobody is logged in."""
    ticket = _ticket()
    source_id = session.get(SOURCE_ID)
    if ticket is None or not isinstance(source_id, str):
        return None
    reply_key = key_stash().get(ticket)
    if reply_key is None:
        return None
    return LoggedIn(source_id=source_id, reply_key=reply_key)


def source_required(view: View) -> View:
    """Let only a logged-in source reach ``view``; it finds the source in ``g.login``.

    A GET without a login goes to the codename page. A POST means a form was sent
    after the session ended, which :class:`SessionExpired` turns into a page that
    keeps the typed message.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        login = logged_in()
        if login is None:
            if request.method == "POST":
                raise SessionExpired()
            if session.get(TICKET):
                reset_session()
                flash(_("Your session has ended. Enter your codename to continue."))
            return redirect(url_for("account.login"))
        g.login = login
        return view(*args, **kwargs)

    return cast(View, wrapper)
