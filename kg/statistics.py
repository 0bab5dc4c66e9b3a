"""Statistics stage: the counts behind the whole-corpus saved queries, kept up to date by the
build instead of computed by the store at query time.

Any SPARQL join over every article costs Oxigraph seconds at 100,000 articles, so a question
such as "how many articles per publisher" cannot be answered interactively from the article
graphs. Instead:

1. each article's worker lists what the article adds to each count (`contribution`: one key
   per thing counted), kept in the article's cache entry;
2. the build sums the keys into a `Tally`: a full build adds every article's keys, a rebuild
   subtracts the keys of changed and removed articles and adds the new ones, so it never reads
   the store;
3. the tally becomes RDF Data Cube observations (`qb:Observation`) in the named graph
   `GRAPH`, through the template statistics.trig.jinja; the aggregate saved queries read them.

The same graph holds the calendar: for each official or state, the listing days of the articles
that report it taking part in a meeting or speaking (`dkg:participantOn`,
`dkg:participantStateOn`, `dkg:speakerOn`), and the days on which the meetings of the articles
start (`dkg:meetingStartDay`). The listings that page by days (an official's timeline, a state's
meetings, the meetings of a date range) read their days there, a few thousand at most, instead
of reading every article or meeting with its date: Oxigraph has no index by date.

`tally_of_quads` computes the same tally from a whole dataset at once: the fixtures use it, and
the tests hold every build's statistics to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

import pyoxigraph as ox

from kg import map
from kg import rdfterms as t

GRAPH = t.STATISTICS_GRAPH
DATASET = t.RESOURCE + "statistics/"

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_DCT = "http://purl.org/dc/terms/"
_ARTICLE, _STATE, _MEETING = (t.ONTOLOGY + c for c in ("Article", "State", "Meeting"))
_MENTIONS, _LOCATION, _START = (t.ONTOLOGY + p for p in ("mentions", "location", "startDate"))
_LISTING = t.ONTOLOGY + "listingDate"
#: The roles the calendar keeps days of: a meeting's participant or participating state, a
#: statement's speaker. The calendar property of each is the role's name + "On".
CALENDAR_ROLES = ("participant", "participantState", "speaker")
_ROLES = {t.ONTOLOGY + role: role for role in CALENDAR_ROLES}
_LANGUAGE, _PUBLISHER = _DCT + "language", _DCT + "publisher"

# The kinds of key, the first item of each: the rest of the key is what is counted.
PUBLISHED = "published"  # publisher ("" when none), language: one article
MENTIONED = "mentioned"  # entity: one article that names it
PAIRED = "paired"  # state, state (in IRI order): one article that names both
MET = "met"  # place, meeting, start date ("" when none): one graph that says so
DAY = "day"  # role, entity, listing date: one article of that day that gives it that role
MEETING_DAY = "meetingday"  # start date: one article with a meeting that starts that day

Key = tuple[str, ...]


def contribution(article_iri: str, quads: Iterable[ox.Quad], states: frozenset[str]) -> list[Key]:
    """What one article's graph adds to the tally. ``states``: the IRIs typed dkg:State outside
    the article (the reference graph); the article's own graph may type more."""
    facts = _ArticleFacts(article_iri)
    for quad in quads:
        facts.take(quad)
    return facts.keys(states)


@dataclass
class _ArticleFacts:
    article: str
    is_article: bool = False
    languages: list[str] = field(default_factory=list)
    publishers: list[str] = field(default_factory=list)
    mentioned: set[str] = field(default_factory=set)
    states: set[str] = field(default_factory=set)
    meetings: set[str] = field(default_factory=set)
    places: dict[str, list[str]] = field(default_factory=dict)
    starts: dict[str, list[str]] = field(default_factory=dict)
    roles: set[tuple[str, str]] = field(default_factory=set)
    listed: list[str] = field(default_factory=list)

    def take(self, quad: ox.Quad) -> None:
        s, p, o = quad.subject.value, quad.predicate.value, quad.object.value
        if p == _RDF_TYPE:
            if o == _STATE:
                self.states.add(s)
            elif o == _MEETING:
                self.meetings.add(s)
            elif o == _ARTICLE and s == self.article:
                self.is_article = True
        elif p == _MENTIONS and s == self.article:
            self.mentioned.add(o)
        elif p == _LOCATION:
            self.places.setdefault(s, []).append(o)
        elif p == _START:
            self.starts.setdefault(s, []).append(o)
        elif p in _ROLES:
            self.roles.add((_ROLES[p], o))
        elif p == _LISTING and s == self.article:
            self.listed.append(o)
        elif s == self.article and p == _LANGUAGE:
            self.languages.append(o)
        elif s == self.article and p == _PUBLISHER:
            self.publishers.append(o)

    def keys(self, states: frozenset[str]) -> list[Key]:
        keys: list[Key] = []
        if self.is_article:
            for language in self.languages:
                keys += [(PUBLISHED, p, language) for p in self.publishers or [""]]
        keys += [(MENTIONED, entity) for entity in sorted(self.mentioned)]
        named = sorted(e for e in self.mentioned if e in states or e in self.states)
        keys += [(PAIRED, a, b) for a, b in combinations(named, 2)]
        for meeting in sorted(self.meetings):
            for place in self.places.get(meeting, []):
                keys += [(MET, place, meeting, d) for d in self.starts.get(meeting) or [""]]
        for role, entity in sorted(self.roles):
            keys += [(DAY, role, entity, day) for day in sorted(set(self.listed))]
        starts = {day for meeting in self.meetings for day in self.starts.get(meeting, [])}
        keys += [(MEETING_DAY, day) for day in sorted(starts)]
        return keys


