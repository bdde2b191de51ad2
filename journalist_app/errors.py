"""Error pages: one translated page per failure, never a stack trace."""

from __future__ import annotations

import logging
import traceback

from flask import Flask, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound

from journalist_app.casework import CaseNotFound
from journalist_app.sessions import PUBLIC_ENDPOINTS, SessionExpired
from lumen.web import outage_kind

logger = logging.getLogger(__name__)


def _page(status: int, title: str, message: str, link: str, link_text: str) -> tuple[str, int]:
    html = render_template(
        "error.html", title=title, message=message, link=link, link_text=link_text
    )
    return html, status


def session_expired(_error: Exception) -> tuple[str, int]:
    """Explain that the session ended and that nothing was saved."""
    return _page(
        401,
        _("Your session has expired"),
        _(
            "You were logged out after a period of inactivity, or your account changed. "
            "What you just sent was not saved. Log in again to continue."
        ),
        url_for("auth.login"),
        _("Log in"),
    )


def csrf_error(error: CSRFError) -> tuple[str, int]:
    """Explain a missing or stale form token, or an expired session behind it."""
    if g.get("caseworker") is None and request.endpoint not in PUBLIC_ENDPOINTS:
        # The session ended and took the token with it, so show the session page.
        return session_expired(error)
    return _page(
        400,
        _("This form has expired"),
        _(
            "The form was open too long or was sent twice, so nothing was saved. "
            "Go back, reload the page and send it again."
        ),
        url_for("cases.inbox"),
        _("Back to the inbox"),
    )


def http_error(error: HTTPException) -> tuple[str, int]:
    """Render the page for a client or server error code."""
    status = error.code or 500
    titles = {
        400: (_("Something is wrong with this request"), _("Go back and try again.")),
        403: (
            _("You do not have access to this page"),
            _("Only administrators can use this page."),
        ),
        404: (
            _("Page not found"),
            _("This page or case does not exist, or your centre has no access to it."),
        ),
        405: (_("This action is not possible here"), _("Go back and use the buttons on the page.")),
        413: (
            _("What you sent is too large"),
            _("Shorten the text and send it again."),
        ),
        429: (
            _("Too many attempts"),
            _("Wait a minute before you try again."),
        ),
    }
    title, message = titles.get(
        status,
        (_("Something went wrong"), _("The error was logged. Try again in a moment.")),
    )
    return _page(status, title, message, url_for("cases.inbox"), _("Back to the inbox"))


def not_found(_error: Exception) -> tuple[str, int]:
    """Render the 404 page for a case outside the caseworker's centre."""
    return http_error(NotFound())


def server_error(error: Exception) -> tuple[str, int]:
    """Log an unexpected error by type and place only, and render the 500 page.

    Flask's own handler would log the request path, which holds a source id, and the
    exception text, which can hold database parameters, so neither is logged.
    """
    original = getattr(error, "original_exception", None) or error
    kind = outage_kind(original)
    if kind is not None:
        return outage(kind, original)

    frames = traceback.extract_tb(original.__traceback__)
    place = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "unknown"
    logger.error("unhandled error", extra={"error": type(original).__name__, "place": place})
    return http_error(InternalServerError())


def outage(kind: str, error: BaseException) -> tuple[str, int]:
    """Render the page for a full disk (507) or an unreachable store (503)."""
    logger.error("outage", extra={"kind": kind, "error": type(error).__name__})
    if kind == "storage_full":
        return _page(
            507,
            _("Storage is full"),
            _("Nothing from this action was saved. Ask an administrator to free space."),
            url_for("cases.inbox"),
            _("Back to the inbox"),
        )
    return _page(
        503,
        _("Lumen is not available right now"),
        _(
            "The database or Redis cannot be reached. Nothing from this action was saved."
            " Try again in a few minutes."
        ),
        url_for("cases.inbox"),
        _("Back to the inbox"),
    )


def register(app: Flask) -> None:
    """Install every error handler on ``app``."""
    app.register_error_handler(SessionExpired, session_expired)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(CaseNotFound, not_found)
    app.register_error_handler(InternalServerError, server_error)
    app.register_error_handler(Exception, server_error)
    app.register_error_handler(HTTPException, http_error)
