"""Babel catalogues of both apps: ``<language>/LC_MESSAGES/<domain>.po`` and ``.mo``.

The source app uses the ``source`` domain and the caseworker app the ``caseworker``
domain. Each compiled ``.mo`` file is committed beside its ``.po`` file. After
changing a text in the source app, from the repository root::

    pybabel extract -F translations/babel-source.cfg -k _l -k lazy_gettext \\
        --no-location -o /tmp/source.pot .
    pybabel update -D source -i /tmp/source.pot -d translations -w 100
    (translate every new or fuzzy entry, then)
    pybabel compile -D source -d translations
"""

from pathlib import Path
from typing import Final

TRANSLATIONS_DIR: Final = Path(__file__).resolve().parent
