"""The configuration as it stands now, with the administrators' stored settings applied.

Administrators change upload limits, the quick-exit address, the onion address and
the enabled languages in the caseworker app, which stores them in the database. Each
request reads them through :func:`live_config`; a copy is cached for
:data:`CACHE_SECONDS`, so a change reaches every source app process within that time.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

from flask import current_app, g
from sqlalchemy.exc import SQLAlchemyError

from lumen.config import Config
from lumen.services import Services
from store.settings import apply_settings, load_settings

logger = logging.getLogger(__name__)

CACHE_SECONDS: Final = 10.0


class SettingsCache:
    """The app's own configuration, the last one read with settings, and when it goes stale."""

    def __init__(self, base: Config) -> None:
        self.base = base
        self.config: Config | None = None
        self.expires = 0.0
        self.lock = threading.Lock()


def live_config() -> Config:
    """Return the configuration with the stored settings applied, once per request.

    When the database cannot be read, the last known configuration (or the file's)
    is used, so an error page can still be rendered.
    """
    cached = g.get("lumen_live_config")
    if cached is not None:
        return cached  # type: ignore[no-any-return]

    services: Services = current_app.extensions["lumen"]
    cache: SettingsCache = current_app.extensions["lumen_settings_cache"]
    with cache.lock:
        if cache.config is None or time.monotonic() >= cache.expires:
            try:
                with services.sessions() as session:
                    cache.config = apply_settings(cache.base, load_settings(session, cache.base))
            except SQLAlchemyError as error:
                logger.warning("settings unreadable", extra={"error": type(error).__name__})
                cache.config = cache.config or cache.base
            cache.expires = time.monotonic() + CACHE_SECONDS
        config = cache.config

    g.lumen_live_config = config
    return config
