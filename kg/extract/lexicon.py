"""Loads the per-language word lists in kg/lexicon/ (see its README)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from kg.extract.romanise import Romanisation
from kg.extract.text import fold
from kg.read import safe_yaml

LEXICON_DIR = Path(__file__).resolve().parents[1] / "lexicon"


@dataclass(frozen=True)
class Lexicon:
    language: str
    speech_verbs: frozenset[str]
    bare_report_verbs: frozenset[str]
    reported_markers: tuple[str, ...]
    that: frozenset[str]
    meeting_cues: tuple[str, ...]
    multilateral_cues: tuple[str, ...]
    call_cues: tuple[str, ...]
    subject_pronouns: frozenset[str]
    object_markers: frozenset[str]
    post_nouns: frozenset[str]
    weekdays: dict[str, int]
    months: dict[str, int]
    relative_days: dict[str, int]
    multi_day: dict[str, int]
    ending_words: tuple[str, ...]
    abbreviations: frozenset[str]
    debris: frozenset[str]
    institutions: dict[str, str]
    not_names: frozenset[str]
    particles: frozenset[str]
    counterpart_nouns: tuple[str, ...]
    former_words: frozenset[str]
    determiners: frozenset[str]
    portfolio_markers: tuple[str, ...]
    organisation_words: frozenset[str]
    bare_clause_verbs: frozenset[str]
    speech_participles: frozenset[str]
    as_markers: frozenset[str]
    relative_pronouns: frozenset[str]
    coordinators: frozenset[str]
    adverbial_words: frozenset[str]
    not_public_words: frozenset[str]
    romanisations: tuple[Romanisation, ...] = ()
    post_cues: dict[str, tuple[str, ...]] = field(default_factory=dict)
    home_state: str | None = None
    home_institutions: frozenset[str] = frozenset()
    future_markers: tuple[str, ...] = ()
    host_cues: tuple[str, ...] = ()
    gathering_nouns: tuple[str, ...] = ()


def _words(data: dict[str, Any], key: str) -> list[str]:
    return [str(w) for w in data.get(key) or []]


def _folded(data: dict[str, Any], key: str) -> list[str]:
    """The words under ``key``, folded (lower case, no diacritics) as text is compared."""
    return [fold(w) for w in _words(data, key)]


def _folded_numbers(data: dict[str, Any], key: str) -> dict[str, int]:
    """The word -> number table under ``key`` (weekdays, months, ...), its words folded."""
    return {fold(k): int(v) for k, v in (data.get(key) or {}).items()}


@cache
def load_lexicon(language: str) -> Lexicon:
    data = safe_yaml((LEXICON_DIR / f"{language}.yaml").read_text(encoding="utf-8"))
    return Lexicon(
        language=language,
        speech_verbs=frozenset(_folded(data, "speech_verbs")),
        bare_report_verbs=frozenset(_folded(data, "bare_report_verbs")),
        reported_markers=tuple(_folded(data, "reported_markers")),
        that=frozenset(w.lower() for w in _words(data, "that")),
        meeting_cues=tuple(_folded(data, "meeting_cues")),
        multilateral_cues=tuple(_folded(data, "multilateral_cues")),
        call_cues=tuple(_folded(data, "call_cues")),
        subject_pronouns=frozenset(_folded(data, "subject_pronouns")),
        object_markers=frozenset(_folded(data, "object_markers")),
        post_nouns=frozenset(_folded(data, "post_nouns")),
        weekdays=_folded_numbers(data, "weekdays"),
        months=_folded_numbers(data, "months"),
        relative_days=_folded_numbers(data, "relative_days"),
        multi_day=_folded_numbers(data, "multi_day"),
        ending_words=tuple(_folded(data, "ending_words")),
        abbreviations=frozenset(_words(data, "abbreviations")),
        debris=frozenset(w.lower() for w in _words(data, "debris")),
        institutions={str(k): str(v) for k, v in (data.get("institutions") or {}).items()},
        not_names=frozenset(_words(data, "not_names")),
        particles=frozenset(_folded(data, "particles")),
        counterpart_nouns=tuple(_words(data, "counterpart_nouns")),
        former_words=frozenset(_folded(data, "former_words")),
        determiners=frozenset(_folded(data, "determiners")),
        portfolio_markers=tuple(_folded(data, "portfolio_markers")),
        organisation_words=frozenset(_folded(data, "organisation_words")),
        bare_clause_verbs=frozenset(_folded(data, "bare_clause_verbs")),
        speech_participles=frozenset(_folded(data, "speech_participles")),
        as_markers=frozenset(_folded(data, "as_markers")),
        relative_pronouns=frozenset(_folded(data, "relative_pronouns")),
        coordinators=frozenset(_folded(data, "coordinators")),
        adverbial_words=frozenset(_folded(data, "adverbial_words")),
        not_public_words=frozenset(_folded(data, "not_public_words")),
        romanisations=tuple(_romanisation(r) for r in data.get("romanisations") or []),
        post_cues={
            str(k): tuple(_words(data["post_cues"], k)) for k in data.get("post_cues") or {}
        },
        home_state=data.get("home_state"),
        home_institutions=frozenset(_words(data, "home_institutions")),
        future_markers=tuple(_folded(data, "future_markers")),
        host_cues=tuple(_folded(data, "host_cues")),
        gathering_nouns=tuple(_folded(data, "gathering_nouns")),
    )


def _romanisation(entry: dict[str, Any]) -> Romanisation:
    rules = tuple((str(p), str(r)) for p, r in entry.get("rules") or [])
    for pattern, _ in rules:
        if re.compile(pattern).groups:
            raise ValueError(f"romanisation rule {pattern!r}: use (?:...), not capturing groups")
    return Romanisation(frozenset(str(s) for s in entry.get("states") or []), rules)
