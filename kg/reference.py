"""Reference data: the editable tables under data/reference/ loaded into typed records.

Extraction links mentions to these records; mapping turns them into the reference graph.
Every loader error names the file and the row.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kg.errors import InputError
from kg.read import safe_yaml

DEFAULT_REFERENCE_DIR = Path("data/reference")


@dataclass(frozen=True)
class State:
    iso2: str
    qid: str | None
    name_en: str
    name_pl: str
    name_pl_genitive: str
    aliases_en: tuple[str, ...] = ()
    aliases_pl: tuple[str, ...] = ()
    adjectives_en: tuple[str, ...] = ()
    adjectives_pl: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.iso2


@dataclass(frozen=True)
class Organisation:
    key: str
    qid: str | None
    kind: str
    name_en: str
    name_pl: str
    aliases_en: tuple[str, ...] = ()
    aliases_pl: tuple[str, ...] = ()
    weak_aliases_en: tuple[str, ...] = ()
    weak_aliases_pl: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    state: str | None = None

    @property
    def is_alliance(self) -> bool:
        """Alliances and intergovernmental organisations of states (not national bodies)."""
        return self.kind in ("military-alliance", "intergovernmental-organisation", "alliance")


@dataclass(frozen=True)
class PostKind:
    kind: str
    label_en: str
    label_pl: str
    cues_en: tuple[str, ...] = ()
    cues_pl: tuple[str, ...] = ()


@dataclass(frozen=True)
class Post:
    key: str
    kind: str
    label_en: str
    label_pl: str | None
    qid: str | None
    state: str | None = None
    org: str | None = None


@dataclass(frozen=True)
class Tenure:
    post: str
    start: dt.date | None
    end: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Official:
    key: str
    name_en: str
    name_pl: str | None
    qid: str | None
    aliases: tuple[str, ...] = ()
    citizen_of: str | None = None
    posts: tuple[Tenure, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for n in (self.name_en, self.name_pl, *self.aliases) if n))


@dataclass(frozen=True)
class Place:
    key: str
    qid: str | None
    name_en: str
    name_pl: str | None
    aliases_en: tuple[str, ...] = ()
    aliases_pl: tuple[str, ...] = ()
    state: str | None = None


@dataclass
class Reference:
    """All reference tables, with look-ups by key."""

    states: dict[str, State] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    post_kinds: dict[str, PostKind] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)
    officials: dict[str, Official] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)
    source_dir: Path | None = None

    def holders(self, post_key: str, day: dt.date | None) -> list[Official]:
        """Officials who held the post on `day` (every holder when the day is unknown)."""
        found = []
        for official in self.officials.values():
            for tenure in official.posts:
                if tenure.post == post_key and (day is None or tenure.covers(day)):
                    found.append(official)
                    break
        return found

    def posts_of(self, kind: str, state: str | None = None, org: str | None = None) -> list[Post]:
        return [
            p
            for p in self.posts.values()
            if p.kind == kind
            and (state is None or p.state == state)
            and (org is None or p.org == org)
        ]

    def post_held(self, official: Official, day: dt.date | None) -> Post | None:
        """The official's post on `day` (their first listed post when the day is unknown)."""
        for tenure in official.posts:
            if day is None or tenure.covers(day):
                return self.posts.get(tenure.post)
        return None


def load_reference(folder: Path = DEFAULT_REFERENCE_DIR) -> Reference:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "no such reference folder")
    ref = Reference(source_dir=folder)
    ref.states = {s.iso2: s for s in _load_states(folder / "states.csv")}
    ref.organisations = {o.key: o for o in _load_list(folder / "organisations.yaml", _organisation)}
    ref.post_kinds = {k.kind: k for k in _load_list(folder / "post-kinds.yaml", _post_kind)}
    ref.posts = {p.key: p for p in _load_list(folder / "posts.yaml", _post)}
    ref.officials = {o.key: o for o in _load_list(folder / "officials.yaml", _official)}
    ref.places = {p.key: p for p in _load_list(folder / "places.yaml", _place)}
    return ref


