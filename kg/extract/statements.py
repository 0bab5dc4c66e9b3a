"""Statements: direct quotes ("...", “...”, „...”, «...») and reported speech, each with its
speaker. Attribution looks after the quote ("...," Duda said), then before it in the sentence
(Sikorski declared that “...”), then at the quote before it in the paragraph; pronouns, bare
post nouns ("the minister") and Polish null subjects ("- powiedział") stand for the latest
official named as a subject."""

from __future__ import annotations

import re

from kg.extract.document import Document
from kg.extract.record import Span, Statement
from kg.extract.text import fold

MIN_REPORTED_WORDS = 4
# A reported clause that introduces a quote in the same sentence must be a full proposition.
MIN_REPORTED_WORDS_BEFORE_QUOTE = 10
FRAGMENT_MAX_WORDS = 6
MAX_NAME_WORDS = 4
MIN_SINGLE_MARK_WORDS = 3


def find_statements(doc: Document) -> list[Statement]:
    statements = _direct_quotes(doc)
    statements += _reported_speech(doc)
    statements.sort(key=lambda s: s.evidence.start)
    return statements


# -- direct quotes ------------------------------------------------------------------------
def _direct_quotes(doc: Document) -> list[Statement]:
    found: list[Statement] = []
    last_speaker_by_para: dict[int, str] = {}
    for qs, qe in doc.quotes:
        quote = doc.text[qs:qe]
        if not re.search(r"\w", quote) or _a_name(quote) or _a_term(doc, qs, quote):
            continue
        speaker, confidence = _attribute(doc, qs, qe)
        para = doc.paragraph_index(qs)
        if speaker is None and para in last_speaker_by_para:
            speaker, confidence = last_speaker_by_para[para], 0.75
        if speaker is None and doc.text[qs - 1 : qs] and _opens_paragraph(doc, qs):
            prev = last_speaker_by_para.get(para - 1)
            if prev is not None:
                speaker, confidence = prev, 0.6
        if speaker is None:
            continue
        last_speaker_by_para[para] = speaker
        words = len(quote.split())
        embedded = _embedded(doc, qs)
        found.append(
            Statement(
                speaker=speaker,
                quote=quote,
                direct=True,
                evidence=Span(qs, qe, quote),
                confidence=confidence,
                fragment=embedded and words <= FRAGMENT_MAX_WORDS,
            )
        )
    return found


def _a_name(quote: str) -> bool:
    """„Fort Trump”, "Eastern Shield": a quoted name or title, not words someone said."""
    words = quote.split()
    return len(words) <= MAX_NAME_WORDS and all(w[:1].isupper() for w in words)


def _a_term(doc: Document, qs: int, quote: str) -> bool:
    """Single marks around a word or two (‘joint mission’) set off a term, not speech."""
    return doc.text[qs - 1 : qs] == "‘" and len(quote.split()) < MIN_SINGLE_MARK_WORDS


def _opens_paragraph(doc: Document, qs: int) -> bool:
    para = doc.paragraphs[doc.paragraph_index(qs)]
    return not doc.text[para.start : qs - 1].strip()


def _embedded(doc: Document, qs: int) -> bool:
    before = doc.text[max(0, qs - 3) : qs - 1]
    return bool(before) and bool(re.search(r"\w\s*$", before))


def _attribute(doc: Document, qs: int, qe: int) -> tuple[str | None, float]:
    sentence_end = _sentence_end_after(doc, qe)
    after = doc.tokens_between(qe, sentence_end)[:9]
    after = [t for t in after if not doc.in_quote(t.start)]
    verb_at = next((i for i, t in enumerate(after) if t.folded in doc.lex.speech_verbs), None)
    if verb_at is not None:
        window_end = after[min(len(after) - 1, verb_at + 4)].end
        named = doc.officials_in(qe, window_end)
        if named:
            return named[0].key, 0.95
        words = {t.folded for t in after[: verb_at + 4]}
        phrase_state = _state_in_window(doc, qe, window_end)
        if words & doc.lex.subject_pronouns or words & doc.lex.post_nouns or verb_at == 0:
            speaker = doc.salient_official(qs, phrase_state)
            if speaker is not None:
                return speaker, 0.85
    sentence = doc.sentence_at(qs)
    start = sentence.start if sentence else max(0, qs - 300)
    before = [t for t in doc.tokens_between(start, qs) if not doc.in_quote(t.start)]
    named = [m for m in doc.officials_in(start, qs) if not m.is_object]
    first_verb = next((t.start for t in before if t.folded in doc.lex.speech_verbs), None)
    if first_verb is not None and any(m.start < first_verb for m in named):
        # the subject of the speech verb, not a person named after it ("assured Pahor")
        named = [m for m in named if m.start < first_verb]
    if named:
        return named[-1].key, 0.85
    words = {t.folded for t in before}
    has_verb = bool(words & doc.lex.speech_verbs) or any(
        " ".join(t.folded for t in before).find(marker) >= 0 for marker in doc.lex.reported_markers
    )
    if has_verb and (words & doc.lex.subject_pronouns or words & doc.lex.post_nouns):
        speaker = doc.salient_official(qs, _state_in_window(doc, start, qs))
        if speaker is not None:
            return speaker, 0.8
    return None, 0.0


def _sentence_end_after(doc: Document, pos: int) -> int:
    sentence = doc.sentence_at(pos)
    if sentence is not None and sentence.end > pos:
        return sentence.end
    nxt = doc.sentence_at(pos + 2)
    return nxt.end if nxt is not None else min(len(doc.text), pos + 200)


