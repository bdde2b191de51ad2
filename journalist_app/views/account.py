"""A caseworker's own account: passphrase and two-factor set-up."""

from __future__ import annotations

import re
import time

import pyotp
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journalist_app.enrolment import enrolment
from journalist_app.forms import PassphraseForm, TotpForm
from journalist_app.login import match_totp
from journalist_app.sessions import centre_key, current_caseworker, db, login_required, runtime
from lumen.accounts import AccountError, change_own_passphrase, verify_passphrase
from store.cases import audit

blueprint = Blueprint("account", __name__, url_prefix="/account")
_SECRET = re.compile(r"[A-Z2-7]{32}")


@blueprint.route("/")
@login_required
def overview() -> str:
    """Show the account's name and centre with links to change the credentials."""
    return render_template("account.html")


@blueprint.route("/passphrase", methods=["GET", "POST"])
@login_required
def passphrase() -> Response | str:
    """Change one's own passphrase; the centre key copy is wrapped again under it."""
    form = PassphraseForm()
    caseworker = current_caseworker()
    if form.validate_on_submit():
        if not verify_passphrase(caseworker.passphrase_hash, form.current.data or ""):
            form.current.errors = [_("This is not your current passphrase.")]
        else:
            try:
                change_own_passphrase(
                    db(),
                    runtime().services.config.passphrase_kdf,
                    caseworker,
                    centre_key(),
                    form.new.data or "",
                )
            except AccountError:
                form.new.errors = [_("Choose a longer passphrase.")]
            else:
                db().commit()
                flash(_("Your passphrase was changed."), "success")
                return redirect(url_for("account.overview"))
    return render_template("passphrase.html", form=form, forced=caseworker.must_change_passphrase)


@blueprint.route("/two-factor", methods=["GET", "POST"])
@login_required
def two_factor() -> Response | str:
    """Set up a new authenticator app; the old one works until the new code is confirmed."""
    caseworker = current_caseworker()
    form = TotpForm()
    if form.validate_on_submit():
        secret = form.secret.data or ""
        counter = match_totp(secret, form.code.data or "", 0, time.time())
        if counter is not None:
            caseworker.totp_secret = secret
            caseworker.last_totp_counter = counter
            audit(db(), caseworker, "account.totp_changed", target=caseworker.username)
            db().commit()
            flash(_("Your new authenticator app is set up."), "success")
            return redirect(url_for("account.overview"))
        form.code.errors = [
            _("This code does not match. Check the time on your phone and try again.")
        ]
    elif not _SECRET.fullmatch(form.secret.data or ""):
        form.secret.data = pyotp.random_base32()

    return render_template(
        "two_factor.html", form=form, enrolment=enrolment(caseworker.username, form.secret.data)
    )
