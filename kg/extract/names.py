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
        "ia",  # Białoruś -> z Białorusią (folded)
    ]
)
# Consonant alternations and the endings that follow them (Polska -> Polsce, polscy; Duda ->
# Dudzie; prezydent -> prezydencie, prezydenci); "części" is not a form of "czeski".
_ALTERNATIONS = (
    ("k", "c", ("e", "y")),
    ("g", "dz", ("e", "y")),
    ("r", "rz", ("e", "y")),
    ("ch", "sz", ("e", "y")),
    ("d", "dz", ("ie",)),
    ("t", "c", ("ie", "i")),
)


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
    return {s for s in stems if len(s) >= 3}


def alternated_stems(word: str) -> set[tuple[str, tuple[str, ...]]]:
    """Stems with the final consonant alternated, each with the endings that follow it."""
    out = set()
    for stem in polish_stems(word):
        for old, new, endings in _ALTERNATIONS:
            if stem.endswith(old):
                out.add((stem[: -len(old)] + new, endings))
    return out


def inflected_match(token: str, word: str) -> bool:
    """True when the folded `token` is a case form of the folded Polish `word`."""
    if token == word:
        return True
    if len(word) < 4 or abs(len(token) - len(word)) > 4:
        return False
    if any(
        token.startswith(stem) and token[len(stem) :] in POLISH_ENDINGS
        for stem in polish_stems(word)
    ):
        return True
    return any(
        token.startswith(stem) and token[len(stem) :] in endings
        for stem, endings in alternated_stems(word)
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
        self._names = names
        self._first_words: dict[tuple[str, str], frozenset[str]] = {}
        self._by_prefix: dict[str, list[Name]] = defaultdict(list)
        for name in names:
            if name.words:
                self._by_prefix[fold(name.words[0])[:3]].append(name)
        for bucket in self._by_prefix.values():
            bucket.sort(key=lambda n: -len(n.words))

    def first_words(self, type_: str, language: str) -> frozenset[str]:
        """The folded first words of the names of one type, as written (not inflected)."""
        key = (type_, language)
        if key not in self._first_words:
            self._first_words[key] = frozenset(
                fold(n.words[0])
                for n in self._names
                if n.type == type_ and n.language in (None, language)
            )
        return self._first_words[key]

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
            for window, words, last in _windows(name, toks, i, language):
                inflected = _window_matches(window, words, name, language)
                if inflected is not None:
                    return Match(name, i, last, toks[i].start, toks[last].end, inflected)
        return None


# In a cue, "..." stands for a few words naming the body or the state ("szef polskiej
# dyplomacji", "head of the foreign affairs committee"): lower-case in Polish; English
# capitalises adjectives of nationality and names of bodies ("head of Polish diplomacy").
GAP = "..."
MAX_GAP_WORDS = 3


def _windows(name: Name, toks: list[Token], i: int, language: str):
    """(tokens, the name's words they stand for, index of the last token) to try at toks[i]."""
    if GAP not in name.words:
        last = i + len(name.words) - 1
        if last < len(toks) and _adjacent(toks[i : last + 1]):
            yield toks[i : last + 1], name.words, last
        return
    cut = name.words.index(GAP)
    head, tail = name.words[:cut], name.words[cut + 1 :]
    for gap in range(1, MAX_GAP_WORDS + 1):
        last = i + len(head) + gap + len(tail) - 1
        if last >= len(toks) or not _adjacent(toks[i : last + 1]):
            return
        inside = toks[i + len(head) : i + len(head) + gap]
        if language != "en" and any(t.capitalised for t in inside):
            return
        yield toks[i : i + len(head)] + toks[last - len(tail) + 1 : last + 1], head + tail, last


def _window_matches(window: list[Token], words: tuple[str, ...], name: Name, language: str):
    """None: no match; else whether any token matched as an inflected form."""
    inflected = False
    for k, (tok, word) in enumerate(zip(window, words, strict=True)):
        result = _token_matches(tok, word, name, language, k == len(words) - 1)
        if result is None:
            return None
        inflected = inflected or result
    return inflected


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


def polish_nominative_name(name: str, inflected: bool = True) -> str:
    """Every word of a name in the nominative ("Wołodymyrem Zełenskim" -> "Wołodymyr Zełenski").
    Where the context may be nominative, only "-ą", which no nominative name ends in, goes."""
    if not inflected:
        return re.sub(r"ą\b", "a", name)
    return re.sub(r"\w+", lambda w: polish_nominative(w.group()), name)
