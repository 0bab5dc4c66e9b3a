"""Map stage: extraction records and reference tables -> TriG, through jinja2 templates.

Templates (kg/templates/*.trig.jinja) receive typed view objects built here and write every
term through the escaping filters of `kg.rdfterms`: `iri`, `str`, `lang`, `date`, `bool`,
`int`, `dec`, `wd`. Rendered output is parsed strictly (`parse_trig`) before it is loaded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jinja2
import pyoxigraph as ox

from kg import rdfterms as t
from kg.extract.record import ArticleRecord
from kg.extract.text import fold, slug
from kg.reference import Reference

TEMPLATES = Path(__file__).resolve().parent / "templates"
R = t.RESOURCE


def article_iri(article_id: str) -> str:
    return f"{R}article/{article_id}"


def entity_iri(type_: str, key: str) -> str:
    prefix = {"State": "state", "Alliance": "org", "Official": "official", "Place": "place"}[type_]
    return f"{R}{prefix}/{key}"


def post_iri(key: str) -> str:
    return f"{R}post/{key}"


def key_digest(*parts: object) -> str:
    """The hash an IRI derived from these key parts ends in."""
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


def meeting_iri(
    participants: list[str],
    states: list[str],
    start: str | None,
    place: str | None,
    organizer: str | None,
    article_id: str,
) -> str:
    # Without a date two meetings of the same people cannot be told apart: keep them per article.
    scope = start if start else f"article:{article_id}"
    return f"{R}meeting/{key_digest(sorted(participants), sorted(states), scope, place, organizer)}"


def statement_iri(speaker: str, quote: str) -> str:
    return f"{R}statement/{key_digest(speaker, ' '.join(fold(quote).split()))}"


# -- view objects the templates receive --------------------------------------------------
@dataclass(frozen=True)
class Label:
    value: str
    lang: str


@dataclass
class PostView:
    iri: str
    labels: list[Label]
    of: str
    kind: str
    qid: str | None = None


@dataclass
class PositionView:
    iri: str
    post: str
    start: str | None = None
    end: str | None = None


@dataclass
class EntityView:
    iri: str
    types: list[str]
    labels: list[Label]
    alt_labels: list[Label] = field(default_factory=list)
    qid: str | None = None
    iso_code: str | None = None
    citizen_of: str | None = None
    positions: list[PositionView] = field(default_factory=list)
    members: list[str] = field(default_factory=list)


@dataclass
class EvidenceView:
    iri: str
    start: int
    end: int
    confidence: float


@dataclass
class MeetingView:
    iri: str
    label: str
    participants: list[str]
    participant_states: list[str]
    place: str | None
    start: str | None
    end: str | None
    organizer: str | None
    kind: str
    evidence: list[EvidenceView]
    curated: bool


@dataclass
class StatementView:
    iri: str
    speaker: str
    quote: str
    lang: str
    direct: bool
    mentions: list[str]
    evidence: EvidenceView
    curated: bool


@dataclass
class ArticleView:
    iri: str
    identifier: str
    language: str
    title: str | None
    issued: str | None
    listed: str | None  # the listing date: published, else the reference date
    publisher: str | None
    url: str | None
    extractor: str
    extractor_version: str
    curated: bool
    mentions: list[str]
    officials: list[EntityView]
    posts: list[PostView]
    meetings: list[MeetingView]
    statements: list[StatementView]


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # RDF escaping is done by the filters below, never HTML escaping
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        iri=t.iri,
        str=t.string,
        lang=t.lang_literal,
        date=t.date_literal,
        bool=t.boolean_literal,
        int=t.integer_literal,
        dec=t.decimal_literal,
        wd=t.wikidata_iri,
    )
    return env


def render(template: str, **context: object) -> str:
    return _environment().get_template(template).render(**context)


# -- article -----------------------------------------------------------------------------
def article_view(record: ArticleRecord, ref: Reference) -> ArticleView:
    art = record.article
    a_iri = article_iri(art["id"])
    lang = art["language"]
    mentions = [entity_iri(e.type, e.key) for e in record.entities]
    officials, posts = _new_officials(record, ref)

    def evidence(start: int, end: int, confidence: float) -> EvidenceView:
        return EvidenceView(f"{R}evidence/{art['id']}/{start}-{end}", start, end, confidence)

    label_of = {e.key: e.label for e in record.entities if e.type == "Official"}
    meetings = []
    for m in record.meetings:
        names = [label_of.get(p, p) for p in m.participants]
        meetings.append(
            MeetingView(
                iri=meeting_iri(
                    m.participants, m.participant_states, m.start, m.place, m.organizer, art["id"]
                ),
                label="Meeting of " + _join(names)
                if len(names) > 1
                else f"Meeting attended by {names[0]}",
                participants=[entity_iri("Official", p) for p in m.participants],
                participant_states=[entity_iri("State", s) for s in m.participant_states],
                place=entity_iri("Place", m.place) if m.place else None,
                start=m.start,
                end=m.end,
                organizer=entity_iri("Alliance", m.organizer) if m.organizer else None,
                kind=m.kind,
                evidence=[evidence(s.start, s.end, m.confidence) for s in m.evidence],
                curated=m.curated,
            )
        )
    statements = [
        StatementView(
            iri=statement_iri(s.speaker, s.quote),
            speaker=entity_iri("Official", s.speaker),
            quote=s.quote,
            lang=lang,
            direct=s.direct,
            mentions=[
                entity_iri(*m.split(":", 1))
                for m in s.mentions
                if m.split(":", 1)[0] in ("State", "Alliance", "Official", "Place")
            ],
            evidence=evidence(s.evidence.start, s.evidence.end, s.confidence),
            curated=s.curated,
        )
        for s in record.statements
    ]
    return ArticleView(
        iri=a_iri,
        identifier=art["id"],
        language=lang,
        title=art.get("title"),
        issued=art.get("published"),
        listed=art.get("published") or art.get("reference_date"),
        publisher=art.get("publisher"),
        url=art.get("url"),
        extractor=f"{R}extractor/{record.extractor_version}",
        extractor_version=record.extractor_version,
        curated=record.curated,
        mentions=mentions,
        officials=officials,
        posts=posts,
        meetings=meetings,
        statements=statements,
    )


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _new_officials(
    record: ArticleRecord, ref: Reference
) -> tuple[list[EntityView], list[PostView]]:
    """Officials the reference data does not know: described in the article's own graph."""
    officials, posts = [], {}
    for e in record.entities:
        if e.type != "Official" or e.in_reference:
            continue
        view = EntityView(
            entity_iri("Official", e.key), [f"{t.ONTOLOGY}Official"], [Label(e.label, "en")]
        )
        if e.post_kind and e.state and e.state in ref.states:
            key = f"{e.state.lower()}-{e.post_kind}"
            known = ref.posts_of(e.post_kind, state=e.state)
            p_iri = post_iri(known[0].key) if known else post_iri(key)
            if not known:
                posts[p_iri] = PostView(
                    p_iri,
                    _post_labels(ref, e.post_kind, e.state),
                    entity_iri("State", e.state),
                    e.post_kind,
                )
            view.positions.append(
                PositionView(f"{R}position/{e.key}/{p_iri.rsplit('/', 1)[1]}/undated", p_iri)
            )
        officials.append(view)
    return officials, list(posts.values())


