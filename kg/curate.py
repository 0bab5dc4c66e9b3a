"""Curation: an analyst's corrections to one article's extraction, kept in a file.

`data/curation/ID.yaml` (ID = the article id) adds, removes or fixes entities, meetings and
statements; it is applied to the extraction record before mapping, so corrections survive
every rebuild, and what it changes is marked `dkg:curated true` in the graph. A correction
that does not fit the article (an unknown reference key, a quote that is not in the text, a
removal that matches nothing) is refused with the file and the entry named. The format is in
data/curation/README.md.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import yaml

from kg.errors import InputError
from kg.extract.record import ArticleRecord, Entity, Meeting, Span, Statement
from kg.extract.text import slug
from kg.read import Article
from kg.reference import Reference

SECTIONS = {"entities", "meetings", "statements"}
ACTIONS = {"add", "remove", "fix"}
ENTITY_TYPES = {"Official", "State", "Alliance", "Place"}


def curation_file(curation_dir: Path | None, article_id: str) -> Path | None:
    if curation_dir is None:
        return None
    path = Path(curation_dir) / f"{article_id}.yaml"
    return path if path.is_file() else None


def curated_ids(curation_dir: Path | None) -> frozenset[str]:
    """The ids of the articles ``curation_dir`` holds a correction for (``ID.yaml``): one
    listing of the folder, where asking for each article's file is a stat per article."""
    if curation_dir is None or not Path(curation_dir).is_dir():
        return frozenset()
    with os.scandir(curation_dir) as entries:
        return frozenset(
            e.name[: -len(".yaml")] for e in entries if e.name.endswith(".yaml") and e.is_file()
        )


