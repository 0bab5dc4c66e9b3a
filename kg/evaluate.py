"""Evaluation: the built graph scored against gold annotations (format: tests/gold/README.md).

Per type: officials, states and alliances (by normalised name or Wikidata QID); meetings
(matched on their named participants, then place and date accuracy); statements (speaker
right and quote text overlapping; direct and reported speech counted apart). Precision, recall
and F1 per type, overall and per language, and every miss and false hit on request.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from kg import load, rdfterms
from kg.errors import InputError
from kg.extract.text import fold

TYPES = (
    "officials",
    "states",
    "alliances",
    "meetings",
    "direct quotes",
    "reported speech",
    "statements",
)
PREFIXES = """PREFIX dkg: <https://w3id.org/dkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""


@dataclass
class Score:
    gold: int = 0
    predicted: int = 0
    matched_gold: int = 0
    matched_predicted: int = 0
    misses: list[str] = field(default_factory=list)
    false_hits: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched_predicted / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.matched_gold / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: Score) -> None:
        self.gold += other.gold
        self.predicted += other.predicted
        self.matched_gold += other.matched_gold
        self.matched_predicted += other.matched_predicted
        self.misses += other.misses
        self.false_hits += other.false_hits


@dataclass
class Evaluation:
    overall: dict[str, Score]
    by_language: dict[str, dict[str, Score]]
    meeting_place_accuracy: float | None
    meeting_date_accuracy: float | None
    attribution_precision: float | None
    missing_articles: list[str]

    def to_json(self) -> dict[str, Any]:
        def scores(d: dict[str, Score]) -> dict[str, Any]:
            return {
                t: {
                    "gold": s.gold,
                    "predicted": s.predicted,
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "misses": s.misses,
                    "false_hits": s.false_hits,
                }
                for t, s in d.items()
            }

        return {
            "overall": scores(self.overall),
            "by_language": {lang: scores(d) for lang, d in self.by_language.items()},
            "meeting_place_accuracy": self.meeting_place_accuracy,
            "meeting_date_accuracy": self.meeting_date_accuracy,
            "attribution_precision": self.attribution_precision,
            "missing_articles": self.missing_articles,
        }


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", fold(text)).split())


# -- reading the graph --------------------------------------------------------------------
def _rows(store: ox.Store, query: str, article_iri: str) -> list[dict[str, str]]:
    # The IRI goes in through the escaping of kg.rdfterms, never as raw text.
    bound = query.replace(
        "WHERE {", "WHERE { VALUES ?article { " + rdfterms.iri(article_iri) + " }", 1
    )
    result = store.query(PREFIXES + bound, use_default_graph_as_union=True)
    out = []
    for solution in result:
        row = {}
        for var in result.variables:
            value = solution[var]
            row[var.value] = value.value if value is not None else ""
        out.append(row)
    return out


def _predicted(store: ox.Store, article_id: str) -> dict[str, Any]:
    a = f"https://w3id.org/dkg/id/article/{article_id}"
    entities = _rows(
        store,
        """
        SELECT DISTINCT ?e ?type ?label ?qid WHERE {
          ?article dkg:mentions ?e . ?e a ?t . VALUES (?t ?type) {
            (dkg:Official "officials") (dkg:State "states") (dkg:Alliance "alliances") }
          OPTIONAL { ?e rdfs:label ?label FILTER(lang(?label) = "en") }
          OPTIONAL { ?e owl:sameAs ?q BIND(STRAFTER(STR(?q), "entity/") AS ?qid) }
        }""",
        a,
    )
    meetings = defaultdict(
        lambda: {"participants": set(), "states": set(), "place": None, "start": None, "end": None}
    )
    for r in _rows(
        store,
        """
        SELECT DISTINCT ?m ?who ?state ?place ?start ?end WHERE {
          ?m a dkg:Meeting ; dkg:reportedIn ?article .
          GRAPH ?article { ?m dkg:participant ?p }
          ?p rdfs:label ?who FILTER(lang(?who) = "en")
          OPTIONAL { GRAPH ?article { ?m dkg:participantState ?s }
                     ?s rdfs:label ?state FILTER(lang(?state) = "en") }
          OPTIONAL { GRAPH ?article { ?m dkg:location ?l }
                     ?l rdfs:label ?place FILTER(lang(?place) = "en") }
          OPTIONAL { GRAPH ?article { ?m dkg:startDate ?start } }
          OPTIONAL { GRAPH ?article { ?m dkg:endDate ?end } }
        }""",
        a,
    ):
        m = meetings[r["m"]]
        m["participants"].add(norm(r["who"]))
        if r["state"]:
            m["states"].add(norm(r["state"]))
        m["place"] = r["place"] or m["place"]
        m["start"] = r["start"] or m["start"]
        m["end"] = r["end"] or m["end"]
    statements = _rows(
        store,
        """
        SELECT DISTINCT ?s ?speaker ?quote ?direct WHERE {
          GRAPH ?article { ?s a dkg:Statement ; dkg:speaker ?sp ; dkg:quote ?quote ;
                              dkg:isDirectQuote ?direct }
          ?sp rdfs:label ?speaker FILTER(lang(?speaker) = "en")
        }""",
        a,
    )
    return {"entities": entities, "meetings": list(meetings.values()), "statements": statements}


