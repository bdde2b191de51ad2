"""Codenames: random words a source keeps instead of a name or an account.

A codename is ``CODENAME_WORDS`` words drawn with :mod:`secrets` from a word list in
the source's language. It is shown once and never stored; only values derived from
its normalised form are (see :mod:`crypto.derivation`).
"""

from __future__ import annotations

import math
import re
import secrets
import unicodedata
from functools import cache
from importlib import resources
from typing import Final

CODENAME_WORDS: Final = 7
LANGUAGES: Final = ("nl", "fr", "en", "de")
_WHITESPACE: Final = re.compile(r"\s+")


@cache
def wordlist(language: str) -> tuple[str, ...]:
    """Return the word list of ``language``, one of :data:`LANGUAGES`."""
    if language not in LANGUAGES:
        raise ValueError(f"no codename word list for language {language!r}")

    text = (resources.files("crypto") / "wordlists" / f"{language}.txt").read_text("utf-8")
    return tuple(line for line in text.splitlines() if line)


def codename_entropy_bits(language: str, words: int = CODENAME_WORDS) -> float:
    """Return the entropy of a codename of ``words`` words in ``language``."""
    return words * math.log2(len(wordlist(language)))


def generate_codename(language: str, words: int = CODENAME_WORDS) -> str:
    """Draw a new codename of ``words`` words, separated by single spaces."""
    choices = wordlist(language)
    return " ".join(secrets.choice(choices) for _ in range(words))


def normalize_codename(codename: str) -> str:
    """Normalise a typed codename so that harmless typing differences match.

    Applies Unicode NFKC, case folding, then NFKC again (case folding can leave a
    string unnormalised), collapses every run of white space to one space and strips
    the ends.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", codename).casefold())
    return _WHITESPACE.sub(" ", folded).strip()
