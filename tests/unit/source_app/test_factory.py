"""The source app factory's settings: body limits, session and CSRF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lumen.config import Limits
from source_app import create_app
from source_app.uploads import StreamingRequest, limit_config
from tests.conftest import make_test_config


def test_form_memory_fits_message_limit() -> None:
    limits = Limits(max_message_chars=50_000)

    settings = limit_config(limits)

    # Four UTF-8 bytes per character is the most a character can take.
    assert settings["MAX_FORM_MEMORY_SIZE"] >= 4 * 50_000
    assert settings["MAX_CONTENT_LENGTH"] == limits.max_request_bytes


def test_app_session_and_csrf_settings(tmp_path: Path) -> None:
    config = make_test_config(tmp_path, source_session_minutes=45)

    app = create_app(config)

    assert app.request_class is StreamingRequest
    assert app.config["PERMANENT_SESSION_LIFETIME"] == dt.timedelta(minutes=45)
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None
    assert app.config["WTF_CSRF_SSL_STRICT"] is False
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Strict"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.extensions["lumen_source_stash"].ttl_seconds == 45 * 60
    app.extensions["lumen"].engine.dispose()
