"""Waitress as both apps run it: settings, body spooling and translated transport errors.

:func:`waitress_settings` is the one place that sizes waitress for Lumen, and
:func:`create_server` is the one way to build a server: it installs
:class:`TransportChannel`, whose request bodies go through the encrypted spool of
:mod:`lumen.spool`, and whose own error answers (a header block or a body that waitress
rejects before any app runs) are small translated pages instead of English plain text.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import zlib
from pathlib import Path
from typing import Any, Final

from babel.core import Locale, UnknownLocaleError
from babel.support import Translations
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer
from waitress.server import create_server as create_waitress_server
from waitress.task import ErrorTask

from lumen.config import MIB, SOURCE_LANGUAGES, Config
from lumen.spool import SpoolingRequestParser
from lumen.web import CONTENT_SECURITY_POLICY

# Waitress closes a connection after this many seconds without a byte in either
# direction. Tor circuits stall for tens of seconds at times, and an upload of
# 100 MiB from a slow phone can pause longer than waitress's default of 120 s.
CHANNEL_TIMEOUT_SECONDS: Final = 600
CONNECTION_LIMIT: Final = 100
# Request bodies up to this size stay in memory; larger ones go to the encrypted spool.
SPOOL_MEMORY_BYTES: Final = 512 * 1024
# Waitress makes the app wait while this much response data is queued for a client.
OUTBUF_HIGH_WATERMARK: Final = 4 * MIB
# A response buffer larger than this would go to a temporary file in plaintext. The
# watermark above keeps every buffer below it, as long as no single write from an app
# is larger than the difference. Lumen's apps write one 64 KiB chunk of a file, or one
# page or message of at most a few hundred KiB, at a time.
OUTBUF_OVERFLOW: Final = OUTBUF_HIGH_WATERMARK + 16 * MIB
# Room above the app's request limit: bodies up to this margin reach the app, which
# answers an oversized upload with a page in the source's language. The spool keeps
# memory bounded, so the margin costs only encrypted disk space.
BODY_MARGIN_FACTOR: Final = 2
TRANSLATIONS_DIR: Final = Path(__file__).resolve().parent.parent / "translations"


def waitress_settings(config: Config) -> dict[str, Any]:
    """Return the waitress adjustments both apps run with.

    An empty ``ident`` makes waitress send no ``Server`` header, and waitress writes no
    access log.
    """
    return {
        "threads": config.waitress_threads,
        "connection_limit": CONNECTION_LIMIT,
        "channel_timeout": CHANNEL_TIMEOUT_SECONDS,
        "max_request_body_size": BODY_MARGIN_FACTOR * config.limits.max_request_bytes + MIB,
        "inbuf_overflow": SPOOL_MEMORY_BYTES,
        "outbuf_high_watermark": OUTBUF_HIGH_WATERMARK,
        "outbuf_overflow": OUTBUF_OVERFLOW,
        "ident": "",
        "expose_tracebacks": False,
        "clear_untrusted_proxy_headers": True,
    }


class TransportErrorTask(ErrorTask):
    """The response to a request that waitress rejects itself, as a translated HTML page."""

    def execute(self) -> None:
        request: Any = self.request
        error = request.error
        language = _request_language(getattr(request, "raw_head", b""))
        body = _error_page(language, error.code).encode("utf-8")
        self.status = f"{error.code} {error.reason}"
        headers: Any = self.response_headers
        headers.extend(
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "no-referrer"),
                ("Cache-Control", "no-store"),
            ]
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class TransportChannel(HTTPChannel):
    """Waitress's HTTP channel with the encrypted body spool and translated errors."""

    parser_class = SpoolingRequestParser
    error_task_class = TransportErrorTask


def create_server(application: Any, **settings: Any) -> MultiSocketServer | BaseWSGIServer:
    """Create a waitress server, as ``waitress.server.create_server``, with Lumen's channel."""
    server = create_waitress_server(application, **settings)
    if isinstance(server, BaseWSGIServer):
        server.channel_class = TransportChannel
        return server

    for dispatcher in list((server.map or {}).values()):
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = TransportChannel
    return server


_MESSAGES: Final = {
    413: ("What you sent is too large", "Nothing was sent. Go back and try again."),
    431: ("This request could not be understood", "Nothing was sent. Go back and try again."),
}
_DEFAULT_MESSAGE: Final = (
    "This request could not be understood",
    "Nothing was sent. Go back and try again.",
)


def _error_page(language: str, status: int) -> str:
    translations = Translations.load(str(TRANSLATIONS_DIR), [language], domain="source")
    title, advice = (translations.gettext(text) for text in _MESSAGES.get(status, _DEFAULT_MESSAGE))
    back = translations.gettext("Back to the start")
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body><main>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(advice)}</p>"
        f'<p><a href="/">{html.escape(back)}</a></p></main></body></html>'
    )


_QUERY_LANGUAGE: Final = re.compile(rb"[?&]lang=([a-z]{2})\b")


def _request_language(raw_head: bytes) -> str:
    """Pick the page language from what waitress read of the request head.

    The order matches the apps: ``?lang=`` on the request line, the language kept in
    a Flask session cookie (read only, never trusted for anything else), then
    Accept-Language, then English.
    """
    request_line, _, header_block = raw_head.partition(b"\r\n")
    query = _QUERY_LANGUAGE.search(request_line)
    if query and query.group(1).decode() in SOURCE_LANGUAGES:
        return query.group(1).decode()

    headers: dict[str, str] = {}
    for line in header_block.split(b"\r\n"):
        name, separator, value = line.partition(b":")
        if separator:
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")

    from_cookie = _session_cookie_language(headers.get("cookie", ""))
    if from_cookie:
        return from_cookie
    return _accept_language(headers.get("accept-language", "")) or "en"


def _session_cookie_language(cookie_header: str) -> str | None:
    for part in cookie_header.split(";"):
        _, _, value = part.strip().partition("=")
        payload = value.lstrip(".").split(".", 1)[0]
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            if value.startswith("."):
                raw = zlib.decompress(raw)
            data = json.loads(raw)
        except (binascii.Error, zlib.error, ValueError):
            continue
        language = data.get("lang") if isinstance(data, dict) else None
        if language in SOURCE_LANGUAGES:
            return str(language)
    return None


def _accept_language(header: str) -> str | None:
    best: tuple[float, str] | None = None
    for item in header.split(","):
        tag, _, parameters = item.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                continue
        try:
            language = Locale.parse(tag.strip().replace("-", "_")).language
        except (ValueError, UnknownLocaleError):
            continue
        if language in SOURCE_LANGUAGES and (best is None or quality > best[0]):
            best = (quality, language)
    return best[1] if best else None
