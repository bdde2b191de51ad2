"""Every Babel catalogue of both apps is complete, current and compiled."""

from __future__ import annotations

import io
from gettext import GNUTranslations
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from translations import TRANSLATIONS_DIR

PO_FILES = sorted(TRANSLATIONS_DIR.glob("*/LC_MESSAGES/*.po"))


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=path.parent.parent.name, abort_invalid=True)


def _name(path: Path) -> str:
    return str(path.relative_to(TRANSLATIONS_DIR))


def test_catalogues_exist_for_source_languages() -> None:
    for language in ("nl", "fr", "en", "de"):
        assert (TRANSLATIONS_DIR / language / "LC_MESSAGES" / "source.po").is_file(), language


def _extracted_source_messages() -> set[object]:
    with (TRANSLATIONS_DIR / "babel-source.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found: set[object] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(TRANSLATIONS_DIR.parent), method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("language", ["nl", "fr", "en", "de"])
def test_source_catalogue_has_every_extracted_message(language: str) -> None:
    catalogue = _read(TRANSLATIONS_DIR / language / "LC_MESSAGES" / "source.po")
    known = {
        message.id[0] if isinstance(message.id, tuple) else message.id for message in catalogue
    }

    missing = sorted(str(text) for text in _extracted_source_messages() - known)

    assert missing == [], f"messages missing from {language}/LC_MESSAGES/source.po"


@pytest.mark.parametrize("path", PO_FILES, ids=_name)
def test_catalogue_complete(path: Path) -> None:
    catalogue = _read(path)
    messages = [message for message in catalogue if message.id]
    assert messages, f"{_name(path)} has no messages"

    untranslated = [
        message.id
        for message in messages
        if not message.string or (isinstance(message.string, tuple) and not all(message.string))
    ]
    assert untranslated == [], f"untranslated in {_name(path)}"

    fuzzy = [message.id for message in messages if message.fuzzy]
    assert fuzzy == [], f"fuzzy in {_name(path)}"
    assert not catalogue.fuzzy, f"the header of {_name(path)} is fuzzy"

    obsolete = list(catalogue.obsolete)
    assert obsolete == [], f"obsolete in {_name(path)}"


@pytest.mark.parametrize("path", PO_FILES, ids=_name)
def test_catalogue_plural_forms(path: Path) -> None:
    catalogue = _read(path)
    plurals = [message for message in catalogue if message.id and message.pluralizable]
    for message in plurals:
        assert isinstance(message.string, tuple), message.id
        assert len(message.string) == catalogue.num_plurals, message.id


@pytest.mark.parametrize("path", PO_FILES, ids=_name)
def test_catalogue_placeholders_match(path: Path) -> None:
    catalogue = _read(path)
    problems = [
        (message.id, [str(error) for error in errors]) for message, errors in catalogue.check()
    ]
    assert problems == [], f"placeholder or plural errors in {_name(path)}"


@pytest.mark.parametrize("path", PO_FILES, ids=_name)
def test_compiled_catalogue_current(path: Path) -> None:
    compiled_path = path.with_suffix(".mo")
    assert compiled_path.is_file(), f"{_name(path)} is not compiled"

    expected_buffer = io.BytesIO()
    write_mo(expected_buffer, _read(path))
    expected_buffer.seek(0)
    expected = _messages(GNUTranslations(expected_buffer))
    with compiled_path.open("rb") as handle:
        compiled = _messages(GNUTranslations(handle))
    assert compiled == expected, f"{_name(compiled_path)} differs from its .po file"


def _messages(translations: GNUTranslations) -> dict[object, str]:
    # The header entry (msgid "") is left out: msgfmt and Babel write it differently.
    catalogue: dict[object, str] = translations._catalog  # type: ignore[attr-defined]
    return {key: value for key, value in catalogue.items() if key != ""}
