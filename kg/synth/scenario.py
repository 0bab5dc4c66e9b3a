"""Scenarios of synthetic articles: who meets or speaks, where and when, in which sentences."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from kg.reference import Official, Reference
from kg.synth.article import (
    FIRST_DAY,
    LAST_DAY,
    UNLINKABLE_STATES,
    SynthArticle,
    Writer,
    day_phrase,
    two_days,
)
from kg.synth.words import Words

SCENARIOS = ("bilateral", "bilateral", "multilateral", "statement")


def article_id(seed: int, index: int) -> str:
    return f"synth-{seed}-{index:06d}"


def generate(index: int, seed: int, ref: Reference, words: dict[str, Words]) -> SynthArticle:
    """Article `index` of the corpus of `seed`: the same whatever the corpus size."""
    rng = random.Random(f"{seed}/{index}")
    lang = rng.choice(("en", "pl"))
    w = words[lang]
    day = FIRST_DAY + dt.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days))
    scenario = rng.choice(SCENARIOS)
    available = [o for o in ref.officials.values() if ref.post_held(o, day) is not None]
    meeting_people = [o for o in available if o.citizen_of not in UNLINKABLE_STATES]
    ministerial = _ministerial(w, ref, day, rng) if scenario == "multilateral" else None
    if scenario == "multilateral" and ministerial is None:
        scenario = "bilateral"
    if scenario == "bilateral" and len(meeting_people) < 2:
        scenario = "statement"
    two_day = False
    writer = Writer(rng, w, ref, day)
    if scenario == "bilateral":
        a, b = rng.sample(meeting_people, 2)
        writer.person("A", a)
        writer.person("B", b)
        writer.place = rng.choice(w["meeting_places"])
    elif scenario == "multilateral":
        assert ministerial is not None
        entry, official = ministerial
        writer.person("A", official)
        writer.place = rng.choice(entry["places"])
        writer.org, writer.ministers = entry["org"], entry["ministers"]
    else:
        writer.person("S", rng.choice(available))
        writer.place = rng.choice(w["meeting_places"])
    lead = rng.choice(w["leads"][scenario])
    two_day = "{when2}" in lead
    published = (
        None if rng.random() < 0.1 else day + dt.timedelta(days=rng.randint(int(two_day), 4))
    )
    writer.when = day_phrase(w, day, published, rng)
    writer.when2 = two_days(w, day) if published else writer.when
    paragraphs = [writer.fill(lead)]
    paragraphs += _body(writer, scenario, rng)
    if scenario != "statement":
        writer.gold.meetings.append(_gold_meeting(writer, scenario, day, two_day))
    writer.recording = False
    title = writer.fill(rng.choice(w["titles"][scenario]))
    text = _with_debris(paragraphs, w, rng)
    aid = article_id(seed, index)
    gold = {
        "article": aid,
        "language": lang,
        "published": published,
        "officials": list(writer.gold.officials.values()),
        "states": writer.gold.states,
        "alliances": writer.gold.alliances,
        "places": writer.gold.places,
        "meetings": writer.gold.meetings,
        "statements": writer.gold.statements,
    }
    publisher = rng.choice(w["publishers"])
    return SynthArticle(aid, lang, published, title, publisher, text, gold)


def _ministerial(
    w: Words, ref: Reference, day: dt.date, rng: random.Random
) -> tuple[dict[str, Any], Official] | None:
    """A ministerial meeting and an official of a member state who would attend it."""
    options = []
    for entry in w["ministerials"]:
        members = set(ref.organisations[entry["org"]].members)
        for official in ref.officials.values():
            post = ref.post_held(official, day)
            if post and post.kind == entry["kind"] and post.state in members:
                options.append((entry, official))
    return rng.choice(options) if options else None


def _body(writer: Writer, scenario: str, rng: random.Random) -> list[str]:
    """Quotes, reported speech and fillers after the lead, one or two sentences a paragraph."""
    w = writer.words
    speakers = ["S"] if scenario == "statement" else ["A"]
    if scenario == "bilateral":
        b = writer.gold.officials.get(writer.people["B"].official.key, {})
        if b.get("named", True):  # an official named by post alone is not quoted by name
            speakers.append("B")
    sentences = []
    for role in speakers:
        writer.speaker = role
        for _ in range(rng.randint(1, 2)):
            sentences.append(writer.fill(rng.choice(w["quote_frames"])))
        if rng.random() < 0.6:
            sentences.append(writer.fill(rng.choice(w["reported_frames"])))
    writer.speaker = None
    for _ in range(rng.randint(1, 2)):
        sentences.insert(rng.randint(0, len(sentences)), writer.fill(rng.choice(w["fillers"])))
    paragraphs, i = [], 0
    while i < len(sentences):
        size = rng.choice((1, 2))
        paragraphs.append(" ".join(sentences[i : i + size]))
        i += size
    return paragraphs


def _gold_meeting(writer: Writer, scenario: str, day: dt.date, two_day: bool) -> dict[str, Any]:
    ref = writer.ref
    roles = ["A", "B"] if scenario == "bilateral" else ["A"]
    meeting: dict[str, Any] = {
        "participants": [writer.people[r].official.name_en for r in roles],
        "place": ref.places[writer.place].name_en if writer.place else None,
        "date": day,
    }
    if two_day:
        meeting["end"] = day + dt.timedelta(days=1)
    meeting["kind"] = scenario
    if writer.org:
        meeting["organizer"] = ref.organisations[writer.org].name_en
    return meeting


def _with_debris(paragraphs: list[str], w: Words, rng: random.Random) -> str:
    """Paragraphs with a few lines of page furniture between or after them."""
    out = list(paragraphs)
    for _ in range(rng.randint(0, 3)):
        out.insert(rng.randint(1, len(out)), rng.choice(w["debris"]))
    return "\n\n".join(out) + "\n"
