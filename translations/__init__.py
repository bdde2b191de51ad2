"""Babel catalogues of both apps: ``<language>/LC_MESSAGES/<domain>.po`` and ``.mo``.

The source app uses the ``source`` domain and the caseworker app the ``caseworker``
domain. Each compiled ``.mo`` file is committed beside its ``.po`` file.
"""

from pathlib import Path
from typing import Final

TRANSLATIONS_DIR: Final = Path(__file__).resolve().parent
