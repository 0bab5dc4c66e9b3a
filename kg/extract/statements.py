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
# Words a post cue may put between a marker and the name ("Według unijnego komisarza ds. ...").
MAX_CUE_WORDS = 8
# At most this many words after a speech verb: it closes the sentence ("..., officials said.").
MAX_TRAILING_WORDS = 4


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
        outer = doc.outer_quote(qs, qe)
        if outer is not None:  # "When President Duda told me, 'Poland ...,' he spoke ..."
            speaker = _speaker_inside(doc, outer[0], qs)
            if speaker is not None:
                found.append(_direct(doc, speaker, qs, qe, 0.75))
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
        doc.attributions.append((qe, speaker))
        found.append(_direct(doc, speaker, qs, qe, confidence))
    return found


def _direct(doc: Document, speaker: str, qs: int, qe: int, confidence: float) -> Statement:
    quote = doc.text[qs:qe]
    return Statement(
        speaker=speaker,
        quote=quote,
        direct=True,
        evidence=Span(qs, qe, quote),
        confidence=confidence,
        fragment=_embedded(doc, qs) and len(quote.split()) <= FRAGMENT_MAX_WORDS,
    )


def _speaker_inside(doc: Document, start: int, qs: int) -> str | None:
    """The speaker of a quote inside a quote: the subject of a speech verb the outer speaker
    uses before it ("Minister X powiedział mi wczoraj: «...»"); none, a quoted term."""
    toks = doc.tokens_between(start, qs)
    verb = next((k for k, t in enumerate(toks) if t.folded in doc.lex.speech_verbs), None)
    if verb is None:
        return None
    named = [
        m
        for m in doc.officials_in(start, toks[verb].start, outside_quotes=False)
        if not m.is_object
    ]
    return named[-1].key if named else None


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
    before = doc.unquoted_tokens_between(start, qs)
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
    seen: set[tuple[str, str]] = set()
    for sentence in doc.sentences:
        statements = _reported_in_sentence(doc, sentence.start, sentence.end)
        for statement in _outermost(statements):
            if (statement.speaker, statement.quote) not in seen:
                seen.add((statement.speaker, statement.quote))
                found.append(statement)
    return found


def _outermost(statements: list[Statement]) -> list[Statement]:
    """A speaker's words reported inside their own reported words ("Duda said that he assured
    Pahor that ...") are one statement; another speaker's nested inside are kept apart."""
    return [
        s
        for s in statements
        if not any(
            o is not s
            and o.speaker == s.speaker
            and o.evidence.start <= s.evidence.start
            and s.evidence.end <= o.evidence.end
            and (o.evidence.start, o.evidence.end) != (s.evidence.start, s.evidence.end)
            for o in statements
        )
    ]


def _reported_in_sentence(doc: Document, start: int, end: int) -> list[Statement]:
    toks = doc.unquoted_tokens_between(start, end)
    if len(toks) < 3:
        return []
    has_quote = any(start <= qs < end and not _inside_clause(doc, qs) for qs, _ in doc.quotes)
    found: list[Statement] = []
    # "According to Duda, ..." / "Według Błaszczaka ..." / "Jak dodał szef MON, ..."
    marker_verb, marked = _by_marker(doc, toks, end, has_quote)
    if marked is not None:
        found.append(marked)
    for i, tok in enumerate(toks):
        if tok.folded not in doc.lex.speech_verbs or i == marker_verb:
            continue
        for speaker in _subjects_before(doc, toks, i, start):
            found += _content_of_verb(doc, toks, i, speaker, start, end, has_quote)
    return found