# -- matching -----------------------------------------------------------------------------
def _score_names(gold: list[str], predicted: list[dict[str, str]], qid_of: dict[str, str]) -> Score:
    score = Score(gold=len(gold), predicted=len(predicted))
    unmatched = list(predicted)
    for name in gold:
        hit = next(
            (
                p
                for p in unmatched
                if norm(p["label"]) == norm(name)
                or (p.get("qid") and qid_of.get(norm(name)) == p["qid"])
            ),
            None,
        )
        if hit is None:
            score.misses.append(name)
            continue
        unmatched.remove(hit)
        score.matched_gold += 1
        score.matched_predicted += 1
    score.false_hits = [p["label"] for p in unmatched]
    return score


def _quote_match(a: str, b: str) -> bool:
    a, b = norm(a), norm(b)
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    wa, wb = set(a.split()), set(b.split())
    return len(wa & wb) / min(len(wa), len(wb)) >= 0.8


def _score_statements(
    gold: list[dict], predicted: list[dict], direct: bool, attribution: list[int]
) -> Score:
    g = [s for s in gold if bool(s.get("direct")) == direct]
    p = [s for s in predicted if (s["direct"] == "true") == direct]
    score = Score(gold=len(g), predicted=len(p))
    unmatched = list(p)
    for s in g:
        same_text = [x for x in unmatched if _quote_match(x["quote"], s["text"])]
        right = [x for x in same_text if norm(x["speaker"]) == norm(s["speaker"])]
        if direct and same_text:
            attribution[0] += 1
            attribution[1] += 1 if right else 0
        if right:
            unmatched.remove(right[0])
            score.matched_gold += 1
            score.matched_predicted += 1
        else:
            score.misses.append(f"{s['speaker']}: {s['text'][:80]}")
    score.false_hits = [f"{x['speaker']}: {x['quote'][:80]}" for x in unmatched]
    return score


def _score_meetings(gold: list[dict], predicted: list[dict], place_date: list[int]) -> Score:
    score = Score(gold=len(gold), predicted=len(predicted))
    unmatched = list(predicted)
    for m in gold:
        named = {norm(p) for p in m.get("participants") or []}
        states = {norm(s) for s in m.get("participant_states") or []}
        candidates = [p for p in unmatched if named <= p["participants"]]
        if not candidates:
            score.misses.append(
                ", ".join(m.get("participants") or []) + f" ({m.get('place')}, {m.get('date')})"
            )
            continue
        best = max(
            candidates, key=lambda p: (len(states & p["states"]), -len(p["participants"] ^ named))
        )
        unmatched.remove(best)
        score.matched_gold += 1
        score.matched_predicted += 1
        place_date[0] += 1
        place_date[1] += (
            1 if norm(str(m.get("place") or "")) == norm(str(best["place"] or "")) else 0
        )
        gold_date = str(m["date"]) if m.get("date") else None
        place_date[2] += 1 if gold_date == best["start"] else 0
    score.false_hits = [", ".join(sorted(p["participants"])) for p in unmatched]
    return score


# -- the whole evaluation -----------------------------------------------------------------
def load_gold(gold_dir: Path) -> list[dict[str, Any]]:
    files = sorted(Path(gold_dir).glob("*.yaml"))
    if not files:
        raise InputError(gold_dir, "no gold annotations (*.yaml) here")
    gold = []
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(path, f"not valid YAML: {exc}") from exc
        if not isinstance(data, dict) or "article" not in data:
            raise InputError(path, "a gold file needs an `article` field")
        gold.append(data)
    return gold