def _post_labels(ref: Reference, kind: str, state: str) -> list[Label]:
    pk = ref.post_kinds.get(kind)
    s = ref.states[state]
    if pk is None:
        return [Label(f"{kind} ({s.name_en})", "en")]
    en = pk.label_en.replace("{state}", s.name_en)
    pl = pk.label_pl.replace("{state_genitive}", s.name_pl_genitive).replace("{state}", s.name_pl)
    return [Label(en, "en"), Label(pl, "pl")]


def render_article(record: ArticleRecord, ref: Reference) -> str:
    return render("article.trig.jinja", a=article_view(record, ref), O=t.ONTOLOGY)


# -- reference ---------------------------------------------------------------------------
def reference_views(ref: Reference) -> dict[str, list]:
    o = t.ONTOLOGY
    states = [
        EntityView(
            entity_iri("State", s.iso2),
            [f"{o}State"],
            [Label(s.name_en, "en"), Label(s.name_pl, "pl")],
            [Label(a, "en") for a in s.aliases_en] + [Label(a, "pl") for a in s.aliases_pl],
            qid=s.qid,
            iso_code=s.iso2,
        )
        for s in ref.states.values()
    ]
    alliances = []
    for org in ref.organisations.values():
        if not org.is_alliance:
            continue
        extra = {
            "military-alliance": f"{o}MilitaryAlliance",
            "intergovernmental-organisation": f"{o}IntergovernmentalOrganisation",
        }.get(org.kind)
        alliances.append(
            EntityView(
                entity_iri("Alliance", org.key),
                [f"{o}Alliance"] + ([extra] if extra else []),
                [Label(org.name_en, "en"), Label(org.name_pl, "pl")],
                [Label(a, "en") for a in org.aliases_en] + [Label(a, "pl") for a in org.aliases_pl],
                qid=org.qid,
                members=[entity_iri("State", m) for m in org.members if m in ref.states],
            )
        )
    posts = []
    for p in ref.posts.values():
        of = (
            entity_iri("State", p.state)
            if p.state in ref.states
            else (
                entity_iri("Alliance", p.org)
                if p.org in ref.organisations and ref.organisations[p.org].is_alliance
                else None
            )
        )
        if of is None:
            continue
        labels = [Label(p.label_en, "en")] + ([Label(p.label_pl, "pl")] if p.label_pl else [])
        posts.append(PostView(post_iri(p.key), labels, of, p.kind, p.qid))
    post_iris = {p.iri for p in posts}
    officials = []
    for off in ref.officials.values():
        labels = [Label(off.name_en, "en")] + ([Label(off.name_pl, "pl")] if off.name_pl else [])
        positions = [
            PositionView(
                f"{R}position/{off.key}/{tn.post}/{_date_key(tn.start)}",
                post_iri(tn.post),
                tn.start.isoformat() if tn.start else None,
                tn.end.isoformat() if tn.end else None,
            )
            for tn in off.posts
            if post_iri(tn.post) in post_iris
        ]
        officials.append(
            EntityView(
                entity_iri("Official", off.key),
                [f"{o}Official"],
                labels,
                [Label(a, "en") for a in off.aliases],
                qid=off.qid,
                citizen_of=entity_iri("State", off.citizen_of)
                if off.citizen_of in ref.states
                else None,
                positions=positions,
            )
        )
    places = [
        EntityView(
            entity_iri("Place", p.key),
            [f"{o}Place"],
            [Label(p.name_en, "en")] + ([Label(p.name_pl, "pl")] if p.name_pl else []),
            [Label(a, "en") for a in p.aliases_en] + [Label(a, "pl") for a in p.aliases_pl],
            qid=p.qid,
        )
        for p in ref.places.values()
    ]
    return {
        "states": states,
        "alliances": alliances,
        "posts": posts,
        "officials": officials,
        "places": places,
    }


def _date_key(day: object) -> str:
    return day.isoformat() if day is not None else "undated"  # type: ignore[attr-defined]


def render_reference(ref: Reference) -> str:
    return render(
        "reference.trig.jinja", graph=t.REFERENCE_GRAPH, O=t.ONTOLOGY, **reference_views(ref)
    )


def parse_trig(text: str, source: str) -> list[ox.Quad]:
    """Parse rendered TriG strictly; a template bug surfaces here, never in the store."""
    try:
        return list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TRIG))
    except SyntaxError as exc:
        raise ValueError(f"{source}: rendered TriG does not parse: {exc}") from exc


def slug_key(text: str) -> str:
    return slug(text)