def _state_in_window(doc: Document, start: int, end: int) -> str | None:
    for m in doc.mentions:
        if m.type == "State" and start <= m.start and m.end <= end and m.via == "adjective":
            return m.key
    return None


# -- reported speech ----------------------------------------------------------------------
def _reported_speech(doc: Document) -> list[Statement]:
    found: list[Statement] = []
    for sentence in doc.sentences:
        statement = _reported_in_sentence(doc, sentence.start, sentence.end)
        if statement is not None:
            found.append(statement)
    return found


def _reported_in_sentence(doc: Document, start: int, end: int) -> Statement | None:
    toks = [t for t in doc.tokens_between(start, end) if not doc.in_quote(t.start)]
    if len(toks) < 3:
        return None
    has_quote = any(start <= qs < end for qs, _ in doc.quotes)
    lowered = [t.folded for t in toks]
    # "According to Duda, ..." / "Według Błaszczaka ..." / "Zdaniem ministra ..."
    joined = " ".join(lowered)
    for marker in doc.lex.reported_markers:
        if joined.startswith(marker + " "):
            after_marker = toks[len(marker.split())]
            named = doc.officials_in(after_marker.start, end)
            comma = doc.text.find(",", after_marker.start, end)
            if named and comma > 0 and named[0].end <= comma:
                return _make_reported(doc, named[0].key, comma + 1, end, has_quote, 0.8)
    for i, tok in enumerate(toks):
        if tok.folded not in doc.lex.speech_verbs:
            continue
        speaker = _subject_before(doc, toks, i, start)
        if speaker is None:
            continue
        # "stressed that ..." at once; "told reporters that", "assured Pahor ... that" later
        reach = 2 if tok.folded in doc.lex.bare_report_verbs else 9
        that = next(
            (
                k
                for k in range(i + 1, min(len(toks), i + reach))
                if toks[k].text.lower() in doc.lex.that
            ),
            None,
        )
        if that is not None:
            return _make_reported(doc, speaker, toks[that].end, end, has_quote, 0.8)
        # "CLAUSE, X said." — the clause before the subject
        comma = doc.text.rfind(",", start, toks[max(0, i - 1)].start)
        subject_start = _subject_start(doc, toks, i)
        if (
            comma > start
            and subject_start is not None
            and not doc.text[comma:subject_start].strip(", ")
        ):
            return _make_reported(doc, speaker, start, comma, has_quote, 0.8)
        if tok.folded in doc.lex.bare_report_verbs or tok.folded in ("said", "says"):
            if tok.folded in doc.lex.bare_report_verbs:
                return _make_reported(doc, speaker, start, end, has_quote, 0.7)
            return _make_reported(doc, speaker, tok.end, end, has_quote, 0.7)
        return None
    return None


def _subject_before(doc: Document, toks: list, i: int, start: int) -> str | None:
    """The official who is the subject of the speech verb at toks[i], if any."""
    window = toks[max(0, i - 5) : i]
    if window:
        named = [m for m in doc.officials_in(window[0].start, toks[i].start) if not m.is_object]
        if named:
            return named[-1].key
    words = [t.folded for t in window]
    if set(words) & doc.lex.subject_pronouns or set(words) & doc.lex.post_nouns:
        return doc.salient_official(toks[i].start, _state_in_window(doc, start, toks[i].start))
    if doc.language == "pl" and i <= 1:  # "Dodał, że ..." — the subject is the last speaker
        return doc.salient_official(toks[i].start)
    return None


def _subject_start(doc: Document, toks: list, i: int) -> int | None:
    window = toks[max(0, i - 6) : i]
    if not window:
        return None
    named = doc.officials_in(window[0].start, toks[i].start)
    if not named:
        return None
    # Extend left over the post phrase ("Polish Foreign Minister Radoslaw Sikorski").
    first = named[0]
    for phrase in doc.post_phrases:
        if phrase.end <= first.start and first.start - phrase.end <= 2:
            return phrase.start
    k = next(j for j, t in enumerate(toks) if t.start == first.start)
    while (
        k > 0
        and toks[k - 1].text[:1].isupper()
        and doc.text[toks[k - 1].end : toks[k].start] == " "
    ):
        k -= 1
    return toks[k].start


def _make_reported(
    doc: Document, speaker: str, start: int, end: int, has_quote: bool, confidence: float
) -> Statement | None:
    first_quote = next((qs - 1 for qs, _ in doc.quotes if start <= qs - 1 < end), None)
    clause_end = first_quote if first_quote is not None else end
    clause = doc.text[start:clause_end]
    stripped = clause.strip().strip("*").strip()
    lead = len(clause) - len(clause.lstrip().lstrip("*").lstrip())
    text = stripped.rstrip(" ,;:–—-").strip()
    words = len(text.split())
    if words < MIN_REPORTED_WORDS:
        return None
    if has_quote:
        introduces_quote = first_quote is not None and clause.rstrip().endswith(",")
        if not (introduces_quote and words >= MIN_REPORTED_WORDS_BEFORE_QUOTE):
            return None
    s = start + lead
    mentions = sorted({f"{m.type}:{m.key}" for m in doc.mentions if s <= m.start < s + len(text)})
    return Statement(
        speaker=speaker,
        quote=text,
        direct=False,
        evidence=Span(s, s + len(text), text),
        mentions=mentions,
        confidence=confidence,
    )


def _fold_all(words: list[str]) -> list[str]:
    return [fold(w) for w in words]