class Tally:
    """The counts of every key over the articles of a build."""

    def __init__(self, counts: Counter[Key] | None = None) -> None:
        self.counts: Counter[Key] = counts if counts is not None else Counter()

    def add(self, keys: Iterable[Iterable[str]]) -> None:
        self.counts.update(tuple(k) for k in keys)

    def subtract(self, keys: Iterable[Iterable[str]]) -> None:
        self.counts.subtract(tuple(k) for k in keys)

    def to_json(self) -> list[list[str | int]]:
        return [[*key, n] for key, n in sorted(self.counts.items()) if n > 0]

    @classmethod
    def from_json(cls, rows: list[list[str | int]]) -> Tally:
        return cls(Counter({tuple(row[:-1]): row[-1] for row in rows}))  # type: ignore[misc]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tally) and +self.counts == +other.counts

    def view(self) -> StatisticsView:
        """The observations the template writes, in a stable order."""
        view = StatisticsView(GRAPH, DATASET)
        places: dict[str, set[str]] = {}
        dates: dict[str, list[str]] = {}
        days: dict[tuple[str, str], list[str]] = {}
        for key, n in sorted(self.counts.items()):
            if n <= 0:
                continue
            kind, *rest = key
            if kind == PUBLISHED:
                view.published.append(_observation("published", rest, n))
            elif kind == MENTIONED:
                view.mentioned.append(_observation("mentioned", rest, n))
            elif kind == PAIRED:
                view.paired.append(_observation("paired", rest, n))
            elif kind == MET:
                place, meeting, date = rest
                places.setdefault(place, set()).add(meeting)
                if date:
                    dates.setdefault(place, []).append(date)
            elif kind == DAY:
                role, entity, day = rest
                days.setdefault((role, entity), []).append(day)
            elif kind == MEETING_DAY:
                view.meeting_days.append(rest[0])
        for place in sorted(places):
            found = dates.get(place, [])
            view.met.append(
                _observation(
                    "met",
                    [place],
                    len(places[place]),
                    min(found) if found else None,
                    max(found) if found else None,
                )
            )
        view.calendar = [
            Days(t.ONTOLOGY + role + "On", entity, listed)
            for (role, entity), listed in sorted(days.items())
        ]
        return view


@dataclass
class Observation:
    iri: str
    dimensions: list[str]
    count: int
    first: str | None = None
    last: str | None = None


@dataclass
class Days:
    """The calendar of one entity in one role: ``entity property day`` for each day."""

    property: str
    entity: str
    days: list[str]


@dataclass
class StatisticsView:
    graph: str
    dataset: str
    published: list[Observation] = field(default_factory=list)
    mentioned: list[Observation] = field(default_factory=list)
    paired: list[Observation] = field(default_factory=list)
    met: list[Observation] = field(default_factory=list)
    calendar: list[Days] = field(default_factory=list)
    meeting_days: list[str] = field(default_factory=list)  # in date order


def _observation(
    kind: str, dimensions: list[str], count: int, first: str | None = None, last: str | None = None
) -> Observation:
    iri = f"{DATASET}{kind}/{map.key_digest(*dimensions)}"
    return Observation(iri, dimensions, count, first, last)


def render(tally: Tally) -> str:
    """The statistics graph as TriG."""
    return map.render("statistics.trig.jinja", s=tally.view(), O=t.ONTOLOGY)


def quads(tally: Tally) -> list[ox.Quad]:
    return map.parse_trig(render(tally), "statistics graph")


def tally_of_quads(dataset: Iterable[ox.Quad]) -> Tally:
    """The tally of a whole dataset: every named graph whose name is an article IRI counts as
    that article's graph; a dkg:State typed in any graph is a state, as in the union graph."""
    quads = list(dataset)
    states = states_of(quads)
    graphs: dict[str, list[ox.Quad]] = {}
    for quad in quads:
        if isinstance(quad.graph_name, ox.NamedNode) and quad.graph_name.value.startswith(
            map.article_iri("")
        ):
            graphs.setdefault(quad.graph_name.value, []).append(quad)
    tally = Tally()
    for iri, graph in graphs.items():
        tally.add(contribution(iri, graph, states))
    return tally


def states_of(quads: Iterable[ox.Quad]) -> frozenset[str]:
    """The IRIs typed dkg:State in ``quads`` (the reference graph, for the workers)."""
    return frozenset(
        q.subject.value
        for q in quads
        if q.predicate.value == _RDF_TYPE and q.object.value == _STATE
    )
