"""One article prepared for extraction: tokens, quotations, sentences and linked mentions."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field

from kg.extract.lexicon import Lexicon
from kg.extract.mentions import Mention, MentionFinder, PostPhrase
from kg.extract.text import (
    Region,
    Token,
    debris_regions,
    paragraphs,
    quotation_spans,
    sentences,
    tokens,
)


@dataclass
class Document:
    text: str
    language: str
    anchor: dt.date | None
    lex: Lexicon
    toks: list[Token]
    quotes: list[tuple[int, int]]
    sentences: list[Region]
    paragraphs: list[Region]
    debris: list[Region]
    finder: MentionFinder | None = None
    mentions: list[Mention] = field(default_factory=list)

    @property
    def post_phrases(self) -> list[PostPhrase]:
        return self.finder.post_phrases if self.finder else []

    def in_quote(self, pos: int) -> bool:
        return any(s <= pos < e for s, e in self.quotes)

    def sentence_at(self, pos: int) -> Region | None:
        starts = [s.start for s in self.sentences]
        i = bisect.bisect_right(starts, pos) - 1
        if i >= 0 and self.sentences[i].start <= pos < self.sentences[i].end + 2:
            return self.sentences[i]
        return None

    def paragraph_index(self, pos: int) -> int:
        for i, p in enumerate(self.paragraphs):
            if p.start <= pos < p.end + 2:
                return i
        return -1

    def tokens_between(self, start: int, end: int) -> list[Token]:
        starts = [t.start for t in self.toks]
        i = bisect.bisect_left(starts, start)
        out = []
        while i < len(self.toks) and self.toks[i].end <= end:
            out.append(self.toks[i])
            i += 1
        return out

    def officials_in(self, start: int, end: int, *, outside_quotes: bool = True) -> list[Mention]:
        return [
            m
            for m in self.mentions
            if m.type == "Official"
            and start <= m.start
            and m.end <= end
            and not (outside_quotes and self.in_quote(m.start))
        ]

    def salient_official(self, pos: int, state: str | None = None) -> str | None:
        """The official a pronoun, a bare post noun or a Polish null subject at `pos` stands for:
        the latest one named before it as a subject (not after "with", "z"), outside quotes."""
        para = self.paragraph_index(pos)
        candidates = [
            m
            for m in self.mentions
            if m.type == "Official"
            and m.end <= pos
            and not self.in_quote(m.start)
            and not m.is_object
            and (state is None or m.state in (None, state))
        ]
        for m in reversed(candidates):
            if para - self.paragraph_index(m.start) <= 3:
                return m.key
        return candidates[-1].key if candidates else None


def prepare(text: str, language: str, anchor: dt.date | None, lex: Lexicon) -> Document:
    debris = debris_regions(text, lex.debris)
    masked = _mask(text, debris)
    quotes = quotation_spans(masked)
    return Document(
        text=text,
        language=language,
        anchor=anchor,
        lex=lex,
        toks=tokens(masked),
        quotes=quotes,
        sentences=sentences(masked, lex.abbreviations, quotes),
        paragraphs=paragraphs(masked),
        debris=debris,
    )


def _mask(text: str, regions: list[Region]) -> str:
    """The text with debris lines blanked out, so that offsets stay those of the original."""
    chars = list(text)
    for r in regions:
        for i in range(r.start, r.end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)
