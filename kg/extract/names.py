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
        self._by_prefix: dict[str, list[_Pattern]] = defaultdict(list)
        for name in names:
            if name.words:
                self._by_prefix[fold(name.words[0])[:3]].append(_Pattern(name))
        for bucket in self._by_prefix.values():
            bucket.sort(key=lambda p: -len(p.name.words))
        # language -> token text -> the names whose first word that token matches
        self._starts: dict[str, dict[str, tuple[tuple[_Pattern, bool], ...]]] = defaultdict(dict)

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
        starts = self._starts[language]
        i = 0
        while i < len(toks):
            tok = toks[i]
            candidates = starts.get(tok.text)
            if candidates is None:
                candidates = self._names_starting_with(tok, language)
            best = None
            for pattern, inflected in candidates:
                best = pattern.match_at(toks, i, language, inflected)
                if best is not None:
                    break
            if best is None:
                i += 1
                continue
            found.append(best)
            i = best.last + 1
        return found

    def _names_starting_with(self, tok: Token, language: str) -> tuple[tuple[_Pattern, bool], ...]:
        """The names, in the order they are tried, whose first word `tok` matches, each with
        whether it matched as an inflected form. Most tokens start no name, and the same words
        come back in every article, so the answer is kept per token text."""
        candidates = []
        for pattern in self._by_prefix.get(tok.folded[:3], ()):
            if pattern.name.language not in (None, language):
                continue
            inflected = pattern.first_word_matches(tok, language)
            if inflected is not None:
                candidates.append((pattern, inflected))
        starts = self._starts[language]
        if len(starts) >= _MAX_REMEMBERED_TOKENS:  # bounds a worker's memory over a long build
            starts.clear()
        starts[tok.text] = found = tuple(candidates)
        return found


_MAX_REMEMBERED_TOKENS = 50_000

# In a cue, "..." stands for a few words naming the body or the state ("szef polskiej
# dyplomacji", "head of the foreign affairs committee"): lower-case in Polish; English
# capitalises adjectives of nationality and names of bodies ("head of Polish diplomacy").
GAP = "..."
MAX_GAP_WORDS = 3


@dataclass(frozen=True)
class _Word:
    """One word of a name, with what matching a token against it needs worked out once."""

    text: str
    folded: str
    acronym: bool  # US, EU, NATO: matches only as written
    capital: bool


def _word(text: str) -> _Word:
    return _Word(text, fold(text), len(text) >= 2 and text.isupper(), text[:1].isupper())


class _Pattern:
    """A name as the gazetteer matches it: the words before and after its gap, if it has one."""

    __slots__ = ("name", "head", "tail", "gapped", "words", "proper", "adjective")

    def __init__(self, name: Name) -> None:
        self.name = name
        self.gapped = GAP in name.words
        cut = name.words.index(GAP) if self.gapped else len(name.words)
        self.head = tuple(_word(w) for w in name.words[:cut])
        self.tail = tuple(_word(w) for w in name.words[cut + 1 :])
        self.words = self.head + self.tail  # the words tokens stand for, gap left out
        self.proper = name.strength != "adjective" and name.type != "PostCue"
        self.adjective = name.strength == "adjective"

    def first_word_matches(self, tok: Token, language: str) -> bool | None:
        """None: `tok` is not this name's first word; else whether it matched as inflected."""
        return self._word_matches(tok, 0, language)

    def match_at(self, toks: list[Token], i: int, language: str, inflected: bool) -> Match | None:
        """The match of this name at toks[i], whose first word is known to match."""
        for window, last in self._windows(toks, i, language):
            rest = self._rest_matches(window, language)
            if rest is not None:
                return Match(self.name, i, last, toks[i].start, toks[last].end, inflected or rest)
        return None

    def _windows(self, toks: list[Token], i: int, language: str):
        """(tokens, index of the last token) to try at toks[i]; with a gap, one per gap size."""
        if not self.gapped:
            last = i + len(self.head) - 1
            if last < len(toks) and _adjacent(toks[i : last + 1]):
                yield toks[i : last + 1], last
            return
        head, tail = len(self.head), len(self.tail)
        for gap in range(1, MAX_GAP_WORDS + 1):
            last = i + head + gap + tail - 1
            if last >= len(toks) or not _adjacent(toks[i : last + 1]):
                return
            inside = toks[i + head : i + head + gap]
            if language != "en" and any(t.capitalised for t in inside):
                return
            yield toks[i : i + head] + toks[last - tail + 1 : last + 1], last

    def _rest_matches(self, window: list[Token], language: str) -> bool | None:
        """None: a word after the first does not match; else whether any matched inflected."""
        inflected = False
        for k in range(1, len(window)):
            result = self._word_matches(window[k], k, language)
            if result is None:
                return None
            inflected = inflected or result
        return inflected

    def _word_matches(self, tok: Token, k: int, language: str) -> bool | None:
        """None: no match; False: exact (diacritics aside); True: matched as an inflected form."""
        word = self.words[k]
        if word.acronym:
            return False if tok.text == word.text else None
        last = k == len(self.words) - 1
        if self.proper and word.capital and not tok.capitalised and (last or language != "pl"):
            return None
        if self.adjective and language == "en" and not tok.capitalised:
            return None
        if tok.folded == word.folded:
            return False
        if language == "pl" and inflected_match(tok.folded, word.folded):
            return True
        return None


def _adjacent(window: list[Token]) -> bool:
    """Tokens of one name are separated by a space or a hyphen only, never a line break."""
    return all(b.start - a.end <= 2 for a, b in zip(window, window[1:], strict=False))


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
