"""Public pages: start, information and the stylesheet."""

from __future__ import annotations

import threading
from importlib import resources
from typing import Final

from flask import Blueprint, Response, current_app, render_template, request, session
from flask_babel import get_locale

from lumen.config import Config
from source_app.auth import DANGER, TICKET
from source_app.settings import live_config

bp = Blueprint("main", __name__)

# Rendered pages kept per app; a handful of templates times the enabled languages.
_MAX_CACHED_PAGES: Final = 64


class PageCache:
    """Rendered public pages for visitors whose session changes nothing on them."""

    def __init__(self) -> None:
        self.pages: dict[tuple[object, ...], str] = {}
        self.lock = threading.Lock()


def _config() -> Config:
    config: Config = current_app.extensions["lumen"].config
    return config


def _public_page(template: str) -> str:
    """Render ``template``, or reuse its last rendering when nothing personal is on it.

    Most visits to the start and information pages come from people with no report
    yet, so the page depends only on the language, the request path and the settings.
    A session that is logged in, reported danger, or has a message to show gets a
    fresh rendering.
    """
    personal = session.get(TICKET) or session.get(DANGER) or session.get("_flashes")
    if personal:
        return render_template(template, centres=_config().centres)

    cache: PageCache = current_app.extensions["lumen_page_cache"]
    key = (template, str(get_locale()), request.path, id(live_config()))
    with cache.lock:
        page = cache.pages.get(key)
    if page is None:
        page = render_template(template, centres=_config().centres)
        with cache.lock:
            if len(cache.pages) >= _MAX_CACHED_PAGES:
                cache.pages.clear()
            cache.pages[key] = page
    return page


@bp.get("/")
def index() -> str:
    """Show what the service is, who reads reports and the three ways in."""
    return _public_page("index.html")


@bp.get("/info")
def info() -> str:
    """Show information on exploitation, victims' rights, help and safe use."""
    return _public_page("info.html")


@bp.get("/static/style.css")
def stylesheet() -> Response:
    """Serve the one stylesheet from memory, with no file time or entity tag."""
    css = (resources.files("source_app") / "static" / "style.css").read_bytes()
    return Response(css, mimetype="text/css")
