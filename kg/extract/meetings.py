"""Meetings reported as held: who took part, where, when, and which alliance convened them.

A sentence reports a meeting when it holds a meeting cue ("met", "talks with", "spotkał się z",
"spotkanie ministrów"); phone and video calls are kept apart. Participants are the officials
the sentence names, plus its subject when the sentence leaves it implicit ("Spotkał się z ...",
"the two presidents"). A ministerial meeting of an alliance ("meeting of NATO foreign
ministers") counts the article's officials holding that post for a member state.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from kg.extract.dates import DateMention, find_dates, last_weekday
from kg.extract.document import Document
from kg.extract.record import Call, Meeting, Span
from kg.extract.text import Region
from kg.reference import Reference


def find_meetings(doc: Document, ref: Reference) -> tuple[list[Meeting], list[Call]]:
    dates = find_dates(doc.text, doc.lex, doc.anchor)
    meetings: list[Meeting] = []
    calls: list[Call] = []
    # The last sentence about a gathering, and the meeting read from it (if any).
    gathering: tuple[Region, Meeting | None] | None = None
    for sentence in doc.sentences:
        words = _words_outside_quotes(doc, sentence)
        if _has_cue(words, doc.lex.call_cues):
            participants = _participants(doc, sentence)
            if participants:
                span = Span(sentence.start, sentence.end, doc.text[sentence.start : sentence.end])
                calls.append(Call(sorted(participants), span))
            gathering = None
            continue
        if _has_cue(words, doc.lex.future_markers):
            gathering = None  # a coming meeting is not one held
            continue
        if not _has_cue(words, doc.lex.meeting_cues):
            if gathering is not None and _hosts_the_gathering(doc, gathering[0], sentence, words):
                _complete_with_hosts(doc, ref, meetings, gathering, sentence, dates)
            about_gathering = _has_cue(words, doc.lex.gathering_nouns)
            gathering = (sentence, None) if about_gathering else None
            continue
        meeting = _meeting_in(doc, ref, sentence, words, dates)
        if meeting is not None:
            meetings.append(meeting)
        gathering = (sentence, meeting)
    meetings = _merge(meetings)
    _inherit_place(meetings)
    return meetings, calls


def _hosts_the_gathering(doc: Document, before: Region, sentence: Region, words: str) -> bool:
    """ "Gospodarzami spotkania byli X i Y", "The talks were chaired by X", right after a
    sentence about a gathering in the same paragraph."""
    return _has_cue(words, doc.lex.host_cues) and doc.paragraph_index(
        before.start
    ) == doc.paragraph_index(sentence.start)


def _complete_with_hosts(
    doc: Document,
    ref: Reference,
    meetings: list[Meeting],
    gathering: tuple[Region, Meeting | None],
    sentence: Region,
    dates: list[DateMention],
) -> None:
    """The gathering and its hosts read as one sentence: the hosts join its participants."""
    before, meeting = gathering
    both = Region(before.start, sentence.end)
    combined = _meeting_in(doc, ref, both, _words_outside_quotes(doc, both), dates)
    if combined is None:
        return
    if meeting is not None and meeting in meetings:
        meetings.remove(meeting)
    meetings.append(combined)


def _words_outside_quotes(doc: Document, sentence: Region) -> str:
    particles = doc.lex.particles
    toks = doc.unquoted_tokens_between(sentence.start, sentence.end)
    return " " + " ".join([t.folded for t in toks if t.folded not in particles]) + " "


def _has_cue(words: str, cues: tuple[str, ...]) -> bool:
    """Whether `words` (as made by `_words_outside_quotes`) hold one of `cues` as whole words."""
    return any(map(words.__contains__, _spaced(cues)))


@lru_cache(maxsize=64)
def _spaced(cues: tuple[str, ...]) -> tuple[str, ...]:
    """The cues with a space either side, made once per lexicon list rather than per sentence."""
    return tuple(f" {cue} " for cue in cues)


def _participants(doc: Document, sentence: Region) -> set[str]:
    named = doc.officials_in(sentence.start, sentence.end)
    keys = {m.key for m in named}
    if not any(not m.is_object for m in named):
        subject = doc.salient_official(sentence.start, *_subject_post(doc, sentence))
        if subject is not None:
            keys.add(subject)
    return keys


def _subject_post(doc: Document, sentence: Region) -> tuple[str | None, str | None]:
    """The state and post kind of a subject named only by a post nobody could be linked to
    ("the German minister", "szef MON"): the implicit subject must be that state's official
    holding such a post."""
    for p in doc.post_phrases:
        if sentence.start <= p.start < sentence.end and not (p.resolved or p.is_object or p.plural):
            return (p.states[0] if len(set(p.states)) == 1 else None), p.kind
    return None, None


def _meeting_in(
    doc: Document, ref: Reference, sentence: Region, words: str, dates: list[DateMention]
) -> Meeting | None:
    participants = _participants(doc, sentence)
    states = sorted(
        {
            s
            for p in doc.post_phrases
            if sentence.start <= p.start < sentence.end and p.plural
            for s in p.states
        }
    )
    organizer = _organizer(doc, sentence) if _has_cue(words, doc.lex.multilateral_cues) else None
    if organizer is not None:
        participants |= _ministerial_participants(doc, ref, sentence, organizer)
    if len(participants) + len(states) < 2 and organizer is None:
        return None
    if not participants:
        return None
    start, end = _meeting_dates(doc, sentence, dates, words)
    place = next(
        (
            m.key
            for m in doc.mentions
            if m.type == "Place" and sentence.start <= m.start < sentence.end
        ),
        None,
    )
    kind = "multilateral" if organizer or len(participants) + len(states) > 2 else "bilateral"
    return Meeting(
        participants=sorted(participants),
        participant_states=states,
        place=place,
        start=start.isoformat() if start else None,
        end=end.isoformat() if end and end != start else None,
        kind=kind,
        organizer=organizer,
        evidence=[Span(sentence.start, sentence.end, doc.text[sentence.start : sentence.end])],
        confidence=0.8 if len(participants) >= 2 else 0.6,
    )


def _organizer(doc: Document, sentence: Region) -> str | None:
    for m in doc.mentions:
        if m.type == "Alliance" and sentence.start <= m.start < sentence.end:
            return m.key
    return None


def _ministerial_participants(
    doc: Document, ref: Reference, sentence: Region, organizer: str
) -> set[str]:
    """Officials of the article who hold the post the meeting gathers, for a member state."""
    kinds = {
        p.kind for p in doc.post_phrases if sentence.start <= p.start < sentence.end and p.kind
    }
    kinds.discard("minister")
    if not kinds:
        return set()
    members = set(ref.organisations[organizer].members) if organizer in ref.organisations else set()
    found = set()
    for m in doc.mentions:
        if m.type != "Official":
            continue
        official = ref.officials.get(m.key)
        if official is not None:
            post = ref.post_held(official, doc.anchor)
            kind, state = (post.kind, post.state) if post else (m.post_kind, m.state)
        else:
            kind, state = m.post_kind, m.state
        if kind in kinds and (not members or state in members):
            found.add(m.key)
    return found


def _meeting_dates(
    doc: Document, sentence: Region, dates: list[DateMention], words: str
) -> tuple[dt.date | None, dt.date | None]:
    inside = [
        d for d in dates if sentence.start <= d.start < sentence.end and not doc.in_quote(d.start)
    ]
    if not inside:
        return None, None
    first = inside[0].day
    if len(inside) >= 2:
        second = inside[1]
        last = second.day
        if second.weekday_only and last < first:  # "w środę i czwartek": the days that follow
            last = first + dt.timedelta(days=(last.weekday() - first.weekday()) % 7)
        return (first, last) if last >= first else (last, first)
    length = next((n for w, n in doc.lex.multi_day.items() if f" {w} " in words), None)
    ends = any(f" {w} " in words for w in doc.lex.ending_words)
    if length and ends:
        end = inside[0].day
        if inside[0].weekday_only and doc.anchor is not None:
            end = last_weekday(doc.anchor, end.weekday())
        return end - dt.timedelta(days=length - 1), end
    if length:
        return first, first + dt.timedelta(days=length - 1)
    return first, None


def _merge(meetings: list[Meeting]) -> list[Meeting]:
    """Mentions of one meeting in one article become one Meeting."""
    merged: list[Meeting] = []
    for meeting in meetings:
        same = next((m for m in merged if _same_meeting(m, meeting)), None)
        if same is None:
            merged.append(meeting)
            continue
        same.start = same.start or meeting.start
        same.end = same.end or meeting.end
        same.place = same.place or meeting.place
        same.organizer = same.organizer or meeting.organizer
        same.kind = "multilateral" if "multilateral" in (same.kind, meeting.kind) else same.kind
        same.evidence.extend(meeting.evidence)
        same.confidence = max(same.confidence, meeting.confidence)
    return merged


def _same_meeting(a: Meeting, b: Meeting) -> bool:
    small, large = sorted((set(a.participants), set(b.participants)), key=len)
    if a.participant_states != b.participant_states:
        return False
    # One person's mention of a meeting joins the meeting they are named in, but talks on the
    # sidelines of a ministerial are not the ministerial itself.
    if not (small == large or (small <= large and a.organizer == b.organizer and len(small) == 1)):
        return False
    if a.organizer and b.organizer and a.organizer != b.organizer:
        return False
    if a.start and b.start and a.start != b.start:
        return False
    return not (a.place and b.place and a.place != b.place)


def _inherit_place(meetings: list[Meeting]) -> None:
    """Talks on the sidelines of a ministerial meeting happen where it is held."""
    hosts = {m.place for m in meetings if m.organizer and m.place}
    if len(hosts) != 1:
        return
    place = hosts.pop()
    for m in meetings:
        if m.place is None and m.start is None:
            m.place = place