def _inside_clause(doc: Document, qs: int) -> bool:
    """A quote that stands inside the reporter's clause (Rosja „podejmie ... kroki”, jeśli ...)
    rather than opening the reported words (said that “...”): the clause runs through it."""
    before = doc.tokens_between(max(0, qs - 40), qs - 1)
    if not before or not re.fullmatch(r"\s", doc.text[before[-1].end : qs - 1] or "x"):
        return False
    word = before[-1].folded
    if word in doc.lex.that or word in doc.lex.speech_verbs:
        return False
    quote = next(q for q in doc.quotes if q[0] == qs)
    inner = doc.text[qs : quote[1]].rstrip()
    after = doc.text[quote[1] + 1 : quote[1] + 12]
    goes_on = not inner.endswith((".", "!", "?")) and re.match(r"[ ,]*\w", after) is not None
    return len(doc.text[qs : quote[1]].split()) <= FRAGMENT_MAX_WORDS and goes_on


def _by_marker(
    doc: Document, toks: list, end: int, has_quote: bool
) -> tuple[int | None, Statement | None]:
    lowered = [t.folded for t in toks]
    for marker in doc.lex.reported_markers:
        n = len(marker.split())
        if lowered[:n] == marker.split() and len(toks) > n:
            speaker, speaker_end = _speaker_after_marker(doc, toks, n, end)
            if speaker is None:
                return None, None
            content = _after_apposition(doc, speaker_end, end)
            return None, _make_reported(doc, speaker, content, end, has_quote, 0.8)
    verb = next(
        (k for k in range(1, min(4, len(toks))) if lowered[k] in doc.lex.speech_verbs), None
    )
    if lowered[0] in doc.lex.as_markers and verb is not None:
        return verb, _as_clause(doc, toks, verb, end, has_quote)
    return None, None


def _speaker_after_marker(doc: Document, toks: list, n: int, end: int) -> tuple[str | None, int]:
    """The speaker right after "according to" / "według" / "zdaniem": a name (a post cue before
    it allowed), a post phrase, or a bare post noun; and where that phrase ends."""
    k = n
    while k < len(toks) - 1 and toks[k].folded in doc.lex.determiners:
        k += 1
    first = toks[k]
    phrase = next((p for p in doc.post_phrases if p.start == first.start), None)
    if phrase is not None:
        return _phrase_speaker(doc, phrase), phrase.end
    comma = doc.text.find(",", first.start, end)
    limit = comma if comma > 0 else end
    named = doc.officials_in(first.start, limit)
    if named and len(doc.tokens_between(first.start, named[0].start)) <= MAX_CUE_WORDS:
        return named[0].key, named[0].end
    if first.folded in doc.lex.post_nouns:
        return doc.salient_official(first.start), first.end
    return None, first.end


def _phrase_speaker(doc: Document, phrase) -> str | None:
    if phrase.resolved:
        return phrase.resolved
    if phrase.plural:
        return None
    state = phrase.states[0] if len(set(phrase.states)) == 1 else None
    return doc.salient_official(phrase.start, state, phrase.kind)


def _after_apposition(doc: Document, pos: int, end: int) -> int:
    """Where the reported words start after the speaker: past a comma, and past an apposition
    naming the post ("Według Siergieja Ławrowa, szefa rosyjskiej dyplomacji, Waszyngton ...")."""
    rest = doc.text[pos:end]
    if not rest.lstrip().startswith(","):
        return pos
    first_comma = pos + rest.index(",")
    second = doc.text.find(",", first_comma + 1, end)
    if second > 0:
        inner = doc.tokens_between(first_comma, second)
        posts = any(first_comma < p.start < second for p in doc.post_phrases)
        if posts or (inner and inner[0].folded in doc.lex.post_nouns | doc.lex.determiners):
            return second + 1
    return first_comma + 1


def _as_clause(doc: Document, toks: list, verb: int, end: int, has_quote: bool) -> Statement | None:
    """ "Jak dodał, ...", "Jak poinformował szef MON, ...", "As Sikorski noted, ...": the
    speaker stands between the verb and the comma, or is the last one (a null subject)."""
    comma = doc.text.find(",", toks[verb].end, end)
    if comma < 0:
        return None
    between = [t for t in toks[verb + 1 :] if t.end <= comma]
    if any(t.folded in doc.lex.organisation_words for t in between):
        return None  # an office passes the words on: "Jak przekazała Kancelaria Prezydenta"
    named = doc.officials_in(toks[verb].end, comma)
    phrase = next((p for p in doc.post_phrases if toks[verb].end <= p.start < comma), None)
    if named:
        speaker = named[0].key
    elif phrase is not None:
        speaker = _phrase_speaker(doc, phrase)
    elif any(t.capitalised for t in between):
        return None
    else:
        speaker = doc.salient_official(toks[verb].start)
    if speaker is None:
        return None
    return _make_reported(doc, speaker, comma + 1, end, has_quote, 0.75)