def _split(cell: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (cell or "").split("|") if v.strip())


def _load_states(path: Path) -> list[State]:
    if not path.exists():
        raise InputError(path, "missing reference table")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    states = []
    for line, row in enumerate(rows, start=2):
        try:
            states.append(
                State(
                    iso2=row["iso2"].strip(),
                    qid=(row.get("qid") or "").strip() or None,
                    name_en=row["name_en"].strip(),
                    name_pl=row["name_pl"].strip(),
                    name_pl_genitive=(row.get("name_pl_genitive") or row["name_pl"]).strip(),
                    aliases_en=_split(row.get("aliases_en")),
                    aliases_pl=_split(row.get("aliases_pl")),
                    adjectives_en=_split(row.get("adjectives_en")),
                    adjectives_pl=_split(row.get("adjectives_pl")),
                )
            )
        except (KeyError, AttributeError) as exc:
            raise InputError(path, f"row is missing column {exc}", line) from exc
    return states


def _load_list(path: Path, make: Any) -> list[Any]:
    if not path.exists():
        raise InputError(path, "missing reference table")
    try:
        data = safe_yaml(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(path, "not valid YAML", mark.line + 1 if mark else None) from exc
    if isinstance(data, dict):  # a table may be written as {items: [...]} or a bare list
        data = next((v for v in data.values() if isinstance(v, list)), [])
    records = []
    for index, item in enumerate(data, start=1):
        try:
            records.append(make(item))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(path, f"entry {index} ({item!r:.80}) is malformed: {exc}") from exc
    return records


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return _split(value)
    return tuple(str(v) for v in value if v)


def _opt(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _organisation(item: dict[str, Any]) -> Organisation:
    return Organisation(
        key=item["key"],
        qid=_opt(item.get("qid")),
        kind=item.get("kind", "intergovernmental-organisation"),
        name_en=item["name_en"],
        name_pl=item.get("name_pl") or item["name_en"],
        aliases_en=_tuple(item.get("aliases_en")),
        aliases_pl=_tuple(item.get("aliases_pl")),
        weak_aliases_en=_tuple(item.get("weak_aliases_en")),
        weak_aliases_pl=_tuple(item.get("weak_aliases_pl")),
        members=_tuple(item.get("members")),
        state=_opt(item.get("state")),
    )


def _post_kind(item: dict[str, Any]) -> PostKind:
    return PostKind(
        kind=item["kind"],
        label_en=item.get("label_en") or item["kind"],
        label_pl=item.get("label_pl") or item.get("label_en") or item["kind"],
        cues_en=_tuple(item.get("cues_en")) + _tuple(item.get("cues_en_us")),
        cues_pl=_tuple(item.get("cues_pl")),
    )


def _post(item: dict[str, Any]) -> Post:
    return Post(
        key=item["key"],
        kind=item["kind"],
        label_en=item["label_en"],
        label_pl=_opt(item.get("label_pl")),
        qid=_opt(item.get("qid")),
        state=_opt(item.get("state")),
        org=_opt(item.get("org")),
    )


def _official(item: dict[str, Any]) -> Official:
    return Official(
        key=item["key"],
        name_en=item["name_en"],
        name_pl=_opt(item.get("name_pl")),
        qid=_opt(item.get("qid")),
        aliases=_tuple(item.get("aliases")),
        citizen_of=_opt(item.get("citizen_of")),
        posts=tuple(
            Tenure(post=p["post"], start=_date(p.get("start")), end=_date(p.get("end")))
            for p in item.get("posts") or ()
        ),
    )


def _place(item: dict[str, Any]) -> Place:
    return Place(
        key=item["key"],
        qid=_opt(item.get("qid")),
        name_en=item["name_en"],
        name_pl=_opt(item.get("name_pl")),
        aliases_en=_tuple(item.get("aliases_en")),
        aliases_pl=_tuple(item.get("aliases_pl")),
        state=_opt(item.get("state")),
    )
