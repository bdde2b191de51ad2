#!/usr/bin/env python3
"""Build the Dutch codename word list, crypto/wordlists/nl.txt.

No curated Dutch diceware list exists, so this script selects common words
from a spelling dictionary and ranks them by corpus frequency.

Sources and licences:

* OpenTaal word list, as Debian ships it in the package ``wdutch``
  (1:2.20.19-2 was used for the committed nl.txt), file
  /usr/share/dict/nederlands. /usr/share/doc/wdutch/copyright offers a
  choice of the revised BSD licence or CC-BY 3.0 Unported. Copyright
  (c) 1996 Nederlandstalige Tex Gebruikersgroep, (c) 2001-2005 Simon
  Brouwer e.a., (c) 2006-2010 and 2020 OpenTaal.
* wordfreq 3.1.1 from PyPI, used only at build time for its frequency data
  of Dutch, English, French and German. Its package metadata (License and
  classifier) gives the licence of the code as Apache-2.0. Its README,
  shipped in the same metadata, puts the data files under CC-BY-SA 4.0.
  For Dutch the README names Wikipedia, subtitles (OpenSubtitles 2018 and
  SUBTLEX-NL by Keuleers, Brysbaert and New, 2010), news, web text (OSCAR)
  and Twitter as sources, and wordfreq asks users to credit SUBTLEX.

The output contains only words taken from OpenTaal. The frequency data
decides which of them are kept and in what order they are considered.

How to run it from the repository root:

    apt-get install wdutch
    pip install wordfreq==3.1.1        # build-time tool, not a runtime dependency
    python tools/build_dutch_wordlist.py \\
        --input /usr/share/dict/nederlands --output crypto/wordlists/nl.txt

The same input file and the same wordfreq version always produce the same
output. Another wordfreq version ships other data, so the script warns when
the installed version is not the one in WORDFREQ_VERSION.

Selection, in order (each step prints to stderr how many words it dropped):

1. Keep entries of 4 to 9 letters a-z only. This drops capitalised entries
   (names and places), acronyms in capitals, words with diacritics, digits,
   hyphens, apostrophes, spaces and dotted abbreviations.
2. Drop words with "y", because Dutch writers interchange "y" and "ij"
   (for example "bijna" and "byna").
3. Drop words that are unlikely to be Dutch or to be pronounceable: no vowel,
   or a word-initial consonant cluster that Dutch does not use, which
   catches lower-case acronyms such as "vmbo".
4. Drop the profanity, sexual, violent and distressing words in
   BLOCKED_WORDS, every word that contains a stem in BLOCKED_STEMS (except
   STEM_EXCEPTIONS), and the words in PROPER_NOUNS, ABBREVIATIONS and
   FRAGMENTS. These lists were written by reading the words that the other
   rules select. They are not exhaustive, and a changed input or wordfreq
   version needs another reading of the output.
5. Drop words that wordfreq does not know in Dutch.
6. Drop English words: those whose English Zipf frequency is at least
   ENGLISH_MARGIN above their Dutch one.
7. Drop likely given names and brand or place names: words that OpenTaal
   also lists capitalised and that are about as common in English, French
   and German as in Dutch.
8. Rank by Dutch frequency, most common first, ties in alphabetical order.
   Walk the ranking and drop each word that sounds like a word kept before
   it (see SOUND_RULES: ij/ei, au/ou, ch/g, c/k and a final d, t or dt), so
   that of every sound-alike group only the most common word remains. Words
   with "ij" stay in the list, but never next to their "ei" homophone.
9. Keep the first --size words and write them sorted, one per line.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import math
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

WORDFREQ_VERSION = "3.1.1"
DEFAULT_INPUT = Path("/usr/share/dict/nederlands")
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "crypto" / "wordlists" / "nl.txt"

# 6**5 words, so that each word is worth log2(7776) ≈ 12.925 bits.
DEFAULT_SIZE = 7776

WORD_SHAPE = re.compile(r"[a-z]{4,9}")
VOWELS = frozenset("aeiou")

# A word is taken for English when its English Zipf frequency exceeds its
# Dutch one by at least this much (0.5 is a factor of about 3.2).
ENGLISH_MARGIN = 0.5

# A word that OpenTaal also lists capitalised is taken for a name when its
# Zipf frequency in each of English, French and German is at most this much
# below its Dutch one. Common Dutch words are far rarer in those languages.
NAME_MARGIN = 1.0


def word_set(*groups: str) -> frozenset[str]:
    """Return the space-separated words of all groups as one set."""
    return frozenset(word for group in groups for word in group.split())


# Consonant clusters that may start a Dutch word, native or loaned. A word
# whose leading consonants are not in this set is rejected as unpronounceable.
ALLOWED_ONSETS = word_set(
    """
    b bl br c ch chl chr cl cr d dr dw f fl fr g gl gn gr h j k kl kn kr kw
    l m n p ph pl pr ps r s sc sch schl schr scr sf sj sk skr sl sm sn sp
    spl spr st str sw t th tj tr ts tw v vl vr w wr x z zw
    """
)

# Exact words that must never be part of a codename. Trafficking survivors
# may use this service, so the list also covers abuse, coercion and
# captivity. Each group is one string of space-separated words.
BLOCKED_WORDS = word_set(
    # Profanity, insults and crude words.
    "baba bitch debiel eikel flikker fuck gelul genaaid gestoord gestoorde gezeik godver idioot"
    " idiote idioten kak klootzak kotsen loser lul lullen lullig mietje mongool naaien pis"
    " pissen poep schijt schijten shit slet sletten stront sukkel sukkels teef tering"
    " teringlijer trut tuig uitschot verdomd verdomde verdomme verdorie wijf wijven zeik zeiken",
    # Sexual words and the body in a sexual sense.
    "anaal anale anus billen blondje bloot bondage borsten condoom condooms dildo escort"
    " escorte geslacht hardcore hetero incest kont kontje lesbisch lesbische likken lingerie"
    " maagd massage meesteres minnaar mollige naakt naakte ondergoed orale orgasme overspel"
    " penis perverse pijpen pik pikken pikt poes poesje sperma tepels tiet tieten topless vagina"
    " verleiden viagra vingeren vrijen zuigen zuigt",
    # Violence, weapons, war and death.
    "aanslag autopsie begraven beschoten bommen doden executie explosie gedood gehangen"
    " genocide geschopt geschoten geslagen gestorven getrapt geweer geweren gewond gewonde"
    " gewonden graf granaat granaten holocaust kanonnen kogel kogels lijk lijken munitie"
    " omgekomen onthoofd ontploft oorlog oorlogen overleden overleed overlijden overlijdt"
    " pistool schiet schieten schoot schot schoten schutter schutters slachten slagveld sterf"
    " sterft sterven stervende stierf stierven stikken torpedo uitvaart verwond",
    # Crime, abuse, coercion, captivity and trafficking.
    "celstraf chantage dader daders dief diefstal dieven dwang gangster gangsters gedwongen"
    " gevangen gevangene misbruik misbruikt opsluiten pooier slaaf slaven slavernij slavin"
    " smokkelen tralies uitbuiting vermist vermiste",
    # Drugs, addiction, illness and bodily functions.
    "aids blowen cannabis cocaine coke corona dealer dealers diarree drugs ebola hasj heroine"
    " junkie kanker overdosis trauma tumor urine verslaafd verslaving wiet zwanger zwangere",
    # Words that label people by ethnicity, nationality, race or
    # religion, and names of religious figures, scriptures and places.
    "afrikanen afro amerikaan arabieren belg belgen bijbel bijbels blank blanke blanken boeddha"
    " canadees chinees chinezen christus etnisch etnische fascisme fransman fries getinte"
    " grieken haram hitler homo imam indiaanse indianen islam italiaan italianen japanners jihad"
    " joden jood joods joodse koerden koran mekka messias migranten moor moslim moslims neger"
    " negers nikker profeet profeten ramadan rassen russen satan sovjet taliban turken zigeuner"
    " zigeuners zwarten",
)

# Substrings: any word that contains one of them is dropped, together with
# harmless words that happen to contain it (for example "hoera").
BLOCKED_STEMS = (
    "bloed",
    "dood",
    "dreig",
    "erotiek",
    "erotisch",
    "geil",
    "geweld",  # "geweldig" (great) is kept by an exception in is_blocked
    "gijzel",
    "hoer",
    "kanker",
    "klote",
    "kut",
    "martel",
    "moord",
    "nazi",  # "spinazie" is kept by an exception in is_blocked
    "neuk",
    "ontvoer",
    "pedofi",
    "porno",
    "prostitu",
    "seks",
    "sex",
    "terror",
    "verkracht",
    "wapen",
)

# Words that contain a stem in BLOCKED_STEMS but are kept.
STEM_EXCEPTIONS = word_set("geweldig geweldige spinazie")

# Given names, surnames and names of places, brands, newspapers and
# characters that OpenTaal also lists in lower case and that the name rule
# (rule 7) does not catch.
PROPER_NOUNS = word_set(
    """
    amor barbie bilt blom bluetooth bommel bordeaux bram brexit canada carter
    coca delft dirk dongen drachten dries evers excelsior geert gent gouda
    griet grietje haag hendrik holten hoofddorp jaap joep joop jozef kees
    kempen klaas koen koos kuipers laren lemmer leur maarten maas malta manilla
    marjolein merkel milaan mulder piet pieten polen porto potter randstad rijn
    schouten smurfen soest superman valentijn verhagen waal wassenaar waterland
    wilders woerden wouter wouters zeeland zweden
    """
)

# Abbreviations and clipped words that OpenTaal lists in lower case.
ABBREVIATIONS = word_set(
    """
    accu airco combi demo expo havo idem info intro mavo memo prof vmbo wifi
    """
)

# Words that occur only inside fixed expressions ("ten behoeve van",
# "per se", "tot ziens") or are archaic or foreign, so they mean little
# on their own.
FRAGMENTS = word_set(
    """
    anno avant behoeve bene carte daags dage dezen ende feite feng gevolge
    grande gunste haha harte huize koste madame moge monde natura neder
    onrechte opzichte outs paso perse petit plaatse plekke prix rade teleur
    tijde velde versa vrouwe wade zake ziens zijt
    """
)

# Spelling variants that Dutch speakers pronounce alike, applied in this
# order by sound_key.
SOUND_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile("ij"), "ei"),  # rijzen / reizen
    (re.compile("au"), "ou"),  # rauw / rouw
    (re.compile("ch"), "g"),  # licht / ligt (g and ch merge in most accents)
    (re.compile("c"), "k"),  # cola / kola
    (re.compile("(dt|d|t)$"), ""),  # hard / hart, word / wordt, werk / werkt
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sound_key(word: str) -> str:
    """Map a word to a key that is equal for words that sound alike.

    Dropping the final d, t or dt also puts a verb stem and its -t form
    ("werk", "werkt") under one key, because the two are easy to mix up
    when a codename is recalled from memory.
    """
    key = word
    for pattern, replacement in SOUND_RULES:
        key = pattern.sub(replacement, key)
    return key


def leading_consonants(word: str) -> str:
    for index, letter in enumerate(word):
        if letter in VOWELS:
            return word[:index]
    return word


def is_pronounceable(word: str) -> bool:
    if not VOWELS.intersection(word):
        return False
    onset = leading_consonants(word)
    return onset == "" or onset in ALLOWED_ONSETS


def is_blocked(word: str) -> bool:
    if word in BLOCKED_WORDS:
        return True
    if word in STEM_EXCEPTIONS:
        return False
    return any(stem in word for stem in BLOCKED_STEMS)


def zipf(frequencies: dict[str, float], word: str) -> float:
    """Return the Zipf frequency of word, 0.0 for a word not in the data.

    Zipf is log10 of the occurrences per billion words, as in
    wordfreq.zipf_frequency. wordfreq stores frequencies in whole
    centibels, so rounding to two decimals removes only float noise.
    """
    frequency = frequencies.get(word, 0.0)
    if frequency <= 0.0:
        return 0.0
    return round(math.log10(frequency) + 9.0, 2)


def apply_filter(words: list[str], keep: Callable[[str], bool], description: str) -> list[str]:
    """Return the words for which keep() is true and log how many were dropped."""
    kept = [word for word in words if keep(word)]
    log(f"  dropped {len(words) - len(kept):6d} {description}, {len(kept)} left")
    return kept


def read_opentaal(path: Path) -> list[str]:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    entries = sorted({line.strip() for line in data.decode("utf-8").splitlines()} - {""})
    log(f"read {len(entries)} distinct entries from {path} (sha256 {digest})")
    return entries


def load_frequencies() -> dict[str, dict[str, float]]:
    try:
        from wordfreq import get_frequency_dict
    except ImportError:
        sys.exit(
            "error: wordfreq is not installed. Install it with "
            f"'pip install wordfreq=={WORDFREQ_VERSION}' and run this script again."
        )

    version = importlib.metadata.version("wordfreq")
    if version != WORDFREQ_VERSION:
        log(
            f"warning: wordfreq {version} is installed, but nl.txt was built with "
            f"{WORDFREQ_VERSION}, so the output may differ from the committed list"
        )
    log(f"loading wordfreq {version} 'large' data for nl, en, fr, de")
    return {
        "nl": get_frequency_dict("nl", wordlist="large"),
        "en": get_frequency_dict("en", wordlist="large"),
        "fr": get_frequency_dict("fr", wordlist="large"),
        "de": get_frequency_dict("de", wordlist="large"),
    }


def select_candidates(entries: list[str], frequencies: dict[str, dict[str, float]]) -> list[str]:
    """Apply selection rules 1 to 7 and return the surviving words."""
    dutch = frequencies["nl"]
    capitalised = {entry.lower() for entry in entries if entry[:1].isupper()}

    def is_english(word: str) -> bool:
        return zipf(frequencies["en"], word) - zipf(dutch, word) >= ENGLISH_MARGIN

    def is_international_name(word: str) -> bool:
        if word not in capitalised:
            return False
        floor = zipf(dutch, word) - NAME_MARGIN
        return all(zipf(frequencies[lang], word) >= floor for lang in ("en", "fr", "de"))

    words = apply_filter(
        entries,
        lambda w: WORD_SHAPE.fullmatch(w) is not None,
        "entries that are not 4 to 9 letters a-z",
    )
    words = apply_filter(words, lambda w: "y" not in w, "words with 'y'")
    words = apply_filter(words, is_pronounceable, "words without a vowel or a Dutch onset")
    words = apply_filter(words, lambda w: not is_blocked(w), "blocked words")
    words = apply_filter(
        words,
        lambda w: w not in PROPER_NOUNS and w not in ABBREVIATIONS and w not in FRAGMENTS,
        "listed names, abbreviations and fragments",
    )
    words = apply_filter(words, lambda w: zipf(dutch, w) > 0.0, "words unknown to wordfreq")
    words = apply_filter(words, lambda w: not is_english(w), "English words")
    words = apply_filter(words, lambda w: not is_international_name(w), "likely names")
    return words


def drop_sound_alikes(ranked: Iterable[str]) -> list[str]:
    """Return each word whose sound_key no earlier word has, in the given order."""
    seen: set[str] = set()
    kept = []
    for word in ranked:
        key = sound_key(word)
        if key not in seen:
            seen.add(key)
            kept.append(word)
    return kept


def build_wordlist(input_path: Path, size: int) -> list[str]:
    frequencies = load_frequencies()
    entries = read_opentaal(input_path)
    candidates = select_candidates(entries, frequencies)

    dutch = frequencies["nl"]
    ranked = sorted(candidates, key=lambda word: (-dutch[word], word))
    distinct = drop_sound_alikes(ranked)
    log(f"  dropped {len(ranked) - len(distinct):6d} sound-alikes, {len(distinct)} left")

    if len(distinct) < size:
        sys.exit(
            f"error: only {len(distinct)} words survive the filters, but --size is "
            f"{size}. Lower --size or loosen the filters."
        )
    selected = distinct[:size]
    last = selected[-1]
    log(
        f"kept the {size} most common words; the least common is {last!r} "
        f"at Zipf {zipf(dutch, last):.2f}"
    )
    return sorted(selected)


def write_wordlist(words: list[str], output_path: Path) -> None:
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with output_path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("".join(f"{word}\n" for word in words))
    bits = math.log2(len(words))
    log(f"wrote {len(words)} words ({bits:.3f} bits each) to {output_path}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Build the Dutch codename word list from OpenTaal and wordfreq."
    )
    parser.add_argument(
        "--input",
        type=Path,
        default=DEFAULT_INPUT,
        help=f"OpenTaal word list, one entry per line, UTF-8 (default: {DEFAULT_INPUT})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="file to write, one word per line (default: crypto/wordlists/nl.txt)",
    )
    parser.add_argument(
        "--size",
        type=int,
        default=DEFAULT_SIZE,
        help=f"number of words to keep (default: {DEFAULT_SIZE} = 6**5)",
    )
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error(f"--size must be a positive integer, got {args.size}")
    if not args.input.is_file():
        parser.error(
            f"input file not found: {args.input} (install it with 'apt-get install wdutch')"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    words = build_wordlist(args.input, args.size)
    write_wordlist(words, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