def evaluate(store: ox.Store, gold_dir: Path) -> Evaluation:
    overall = {t: Score() for t in TYPES}
    by_language: dict[str, dict[str, Score]] = defaultdict(lambda: {t: Score() for t in TYPES})
    place_date = [0, 0, 0]
    attribution = [0, 0]
    missing = []
    qid_of = _qids(store)
    for g in load_gold(gold_dir):
        article_id = str(g["article"])
        if not any(
            True
            for _ in store.quads_for_pattern(
                ox.NamedNode(f"https://w3id.org/dkg/id/article/{article_id}"), None, None
            )
        ):
            missing.append(article_id)
        pred = _predicted(store, article_id)
        scores = {}
        for t in ("officials", "states", "alliances"):
            names = (
                [o["name"] for o in g.get(t) or []] if t == "officials" else list(g.get(t) or [])
            )
            scores[t] = _score_names(names, [e for e in pred["entities"] if e["type"] == t], qid_of)
        scores["meetings"] = _score_meetings(g.get("meetings") or [], pred["meetings"], place_date)
        gold_statements = g.get("statements") or []
        scores["direct quotes"] = _score_statements(
            gold_statements, pred["statements"], True, attribution
        )
        scores["reported speech"] = _score_statements(
            gold_statements, pred["statements"], False, attribution
        )
        both = Score()
        both.add(scores["direct quotes"])
        both.add(scores["reported speech"])
        scores["statements"] = both
        for t, s in scores.items():
            s.misses = [f"{article_id}: {x}" for x in s.misses]
            s.false_hits = [f"{article_id}: {x}" for x in s.false_hits]
            overall[t].add(s)
            by_language[str(g.get("language", "?"))][t].add(s)
    return Evaluation(
        overall=overall,
        by_language=dict(by_language),
        meeting_place_accuracy=place_date[1] / place_date[0] if place_date[0] else None,
        meeting_date_accuracy=place_date[2] / place_date[0] if place_date[0] else None,
        attribution_precision=attribution[1] / attribution[0] if attribution[0] else None,
        missing_articles=missing,
    )


def _qids(store: ox.Store) -> dict[str, str]:
    """Normalised English label -> QID of every linked entity, to match gold names by QID."""
    out = {}
    for s in store.query(
        PREFIXES + """SELECT ?label ?q WHERE { ?e owl:sameAs ?q ; rdfs:label ?label }""",
        use_default_graph_as_union=True,
    ):
        out[norm(s["label"].value)] = s["q"].value.rsplit("/", 1)[-1]
    return out


def format_text(ev: Evaluation, details: bool) -> str:
    lines = []

    def table(title: str, scores: dict[str, Score]) -> None:
        lines.append(title)
        lines.append(
            f"  {'type':16} {'gold':>5} {'pred':>5} {'precision':>9} {'recall':>7} {'F1':>6}"
        )
        for t, s in scores.items():
            lines.append(
                f"  {t:16} {s.gold:5} {s.predicted:5} "
                f"{s.precision:9.3f} {s.recall:7.3f} {s.f1:6.3f}"
            )

    table("All articles", ev.overall)
    for lang, scores in sorted(ev.by_language.items()):
        table(f"Language: {lang}", scores)
    for label, value in (
        ("meeting place accuracy", ev.meeting_place_accuracy),
        ("meeting date accuracy", ev.meeting_date_accuracy),
        ("direct-quote attribution precision", ev.attribution_precision),
    ):
        lines.append(f"{label}: {'n/a' if value is None else f'{value:.3f}'}")
    if ev.missing_articles:
        lines.append("articles in gold but not in the graph: " + ", ".join(ev.missing_articles))
    if details:
        for t, s in ev.overall.items():
            if t == "statements":
                continue
            for x in s.misses:
                lines.append(f"MISS  {t}: {x}")
            for x in s.false_hits:
                lines.append(f"FALSE {t}: {x}")
    return "\n".join(lines)


def eval_command(out: Path, gold: Path, fmt: str, details: bool) -> int:
    ev = evaluate(load.open_store(out), gold)
    text = (
        json.dumps(ev.to_json(), ensure_ascii=False, indent=2)
        if fmt == "json"
        else format_text(ev, details)
    )
    print(text)
    if ev.missing_articles:
        print(
            f"kg eval: {len(ev.missing_articles)} gold article(s) are not in the graph",
            file=sys.stderr,
        )
    return 0
