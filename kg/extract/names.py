"""Finding names in text: a gazetteer of reference names matched token by token.

Polish nouns and adjectives change their endings with case ("Polska", "w Polsce", "Polski";
"Marek Esper", "z Markiem Esperem"), so in Polish a text token matches a name token when it is
the name's stem plus a case ending. English matches whole tokens, diacritics aside.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from kg.extract.text import Token, fold

_VOWELS = "aeiouy"
# Case endings of Polish nouns and adjectives, folded (ą->a, ę->e, ó->o).
POLISH_ENDINGS = frozenset(
    [
        "",
        "a",
        "u",
        "owi",
        "em",
        "om",
        "ie",
        "e",
        "y",
        "i",
        "ami",
        "ach",
        "ow",
        "ego",
        "emu",
        "im",
        "ym",
        "ej",
        "iej",
        "iego",
        "iemu",
        "ich",
        "imi",
        "ymi",
        "ych",
        "o",
        "owie",
        "ii",
        "ji",
        "iem",
        "ech",
        "iu",
    ]
)
# Consonant alternations before -e/-ie endings (Polska -> Polsce, Duda -> Dudzie).
_ALTERNATIONS = (("k", "c"), ("g", "dz"), ("r", "rz"), ("ch", "sz"), ("d", "dz"), ("t", "c"))


def polish_stems(word: str) -> set[str]:
    """Stems a folded Polish word's case forms are built on."""
    stems = {word}
    if word[-1:] in _VOWELS:
        stems.add(word[:-1])
    if word.endswith(("ek", "ec")) and len(word) > 4:  # Marek -> Mark-iem (mobile e)
        stems.add(word[:-2] + word[-1])
    if len(word) > 4 and word[-1] == "y" and word[-2] in "ck" and word[-3] not in _VOWELS:
        stems.add(word[:-2] + "ie" + word[-2])  # Niemcy -> Niemiec (genitive plural)
    if word.endswith("er") and len(word) > 5:  # minister -> ministr-em
        stems.add(word[:-2] + "r")
    for stem in list(stems):
        for old, new in _ALTERNATIONS:
            if stem.endswith(old):
                stems.add(stem[: -len(old)] + new)
    return {s for s in stems if len(s) >= 3}


def inflected_match(token: str, word: str) -> bool:
    """True when the folded `token` is a case form of the folded Polish `word`."""
    if token == word:
        return True
    if len(word) < 4 or abs(len(token) - len(word)) > 4:
        return False
    return any(
        token.startswith(stem) and token[len(stem) :] in POLISH_ENDINGS
        for stem in polish_stems(word)
    )


@dataclass(frozen=True)
class Name:
    """One way of writing an entity: its tokens and what kind of name it is."""

    words: tuple[str, ...]  # as written in the reference data
    type: str  # State | Alliance | Official | Place | PostCue | Institution
    key: str
    strength: str = "name"  # name | alias | adjective | weak | surname
    language: str | None = None  # None: any language

    @property
    def folded(self) -> tuple[str, ...]:
        return tuple(fold(w) for w in self.words)


@dataclass(frozen=True)
class Match:
    name: Name
    first: int  # token index
    last: int  # token index, inclusive
    start: int  # character offsets
    end: int
    inflected: bool


class Gazetteer:
    def __init__(self, names: list[Name]) -> None:
        self._by_prefix: dict[str, list[Name]] = defaultdict(list)
        for name in names:
            if name.words:
                self._by_prefix[fold(name.words[0])[:3]].append(name)
        for bucket in self._by_prefix.values():
            bucket.sort(key=lambda n: -len(n.words))

    def find(self, toks: list[Token], language: str) -> list[Match]:
        """Every non-overlapping match, longest first at each position, left to right."""
        found: list[Match] = []
        i = 0
        while i < len(toks):
            best = self._best_at(toks, i, language)
            if best is None:
                i += 1
                continue
            found.append(best)
            i = best.last + 1
        return found

    def _best_at(self, toks: list[Token], i: int, language: str) -> Match | None:
        for name in self._by_prefix.get(toks[i].folded[:3], ()):
            if name.language not in (None, language):
                continue
            n = len(name.words)
            if i + n > len(toks):
                continue
            window = toks[i : i + n]
            if not _adjacent(window):
                continue
            inflected = False
            ok = True
            for k, (tok, word) in enumerate(zip(window, name.words, strict=True)):
                result = _token_matches(tok, word, name, language, k == n - 1)
                if result is None:
                    ok = False
                    break
                inflected = inflected or result
            if ok:
                return Match(name, i, i + n - 1, window[0].start, window[-1].end, inflected)
        return None


def _adjacent(window: list[Token]) -> bool:
    """Tokens of one name are separated by a space or a hyphen only, never a line break."""
    return all(b.start - a.end <= 2 for a, b in zip(window, window[1:], strict=False))


def _token_matches(tok: Token, word: str, name: Name, language: str, last: bool) -> bool | None:
    """None: no match; False: exact (diacritics aside); True: matched as an inflected form."""
    if len(word) >= 2 and word.isupper():  # acronyms (US, EU, NATO) match only as written
        return False if tok.text == word else None
    proper = name.strength != "adjective" and name.type != "PostCue"
    if proper and word[:1].isupper() and not tok.capitalised and (last or language != "pl"):
        return None
    if name.strength == "adjective" and language == "en" and not tok.capitalised:
        return None
    if tok.folded == fold(word):
        return False
    if language == "pl" and inflected_match(tok.folded, fold(word)):
        return True
    return None


# Case endings of Polish personal names and the nominative ending that replaces them, longest
# first: instrumental "Markiem Esperem", "Kają Kallas", "Mateuszem Morawieckim"; genitive
# "Siergieja Ławrowa", "Jacka Czaputowicza", "Radosława Sikorskiego"; dative "Dudzie" is left.
_NOMINATIVE_RULES = (
    ("skiego", "ski"),
    ("ckiego", "cki"),
    ("skim", "ski"),
    ("ckim", "cki"),
    ("iego", "i"),
    ("kiem", "k"),
    ("giem", "g"),
    ("em", ""),
    ("owi", ""),
    ("ego", "y"),
    ("ą", "a"),
    ("a", ""),
)
# Stems that end in these clusters had a mobile "e" in the nominative ("Jacka" -> "Jacek").
_MOBILE_E = ("ck", "tk")


def polish_nominative(word: str) -> str:
    """A best-effort nominative of an inflected Polish personal name ("Esperem" -> "Esper")."""
    for ending, replacement in _NOMINATIVE_RULES:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            stem = word[: -len(ending)]
            if not replacement and stem.endswith(_MOBILE_E):
                stem = stem[:-1] + "e" + stem[-1]
            return stem + replacement
    return word


def polish_nominative_name(name: str) -> str:
    """Every word of a name in the nominative ("Wołodymyrem Zełenskim" -> "Wołodymyr Zełenski")."""
    return re.sub(r"\w+", lambda w: polish_nominative(w.group()), name)
