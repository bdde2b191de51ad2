"""The inbox, the case page and every action on a case."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from crypto import DecryptionError
from journalist_app import actions, casework
from journalist_app.actions import ActionError
from journalist_app.casework import CentreKey, InboxFilter
from journalist_app.downloads import content_disposition, stream_plaintext, verify_envelope
from journalist_app.export import ExportFile, member_name, stream_zip, verify_files
from journalist_app.forms import (
    AssignForm,
    ConfirmForm,
    ForwardForm,
    StatusForm,
    TagForm,
    TextForm,
)
from journalist_app.labels import status_label
from journalist_app.sessions import centre_key, current_caseworker, db, login_required, runtime
from journalist_app.summary import export_texts
from store.blobs import BlobError
from store.cases import STATUSES
from store.envelopes import centre_slot, open_slot
from store.models import Caseworker, Centre, Submission

blueprint = Blueprint("cases", __name__)


def _action_message(code: str) -> str:
    messages = {
        "invalid_status": _("This status does not exist."),
        "not_shared": _("Only a case sent to every centre can be claimed."),
        "already_claimed": _("This case has already been claimed."),
        "not_claimed_here": _("Only a claim made by your own centre can be withdrawn."),
        "invalid_assignee": _("Choose a caseworker of your centre."),
        "invalid_tag": _("A tag has 1 to 40 letters, digits or spaces."),
        "invalid_centre": _("Choose another centre."),
        "blob_failure": _(
            "The records were deleted, but a file could not be removed from the disk. "
            "The error was logged; tell your administrator."
        ),
    }
    return str(messages.get(code) or _("This change could not be made."))


def _key() -> CentreKey:
    caseworker = current_caseworker()
    centre = db().get(Centre, caseworker.centre_id)
    if centre is None:
        abort(404)
    return CentreKey(caseworker.centre_id, centre.key_version, centre_key())


def _to_case(source_id: str, anchor: str = "") -> BaseResponse:
    return redirect(url_for("cases.case", source_id=source_id) + (f"#{anchor}" if anchor else ""))


@blueprint.route("/")
@login_required
def inbox() -> str:
    """List the cases that reach the caseworker's centre, newest activity first."""
    # NOTE: listing is not audited per case. It decrypts only the danger flag and the
    # kinds of exploitation of the cases shown; opening a case is audited.
    filters = InboxFilter(
        status=request.args.get("status", "") if request.args.get("status") in STATUSES else "",
        assignee=request.args.get("assignee", "")[:12],
        tag=request.args.get("tag", "")[:40],
    )
    page_number = request.args.get("page", "1")
    page = casework.inbox_page(
        db(),
        runtime().services.blobs,
        _key(),
        current_caseworker().id,
        filters,
        int(page_number) if page_number.isdigit() else 1,
    )
    return render_template(
        "inbox.html",
        page=page,
        filters=filters,
        statuses=STATUSES,
        tags=casework.tag_names(db(), current_caseworker().centre_id),
        colleagues=_colleagues(),
    )


def _colleagues() -> list[Caseworker]:
    return list(
        db().scalars(
            select(Caseworker)
            .where(Caseworker.centre_id == current_caseworker().centre_id)
            .order_by(Caseworker.username)
        )
    )


@blueprint.route("/cases/<source_id>")
@login_required
def case(source_id: str) -> str:
    """Show a decrypted case: answers, thread, files, notes and the workflow forms."""
    detail = casework.case_detail(db(), runtime().services.blobs, source_id, _key())
    actions.record_read(db(), current_caseworker(), source_id)
    # Opening a case moves it out of "new", so the source no longer reads "not yet
    # opened by a caseworker".
    if detail.state.status == "new":
        actions.set_status(db(), current_caseworker(), _key(), source_id, "in_progress")
    unread = detail.state.unread

    status_form = StatusForm(status=detail.state.status)
    status_form.status.choices = [(status, status_label(status)) for status in STATUSES]
    assign_form = AssignForm(assignee=str(detail.state.assignee_id or ""))
    assign_form.assignee.choices = [("", _("Nobody"))] + [
        (str(colleague.id), colleague.username) for colleague in _colleagues()
    ]
    forward_form = ForwardForm()
    forward_form.centre.choices = [
        (centre.id, centre.name)
        for centre in db().scalars(select(Centre).order_by(Centre.name))
        if centre.id != current_caseworker().centre_id
    ]
    page = render_template(
        "case.html",
        detail=detail,
        reply_form=TextForm(prefix="reply"),
        note_form=TextForm(prefix="note"),
        status_form=status_form,
        assign_form=assign_form,
        tag_form=TagForm(),
        forward_form=forward_form,
        confirm_form=ConfirmForm(),
    )
    # Opening a case also counts as reading it. That happens after the page is built,
    # so the page still shows how many items are new since the last visit.
    if unread:
        actions.mark_read(db(), current_caseworker(), _key(), source_id)
    return page


