"""Remove distressing or offensive words from the German and French codename lists.

A codename is read by people who may have lived through trafficking, exploitation or
violence, and it may be seen by someone watching over their shoulder. The diceware
German and French lists were not screened for that, so this script drops an explicit
set of words about sex, violence, death, drugs, captivity, the police and religious or
ethnic groups, plus slurs and insults. The English list (EFF) was screened by its
authors and the Dutch list is screened by tools/build_dutch_wordlist.py.

Run from the repository root; it rewrites the files in place and prints what it
removed. Running it twice changes nothing.

    python tools/screen_wordlists.py
"""

from __future__ import annotations

from pathlib import Path

WORDLISTS = Path(__file__).resolve().parent.parent / "crypto" / "wordlists"

BLOCKED = {
    "de": {
        "anal", "blut", "bombe", "busen", "christ", "depp", "dirne", "dreck", "droge",
        "ekel", "fett", "ficken", "folter", "galgen", "geil", "gewehr", "gift", "grab",
        "hass", "henken", "henker", "heroin", "hoden", "idiot", "islam", "jude",
        "knast", "kokain", "kotzen", "krieg", "leiche", "leichnam", "mist", "mord",
        "moslem", "muslim", "nackt", "opfer", "penis", "pistol", "polizei", "porno",
        "puff", "sarg", "scheich", "scheide", "schwul", "sexismus", "sexshop",
        "sexszene", "sexual", "sexuell", "sexy", "sklave", "sklavin", "strich",
        "todfeind", "todkrank", "tote", "totsagen", "waffe", "waise", "zyklon",
    },
    "fr": {
        "arme", "armement", "battre", "battu", "battue", "bombe", "bomber", "cercueil",
        "couteau", "couteaux", "drogue", "frappe", "frapper", "gifle", "gifler",
        "guerre", "haine", "haineux", "juif", "juive", "meurtre", "mort", "morte",
        "mortel", "mortelle", "nubile", "police", "policer", "tombeau", "torture",
        "tuer", "tuerie",
    },
}


def screen(language: str) -> list[str]:
    """Rewrite the list of ``language`` without its blocked words; return those removed."""
    path = WORDLISTS / f"{language}.txt"
    words = path.read_text("utf-8").splitlines()
    kept = [word for word in words if word not in BLOCKED[language]]
    removed = sorted(set(words) - set(kept))
    path.write_text("".join(f"{word}\n" for word in kept), "utf-8")
    return removed


def main() -> None:
    for language in sorted(BLOCKED):
        removed = screen(language)
        remaining = len((WORDLISTS / f"{language}.txt").read_text("utf-8").splitlines())
        print(f"{language}: removed {len(removed)}, {remaining} words left")
        if removed:
            print("  " + " ".join(removed))


if __name__ == "__main__":
    main()
