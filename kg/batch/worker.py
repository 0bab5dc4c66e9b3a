"""The per-article work of a build: read -> extract -> map -> validate -> cache entry.

`process(jobs)` runs in a worker process whose initializer (`init`) loaded the reference data,
the shapes and the ontology once. Each article's graph is validated the way
`kg.validate.validate_dataset` validates a dataset (the article's graph together with the
reference graph and the ontology, focus on the article's own subjects, minus what the reference
graph reports on its own), so merging the per-article results gives the same report as one
`validate_dataset` run over the whole build; tests/test_build_incremental.py checks that.

The same function is what a cluster engine would map over a corpus (docs/scaling.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph

from kg import load, map, statistics, validate
from kg.batch.cache import Cache, article_key, curation_digest
from kg.curate import apply_curation
from kg.errors import InputError
from kg.extract import extract
from kg.read import read_article
from kg.reference import Reference, load_reference
from kg.validate.engine import from_ox

STAGES = ("extract", "map", "validate", "write")
PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class Job:
    path: str
    article_id: str
    curation: str | None = None  # the article's curation file, applied after extraction


@dataclass
class Outcome:
    article_id: str
    key: str
    quads: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    error: tuple[str, str, int | None] | None = None  # InputError's path, message, line
    seconds: dict[str, float] = field(default_factory=dict)
    reused: bool = False  # the cache held the output under the article's key
    # What the manifest records of the files, taken before they were read: a file changed
    # while the build read it then differs from its entry, and the next build reads it again.
    size: int = 0
    mtime_ns: int = 0
    curation: str = ""  # digest of the curation file
    statistics: list[list[str]] = field(default_factory=list)  # kg.statistics.contribution


def row(result: dict[str, Any]) -> tuple:
    """What makes two validation results the same finding, whatever graph reports it."""
    return tuple(
        result.get(k)
        for k in ("severity", "focus_node", "path", "constraint", "source_shape", "value")
    )


class ArticleValidator:
    """One article's graph validated with the reference graph (`validate.validate_article`,
    which keeps the shapes, the ontology and the prepared reference graph per process)."""

    def __init__(self, reference_quads: list[ox.Quad], reference_rows: set[tuple]) -> None:
        self.reference = Graph()
        for quad in reference_quads:
            self.reference.add(_triple(quad))
        self.reference_rows = reference_rows

    def results(self, graph_iri: str, quads: list[ox.Quad]) -> list[dict[str, Any]]:
        article, in_default = [], []
        for quad in quads:
            s, p, o = quad.subject, quad.predicate, quad.object
            article.append((from_ox(s), from_ox(p), from_ox(o)))
            in_default.append(ox.Quad(s, p, o))
        report = validate.validate_article(article, graph_iri, self.reference, quads=in_default)
        found = []
        for r in report.results:
            data = {**asdict(r), "graph": graph_iri}
            if row(data) not in self.reference_rows:
                found.append(data)
        return found


def _triple(quad: ox.Quad) -> tuple:
    return (from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object))


# -- the worker process ---------------------------------------------------------------------
@dataclass
class State:
    ref: Reference
    cache: Cache
    validator: ArticleValidator
    states: frozenset[str]  # the reference graph's states, for kg.statistics
    dependencies: str = ""
    frozen: bool = False


_state: State | None = None


def init(
    reference_dir: Path,
    out_dir: Path,
    reference_quads: bytes,
    reference_rows: set[tuple],
    dependencies: str = "",
) -> None:
    """Per-process set-up: reference data, shapes and ontology, loaded once."""
    global _state
    if multiprocessing.parent_process() is not None:  # a pool worker, not the build itself
        _die_with_parent()
        load.close_inherited_locks()
    quads = list(ox.parse(reference_quads, format=ox.RdfFormat.N_QUADS))
    _state = State(
        load_reference(reference_dir),
        Cache(out_dir),
        ArticleValidator(quads, reference_rows),
        statistics.states_of(quads),
        dependencies,
    )


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this worker when the build process dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the build died before prctl took effect
        os._exit(1)


def process(jobs: list[Job]) -> list[Outcome]:
    outcomes = [process_one(job) for job in jobs]
    _freeze_once()
    return outcomes


def _freeze_once() -> None:
    """After the first chunk (which builds the compiled shapes and the prepared reference), move
    everything the worker holds for good out of the cycle collector's sight: each collection of
    the oldest generation would otherwise walk the reference data again."""
    assert _state is not None
    if not _state.frozen:
        gc.freeze()
        _state.frozen = True


def process_one(job: Job) -> Outcome:
    """One article into the cache; a bad article comes back as an Outcome with `error`."""
    assert _state is not None, "worker not initialised"
    clock = time.perf_counter()
    try:
        stat = os.stat(job.path)
        data = Path(job.path).read_bytes()
        curation = Path(job.curation).read_bytes() if job.curation else None
    except OSError as exc:
        return Outcome(job.article_id, "", error=(job.path, f"cannot read: {exc.strerror}", None))
    key = article_key(_state.dependencies, job.article_id, data, curation)
    outcome = Outcome(
        job.article_id,
        key,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        curation=curation_digest(curation),
    )
    cached = _state.cache.get(key)
    if cached is not None:
        outcome.quads, outcome.results, outcome.reused = cached["quads"], cached["results"], True
        outcome.statistics = cached["statistics"]
        return outcome
    try:
        article = read_article(Path(job.path), data)
        record = extract(article, _state.ref)
        if job.curation is not None:
            apply_curation(record, article, Path(job.curation), _state.ref)
        clock = _lap(outcome, "extract", clock)
        trig = map.render_article(record, _state.ref)
        quads = list(dict.fromkeys(map.parse_trig(trig, article.id)))
        clock = _lap(outcome, "map", clock)
    except InputError as exc:  # sent back as plain data: exceptions pickle poorly
        outcome.error = (exc.path, exc.message, exc.line)
        return outcome
    outcome.results = _state.validator.results(map.article_iri(article.id), quads)
    clock = _lap(outcome, "validate", clock)
    outcome.quads = len(quads)
    outcome.statistics = [
        list(k) for k in statistics.contribution(map.article_iri(article.id), quads, _state.states)
    ]
    data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
    meta = {"quads": outcome.quads, "results": outcome.results, "statistics": outcome.statistics}
    _state.cache.put(key, data, meta)
    _lap(outcome, "write", clock)
    return outcome


def _lap(outcome: Outcome, stage: str, since: float) -> float:
    now = time.perf_counter()
    outcome.seconds[stage] = outcome.seconds.get(stage, 0.0) + now - since
    return now