def _text_action(source_id: str, prefix: str, anchor: str) -> BaseResponse | str:
    form = TextForm(prefix=prefix)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return _to_case(source_id, anchor)

    text = form.text.data or ""
    if prefix == "reply":
        actions.reply(db(), current_caseworker(), _key(), source_id, text)
        flash(_("Your reply was sent."), "success")
    else:
        actions.add_note(db(), current_caseworker(), _key(), source_id, text)
        flash(_("The note was saved."), "success")
    return _to_case(source_id, anchor)


@blueprint.route("/cases/<source_id>/reply", methods=["POST"])
@login_required
def reply(source_id: str) -> BaseResponse | str:
    """Send a reply to the source."""
    return _text_action(source_id, "reply", "reply")


@blueprint.route("/cases/<source_id>/note", methods=["POST"])
@login_required
def note(source_id: str) -> BaseResponse | str:
    """Add an internal note."""
    return _text_action(source_id, "note", "notes")


def _run(source_id: str, change: object, success: str) -> BaseResponse:
    try:
        change()  # type: ignore[operator]
    except ActionError as error:
        flash(_action_message(error.code), "error")
    else:
        flash(success, "success")
    return _to_case(source_id)


@blueprint.route("/cases/<source_id>/status", methods=["POST"])
@login_required
def status(source_id: str) -> BaseResponse:
    """Change the case's status at the caseworker's centre."""
    form = StatusForm()
    form.status.choices = [(status, status) for status in STATUSES]
    if not form.validate_on_submit():
        flash(_action_message("invalid_status"), "error")
        return _to_case(source_id)
    return _run(
        source_id,
        lambda: actions.set_status(
            db(), current_caseworker(), _key(), source_id, form.status.data or ""
        ),
        _("The status was changed."),
    )


@blueprint.route("/cases/<source_id>/assign", methods=["POST"])
@login_required
def assign(source_id: str) -> BaseResponse:
    """Assign the case to a colleague, or to nobody."""
    value = request.form.get("assignee", "")
    assignee = int(value) if value.isdigit() else None
    return _run(
        source_id,
        lambda: actions.assign(db(), current_caseworker(), _key(), source_id, assignee),
        _("The case was assigned."),
    )


@blueprint.route("/cases/<source_id>/claim", methods=["POST"])
@login_required
def claim(source_id: str) -> BaseResponse:
    """Claim a case that was sent to every centre."""
    return _run(
        source_id,
        lambda: actions.claim(db(), current_caseworker(), _key(), source_id),
        _("You claimed this case. The other centres see that."),
    )


@blueprint.route("/cases/<source_id>/release", methods=["POST"])
@login_required
def release(source_id: str) -> BaseResponse:
    """Withdraw the claim of the caseworker's centre."""
    return _run(
        source_id,
        lambda: actions.release(db(), current_caseworker(), _key(), source_id),
        _("The claim was withdrawn."),
    )


@blueprint.route("/cases/<source_id>/read", methods=["POST"])
@login_required
def mark_read(source_id: str) -> BaseResponse:
    """Mark everything in the case as read."""
    return _run(
        source_id,
        lambda: actions.mark_read(db(), current_caseworker(), _key(), source_id),
        _("The case is marked as read."),
    )


@blueprint.route("/cases/<source_id>/tags", methods=["POST"])
@login_required
def add_tag(source_id: str) -> BaseResponse:
    """Add a tag to the case."""
    form = TagForm()
    if not form.validate_on_submit():
        flash(_action_message("invalid_tag"), "error")
        return _to_case(source_id)
    return _run(
        source_id,
        lambda: actions.add_tag(db(), current_caseworker(), _key(), source_id, form.tag.data or ""),
        _("The tag was added."),
    )


@blueprint.route("/cases/<source_id>/tags/remove", methods=["POST"])
@login_required
def remove_tag(source_id: str) -> BaseResponse:
    """Remove a tag from the case."""
    tag = request.form.get("tag", "")
    return _run(
        source_id,
        lambda: actions.remove_tag(db(), current_caseworker(), _key(), source_id, tag),
        _("The tag was removed."),
    )


@blueprint.route("/cases/<source_id>/forward", methods=["POST"])
@login_required
def forward(source_id: str) -> BaseResponse:
    """Give another centre access to the case."""
    centre_id = request.form.get("centre", "")
    return _run(
        source_id,
        lambda: actions.forward(db(), current_caseworker(), _key(), source_id, centre_id),
        _("The case was forwarded. The other centre can now read it."),
    )