def _content_of_verb(
    doc: Document, toks: list, i: int, speaker: str, start: int, end: int, has_quote: bool
) -> list[Statement]:
    tok = toks[i]
    after = _same_line_after(doc, toks, i)
    adverbial = bool(after) and after[0].folded in doc.lex.adverbial_words
    bare = tok.folded in doc.lex.bare_report_verbs
    that = _that_after(doc, toks, i, 2 if bare and not adverbial else 9)
    if that is not None:
        return [
            s
            for a, b in _that_clauses(doc, toks, that, end)
            if (s := _make_reported(doc, speaker, a, b, has_quote, 0.8)) is not None
        ]
    if tok.folded in doc.lex.speech_participles:  # "..., saying each ally made ..."
        return _listed(_make_reported(doc, speaker, tok.end, end, has_quote, 0.7))
    # "thanked Poland for ...", "said no decision was taken" carry their content in a few
    # words; "said on Monday.", "told a briefing." do not
    short = len(after) <= MAX_TRAILING_WORDS
    if bare:
        trailing = not after or (adverbial and short)
    elif tok.folded in doc.lex.bare_clause_verbs:
        trailing = not after or adverbial
    else:
        trailing = short
    if trailing:
        return _listed(_clause_before_subject(doc, toks, i, speaker, start, has_quote))
    if bare:
        return _listed(_make_reported(doc, speaker, start, end, has_quote, 0.7))
    if tok.folded in doc.lex.bare_clause_verbs:  # "Pistorius said no decision had been taken."
        return _listed(_make_reported(doc, speaker, tok.end, end, has_quote, 0.7))
    return []


def _listed(statement: Statement | None) -> list[Statement]:
    return [] if statement is None else [statement]


def _that_after(doc: Document, toks: list, i: int, reach: int) -> int | None:
    """ "stressed that ..." at once; "told reporters that", "assured Pahor ... that" later."""
    return next(
        (
            k
            for k in range(i + 1, min(len(toks), i + reach))
            if toks[k].text.lower() in doc.lex.that
        ),
        None,
    )


def _that_clauses(doc: Document, toks: list, that: int, end: int) -> list[tuple[int, int]]:
    """ "said that A, and that B": two propositions, one statement each ("A and that B", with
    no comma, stays one)."""
    spans = []
    start = toks[that].end
    for k in range(that + 1, len(toks) - 1):
        a, b = toks[k], toks[k + 1]
        joined = a.folded in doc.lex.coordinators and b.text.lower() in doc.lex.that
        if joined and doc.text[toks[k - 1].end : a.start].strip() == ",":
            spans.append((start, toks[k - 1].end))
            start = b.end
    spans.append((start, end))
    return spans


def _clause_before_subject(
    doc: Document, toks: list, i: int, speaker: str, start: int, has_quote: bool
) -> Statement | None:
    """ "CLAUSE, X said." — the clause before the subject."""
    comma = doc.text.rfind(",", start, toks[max(0, i - 1)].start)
    subject_start = _subject_start(doc, toks, i)
    if (
        comma > start
        and subject_start is not None
        and not doc.text[comma:subject_start].strip(", ")
    ):
        return _make_reported(doc, speaker, start, comma, has_quote, 0.8)
    return None


def _same_line_after(doc: Document, toks: list, i: int) -> list:
    """The words after the verb up to the end of its line: a clause never runs on into a
    heading on the next line."""
    out = []
    for tok in toks[i + 1 :]:
        if "\n" in doc.text[toks[i].end : tok.start]:
            break
        out.append(tok)
    return out


