"""Making a report: the questionnaire, the message and the files."""

from __future__ import annotations

from typing import cast

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lumen.services import Services
from source_app.auth import DANGER, LoggedIn, reset_session, source_required
from source_app.forms import ANY_CENTRE, ReportForm, chosen_files, message_text, visible_text
from source_app.reports import store_submission
from source_app.settings import live_config
from source_app.uploads import StreamingRequest
from store.models import Source

bp = Blueprint("submit", __name__)


def _services() -> Services:
    services: Services = current_app.extensions["lumen"]
    return services


def report_form() -> ReportForm:
    """Build the report form for this request, filled from the posted data if any."""
    return ReportForm(config=live_config(), language=str(get_locale()))


def render_report(form: ReportForm, notice: str = "", status: int = 200) -> tuple[str, int]:
    """Render the report page with ``form`` and an optional notice above it."""
    return render_template(
        "report.html", form=form, notice=notice, limits=live_config().limits
    ), status


def _answers(form: ReportForm) -> dict[str, object]:
    return {
        "who": form.who.data or "",
        "kinds": list(form.kinds.data or []),
        "where": visible_text(form.where.data),
        "danger": form.danger.data or "",
        "centre": form.centre.data or ANY_CENTRE,
        "reply_language": form.reply_language.data or "",
        "contact": visible_text(form.contact.data),
    }


@bp.route("/report", methods=["GET", "POST"])
@source_required
def report() -> Response | tuple[str, int]:
    """Show the report form and record a valid report, sealed to the chosen centres."""
    login = cast(LoggedIn, g.login)
    services = _services()
    with services.sessions() as db:
        source = db.get(Source, login.source_id)
        submitted = source is not None and source.has_submitted
    if submitted and request.method == "GET":
        return redirect(url_for("conversation.show"))

    form = report_form()
    if not form.validate_on_submit():
        return render_report(form)

    if form.danger.data == "yes":
        session[DANGER] = True
    if form.centre.data and form.centre.data != ANY_CENTRE:
        centre_ids = [form.centre.data]
    else:
        centre_ids = [centre.id for centre in services.config.centres]

    with services.sessions() as db:
        source = db.get(Source, login.source_id)
        if source is None:
            reset_session()
            flash(_("Your report is no longer on this site. You can make a new report."))
            return redirect(url_for("main.index"))
        store_submission(
            services,
            cast(StreamingRequest, request),
            db,
            source,
            message=message_text(form.message.data) if visible_text(form.message.data) else "",
            files=chosen_files(form.files),
            centre_ids=centre_ids,
            answers=_answers(form),
            sealed_to_all=form.centre.data == ANY_CENTRE,
        )
    return redirect(url_for("submit.sent"))


@bp.get("/report/sent")
@source_required
def sent() -> str:
    """Confirm the report and explain what happens next and how to come back."""
    return render_template("sent.html")
