"""Text utilities: folding, tokens, sentences, paragraphs, quotations and page debris."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_FOLD_EXTRA = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "ß": "ss"})
TOKEN = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case without diacritics: the form names are compared in."""
    text = text.translate(_FOLD_EXTRA)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-") or "unnamed"


class _FoldedOnce:
    """`Token.folded`, worked out on first use and then kept in the token's own `__dict__`.

    Like `functools.cached_property`, which in Python 3.11 takes a lock on every first use:
    2 µs a token, and almost every token of an article is folded."""

    def __get__(self, tok: Token | None, owner: type | None = None):
        if tok is None:
            return self
        value = tok.__dict__["folded"] = fold(tok.text)
        return value


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int
    folded = _FoldedOnce()  # asked for again and again by every name tried at a token

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


def tokens(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    end = len(text) if end is None else end
    return [Token(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text, start, end)]


@dataclass(frozen=True)
class Region:
    start: int
    end: int


# Quotation marks: opening -> the closing marks accepted for it.
# Some outlets quote speech in single marks (‘...’); "’" between letters is an apostrophe.
_PAIRS = {"“": '”"', "„": '”“"', "«": "»", "»": "«", "‘": "’"}


# The quotation loops jump from mark to mark: a search of the text runs in C, a Python loop over
# every character does not.
_OPENING_MARKS = re.compile('["“„«»‘]')
# Where a quotation opened by a mark may stop: a straight quote stops at a typographic opening
# mark too, which cannot sit inside it.
_STOPS = {
    opener: re.compile("[" + re.escape(stops) + "]")
    for opener, stops in {'"': '"“„', **_PAIRS}.items()
}


def _apostrophe(text: str, j: int) -> bool:
    return text[j] == "’" and j + 1 < len(text) and text[j + 1].isalpha()


def _quote_stop(text: str, i: int) -> int:
    """Where the quotation opened at i stops: its closing mark (an apostrophe is none), a
    typographic mark inside a straight quote, or the end of the text."""
    stops = _STOPS[text[i]]
    j = i + 1
    while (mark := stops.search(text, j)) is not None:
        j = mark.start()
        if not _apostrophe(text, j):
            return j
        j += 1
    return len(text)


def quotation_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the words inside each quotation, marks excluded.

    Typographic marks pair by kind; straight double quotes pair in order of appearance, which
    also keeps a quote that runs over a paragraph break whole. A mark that never closes opens
    no quotation.
    """
    spans: list[tuple[int, int]] = []
    i = 0
    n = len(text)
    while (mark := _OPENING_MARKS.search(text, i)) is not None:
        i = mark.start()
        c = text[i]
        closers = '"' if c == '"' else _PAIRS[c]
        j = _quote_stop(text, i)
        if c == '"' and j < n and _reopened(text, i, j):
            # a quote over two paragraphs: the first is left open, the next reopens with a mark
            spans.append((i + 1, i + 1 + len(text[i + 1 : j].rstrip())))
            i = j
            continue
        if j < n and text[j] in closers and j - i > 1 and _plausible_quote(text[i + 1 : j]):
            spans.append((i + 1, j))
            i = j + 1
        else:
            i += 1
    return spans


def _reopened(text: str, i: int, j: int) -> bool:
    """The straight mark at j opens the next paragraph rather than closing the quote at i."""
    inner = text[i + 1 : j]
    return (
        "\n\n" in inner[len(inner.rstrip()) :]
        and bool(inner.strip())
        and j + 1 < len(text)
        and not text[j + 1].isspace()
    )


# Marks that quote someone inside a quotation ('...' in "...", «...» in „...”).
_INNER_PAIRS = {"'": "'", "‘": "’", "«": "»", "„": "”“", "“": "”"}


def nested_quotation_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, end) of quotations inside quotations: an opening mark after a space or colon,
    closed by its partner before a non-letter (so that apostrophes never pair)."""
    found = []
    for start, end in spans:
        i = start
        while i < end:
            c = text[i]
            if c in _INNER_PAIRS and (i == start or not text[i - 1].isalnum()):
                j = i + 1
                while j < end and not (
                    text[j] in _INNER_PAIRS[c] and (j + 1 >= len(text) or not text[j + 1].isalpha())
                ):
                    j += 1
                if j < end and j - i > 1 and text[i + 1].isalnum():
                    found.append((i + 1, j))
                    i = j
            i += 1
    return found


def _plausible_quote(inner: str) -> bool:
    return bool(inner.strip()) and len(inner) < 3000 and inner.count("\n\n") < 3


_PARAGRAPH = re.compile(r"(?:[^\n]|\n(?!\s*\n))+")
# Characters that may end a sentence: the sentence loop jumps from one to the next.
_SENTENCE_MARKS = re.compile('[.!?"”»]')


def paragraphs(text: str) -> list[Region]:
    regions = []
    for m in _PARAGRAPH.finditer(text):
        if m.group().strip():
            regions.append(Region(m.start(), m.end()))
    return regions


def sentences(
    text: str,
    abbreviations: frozenset[str],
    quotes: list[tuple[int, int]],
    paras: list[Region] | None = None,
) -> list[Region]:
    """Sentence regions. A sentence never ends inside a quotation or after an abbreviation.
    `paras`: the text's `paragraphs`, when the caller has them already."""
    inside = quote_mask(len(text), quotes)
    regions = []
    for para in paragraphs(text) if paras is None else paras:
        start = para.start
        i = para.start
        while (mark := _SENTENCE_MARKS.search(text, i, para.end)) is not None:
            i = mark.start()
            c = text[i]
            if c in ".!?" and not inside[i] and _sentence_ends(text, i, abbreviations):
                end = i + 1
                while end < para.end and text[end] in "\"”“'’»)":
                    end += 1
                _add(regions, text, start, end)
                start = end
                i = end
                continue
            if c in '"”»' and i > 0 and text[i - 1] in ".!?" and _next_starts_sentence(text, i + 1):
                _add(regions, text, start, i + 1)
                start = i + 1
            i += 1
        _add(regions, text, start, para.end)
    return regions


def _add(regions: list[Region], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        regions.append(Region(start, end))


def quote_mask(length: int, quotes: list[tuple[int, int]]) -> bytearray:
    """One byte a character: 1 inside a quotation."""
    mask = bytearray(length)
    for start, end in quotes:
        mask[start:end] = b"\x01" * (end - start)
    return mask


_LAST_WORD = re.compile(r"(\S+)$")
_INITIAL = re.compile(r"(?:^|\s)[A-ZŁŚŻŹ]\.$")


def _sentence_ends(text: str, i: int, abbreviations: frozenset[str]) -> bool:
    if text[i] == ".":
        word = _LAST_WORD.search(text[max(0, i - 12) : i + 1])
        if word and (word.group(1) in abbreviations or word.group(1).lower() in abbreviations):
            return False
        if _INITIAL.search(text[max(0, i - 2) : i + 1]):  # an initial
            return False
        if i + 1 < len(text) and text[i + 1].isdigit():  # 12.02.2020, 1.5
            return False
    return _next_starts_sentence(text, i + 1)


def _next_starts_sentence(text: str, j: int) -> bool:
    while j < len(text) and text[j] in "\"”“'’»)":
        j += 1
    if j >= len(text):
        return True
    if not text[j].isspace():
        return False
    while j < len(text) and text[j].isspace():
        j += 1
    return j >= len(text) or not text[j].islower()


_LINE = re.compile(r"[^\n]+")
_TIMER = re.compile(r"[\d:.\s]+")
_MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(#?[^)]*\)")
_RULE = re.compile(r"-{3,}|\*{3,}|_{3,}")


def debris_regions(text: str, debris_phrases: frozenset[str]) -> list[Region]:
    """Lines that are page furniture: navigation words, icon-name runs, share buttons, timers."""
    regions = []
    phrases = _phrases_of_words(debris_phrases)
    for m in _LINE.finditer(text):
        line = m.group().strip()
        low = line.lower().rstrip(":")
        if not line:
            continue
        is_debris = (
            low in debris_phrases
            or (
                low.startswith(phrases)
                and any(low.startswith(p) and len(low) < len(p) + 30 for p in phrases)
            )
            or low.count("icon") >= 3
            or _TIMER.fullmatch(line) is not None
            or _MARKDOWN_LINK.fullmatch(line) is not None
            or _RULE.fullmatch(line) is not None
        )
        if is_debris:
            regions.append(Region(m.start(), m.end()))
    return regions


@lru_cache(maxsize=8)
def _phrases_of_words(debris_phrases: frozenset[str]) -> tuple[str, ...]:
    """The debris phrases of more than one word, which a debris line may start with."""
    return tuple(p for p in debris_phrases if " " in p)
