"""The logged-in state of a request: who is acting, and with which centre key.

The session cookie is signed and carries only ids, a time stamp and the stash ticket;
the unwrapped centre key stays server-side in the :class:`lumen.keystash.KeyStash`.
Logging in starts a new session dictionary and a new stash entry; logging out or
expiring destroys the stash entry, so an old cookie opens nothing.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import abort, current_app, g, redirect, request, session, url_for
from nacl.public import PrivateKey
from sqlalchemy.orm import Session
from werkzeug.exceptions import Unauthorized

from journalist_app.login import Authenticator
from lumen.keystash import KeyStash, StashTicket
from lumen.services import Services
from lumen.web import LANGUAGE_COOKIE
from store.models import Caseworker, Centre

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints that work without a login, and that an expired session may still reach.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.logout", "static"})
# Endpoints a caseworker who must change their passphrase may still use.
PASSPHRASE_CHANGE_ENDPOINTS = frozenset({"account.passphrase", "auth.logout"})


class SessionExpired(Unauthorized):
    """The session ended through inactivity, logout elsewhere, or an account change."""


@dataclass
class Runtime:
    """The per-app objects that views reach through :func:`runtime`."""

    services: Services
    stash: KeyStash
    authenticator: Authenticator


def runtime() -> Runtime:
    """Return the runtime objects of the current app."""
    return cast(Runtime, current_app.extensions["lumen_caseworker"])


def db() -> Session:
    """Return this request's database session, opening it on first use."""
    if "db" not in g:
        g.db = runtime().services.sessions()
    return cast(Session, g.db)


def close_db(_error: BaseException | None = None) -> None:
    """Close this request's database session, if one was opened."""
    database = g.pop("db", None)
    if database is not None:
        database.close()


def start_session(caseworker_id: int, centre_key: PrivateKey, key_version: int) -> None:
    """Replace the session with a fresh one for ``caseworker_id`` holding ``centre_key``."""
    end_session(keep_language=True)
    language = session.get(LANGUAGE_COOKIE)
    session.clear()
    if language:
        session[LANGUAGE_COOKIE] = language

    ticket = runtime().stash.put(centre_key)
    session["sid"] = secrets.token_urlsafe(16)
    session["cw"] = caseworker_id
    session["kv"] = key_version
    session["stash"] = ticket.stash_id
    session["sk"] = ticket.session_key
    session["seen"] = int(time.time())


def end_session(keep_language: bool = False) -> None:
    """Destroy the stashed key and empty the session."""
    stash_id = session.get("stash")
    if stash_id:
        runtime().stash.destroy(StashTicket(stash_id=str(stash_id), session_key=""))

    language = session.get(LANGUAGE_COOKIE)
    session.clear()
    if keep_language and language:
        session[LANGUAGE_COOKIE] = language


def load_login() -> None:
    """Set ``g.caseworker`` and ``g.centre_key`` from the session, or expire it.

    Runs before every request and before the CSRF check, so a form sent after the
    session expired gets the "session expired" page, never a CSRF error, and changes
    nothing.
    """
    g.caseworker = None
    g.centre_key = None
    if "cw" not in session:
        return

    public = request.endpoint in PUBLIC_ENDPOINTS
    lifetime = runtime().services.config.caseworker_session_minutes * 60
    now = int(time.time())
    if now - int(session.get("seen", 0)) > lifetime:
        _expire(public)
        return

    ticket = StashTicket(
        stash_id=str(session.get("stash", "")), session_key=str(session.get("sk", ""))
    )
    centre_key = runtime().stash.get(ticket)
    caseworker = db().get(Caseworker, int(session["cw"]))
    centre = db().get(Centre, caseworker.centre_id) if caseworker else None
    if (
        centre_key is None
        or caseworker is None
        or centre is None
        or caseworker.locked
        or centre.key_version != session.get("kv")
    ):
        _expire(public)
        return

    session["seen"] = now
    g.caseworker = caseworker
    g.centre_key = centre_key


def _expire(public: bool) -> None:
    end_session(keep_language=True)
    if not public:
        raise SessionExpired()


def current_caseworker() -> Caseworker:
    """Return the logged-in caseworker; only valid inside a view that requires login."""
    return cast(Caseworker, g.caseworker)


def centre_key() -> PrivateKey:
    """Return the logged-in caseworker's centre key; never store or log it."""
    return cast(PrivateKey, g.centre_key)


def login_required(view: F) -> F:
    """Let only logged-in caseworkers reach ``view``.

    A GET without a login redirects to the login page; any other method gets the
    "session expired" page, so nothing sent without a session is ever acted on.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("caseworker") is None:
            if request.method in ("GET", "HEAD"):
                return redirect(url_for("auth.login"))
            raise SessionExpired()
        if (
            g.caseworker.must_change_passphrase
            and request.endpoint not in PASSPHRASE_CHANGE_ENDPOINTS
        ):
            return redirect(url_for("account.passphrase"))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def admin_required(view: F) -> F:
    """Let only logged-in administrators reach ``view``; others get 403."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("caseworker") is not None and not g.caseworker.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, login_required(wrapper))
