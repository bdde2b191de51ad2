"""Administration: accounts of the administrator's centre, instance settings, audit trail."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from journalist_app.enrolment import enrolment
from journalist_app.forms import ConfirmForm, InviteForm, SettingsForm
from journalist_app.sessions import admin_required, centre_key, current_caseworker, db, runtime
from lumen import accounts
from lumen.accounts import AccountError
from lumen.config import SOURCE_LANGUAGES
from lumen.web import LANGUAGE_NAMES
from store.cases import audit
from store.models import AuditEvent, Caseworker, WrappedCentreKey
from store.settings import InstanceSettings, SettingsError, load_settings, save_settings

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 100


def _account(account_id: int) -> Caseworker:
    account = db().get(Caseworker, account_id)
    if account is None or account.centre_id != current_caseworker().centre_id:
        abort(404)
    return account


@blueprint.route("/accounts")
@admin_required
def accounts_list() -> str:
    """List the accounts of the administrator's centre, with the invitation form."""
    centre_id = current_caseworker().centre_id
    members = (
        db()
        .scalars(
            select(Caseworker)
            .where(Caseworker.centre_id == centre_id)
            .order_by(Caseworker.username)
        )
        .all()
    )
    version = accounts.current_key_version(db(), centre_id)
    holders = set(
        db().scalars(
            select(WrappedCentreKey.caseworker_id).where(
                WrappedCentreKey.centre_id == centre_id, WrappedCentreKey.key_version == version
            )
        )
    )
    return render_template(
        "admin/accounts.html",
        members=members,
        holders=holders,
        invite_form=InviteForm(),
        confirm_form=ConfirmForm(),
    )


@blueprint.route("/accounts/invite", methods=["POST"])
@admin_required
def invite() -> Response | str:
    """Create an account with the centre key and show its one-time credentials."""
    form = InviteForm()
    admin = current_caseworker()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("admin.accounts_list"))

    services = runtime().services
    try:
        account, passphrase, secret = accounts.create_caseworker(
            db(), services, form.username.data or "", admin.centre_id, bool(form.is_admin.data)
        )
    except AccountError:
        db().rollback()
        flash(_("This username is already taken or not valid."), "error")
        return redirect(url_for("admin.accounts_list"))

    accounts.store_wrapped_key(
        db(), services.config.passphrase_kdf, account, centre_key(), passphrase
    )
    audit(db(), admin, "account.invited", target=account.username)
    db().commit()
    return render_template(
        "admin/credentials.html",
        account=account,
        passphrase=passphrase,
        enrolment=enrolment(account.username, secret),
    )


@blueprint.route("/accounts/<int:account_id>/passphrase", methods=["POST"])
@admin_required
def reset_passphrase(account_id: int) -> str:
    """Give an account a new one-time passphrase, with the centre key wrapped under it."""
    account = _account(account_id)
    passphrase = accounts.reset_passphrase(
        db(), runtime().services.config.passphrase_kdf, current_caseworker(), account, centre_key()
    )
    db().commit()
    return render_template(
        "admin/credentials.html", account=account, passphrase=passphrase, enrolment=None
    )


@blueprint.route("/accounts/<int:account_id>/two-factor", methods=["POST"])
@admin_required
def reset_two_factor(account_id: int) -> str:
    """Give an account a new TOTP secret and show it for set-up."""
    account = _account(account_id)
    secret = accounts.reset_totp(db(), current_caseworker(), account)
    db().commit()
    return render_template(
        "admin/credentials.html",
        account=account,
        passphrase=None,
        enrolment=enrolment(account.username, secret),
    )


@blueprint.route("/accounts/<int:account_id>/lock", methods=["POST"])
@admin_required
def lock(account_id: int) -> Response:
    """Lock an account; its open sessions end at their next request."""
    account = _account(account_id)
    if account.id == current_caseworker().id:
        flash(_("You cannot lock your own account."), "error")
    else:
        accounts.lock(db(), current_caseworker(), account)
        db().commit()
        flash(_("The account %(name)s is locked.", name=account.username), "success")
    return redirect(url_for("admin.accounts_list"))