def load_curation(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise InputError(path, "not UTF-8") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(path, "not valid YAML", mark.line + 1 if mark else None) from exc
    except ValueError as exc:  # YAML's own date parsing: "2024-13-01"
        raise InputError(path, f"not valid YAML: {exc}") from exc
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(path, "a curation file is a mapping (article, note, entities, ...)")
    unknown = set(data) - SECTIONS - {"article", "note", "curator"}
    if unknown:
        raise InputError(
            path,
            f"unknown key(s) {sorted(unknown)}; known: article, note, curator, "
            + ", ".join(sorted(SECTIONS)),
        )
    if data.get("article") not in (None, path.stem):
        raise InputError(path, f"`article: {data['article']}` does not match the file name")
    for section in SECTIONS & set(data):
        actions = data[section]
        if not isinstance(actions, dict) or set(actions) - ACTIONS:
            raise InputError(path, f"`{section}` takes add, remove and fix lists")
        for action, items in actions.items():
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise InputError(path, f"`{section}.{action}` must be a list of mappings")
    return data


def apply_curation(
    record: ArticleRecord, article: Article, path: Path, ref: Reference
) -> ArticleRecord:
    """Apply the corrections in `path` to `record` (in place) and return it."""
    data = load_curation(path)
    cur = _Curator(record, article, ref, path)
    for action in ("remove", "fix", "add"):
        for index, item in enumerate((data.get("entities") or {}).get(action) or [], start=1):
            cur.entity(action, item, f"entities.{action}[{index}]")
        for index, item in enumerate((data.get("meetings") or {}).get(action) or [], start=1):
            cur.meeting(action, item, f"meetings.{action}[{index}]")
        for index, item in enumerate((data.get("statements") or {}).get(action) or [], start=1):
            cur.statement(action, item, f"statements.{action}[{index}]")
    record.curated = True
    return record


class _Curator:
    def __init__(self, record: ArticleRecord, article: Article, ref: Reference, path: Path) -> None:
        self.record, self.article, self.ref, self.path = record, article, ref, path

    def fail(self, where: str, message: str) -> InputError:
        return InputError(self.path, f"{where}: {message}")

    # -- entities -------------------------------------------------------------------------
    def entity(self, action: str, item: dict[str, Any], where: str) -> None:
        type_ = item.get("type")
        if type_ not in ENTITY_TYPES:
            raise self.fail(where, f"type must be one of {sorted(ENTITY_TYPES)}")
        key = item.get("key") or (slug(item["label"]) if item.get("label") else None)
        if not key:
            raise self.fail(
                where, "give the entity's reference `key` (or a `label` for a new official)"
            )
        if action == "remove":
            before = len(self.record.entities)
            self.record.entities = [
                e for e in self.record.entities if (e.type, e.key) != (type_, key)
            ]
            if len(self.record.entities) == before:
                raise self.fail(where, f"no {type_} {key!r} in this article's extraction to remove")
            return
        entity = self.record.entity(type_, key)
        if action == "fix":
            if entity is None:
                raise self.fail(where, f"no {type_} {key!r} in this article's extraction to fix")
            for field_name, value in (item.get("set") or {}).items():
                if field_name not in ("label", "post_kind", "state"):
                    raise self.fail(where, f"cannot set {field_name!r} (label, post_kind, state)")
                setattr(entity, field_name, value)
            entity.linked_by = "curation"
            return
        if entity is None:
            self.record.entities.append(self._new_entity(type_, key, item, where))

    def _new_entity(self, type_: str, key: str, item: dict[str, Any], where: str) -> Entity:
        if type_ == "State":
            if key not in self.ref.states:
                raise self.fail(where, f"no state {key!r} in the reference data (ISO2 codes)")
            s = self.ref.states[key]
            return Entity("State", key, s.name_en, s.qid, linked_by="curation")
        if type_ == "Alliance":
            if key not in self.ref.organisations:
                raise self.fail(where, f"no organisation {key!r} in the reference data")
            o = self.ref.organisations[key]
            return Entity("Alliance", key, o.name_en, o.qid, linked_by="curation")
        if type_ == "Place":
            if key not in self.ref.places:
                raise self.fail(where, f"no place {key!r} in the reference data")
            p = self.ref.places[key]
            return Entity("Place", key, p.name_en, p.qid, linked_by="curation")
        official = self.ref.officials.get(key)
        if official is not None:
            return Entity(
                "Official",
                key,
                official.name_en,
                official.qid,
                linked_by="curation",
                state=official.citizen_of,
            )
        if not item.get("label"):
            raise self.fail(where, f"{key!r} is not in the reference data: give its `label`")
        state = item.get("state")
        if state is not None and state not in self.ref.states:
            raise self.fail(where, f"no state {state!r} in the reference data")
        return Entity(
            "Official",
            key,
            item["label"],
            None,
            in_reference=False,
            linked_by="curation",
            post_kind=item.get("post_kind"),
            state=state,
        )

    def _official(self, key: str, where: str) -> str:
        if self.record.entity("Official", key) is None:
            if key not in self.ref.officials:
                raise self.fail(
                    where, f"official {key!r} is neither in this article nor in the reference data"
                )
            self.entity("add", {"type": "Official", "key": key}, where)
        return key

    # -- meetings -------------------------------------------------------------------------
    def meeting(self, action: str, item: dict[str, Any], where: str) -> None:
        if action == "add":
            self.record.meetings.append(self._new_meeting(item, where))
            return
        match = item.get("match", item)
        wanted = set(match.get("participants") or [])
        if not wanted:
            raise self.fail(where, "match a meeting by its `participants` (official keys)")
        found = [m for m in self.record.meetings if set(m.participants) == wanted]
        if not found:
            raise self.fail(where, f"no meeting with participants {sorted(wanted)} to {action}")
        if action == "remove":
            self.record.meetings = [m for m in self.record.meetings if m not in found]
            return
        changes = item.get("set") or {}
        for meeting in found:
            self._set_meeting(meeting, changes, where)
            meeting.curated = True

    def _new_meeting(self, item: dict[str, Any], where: str) -> Meeting:
        participants = [self._official(k, where) for k in item.get("participants") or []]
        if not participants:
            raise self.fail(where, "a meeting needs `participants` (official keys)")
        meeting = Meeting(participants=sorted(participants), curated=True, confidence=1.0)
        self._set_meeting(meeting, {k: v for k, v in item.items() if k != "participants"}, where)
        if meeting.kind == "bilateral" and (
            len(participants) + len(meeting.participant_states) > 2 or meeting.organizer
        ):
            meeting.kind = "multilateral"
        return meeting

    def _set_meeting(self, meeting: Meeting, changes: dict[str, Any], where: str) -> None:
        for name, value in changes.items():
            if name in ("start", "end"):
                meeting.__setattr__(name, self._date(value, where) if value is not None else None)
            elif name == "place":
                if value is not None and value not in self.ref.places:
                    raise self.fail(where, f"no place {value!r} in the reference data")
                meeting.place = value
            elif name == "organizer":
                if value is not None and value not in self.ref.organisations:
                    raise self.fail(where, f"no organisation {value!r} in the reference data")
                meeting.organizer = value
            elif name == "participant_states":
                bad = [s for s in value or [] if s not in self.ref.states]
                if bad:
                    raise self.fail(where, f"no state(s) {bad} in the reference data")
                meeting.participant_states = sorted(value or [])
            elif name == "kind":
                if value not in ("bilateral", "multilateral"):
                    raise self.fail(where, "kind is bilateral or multilateral")
                meeting.kind = value
            else:
                raise self.fail(where, f"unknown meeting field {name!r}")

    def _date(self, value: Any, where: str) -> str:
        try:
            return (
                value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            ).isoformat()
        except ValueError as exc:
            raise self.fail(where, f"{value!r} is not a date (YYYY-MM-DD)") from exc

    # -- statements -----------------------------------------------------------------------
    def statement(self, action: str, item: dict[str, Any], where: str) -> None:
        if action == "add":
            self.record.statements.append(self._new_statement(item, where))
            return
        match = item.get("match", item)
        needle = match.get("quote_contains")
        if not needle:
            raise self.fail(where, "match a statement by `quote_contains` (words of its quote)")
        found = [
            s
            for s in self.record.statements
            if needle in s.quote and (match.get("speaker") in (None, s.speaker))
        ]
        if not found:
            raise self.fail(where, f"no statement whose quote contains {needle!r} to {action}")
        if action == "remove":
            self.record.statements = [s for s in self.record.statements if s not in found]
            return
        for statement in found:
            for name, value in (item.get("set") or {}).items():
                if name == "speaker":
                    statement.speaker = self._official(value, where)
                elif name == "direct":
                    statement.direct = bool(value)
                else:
                    raise self.fail(where, f"cannot set {name!r} (speaker, direct)")
            statement.curated = True

    def _new_statement(self, item: dict[str, Any], where: str) -> Statement:
        quote = item.get("quote")
        if not quote or not isinstance(quote, str):
            raise self.fail(where, "a statement needs its `quote`, as it stands in the article")
        start = self.article.text.find(quote)
        if start < 0:
            raise self.fail(where, "the quote is not in the article's text (copy it exactly)")
        speaker = self._official(str(item.get("speaker") or ""), where)
        return Statement(
            speaker=speaker,
            quote=quote,
            direct=bool(item.get("direct", True)),
            evidence=Span(start, start + len(quote), quote),
            confidence=1.0,
            curated=True,
        )
