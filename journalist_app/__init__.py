"""The caseworker and administrator app: triage, decrypt, reply and pass cases on.

It is meant for an isolated workstation network: it binds to loopback by default and
is published, if at all, as an onion service with client authorisation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect

from journalist_app.labels import answer_rows, exploitation_label, status_label
from journalist_app.login import Authenticator
from journalist_app.sessions import Runtime, close_db, load_login
from journalist_app.throttle import MemoryThrottle, RedisThrottle, Throttle
from lumen.config import Config, ConfigError
from lumen.keystash import KeyStash, MemoryStashBackend, RedisStashBackend, StashBackend
from lumen.services import Services, make_services
from lumen.web import add_security_headers, disable_static_caching, select_language, text_direction

logger = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
BABEL_DOMAIN = "caseworker"
# Replies and notes are small, and sources' files never come in through this app.
MAX_REQUEST_BYTES = 1024 * 1024


def create_app(config: Config, services: Services | None = None) -> Flask:
    """Build the caseworker app for ``config``, using ``services`` when given."""
    if not config.secrets.caseworker_secret_key:
        raise ConfigError(
            "the caseworker app needs its session key: set LUMEN_CASEWORKER_SECRET_KEY"
            " or run 'lumen init'"
        )
    if services is None:
        services = make_services(config)
    elif services.config is not config:
        # The app follows ``config`` even when the services were built from another one.
        services = dataclasses.replace(services, config=config)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secrets.caseworker_secret_key,
        SESSION_COOKIE_NAME="lumen_caseworker",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        # NOTE: the app is reached over loopback HTTP or an onion service, where a
        # Secure cookie would never be sent back.
        SESSION_COOKIE_SECURE=False,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=config.caseworker_session_minutes),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_REQUEST_BYTES,
        WTF_CSRF_ENABLED=True,
        # The token lives as long as the session, which expires through inactivity.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
        BABEL_DEFAULT_LOCALE=_default_language(config),
    )
    disable_static_caching(app)

    backend, throttle = _state_backends(config)
    app.extensions["lumen"] = services
    app.extensions["lumen_caseworker"] = Runtime(
        services=services,
        stash=KeyStash(backend, ttl_seconds=config.caseworker_session_minutes * 60),
        authenticator=Authenticator(services, throttle),
    )

    Babel(
        app,
        locale_selector=lambda: select_language(
            config.caseworker_languages, _default_language(config)
        ),
        default_domain=BABEL_DOMAIN,
        default_translation_directories=str(TRANSLATIONS_DIR),
    )

    # Before the CSRF check, so that an expired session is reported as such.
    app.before_request(load_login)
    CSRFProtect(app)
    app.teardown_appcontext(close_db)
    app.after_request(lambda response: add_security_headers(response, config.onion_address))
    app.context_processor(_template_globals)

    from journalist_app import errors
    from journalist_app.views.account import blueprint as account_pages
    from journalist_app.views.admin import blueprint as admin_pages
    from journalist_app.views.auth import blueprint as auth_pages
    from journalist_app.views.cases import blueprint as case_pages

    for blueprint in (auth_pages, case_pages, account_pages, admin_pages):
        app.register_blueprint(blueprint)
    errors.register(app)
    return app


def _default_language(config: Config) -> str:
    if config.default_language in config.caseworker_languages:
        return config.default_language
    return config.caseworker_languages[0]


def _state_backends(config: Config) -> tuple[StashBackend, Throttle]:
    if config.redis_url:
        import redis

        client = redis.Redis.from_url(config.redis_url)
        return (
            RedisStashBackend(client, prefix="lumen:caseworker:stash:"),
            RedisThrottle(client, prefix="lumen:caseworker:throttle:"),
        )
    return MemoryStashBackend(), MemoryThrottle()


def _template_globals() -> dict[str, Any]:
    language = str(get_locale() or "en")
    runtime: Runtime = current_app.extensions["lumen_caseworker"]
    return {
        "current_language": language,
        "text_direction": text_direction(language),
        "languages": runtime.services.config.caseworker_languages,
        "me": g.get("caseworker"),
        "status_label": status_label,
        "exploitation_label": exploitation_label,
        "answer_rows": answer_rows,
    }