def _subjects_before(doc: Document, toks: list, i: int, start: int) -> list[str]:
    """The officials who are the subject of the speech verb at toks[i]: one, or several joined
    by "and" / "i" ("Austin and Pistorius pledged")."""
    verb = toks[i]
    if i and toks[i - 1].folded in doc.lex.organisation_words:
        return []  # "the president's office said": an office is never the speaker
    if verb.folded in doc.lex.speech_participles:
        named = [m for m in doc.officials_in(start, verb.start) if not m.is_object]
        if named:
            return [named[0].key]
        speaker = doc.salient_official(verb.start)
        return [speaker] if speaker else []
    last = _official_right_before(doc, toks, i, start)
    if last is not None and i and toks[i - 1].folded in doc.lex.relative_pronouns:
        return [last.key]  # "Tillerson, who assured him": an object may be the antecedent
    if last is not None:
        chain = _coordinated(doc, last, start)
        if chain is not None:
            return [m.key for m in chain]
    window = toks[max(0, i - 5) : i]
    phrase = next(
        (
            p
            for p in reversed(doc.post_phrases)
            if window and window[0].start <= p.start < verb.start
        ),
        None,
    )
    if phrase is not None and not phrase.is_object:
        speaker = _phrase_speaker(doc, phrase)
        return [speaker] if speaker else []
    words = {t.folded for t in window}
    if words & doc.lex.subject_pronouns or words & doc.lex.post_nouns:
        speaker = doc.salient_official(verb.start, _state_in_window(doc, start, verb.start))
        return [speaker] if speaker else []
    if doc.language == "pl" and i <= 1:  # "Dodał, że ..." — the subject is the last speaker
        speaker = doc.salient_official(verb.start)
        return [speaker] if speaker else []
    return []


def _official_right_before(doc: Document, toks: list, i: int, start: int):
    """The official named last before the verb: within a few words, or before a parenthesis
    set off by commas ("Minister Sikorski, pytany o szczyt, stwierdził") or a relative pronoun
    ("Tillerson, who assured him")."""
    named = doc.officials_in(start, toks[i].start)
    if not named:
        return None
    last = named[-1]
    gap = [t for t in toks[:i] if t.start >= last.end]
    if len(gap) <= 4:
        return last
    between = doc.text[last.end : toks[i].start].strip()
    relative = gap[-1].folded in doc.lex.relative_pronouns
    if between.startswith(",") and (between.endswith(",") or relative):
        inner = doc.tokens_between(last.end, toks[i].start)
        if not any(t.folded in doc.lex.speech_verbs for t in inner):
            return last
    return None


def _coordinated(doc: Document, last, start: int) -> list | None:
    """The chain of officials joined by "and" that ends in `last`; None when its head is an
    object ("met Kuleba and Aurescu")."""
    chain = [last]
    named = doc.officials_in(start, last.start)
    for m in reversed(named):
        gap = doc.tokens_between(m.end, chain[0].start)
        joined = gap and gap[0].folded in doc.lex.coordinators and len(gap) <= MAX_CUE_WORDS
        if joined and "," not in doc.text[m.end : chain[0].start]:
            chain.insert(0, m)
            continue
        break
    return None if chain[0].is_object else chain


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
    first_quote = next(
        (qs - 1 for qs, _ in doc.quotes if start <= qs - 1 < end and not _inside_clause(doc, qs)),
        None,
    )
    clause_end = first_quote if first_quote is not None else end
    clause = doc.text[start:clause_end]
    stripped = clause.strip().strip("*").strip()
    lead = len(clause) - len(clause.lstrip().lstrip("*").lstrip())
    text = stripped.rstrip(" ,;:–—-").strip()
    words = len(text.split())
    if words < MIN_REPORTED_WORDS:
        return None
    # the words before a quote are reported speech only when they say something themselves
    if has_quote and first_quote is not None and words < MIN_REPORTED_WORDS_BEFORE_QUOTE:
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
