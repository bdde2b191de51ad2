"""Public pages: start, information and the stylesheet."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, current_app, render_template

from lumen.config import Config

bp = Blueprint("main", __name__)


def _config() -> Config:
    config: Config = current_app.extensions["lumen"].config
    return config


@bp.get("/")
def index() -> str:
    """Show what the service is, who reads reports and the three ways in."""
    return render_template("index.html", centres=_config().centres)


@bp.get("/info")
def info() -> str:
    """Show information on exploitation, victims' rights, help and safe use."""
    return render_template("info.html", centres=_config().centres)


@bp.get("/static/style.css")
def stylesheet() -> Response:
    """Serve the one stylesheet from memory, with no file time or entity tag."""
    css = (resources.files("source_app") / "static" / "style.css").read_bytes()
    return Response(css, mimetype="text/css")
