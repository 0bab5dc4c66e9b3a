"""One synthetic article and its gold annotation, from a seeded random generator.

The scenario (a bilateral meeting, a multilateral ministerial, or statements alone), the day,
the officials (only those holding a post on that day), the quotation marks and the sentences
are drawn from `random.Random(f"{seed}/{index}")`, so article `index` is the same whatever the
corpus size. Every slot that puts a person, state, organisation or place into the text records
it in the gold annotation, so the gold lists exactly what the text names.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field
from typing import Any

from kg.reference import Official, Reference
from kg.synth.words import Words, inflect_name, inflect_phrase

FIRST_DAY = dt.date(2016, 1, 4)
LAST_DAY = dt.date(2024, 9, 30)
UNLINKABLE_STATES = {"RU", "IR"}  # their officials speak but do not meet the others here
QUOTE_MARKS = {"en": [('"', '"'), ("“", "”")], "pl": [("„", "”"), ('"', '"'), ("“", "”")]}
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass
class Person:
    """An official as one article refers to them."""

    official: Official
    post_key: str
    phrase: str  # post phrase in the nominative, e.g. "Lithuanian Defence Minister"
    mentions: list[str] = field(default_factory=list)  # states/alliances the phrase names
    name: str = ""  # in the article's language (Polish transliteration in Polish texts)


@dataclass
class Gold:
    officials: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: list[str] = field(default_factory=list)
    alliances: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    meetings: list[dict[str, Any]] = field(default_factory=list)
    statements: list[dict[str, Any]] = field(default_factory=list)

    def note(self, kind: str, name: str) -> None:
        names = getattr(self, kind)
        if name not in names:
            names.append(name)


@dataclass
class SynthArticle:
    id: str
    language: str
    published: dt.date | None
    title: str
    publisher: str
    text: str
    gold: dict[str, Any]


class Writer:
    """Fills templates for one article and records in `gold` what each slot names."""

    def __init__(self, rng: random.Random, words: Words, ref: Reference, day: dt.date) -> None:
        self.rng, self.words, self.ref, self.day = rng, words, ref, day
        self.gold = Gold()
        self.people: dict[str, Person] = {}
        self.place: str | None = None
        self.org: str | None = None
        self.ministers = ""
        self.when = ""
        self.when2 = ""
        self.speaker: str | None = None
        self.marks = rng.choice(QUOTE_MARKS[words.lang])
        self.recording = True
        self.unused_quotes = list(words["quotes"])
        self.unused_claims = list(words["claims"])
        rng.shuffle(self.unused_quotes)
        rng.shuffle(self.unused_claims)

    # -- people -------------------------------------------------------------------------
    def person(self, role: str, official: Official) -> Person:
        post = self.ref.post_held(official, self.day)
        assert post is not None, official.key
        phrase, mentions = self._post_phrase(post.key, post.kind, post.state, post.org)
        name = (
            official.name_pl if self.words.lang == "pl" and official.name_pl else official.name_en
        )
        person = Person(official, post.key, phrase, mentions, name)
        self.people[role] = person
        return person

    def _post_phrase(
        self, post_key: str, kind: str, state: str | None, org: str | None
    ) -> tuple[str, list[str]]:
        table = self.words["post_phrases"]
        entry = table["by_post"].get(post_key) or table["by_kind"].get(kind) or "{adj} official"
        if isinstance(entry, dict):  # Polish: home (an official of Poland) or abroad
            entry = entry["home" if state == "PL" else "abroad"]
        mentions = []
        values = {"adj": "", "state_gen": "", "org": ""}
        if state and state in self.ref.states:
            s = self.ref.states[state]
            values["adj"] = s.adjectives_en[0] if s.adjectives_en else s.name_en
            values["state_gen"] = s.name_pl_genitive
            if "{adj}" in entry or "{state_gen}" in entry:
                mentions.append(f"states:{s.name_en}")
        if org and org in self.ref.organisations:
            o = self.ref.organisations[org]
            values["org"] = o.name_en if self.words.lang == "en" else o.name_pl
            if "{org}" in entry and o.is_alliance:
                mentions.append(f"alliances:{o.name_en}")
        return entry.format(**values).strip(), mentions

    def _record_person(self, person: Person, written: str, named: bool) -> None:
        if not self.recording:
            return
        for mention in person.mentions if written != person.name else []:
            kind, name = mention.split(":", 1)
            self.gold.note(kind, name)
        key = person.official.key
        post = self.ref.posts[person.post_key]
        if key not in self.gold.officials:
            holder_of = (
                self.ref.states[post.state].name_en
                if post.state in self.ref.states
                else self.ref.organisations[post.org].name_en
                if post.org in self.ref.organisations
                else None
            )
            entry: dict[str, Any] = {"name": person.official.name_en, "state": holder_of}
            entry["role"] = post.label_en
            if person.official.name_en not in written:
                entry["mention"] = written
            if not named:
                entry["named"] = False
            self.gold.officials[key] = entry
        elif named:
            self.gold.officials[key].pop("named", None)

    def full(self, role: str, case: str) -> str:
        """Post phrase and name, e.g. "ministrem obrony Litwy Arvydasem Anušauskasem"."""
        p = self.people[role]
        text = f"{self._phrase(p, case)} {self._name(p.name, case)}".strip()
        self._record_person(p, text, named=True)
        return text

    def by_post(self, role: str, case: str) -> str:
        """The official by post alone, where they are the one holder on the day; else in full."""
        p = self.people[role]
        if self.ref.holders(p.post_key, self.day) != [p.official] or not p.mentions:
            return self.full(role, case)
        phrase = self._phrase(p, case)
        text = phrase if self.words.lang == "pl" else f"the {phrase}"
        self._record_person(p, phrase, named=False)
        return text

    def name(self, role: str, case: str, surname: bool) -> str:
        p = self.people[role]
        text = self._name(p.name.split()[-1] if surname else p.name, case)
        self._record_person(p, text, named=True)
        return text

    def _phrase(self, p: Person, case: str) -> str:
        return (
            inflect_phrase(p.phrase, case, self.words.polish)
            if self.words.lang == "pl"
            else p.phrase
        )

    def _name(self, name: str, case: str) -> str:
        return inflect_name(name, case, self.words.polish) if self.words.lang == "pl" else name

    # -- templates ----------------------------------------------------------------------
    def fill(self, template: str) -> str:
        """The template with its slots filled, as a sentence (first letter upper case)."""
        text = _SLOT.sub(lambda m: self.slot(m.group(1)), template)
        return text[:1].upper() + text[1:]

    def slot(self, name: str) -> str:  # noqa: C901 - a dispatch table over the slot names
        role, _, rest = name.partition("_")
        if role in ("A", "B", "S"):
            return self._person_slot(role, rest)
        if name in ("place", "place_loc", "place_loc_cap"):
            return self._place_slot(name)
        if name in ("when", "when_cap", "when2"):
            text = self.when2 if name == "when2" else self.when
            return text[:1].upper() + text[1:] if name == "when_cap" else text
        if name == "ministers":
            if self.recording and self.org:
                self.gold.note("alliances", self.ref.organisations[self.org].name_en)
            return self.ministers
        if name in ("oq", "cq"):
            return self.marks[0 if name == "oq" else 1]
        if name in ("quote", "claim"):
            return self._statement(direct=name == "quote")
        if name.startswith("topic"):
            topic = self.rng.choice(self.words["topics"])
            return topic if isinstance(topic, str) else topic[name.split("_")[1]]
        raise KeyError(f"unknown slot {{{name}}}")

    def _person_slot(self, role: str, rest: str) -> str:
        if role == "S" and self.speaker:
            role = self.speaker
        parts = rest.split("_") if rest else []
        case = next((c for c in ("gen", "ins", "acc") if c in parts), "nom")
        case = "gen" if case == "acc" else case  # masculine persons: accusative = genitive
        if "post" in parts:
            return self.by_post(role, case)
        if "name" in parts or "surname" in parts:
            return self.name(role, case, surname="surname" in parts)
        return self.full(role, case)

    def _place_slot(self, name: str) -> str:
        assert self.place is not None
        place = self.ref.places[self.place]
        if self.recording:
            self.gold.note("places", place.name_en)
        if name == "place":
            return place.name_en if self.words.lang == "en" else (place.name_pl or place.name_en)
        text = self.words.polish["place_locative"][self.place]
        return text[:1].upper() + text[1:] if name.endswith("_cap") else text

    def _statement(self, direct: bool) -> str:
        pool = self.unused_quotes if direct else self.unused_claims
        if not pool:
            pool.extend(self.words["quotes" if direct else "claims"])
        text = pool.pop()
        role = self.speaker or "S"
        if self.recording:
            speaker = self.people[role].official.name_en
            self.gold.statements.append({"speaker": speaker, "direct": direct, "text": text})
        return text


# -- dates -------------------------------------------------------------------------------
def day_phrase(words: Words, day: dt.date, published: dt.date | None, rng: random.Random) -> str:
    """How the text names `day`: relative to `published` where known, else in full."""
    lang = words.lang
    month = (
        words["months"][day.month - 1] if lang == "en" else words.polish["months"][day.month - 1]
    )
    if published is None:
        return (
            f"on {day.day} {month} {day.year}"
            if lang == "en"
            else f"{day.day} {month} {day.year} r."
        )
    gap = (published - day).days
    choices = ["weekday", "explicit"] + (["relative"] if gap in (0, 1) else [])
    choice = rng.choice(choices)
    relative = words["relative_days"] if lang == "en" else words.polish["relative_days"]
    if choice == "relative":
        return relative[gap]
    if choice == "weekday":
        wd = day.weekday()
        return f"on {words['weekdays'][wd]}" if lang == "en" else words.polish["weekdays"][wd]
    return f"on {day.day} {month}" if lang == "en" else f"{day.day} {month}"


def two_days(words: Words, day: dt.date) -> str:
    wd = day.weekday()
    if words.lang == "en":
        return f"on {words['weekdays'][wd]} and {words['weekdays'][(wd + 1) % 7]}"
    first, second = words.polish["weekdays"][wd], words.polish["weekdays"][(wd + 1) % 7]
    return f"{first} i {second.split(' ', 1)[1]}"
