"""Every error as a translated page with a way forward, never a stack trace."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Any

from flask import Flask, current_app, g, render_template, request, session
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from crypto import DerivationBusy
from lumen.config import MIB, Config
from lumen.web import outage_kind
from source_app.auth import SessionExpired, logged_in
from source_app.conversation import render_conversation
from source_app.forms import FollowUpForm
from source_app.settings import live_config
from source_app.submit import render_report, report_form

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
# Endpoints whose form carries a message that an error page should give back.
MESSAGE_FORMS = ("submit.report", "conversation.show")


def _config() -> Config:
    return live_config()


def _typed_message() -> str:
    # Only read a form that was parsed already: parsing again after a failure could
    # hit the same failure.
    if request.endpoint not in MESSAGE_FORMS or "form" not in request.__dict__:
        return ""
    return str(request.form.get("message", ""))


def error_page(status: int, kind: str, **context: Any) -> tuple[str, int]:
    """Render the error page for ``kind`` with HTTP ``status``."""
    return render_template("error.html", kind=kind, status=status, **context), status


def _limits_context() -> dict[str, int]:
    limits = _config().limits
    return {
        "request_mb": limits.max_request_bytes // MIB,
        "file_mb": limits.max_file_bytes // MIB,
        "max_files": limits.max_files,
        "max_chars": limits.max_message_chars,
    }


def _session_expired() -> tuple[str, int]:
    return error_page(
        400,
        "expired",
        kept_message=_typed_message(),
        codename_page=request.endpoint == "account.confirm_codename",
    )


def _form_again(notice: str) -> Response | tuple[str, int]:
    if request.endpoint == "submit.report":
        return render_report(report_form(), notice=notice, status=400)

    g.login = logged_in()
    return render_conversation(FollowUpForm(config=_config()), notice=notice, status=400)


def handle_csrf(error: CSRFError) -> Response | tuple[str, int]:
    """Turn a CSRF failure into the expired-session page or the form again with its text."""
    if "csrf_token" not in session:
        return _session_expired()
    if request.endpoint in MESSAGE_FORMS and logged_in() is not None:
        return _form_again(
            _(
                "This form could not be accepted, so nothing was sent. Your text is still"
                " here: check it, choose any files again and send it once more."
            )
        )
    return error_page(400, "csrf", kept_message=_typed_message())


def handle_http(error: HTTPException) -> Response | tuple[str, int]:
    """Render a translated page for an HTTP error."""
    status = error.code or 500
    if status == 413:
        return error_page(413, "too_large", **_limits_context())
    if status == 405:
        page, code = error_page(405, "method")
        response = current_app.make_response((page, code))
        if error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response
    kinds = {400: "bad_request", 403: "forbidden", 404: "not_found", 429: "too_many"}
    return error_page(status, kinds.get(status, "server"))


class _BusyCounter:
    """Counts turned-away logins so that a flood logs one line a minute, not one each."""

    def __init__(self) -> None:
        self.count = 0
        self.logged_at = 0.0
        self.lock = threading.Lock()


_busy = _BusyCounter()
BUSY_LOG_INTERVAL_SECONDS = 60.0


def handle_busy(error: DerivationBusy) -> Response:
    """Ask the source to try again shortly when every derivation slot is taken."""
    with _busy.lock:
        _busy.count += 1
        now = time.monotonic()
        if now - _busy.logged_at >= BUSY_LOG_INTERVAL_SECONDS:
            logger.warning("codename derivations busy", extra={"turned_away": _busy.count})
            _busy.count = 0
            _busy.logged_at = now
    response = current_app.make_response(error_page(503, "busy"))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handle_unexpected(error: Exception) -> Response | tuple[str, int]:
    """Render the outage page for a full disk or an unreachable store, else the 500 page.

    Either way the failure is logged without its message.
    """
    kind = outage_kind(error)
    if kind == "storage_full":
        logger.error("storage full", extra={"error": type(error).__name__})
        return error_page(507, "storage_full", kept_message=_typed_message())
    if kind == "unavailable":
        logger.error("store unavailable", extra={"error": type(error).__name__})
        response = current_app.make_response(
            error_page(503, "unavailable", kept_message=_typed_message())
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    log_exception_safely(type(error), error.__traceback__)
    return error_page(500, "server")


def log_exception_safely(exc_type: type[BaseException], tb: Any) -> None:
    """Log an unhandled error as its type and code locations, never its message.

    An exception's message or the request path could contain what a source typed.
    """
    frames = [f"{frame.filename}:{frame.lineno}" for frame in traceback.extract_tb(tb)]
    logger.error(
        "unhandled error in the source app",
        extra={"error": exc_type.__name__, "frames": frames[-5:]},
    )


def register_error_handlers(app: Flask) -> None:
    """Register the handlers for every error the source app can meet."""
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(SessionExpired, lambda error: _session_expired())
    app.register_error_handler(DerivationBusy, handle_busy)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
