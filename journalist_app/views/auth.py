"""Logging in and out."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from werkzeug.wrappers import Response

from journalist_app.forms import ConfirmForm, LoginForm
from journalist_app.login import LoginOutcome
from journalist_app.sessions import db, end_session, runtime, start_session

blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int, dict[str, str]]:
    """Show the login form and check an attempt."""
    if g.get("caseworker") is not None:
        return redirect(url_for("cases.inbox"))

    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("login.html", form=form)

    result = runtime().authenticator.login(
        db(), form.username.data or "", form.passphrase.data or "", form.code.data or ""
    )
    if result.outcome is LoginOutcome.THROTTLED:
        minutes = max(1, (result.retry_after + 59) // 60)
        html = render_template("login.html", form=form, throttled_minutes=minutes)
        return html, 429, {"Retry-After": str(result.retry_after)}

    if result.outcome is LoginOutcome.NO_KEY:
        return render_template("no_key.html"), 403, {}

    if result.outcome is LoginOutcome.FAILED or result.centre_key is None:
        return render_template("login.html", form=form, failed=True), 200, {}

    assert result.caseworker_id is not None
    start_session(result.caseworker_id, result.centre_key, result.key_version)
    return redirect(url_for("cases.inbox"))


@blueprint.route("/logout", methods=["POST"])
def logout() -> Response:
    """End the session and destroy the stashed centre key."""
    ConfirmForm()
    end_session(keep_language=True)
    return redirect(url_for("auth.login", logged_out=1))
