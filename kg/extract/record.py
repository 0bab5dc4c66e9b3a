"""The extraction record: plain, JSON-serialisable data about one article.

Every item keeps its evidence (character offsets into `Article.text`, end exclusive) and a
confidence in [0, 1]. Entities are identified by `(type, key)`: reference keys for known
entities, a slug of the name for officials found only in the text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass
class Entity:
    """An official, state, alliance or place the article names."""

    type: str  # "Official" | "State" | "Alliance" | "Place"
    key: str
    label: str  # canonical English label (the text's own spelling for unknown officials)
    qid: str | None = None
    in_reference: bool = True
    mentions: list[Span] = field(default_factory=list)
    confidence: float = 1.0
    linked_by: str = "exact"  # exact | inflection | fuzzy | post | cue | curation
    post_kind: str | None = None  # officials only: the post the text gives them
    post_label: str | None = None
    post_key: str | None = None
    state: str | None = None  # officials: ISO2 of the state whose post they hold
    named: bool = True  # False: the text names only the post


@dataclass
class Meeting:
    participants: list[str]  # official keys
    participant_states: list[str] = field(default_factory=list)  # ISO2
    place: str | None = None  # place key
    start: str | None = None  # ISO date
    end: str | None = None
    kind: str = "bilateral"
    organizer: str | None = None  # organisation key
    evidence: list[Span] = field(default_factory=list)
    confidence: float = 0.8
    curated: bool = False


@dataclass
class Statement:
    speaker: str  # official key
    quote: str
    direct: bool
    evidence: Span
    mentions: list[str] = field(default_factory=list)  # "Type:key" of entities in the quote
    confidence: float = 0.8
    fragment: bool = False
    curated: bool = False


@dataclass
class Call:
    """A phone or video call: reported, but not a meeting."""

    participants: list[str]
    evidence: Span


@dataclass
class ArticleRecord:
    article: dict[str, Any]
    entities: list[Entity] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    extractor_version: str = ""
    curated: bool = False

    def entity(self, type_: str, key: str) -> Entity | None:
        for entity in self.entities:
            if entity.type == type_ and entity.key == key:
                return entity
        return None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
