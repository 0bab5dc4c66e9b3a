"""Extract stage: an `Article` -> an `ArticleRecord` of linked entities, meetings and statements.

Public API: `extract(article, reference) -> ArticleRecord`. The submodules are the steps:
`text` (tokens, sentences, quotations, debris), `names` (gazetteer, Polish inflection),
`mentions` (linking), `dates`, `statements`, `meetings`.
"""

from __future__ import annotations

from kg.extract.document import prepare
from kg.extract.lexicon import load_lexicon
from kg.extract.meetings import find_meetings
from kg.extract.mentions import MentionFinder, gazetteer_for
from kg.extract.record import ArticleRecord, Entity, Span
from kg.extract.statements import find_statements
from kg.read import SUPPORTED_LANGUAGES, Article
from kg.reference import Reference

# Bump when extraction output changes, so incremental builds know to redo articles.
EXTRACTOR_VERSION = "0.3.3"


def extract(article: Article, ref: Reference) -> ArticleRecord:
    lex = load_lexicon(article.language)
    lexicons = {lang: load_lexicon(lang) for lang in SUPPORTED_LANGUAGES}
    doc = prepare(article.text, article.language, article.anchor_date, lex)
    finder = MentionFinder(
        doc.text,
        doc.toks,
        article.language,
        article.anchor_date,
        ref,
        lex,
        gazetteer_for(ref, lexicons),
    )
    doc.finder = finder
    doc.mentions = finder.run()
    record = ArticleRecord(article=article.to_json(), extractor_version=EXTRACTOR_VERSION)
    record.entities = _entities(doc, finder, ref, article)
    record.statements = find_statements(doc)
    for statement in record.statements:
        if not statement.mentions:
            s, e = statement.evidence.start, statement.evidence.end
            statement.mentions = sorted(
                {
                    f"{m.type}:{m.key}"
                    for m in doc.mentions
                    if s <= m.start < e and m.type != "Organisation"
                }
            )
    record.meetings, record.calls = find_meetings(doc, ref)
    _ensure_participants_are_entities(record, ref)
    return record


def _entities(doc, finder: MentionFinder, ref: Reference, article: Article) -> list[Entity]:
    entities: dict[tuple[str, str], Entity] = {}
    for m in doc.mentions:
        if m.type == "Organisation":
            continue
        key = (m.type, m.key)
        entity = entities.get(key)
        if entity is None:
            entity = _new_entity(m, finder, ref, article)
            if entity is None:
                continue
            entities[key] = entity
        entity.mentions.append(Span(m.start, m.end, doc.text[m.start : m.end]))
        entity.confidence = max(entity.confidence, m.confidence)
        if m.via != "post":
            entity.named = True
    return sorted(entities.values(), key=lambda e: (e.type, e.key))


def _new_entity(m, finder: MentionFinder, ref: Reference, article: Article) -> Entity | None:
    if m.type == "State":
        s = ref.states[m.key]
        return Entity("State", s.iso2, s.name_en, s.qid, confidence=m.confidence)
    if m.type == "Alliance":
        o = ref.organisations[m.key]
        return Entity("Alliance", o.key, o.name_en, o.qid, confidence=m.confidence)
    if m.type == "Place":
        p = ref.places[m.key]
        return Entity("Place", p.key, p.name_en, p.qid, confidence=m.confidence)
    if m.type == "Official":
        official = ref.officials.get(m.key)
        if official is not None:
            post = ref.post_held(official, article.anchor_date)
            return Entity(
                "Official",
                official.key,
                official.name_en,
                official.qid,
                confidence=m.confidence,
                linked_by=_linked_by(m.via),
                post_kind=post.kind if post else m.post_kind,
                post_label=post.label_en if post else None,
                post_key=post.key if post else None,
                state=(post.state if post else None) or official.citizen_of,
                named=m.via != "post",
            )
        new = finder.new_officials[m.key]
        return Entity(
            "Official",
            new.key,
            new.english_label,
            None,
            in_reference=False,
            confidence=m.confidence,
            linked_by="cue",
            post_kind=new.post_kind,
            post_label=_post_label(ref, new.post_kind, new.state),
            state=new.state,
        )
    return None


def _linked_by(via: str) -> str:
    return {"name": "exact", "surname": "exact", "adjective": "exact"}.get(via, via)


def _post_label(ref: Reference, kind: str | None, state: str | None) -> str | None:
    if kind is None or kind not in ref.post_kinds:
        return None
    template = ref.post_kinds[kind].label_en
    state_name = ref.states[state].name_en if state in ref.states else ""
    label = template.replace("{state}", state_name).strip()
    return label.removesuffix(" of").strip() if not state_name else label


def _ensure_participants_are_entities(record: ArticleRecord, ref: Reference) -> None:
    known = {(e.type, e.key) for e in record.entities}
    for meeting in record.meetings:
        for key in meeting.participant_states:
            if ("State", key) not in known and key in ref.states:
                s = ref.states[key]
                record.entities.append(Entity("State", key, s.name_en, s.qid))
                known.add(("State", key))
