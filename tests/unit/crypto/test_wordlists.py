"""Checks on the codename word lists in crypto/wordlists and their NOTICE."""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from importlib import resources

import pytest

LANGUAGES = ("en", "fr", "de", "nl")
CODENAME_WORDS = 7
MIN_WORDS = 6000
MIN_CODENAME_BITS = 88.0

# Letters only, with single hyphens allowed between letters ("t-shirt" in
# the EFF list). No digits, spaces or other punctuation.
SINGLE_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
DUTCH_WORD = re.compile(r"[a-z]{4,9}")


def read_resource(name: str) -> bytes:
    return (resources.files("crypto") / "wordlists" / name).read_bytes()


def load_words(language: str) -> list[str]:
    return read_resource(f"{language}.txt").decode("utf-8").split("\n")[:-1]


def normalise(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold()


@pytest.mark.parametrize("language", LANGUAGES)
def test_wordlist_file_encoding(language: str) -> None:
    data = read_resource(f"{language}.txt")

    data.decode("utf-8")  # raises UnicodeDecodeError on invalid UTF-8
    assert not data.startswith(b"\xef\xbb\xbf"), "file starts with a UTF-8 BOM"
    carriage_returns = data.count(b"\r")
    assert carriage_returns == 0, f"{carriage_returns} CR bytes found, expected LF line endings"
    assert data.endswith(b"\n"), "last line has no LF"


@pytest.mark.parametrize("language", LANGUAGES)
def test_wordlist_lines_are_words(language: str) -> None:
    words = load_words(language)

    blank = [number for number, word in enumerate(words, 1) if not word.strip()]
    assert not blank, f"blank lines at {blank[:10]}"
    not_single = [word for word in words if not SINGLE_WORD.fullmatch(word)]
    assert not not_single, f"entries that are not a single word: {not_single[:10]}"
    not_lower = [word for word in words if word != word.lower()]
    assert not not_lower, f"entries with capitals: {not_lower[:10]}"
    not_normal = [word for word in words if normalise(word) != word]
    assert not not_normal, f"entries that NFKC plus casefold changes: {not_normal[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_wordlist_sorted(language: str) -> None:
    words = load_words(language)

    out_of_order = [(a, b) for a, b in itertools.pairwise(words) if a >= b]
    assert not out_of_order, f"pairs out of order or repeated: {out_of_order[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_wordlist_unique_after_normalisation(language: str) -> None:
    counts = Counter(normalise(word) for word in load_words(language))

    duplicates = sorted(key for key, count in counts.items() if count > 1)
    assert not duplicates, f"duplicates after NFKC and casefold: {duplicates[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_wordlist_size_and_entropy(language: str) -> None:
    count = len(load_words(language))
    bits = CODENAME_WORDS * math.log2(count)

    assert count >= MIN_WORDS, f"{count} words, expected at least {MIN_WORDS}"
    assert bits >= MIN_CODENAME_BITS, (
        f"{CODENAME_WORDS} words give {bits:.2f} bits, expected at least {MIN_CODENAME_BITS}"
    )


def test_dutch_words_ascii_4_to_9_letters() -> None:
    words = load_words("nl")

    invalid = [word for word in words if not DUTCH_WORD.fullmatch(word)]
    assert not invalid, f"Dutch words that are not 4 to 9 letters a-z: {invalid[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_notice_states_word_count(language: str) -> None:
    notice = read_resource("NOTICE").decode("utf-8")
    count = len(load_words(language))

    match = re.search(rf"^{language}\.txt: ([\d,]+) words", notice, re.MULTILINE)
    assert match, f"NOTICE has no section for {language}.txt"
    assert int(match.group(1).replace(",", "")) == count, (
        f"NOTICE gives {match.group(1)} words for {language}.txt, the file has {count}"
    )
