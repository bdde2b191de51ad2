"""The public, JavaScript-free app for sources: reports, codenames and replies."""

from __future__ import annotations

import datetime as dt
from types import TracebackType

import redis
from flask import Flask, Request, session
from flask import Response as FlaskResponse
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from lumen.config import Config, ConfigError
from lumen.keystash import KeyStash, MemoryStashBackend, RedisStashBackend, StashBackend
from lumen.services import Services, make_services
from lumen.web import add_security_headers, disable_static_caching
from source_app import account, conversation, main, submit
from source_app.errors import log_exception_safely, register_error_handlers
from source_app.i18n import init_i18n
from source_app.main import PageCache
from source_app.settings import SettingsCache, live_config
from source_app.uploads import StreamingRequest, limit_config

__all__ = ["create_app"]

# Waitress reads a whole request body before it calls the app; this much above the
# app's own limit lets the app, not waitress, answer an oversized upload.


class SchemeSessionInterface(SecureCookieSessionInterface):
    """Set the cookie's Secure flag when the request came over HTTPS.

    An onion service and a loopback test server speak plain HTTP, where a Secure
    cookie would never come back.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        from flask import request

        return bool(request.is_secure)


class SourceFlask(Flask):
    """Flask with uploads encrypted while streaming and logs that hold no request data."""

    request_class: type[Request] = StreamingRequest
    session_interface = SchemeSessionInterface()

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        """Log the error type and code locations, never the path, method or message."""
        if exc_info[0] is not None:
            log_exception_safely(exc_info[0], exc_info[2])


def _stash_backend(config: Config) -> StashBackend:
    if config.redis_url:
        return RedisStashBackend(redis.Redis.from_url(config.redis_url), "lumen:source-stash:")
    return MemoryStashBackend()


def create_app(config: Config, services: Services | None = None) -> Flask:
    """Build the source app for ``config``, binding ``services`` (made if not given).

    The app reads centre public keys from the database and never holds a centre
    private key.
    """
    if not config.secrets.codename_salt or not config.secrets.source_secret_key:
        raise ConfigError(
            "the source app needs the codename salt and the source session key:"
            " set LUMEN_CODENAME_SALT and LUMEN_SOURCE_SECRET_KEY or run 'lumen init'"
        )
    services = services or make_services(config)
    app = SourceFlask(__name__, static_folder=None)
    lifetime = dt.timedelta(minutes=config.source_session_minutes)
    app.config.update(
        SECRET_KEY=config.secrets.source_secret_key,
        SESSION_COOKIE_NAME="lumen_source",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=lifetime,
        # The token lives exactly as long as the session it is bound to.
        WTF_CSRF_TIME_LIMIT=None,
        # Referrer-Policy no-referrer means browsers send no Referer to check.
        WTF_CSRF_SSL_STRICT=False,
        WTF_I18N_ENABLED=False,
        TEMPLATES_AUTO_RELOAD=False,
        **limit_config(config.limits),
    )
    disable_static_caching(app)
    app.extensions["lumen"] = services
    app.extensions["lumen_settings_cache"] = SettingsCache(config)
    app.extensions["lumen_page_cache"] = PageCache()
    app.extensions["lumen_source_stash"] = KeyStash(
        _stash_backend(config), int(lifetime.total_seconds())
    )

    CSRFProtect(app)
    init_i18n(app, config)
    register_error_handlers(app)
    for blueprint in (main.bp, account.bp, submit.bp, conversation.bp):
        app.register_blueprint(blueprint)

    @app.before_request
    def permanent_session() -> None:
        # Only a session that holds something gets a cookie with a lifetime, renewed on
        # each request. Marking an empty one would give every first visitor a cookie.
        if session:
            session.permanent = True

    @app.after_request
    def security_headers(response: FlaskResponse) -> FlaskResponse:
        return add_security_headers(response, live_config().onion_address)

    app.jinja_env.globals["centres"] = config.centres
    return app
