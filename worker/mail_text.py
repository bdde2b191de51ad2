"""The words of the notification e-mail, in the centre's language.

The catalogues are the ``notification`` Babel domain beside the apps' own, under
``translations/<lang>/LC_MESSAGES/notification.po``; a language without a catalogue
gets the English text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR: Final = Path(__file__).resolve().parent.parent / "translations"
DOMAIN: Final = "notification"


def notification_text(count: int, centre_name: str, language: str) -> tuple[str, str]:
    """Return the subject and body of a notification that ``count`` new items wait."""
    catalogue: NullTranslations = Translations.load(str(TRANSLATIONS_DIR), [language], DOMAIN)
    _ = catalogue.gettext

    subject = _("New activity in Lumen for %(centre)s") % {"centre": centre_name}
    first = catalogue.ngettext(
        "Lumen has %(num)d new update for your centre: a report, a message or a forwarded case.",
        "Lumen has %(num)d new updates for your centre: reports, messages or forwarded cases.",
        count,
    ) % {"num": count}
    body = "\n\n".join(
        [
            first,
            _("Log in to the caseworker app to read the details."),
            _("For safety, this e-mail never contains any details."),
        ]
    )
    return subject, body + "\n"
