"""One article prepared for extraction: tokens, quotations, sentences and linked mentions."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from kg.extract.lexicon import Lexicon
from kg.extract.mentions import (
    Mention,
    MentionFinder,
    PostPhrase,
    kinds_agree,
    kinds_compatible,
)
from kg.extract.text import (
    Region,
    Token,
    debris_regions,
    nested_quotation_spans,
    paragraphs,
    quotation_spans,
    quote_mask,
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
    # (position, official key) of each quote's attributed speaker: later pronouns may refer back
    attributions: list[tuple[int, str]] = field(default_factory=list)

    @property
    def post_phrases(self) -> list[PostPhrase]:
        return self.finder.post_phrases if self.finder else []

    def in_quote(self, pos: int) -> bool:
        return 0 <= pos < len(self._quoted) and self._quoted[pos] == 1

    @cached_property
    def _quoted(self) -> bytearray:
        """Which characters stand inside a quotation: `in_quote` is asked of every token."""
        return quote_mask(max([len(self.text)] + [e for _, e in self.quotes]), self.quotes)

    @cached_property
    def _token_starts(self) -> list[int]:
        return [t.start for t in self.toks]

    @cached_property
    def _token_ends(self) -> list[int]:
        return [t.end for t in self.toks]

    def outer_quote(self, qs: int, qe: int) -> tuple[int, int] | None:
        """The quotation a quote at (qs, qe) stands inside, if any."""
        return next((q for q in self.quotes if q[0] < qs and qe <= q[1]), None)

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
        """The tokens from the first starting at or after `start` up to the last ending by `end`."""
        i = bisect.bisect_left(self._token_starts, start)
        j = bisect.bisect_right(self._token_ends, end)  # tokens never overlap: ends are sorted
        return self.toks[i:j]

    def unquoted_tokens_between(self, start: int, end: int) -> list[Token]:
        """`tokens_between`, less the tokens inside quotations."""
        quoted = self._quoted
        return [t for t in self.tokens_between(start, end) if not quoted[t.start]]

    def officials_in(self, start: int, end: int, *, outside_quotes: bool = True) -> list[Mention]:
        return [
            m
            for m in self.mentions
            if m.type == "Official"
            and start <= m.start
            and m.end <= end
            and not (outside_quotes and self.in_quote(m.start))
        ]

    def salient_official(
        self, pos: int, state: str | None = None, kind: str | None = None
    ) -> str | None:
        """The official a pronoun, a bare post noun or a Polish null subject at `pos` stands for:
        the latest one named before it as a subject (not after "with", "z"), outside quotes, or
        the speaker of the latest quote. A post phrase with a state ("the German minister")
        stands for that state's official, even one named as an object before; with the
        post's `kind`, one whose post agrees ("szef MON" is not the president)."""
        if state is not None:
            return self._latest_of_state(pos, state, kind)
        para = self.paragraph_index(pos)
        candidates = [
            (m.start, m.key)
            for m in self.mentions
            if m.type == "Official"
            and m.end <= pos
            and not self.in_quote(m.start)
            and not m.is_object
        ]
        candidates += [(at, key) for at, key in self.attributions if at <= pos]
        candidates += self._post_subjects(pos)
        candidates.sort(key=lambda c: c[0])
        if candidates and candidates[-1][1] is None:
            return None
        for start, key in reversed(candidates):
            if key is not None and para - self.paragraph_index(start) <= 3:
                return key
        return next((key for _, key in reversed(candidates) if key is not None), None)

    def _latest_of_state(self, pos: int, state: str, kind: str | None = None) -> str | None:
        """The latest official of `state` before `pos` whose post agrees with `kind`; else the
        latest subject whose state the article never gave ("Minister Rau" in a ministry's own
        release) and whose post agrees with `kind`. A post named as such ("szef MON": defence
        minister) wins over a merely compatible generic one ("minister Kubilius")."""
        before = [
            m
            for m in self.mentions
            if m.type == "Official" and m.end <= pos and not self.in_quote(m.start)
        ]
        same = [m for m in before if m.state == state]
        unknown = [m for m in before if m.state is None and not m.is_object]
        if self.lex.home_state is not None and state != self.lex.home_state:
            # Polish news gives a foreign official's state; one named without it is Polish
            unknown = []
        for candidates, unknown_kind_ok in ((same, True), (unknown, False)):
            for agrees in (kinds_agree, kinds_compatible):
                fitting = [
                    m
                    for m in candidates
                    if kind is None
                    or (m.post_kind is None and unknown_kind_ok)
                    or (m.post_kind is not None and agrees(kind, m.post_kind))
                ]
                if fitting:
                    return fitting[-1].key
        return None

    def _post_subjects(self, pos: int) -> list[tuple[int, str | None]]:
        """Subjects named only by a post with a state ("Polski minister", "The German defence
        minister"): that state's official named before, or None for someone the article never
        names, so that a pronoun after it is not given to the last official named."""
        return [
            (p.start, self._latest_of_state(p.start, p.states[0], p.kind))
            for p in self.post_phrases
            if p.end <= pos
            and p.resolved is None
            and len(set(p.states)) == 1
            and not (p.is_object or p.plural or self.in_quote(p.start))
        ]


def prepare(text: str, language: str, anchor: dt.date | None, lex: Lexicon) -> Document:
    debris = debris_regions(text, lex.debris)
    masked = _mask(text, debris)
    quotes = quotation_spans(masked)
    quotes = sorted(quotes + nested_quotation_spans(masked, quotes))
    paras = paragraphs(masked)
    return Document(
        text=text,
        language=language,
        anchor=anchor,
        lex=lex,
        toks=tokens(masked),
        quotes=quotes,
        sentences=sentences(masked, lex.abbreviations, quotes, paras),
        paragraphs=paras,
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
