"""Coming back: replies, case status, follow-up messages and deletion."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from crypto import DecryptionError
from lumen.services import Services
from source_app.auth import LoggedIn, reset_session, source_required
from source_app.forms import (
    ActionForm,
    DeleteAllForm,
    FollowUpForm,
    chosen_files,
    message_text,
    visible_text,
)
from source_app.reports import store_submission
from source_app.settings import live_config
from source_app.uploads import StreamingRequest
from store.blobs import BlobError
from store.cases import case_centre_ids, delete_reply, delete_source
from store.envelopes import open_slot, read_value, source_slot
from store.models import CaseState, Reply, Source, Submission

bp = Blueprint("conversation", __name__)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShownReply:
    """A reply as the source sees it: the centre's name and the decrypted text."""

    id: str
    centre_name: str
    text: str | None
    new: bool


def _services() -> Services:
    services: Services = current_app.extensions["lumen"]
    return services


def _centre_name(centre_id: str) -> str:
    try:
        return _services().config.centre(centre_id).name
    except KeyError:
        return centre_id


def _replies(db: Session, source_id: str, login: LoggedIn) -> list[ShownReply]:
    shown = []
    replies = db.scalars(select(Reply).where(Reply.source_id == source_id).order_by(Reply.seq))
    for reply in replies:
        text: str | None
        try:
            key = open_slot(source_slot(db, reply.body_id), login.reply_key)
            text = read_value(reply.body, key, _services().blobs).decode("utf-8")
        except (DecryptionError, BlobError, UnicodeDecodeError):
            logger.error("a reply could not be opened", extra={"reply": reply.id})
            text = None
        new = not reply.seen_by_source
        shown.append(ShownReply(reply.id, _centre_name(reply.centre_id), text, new))
        reply.seen_by_source = True
    db.commit()
    return shown


def _statuses(db: Session, source_id: str) -> list[tuple[str, str]]:
    states = db.scalars(
        select(CaseState).where(CaseState.source_id == source_id).order_by(CaseState.id)
    )
    return [(_centre_name(state.centre_id), state.status) for state in states]


def _sent_counts(db: Session, source_id: str) -> dict[str, int]:
    rows = db.execute(
        select(Submission.kind, func.count())
        .where(Submission.source_id == source_id)
        .group_by(Submission.kind)
    )
    return {str(kind): int(count) for kind, count in rows}


def _gone() -> Response:
    reset_session()
    flash(_("Your report is no longer on this site. You can make a new report."))
    return redirect(url_for("main.index"))


def render_conversation(
    form: FollowUpForm, notice: str = "", status: int = 200
) -> Response | tuple[str, int]:
    """Render the conversation page of the logged-in source with ``form``."""
    login = cast(LoggedIn, g.login)
    with _services().sessions() as db:
        source = db.get(Source, login.source_id)
        if source is None:
            return _gone()
        if not source.has_submitted:
            return redirect(url_for("submit.report"))
        page = render_template(
            "conversation.html",
            replies=_replies(db, source.id, login),
            statuses=_statuses(db, source.id),
            counts=_sent_counts(db, source.id),
            form=form,
            action_form=ActionForm(),
            notice=notice,
            limits=live_config().limits,
        )
    return page, status


@bp.route("/conversation", methods=["GET", "POST"])
@source_required
def show() -> Response | tuple[str, int]:
    """Show replies and status, and record a follow-up sealed to every centre on the case."""
    login = cast(LoggedIn, g.login)
    services = _services()
    form = FollowUpForm(config=live_config())
    if not form.validate_on_submit():
        return render_conversation(form)

    with services.sessions() as db:
        source = db.get(Source, login.source_id)
        if source is None:
            return _gone()
        centre_ids = case_centre_ids(db, source.id)
        if not centre_ids:
            return redirect(url_for("submit.report"))
        store_submission(
            services,
            cast(StreamingRequest, request),
            db,
            source,
            message=message_text(form.message.data) if visible_text(form.message.data) else "",
            files=chosen_files(form.files),
            centre_ids=centre_ids,
        )
    flash(_("Thank you. Your message has been sent."))
    return redirect(url_for("conversation.show"))


@bp.post("/conversation/replies/<reply_id>/delete")
@source_required
def delete_one_reply(reply_id: str) -> Response:
    """Delete one reply for good, for the source and for the centre."""
    login = cast(LoggedIn, g.login)
    with _services().sessions() as db:
        reply = db.scalar(
            select(Reply).where(Reply.id == reply_id, Reply.source_id == login.source_id)
        )
        if reply is None:
            abort(404)
        delete_reply(db, reply)
    flash(_("The reply has been deleted from this site, for you and for the centre."))
    return redirect(url_for("conversation.show"))


@bp.route("/conversation/delete", methods=["GET", "POST"])
@source_required
def delete_all() -> Response | str:
    """Delete the whole report, every message and file, and the codename."""
    login = cast(LoggedIn, g.login)
    form = DeleteAllForm()
    if not form.validate_on_submit():
        return render_template("delete.html", form=form)

    services = _services()
    with services.sessions() as db:
        report = delete_source(db, services.blobs, login.source_id)
    if report.blob_failures:
        logger.error("source deleted but blobs remain", extra={"failures": report.blob_failures})
    reset_session()
    return redirect(url_for("conversation.deleted"))


@bp.get("/deleted")
def deleted() -> str:
    """Say that the report and the codename are gone."""
    return render_template("deleted.html")
