"""Web pieces both apps share: strict response headers and language selection."""

from __future__ import annotations

import errno
from collections.abc import Sequence

from flask import Flask, Response, request, session

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), ambient-light-sensor=(), autoplay=(), battery=(), camera=(), "
    "display-capture=(), document-domain=(), encrypted-media=(), fullscreen=(), "
    "geolocation=(), gyroscope=(), interest-cohort=(), magnetometer=(), microphone=(), "
    "midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), "
    "screen-wake-lock=(), sync-xhr=(), usb=(), xr-spatial-tracking=()"
)
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})
# Each language named in itself, as language switches conventionally show them.
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English", "de": "Deutsch"}
LANGUAGE_COOKIE = "lang"


def add_security_headers(response: Response, onion_address: str = "") -> Response:
    """Set the headers every response of either app carries."""
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cache-Control"] = "no-store"
    headers["Pragma"] = "no-cache"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    headers["X-Robots-Tag"] = "noindex, nofollow"
    # A modification time or an entity tag would tell when something changed.
    headers.pop("Last-Modified", None)
    headers.pop("ETag", None)
    headers.pop("Server", None)
    if onion_address:
        headers["Onion-Location"] = f"http://{onion_address}{request.full_path.rstrip('?')}"
    return response


def select_language(enabled: Sequence[str], default: str) -> str:
    """Return the language for this request: an explicit choice, else Accept-Language.

    The explicit choice comes from ``?lang=`` (which is then kept in the session) or
    the session. Anything not in ``enabled`` is ignored, so a bogus or disabled value
    falls back to negotiation and then to ``default``.
    """
    requested = request.args.get("lang")
    if requested in enabled:
        session[LANGUAGE_COOKIE] = requested
        return str(requested)

    chosen = session.get(LANGUAGE_COOKIE)
    if chosen in enabled:
        return str(chosen)

    return request.accept_languages.best_match(list(enabled)) or default


def text_direction(language: str) -> str:
    """Return ``"rtl"`` for right-to-left scripts and ``"ltr"`` otherwise."""
    return "rtl" if language.split("-")[0] in RTL_LANGUAGES else "ltr"


def disable_static_caching(app: Flask) -> None:
    """Serve static files without modification times or entity tags."""
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = None
    app.config["USE_X_SENDFILE"] = False


def outage_kind(error: BaseException) -> str | None:
    """Return ``"storage_full"`` or ``"unavailable"`` when ``error`` is an outage.

    An outage is a full disk, or a database or Redis server that cannot be reached:
    the request was fine, so the page asks the person to try again later instead of
    reporting a fault. Any other error returns None.
    """
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "storage_full"
    if isinstance(error, OperationalError):
        text = str(error.orig).lower()
        if "disk is full" in text or "no space left" in text:
            return "storage_full"
        return "unavailable"
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return "unavailable"
    if isinstance(error, RedisConnectionError | RedisTimeoutError):
        return "unavailable"
    return None