@blueprint.route("/cases/<source_id>/files/<submission_id>")
@login_required
def download(source_id: str, submission_id: str) -> Response:
    """Send a decrypted file as an attachment, after authenticating all of it."""
    key = _key()
    casework.case_state(db(), source_id, key.centre_id)
    submission = db().scalar(
        select(Submission).where(
            Submission.id == submission_id,
            Submission.source_id == source_id,
            Submission.kind == "file",
        )
    )
    if submission is None:
        abort(404)

    file = casework.file_meta(db(), runtime().services.blobs, submission, key)
    blobs = runtime().services.blobs
    try:
        content_key = open_slot(
            centre_slot(db(), submission.body_id, key.centre_id, key.key_version),
            key.private_key,
        )
        size = verify_envelope(submission.body, content_key, blobs)
    except (DecryptionError, BlobError):
        abort(500)

    actions.record_read(db(), current_caseworker(), source_id, "case.download")
    response = Response(
        stream_plaintext(submission.body, content_key, blobs),
        mimetype="application/octet-stream",
        direct_passthrough=True,
    )
    response.headers["Content-Disposition"] = content_disposition(file.name)
    response.headers["Content-Length"] = str(size)
    return response


@blueprint.route("/cases/<source_id>/items/<item_id>/delete", methods=["GET", "POST"])
@login_required
def delete_item(source_id: str, item_id: str) -> BaseResponse | str:
    """Confirm, then delete one message, file or reply."""
    form = ConfirmForm()
    casework.case_state(db(), source_id, current_caseworker().centre_id)
    if not form.validate_on_submit():
        return render_template(
            "confirm.html",
            title=_("Delete this item?"),
            message=_(
                "The item is removed from the database and its encrypted file from the "
                "disk. This cannot be undone."
            ),
            button=_("Delete"),
            form=form,
            action=url_for("cases.delete_item", source_id=source_id, item_id=item_id),
            back=url_for("cases.case", source_id=source_id),
        )

    try:
        actions.delete_item(
            db(), runtime().services.blobs, current_caseworker(), _key(), source_id, item_id
        )
    except ActionError as error:
        flash(_action_message(error.code), "error")
    else:
        flash(_("The item was deleted from the database and the disk."), "success")
    return _to_case(source_id)


@blueprint.route("/cases/<source_id>/delete", methods=["GET", "POST"])
@login_required
def delete_case(source_id: str) -> BaseResponse | str:
    """Confirm, then delete the whole case for every centre."""
    form = ConfirmForm()
    casework.case_state(db(), source_id, current_caseworker().centre_id)
    if not form.validate_on_submit():
        return render_template(
            "confirm.html",
            title=_("Delete this whole case?"),
            message=_(
                "Every message, file, reply and note of this case is removed for every "
                "centre, from the database and from the disk. The source's codename will "
                "no longer open anything. This cannot be undone."
            ),
            button=_("Delete the case"),
            form=form,
            action=url_for("cases.delete_case", source_id=source_id),
            back=url_for("cases.case", source_id=source_id),
        )

    try:
        actions.delete_case(db(), runtime().services.blobs, current_caseworker(), _key(), source_id)
    except ActionError as error:
        flash(_action_message(error.code), "error")
    else:
        flash(_("The case was deleted from the database and the disk."), "success")
    return redirect(url_for("cases.inbox"))


@blueprint.route("/cases/<source_id>/export", methods=["GET", "POST"])
@login_required
def export(source_id: str) -> Response | str:
    """Warn that the export is plaintext, then stream the case as a zip."""
    form = ConfirmForm()
    key = _key()
    casework.case_state(db(), source_id, key.centre_id)
    if not form.validate_on_submit():
        return render_template(
            "confirm.html",
            title=_("Export this case for a referral?"),
            message=_(
                "The export is a zip file with the messages, answers and files in plain, "
                "unencrypted form. Anyone who gets the file can read everything. Save it "
                "only where your centre allows, pass it on only through a safe channel, "
                "and delete it when the referral is done."
            ),
            button=_("Download the export"),
            form=form,
            action=url_for("cases.export", source_id=source_id),
            back=url_for("cases.case", source_id=source_id),
        )

    blobs = runtime().services.blobs
    detail = casework.case_detail(db(), blobs, source_id, key)
    files = []
    for index, item in enumerate((i for i in detail.thread if i.file is not None), start=1):
        assert item.file is not None
        submission = db().scalar(select(Submission).where(Submission.id == item.file.submission_id))
        if submission is None:
            continue
        try:
            content_key = open_slot(
                centre_slot(db(), submission.body_id, key.centre_id, key.key_version),
                key.private_key,
            )
        except DecryptionError:
            abort(500)
        files.append(ExportFile(member_name(index, item.file.name), submission.body, content_key))

    try:
        digests = verify_files(files, blobs)
    except (DecryptionError, BlobError):
        abort(500)

    today = dt.datetime.now(dt.UTC).date()
    texts = export_texts(detail, digests, current_caseworker().username, today)
    actions.record_read(db(), current_caseworker(), source_id, "case.export")
    response = Response(stream_zip(texts, files, blobs, today), mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(
        f"lumen-{detail.source.designation}.zip"
    )
    return response
