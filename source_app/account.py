"""Getting a codename, coming back with it, and logging out."""

from __future__ import annotations

import logging

import nacl.hash
import nacl.secret
import nacl.utils
from flask import Blueprint, current_app, redirect, render_template, session, url_for
from flask_babel import get_locale
from nacl.encoding import RawEncoder
from nacl.exceptions import CryptoError as NaclCryptoError
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from crypto import SourceKeys, generate_codename
from lumen.services import Services
from source_app.auth import SessionExpired, log_in, logged_in, reset_session
from source_app.forms import ActionForm, CodenameForm
from store.cases import create_source, find_source

bp = Blueprint("account", __name__)
logger = logging.getLogger(__name__)

PENDING = "pending"
_PENDING_PERSON = b"lumen-pending-v1"


def _services() -> Services:
    services: Services = current_app.extensions["lumen"]
    return services


def _pending_box() -> nacl.secret.SecretBox:
    # The codename waiting for confirmation rides in the session cookie, sealed
    # under a key derived from the app's secret, so the browser's cookie store never
    # holds it readable; it leaves the session as soon as it is confirmed.
    key = nacl.hash.blake2b(
        b"",
        digest_size=nacl.secret.SecretBox.KEY_SIZE,
        key=_services().config.secrets.source_secret_key,
        person=_PENDING_PERSON,
        encoder=RawEncoder,
    )
    return nacl.secret.SecretBox(key)


def _pending_codename() -> str | None:
    sealed = session.get(PENDING)
    if not isinstance(sealed, str):
        return None
    try:
        return _pending_box().decrypt(bytes.fromhex(sealed)).decode("utf-8")
    except (NaclCryptoError, ValueError):
        return None


def _set_pending_codename(codename: str) -> None:
    session[PENDING] = bytes(_pending_box().encrypt(codename.encode("utf-8"))).hex()


def _find_or_create(keys: SourceKeys) -> str:
    services = _services()
    with services.sessions() as db:
        source = find_source(db, keys.lookup_id)
        if source is not None:
            return source.id
        source = create_source(db, keys)
        try:
            db.commit()
            logger.info("source created")
            return source.id
        except IntegrityError:
            # Two tabs confirmed the same codename at once; the other one won.
            db.rollback()
    with services.sessions() as db:
        existing = find_source(db, keys.lookup_id)
        if existing is None:
            raise RuntimeError("source missing after a concurrent creation")
        return existing.id


@bp.get("/codename")
def new_codename() -> Response | str:
    """Show the codename waiting for confirmation, drawing one on the first visit.

    The same codename is shown until it is confirmed, so a refresh, the back button
    or a second tab never shows a codename that would not work.
    """
    if logged_in() is not None:
        return redirect(url_for("submit.report"))
    codename = _pending_codename()
    if codename is None:
        codename = generate_codename(str(get_locale()))
        _set_pending_codename(codename)
    return render_template("codename.html", codename=codename, form=ActionForm())


@bp.post("/codename")
def confirm_codename() -> Response:
    """Create the source for the pending codename and log it in; repeating is harmless."""
    codename = _pending_codename()
    if codename is None:
        if logged_in() is not None:
            return redirect(url_for("submit.report"))
        raise SessionExpired()

    keys = _services().deriver.derive(codename)
    source_id = _find_or_create(keys)
    log_in(source_id, keys.reply_key)
    return redirect(url_for("submit.report"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    """Open the conversation for a codename; every unknown codename gets one answer."""
    form = CodenameForm()
    if not form.validate_on_submit():
        return render_template("login.html", form=form)

    keys = _services().deriver.derive(form.codename.data or "")
    with _services().sessions() as db:
        source = find_source(db, keys.lookup_id)
        source_id = source.id if source else None
        submitted = bool(source and source.has_submitted)
    if source_id is None:
        return render_template("login.html", form=form, unknown=True)

    log_in(source_id, keys.reply_key)
    return redirect(url_for("conversation.show" if submitted else "submit.report"))


@bp.post("/logout")
def logout() -> Response:
    """End the session and delete the server copy of the reply key."""
    reset_session()
    return redirect(url_for("account.logged_out"))


@bp.get("/logged-out")
def logged_out() -> str:
    """Advise closing the browser or using Tor Browser's New Identity."""
    return render_template("logged_out.html")
