"""Language selection and translations for the source app, WTForms' messages included."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import Babel, format_number, get_domain, get_locale
from flask_babel import lazy_gettext as _l

from lumen.config import Config
from lumen.web import LANGUAGE_NAMES, select_language, text_direction
from source_app.settings import live_config
from translations import TRANSLATIONS_DIR

DOMAIN = "source"

# Names of the shipped languages, each written in its own language for the switch.

# The WTForms messages that the source forms can produce, marked here so that they
# are extracted into the source catalogues. WTForms passes the English text to the
# translations object below, which looks it up in the "source" domain.
WTFORMS_MESSAGES = (
    _l("Not a valid choice."),
    _l("This field is required."),
)


def _mark_wtforms_plural_messages() -> None:
    # Never called: the calls only mark WTForms' plural messages for extraction.
    from flask_babel import ngettext

    ngettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
        1,
    )
    ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    )


class BabelFormTranslations:
    """WTForms translations object backed by the app's Flask-Babel "source" domain.

    Flask-Babel's own ``ngettext`` formats the result with ``num``, while WTForms
    formats plural messages itself with other names, so both methods use the raw
    catalogue.
    """

    def gettext(self, string: str) -> str:
        """Translate ``string`` into the request's language."""
        return str(get_domain().get_translations().ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate the singular or plural form for ``n`` into the request's language."""
        return str(get_domain().get_translations().ungettext(singular, plural, n))


FORM_TRANSLATIONS = BabelFormTranslations()


def _select_locale() -> str:
    config = live_config()
    return select_language(config.source_languages, config.default_language)


def init_i18n(app: Flask, config: Config) -> None:
    """Set up Flask-Babel with the "source" domain and the page language helpers."""
    Babel(
        app,
        default_locale=config.default_language,
        default_domain=DOMAIN,
        default_translation_directories=str(TRANSLATIONS_DIR),
        locale_selector=_select_locale,
    )
    app.jinja_env.globals["format_number"] = format_number

    @app.context_processor
    def language_context() -> dict[str, Any]:
        live = live_config()
        language = str(get_locale() or live.default_language)
        return {
            "page_language": language,
            "page_direction": text_direction(language),
            "language_choices": [(code, LANGUAGE_NAMES[code]) for code in live.source_languages],
            "quick_exit_url": live.quick_exit_url,
        }