@blueprint.route("/accounts/<int:account_id>/unlock", methods=["POST"])
@admin_required
def unlock(account_id: int) -> Response:
    """Unlock an account and reset its failed logins."""
    account = _account(account_id)
    accounts.unlock(db(), current_caseworker(), account)
    db().commit()
    flash(_("The account %(name)s is unlocked.", name=account.username), "success")
    return redirect(url_for("admin.accounts_list"))


@blueprint.route("/accounts/<int:account_id>/remove", methods=["GET", "POST"])
@admin_required
def remove(account_id: int) -> Response | str:
    """Confirm, then delete an account and its copy of the centre key."""
    account = _account(account_id)
    form = ConfirmForm()
    if account.id == current_caseworker().id:
        flash(_("You cannot remove your own account."), "error")
        return redirect(url_for("admin.accounts_list"))
    if not form.validate_on_submit():
        return render_template(
            "confirm.html",
            title=_("Remove the account %(name)s?", name=account.username),
            message=_(
                "The account and its copy of the centre key are deleted. The audit trail "
                "keeps the name. This cannot be undone."
            ),
            button=_("Remove the account"),
            form=form,
            action=url_for("admin.remove", account_id=account.id),
            back=url_for("admin.accounts_list"),
        )

    try:
        accounts.remove(db(), current_caseworker(), account)
    except AccountError:
        db().rollback()
        flash(
            _("This account holds the last copy of the centre key and cannot be removed."), "error"
        )
    else:
        db().commit()
        flash(_("The account was removed."), "success")
    return redirect(url_for("admin.accounts_list"))


@blueprint.route("/settings", methods=["GET", "POST"])
@admin_required
def settings() -> Response | str:
    """Show and change the instance settings."""
    config = runtime().services.config
    current = load_settings(db(), config)
    form = SettingsForm(data=None if request.method == "POST" else _settings_data(current))
    form.source_languages.choices = [(code, LANGUAGE_NAMES[code]) for code in SOURCE_LANGUAGES]
    if form.validate_on_submit():
        try:
            new = InstanceSettings(
                retention_days=int(form.retention_days.data or 0),
                max_file_mb=int(form.max_file_mb.data or 0),
                max_files=int(form.max_files.data or 0),
                quick_exit_url=(form.quick_exit_url.data or "").strip(),
                onion_address=(form.onion_address.data or "").strip(),
                source_languages=tuple(form.source_languages.data or ()),
            )
        except SettingsError:
            flash(_("These settings are not valid."), "error")
        else:
            changed = save_settings(db(), config, new)
            for name in changed:
                audit(db(), current_caseworker(), "settings.changed", target=name)
            db().commit()
            flash(_("The settings were saved."), "success")
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form)


def _settings_data(current: InstanceSettings) -> dict[str, object]:
    return {
        "retention_days": current.retention_days,
        "max_file_mb": current.max_file_mb,
        "max_files": current.max_files,
        "quick_exit_url": current.quick_exit_url,
        "onion_address": current.onion_address,
        "source_languages": list(current.source_languages),
    }


@blueprint.route("/audit")
@admin_required
def audit_trail() -> str:
    """List the audit events of the administrator's centre, newest first."""
    centre_id = current_caseworker().centre_id
    page_arg = request.args.get("page", "1")
    page = int(page_arg) if page_arg.isdigit() and int(page_arg) > 0 else 1
    total = (
        db().scalar(select(func.count(AuditEvent.id)).where(AuditEvent.centre_id == centre_id)) or 0
    )
    events = (
        db()
        .scalars(
            select(AuditEvent)
            .where(AuditEvent.centre_id == centre_id)
            .order_by(AuditEvent.id.desc())
            .limit(AUDIT_PAGE_SIZE)
            .offset((page - 1) * AUDIT_PAGE_SIZE)
        )
        .all()
    )
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    return render_template("admin/audit.html", events=events, page=page, pages=pages)
