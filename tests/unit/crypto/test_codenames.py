"""Codename generation, entropy and normalisation."""

from __future__ import annotations

import math
import unicodedata

import pytest

from crypto import (
    CODENAME_WORDS,
    codename_entropy_bits,
    generate_codename,
    normalize_codename,
    wordlist,
)
from crypto.codenames import LANGUAGES


def test_codename_has_seven_words() -> None:
    assert CODENAME_WORDS == 7


@pytest.mark.parametrize("language", LANGUAGES)
def test_generated_words_come_from_list(language: str) -> None:
    words = set(wordlist(language))

    for _ in range(20):
        codename = generate_codename(language)
        parts = codename.split(" ")
        assert len(parts) == CODENAME_WORDS
        assert all(part in words for part in parts)
        assert " ".join(parts) == codename


@pytest.mark.parametrize("language", LANGUAGES)
def test_generated_codenames_differ(language: str) -> None:
    codenames = {generate_codename(language) for _ in range(50)}

    assert len(codenames) == 50


@pytest.mark.parametrize("language", LANGUAGES)
def test_generated_codename_already_normalised(language: str) -> None:
    for _ in range(20):
        codename = generate_codename(language)
        assert normalize_codename(codename) == codename


@pytest.mark.parametrize("language", LANGUAGES)
def test_entropy_at_least_88_bits(language: str) -> None:
    # Count the words that stay distinct after normalisation: two words that a person
    # cannot tell apart when typing them back add no entropy.
    distinct = {normalize_codename(word) for word in wordlist(language)}
    bits = CODENAME_WORDS * math.log2(len(distinct))

    assert bits >= 88
    assert codename_entropy_bits(language) == pytest.approx(
        CODENAME_WORDS * math.log2(len(wordlist(language)))
    )
    assert len(distinct) == len(wordlist(language))


@pytest.mark.parametrize("language", LANGUAGES)
def test_words_are_single_tokens(language: str) -> None:
    for word in wordlist(language):
        assert word == word.strip()
        assert len(word.split()) == 1


def test_unknown_language_rejected() -> None:
    with pytest.raises(ValueError, match="'xx'"):
        wordlist("xx")


CANONICAL = "zeven rode vissen springen over het dak"
VARIANTS = {
    "leading and trailing spaces": "  zeven rode vissen springen over het dak \n",
    "pasted crlf": "zeven rode vissen springen\r\nover het dak\r\n",
    "tab and double space": "zeven\trode  vissen springen \t over het dak",
    "no-break space": "zeven\u00a0rode vissen springen over het dak",
    "capital first letter": "Zeven rode vissen springen over het dak",
    "all capitals": "ZEVEN RODE VISSEN SPRINGEN OVER HET DAK",
    "full-width letters": "ｚｅｖｅｎ rode vissen springen over het dak",
}


@pytest.mark.parametrize("case", VARIANTS)
def test_normalisation_variants_match(case: str) -> None:
    assert normalize_codename(VARIANTS[case]) == CANONICAL


def test_accents_normalised() -> None:
    composed = "été déjà noël façade œuvre garçon élève"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed

    assert normalize_codename(decomposed) == composed
    assert normalize_codename(composed.upper()) == composed
    assert normalize_codename(unicodedata.normalize("NFD", composed.upper())) == composed


def test_german_sharp_s_matches_capitals() -> None:
    assert normalize_codename("Straße") == normalize_codename("STRASSE")


@pytest.mark.parametrize(
    "other",
    ["zeven rode vissen springen over het dek", "rode zeven vissen springen over het dak"],
    ids=["changed word", "reordered words"],
)
def test_different_codenames_stay_different(other: str) -> None:
    assert normalize_codename(other) != CANONICAL
