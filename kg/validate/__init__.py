"""The validate stage: check RDF, article files, reference tables and curation files.

The SHACL shapes of ``shapes/`` (core constraints in ``dkg-shapes.ttl``, rules across nodes
and graphs in SHACL-SPARQL in ``dkg-rules.ttl``) run without inference (instances carry their
classes explicitly, see docs/model.md) and with SHACL-SPARQL, with the ontology mixed in. Two
engines give the same results: :mod:`kg.validate.engine` (the default: the shapes compiled once
per process, about fifty times faster per article) and pySHACL, the reference implementation,
which runs whenever the shapes or the data use a feature the compiled engine leaves to it, and
on request (``kg validate --engine pyshacl``, :func:`use_engine`). Reports are plain data
(:class:`ValidationReport`) and print as text, JSON or JUnit XML (:func:`format_text`,
:func:`format_json`, :func:`format_junit`).

What can be validated (``kg validate``, see :func:`validate_command`):

- a built graph (:func:`validate_dataset`, :func:`validate_store`): the reference graph on its
  own, then each article's named graph together with the reference graph (so an article's
  meeting may name an official described in the reference data), each result reported under
  the graph that caused it;
- one article file (:func:`validate_article_file`): read, extract, map and validate its graph
  with the reference graph, without building a store;
- the reference tables (:func:`validate_reference_dir`): table-level checks that SHACL cannot
  see (a key used twice, a key that names no row, a QID or key that cannot be written as an
  IRI), then the reference graph the tables map to;
- curation files (:func:`validate_curation_dir`): see "Curation files" below;
- the ontology and the shapes together (:func:`check_ontology`): in step, bilingual, and
  consistent under OWL RL.

Every result names the file to fix: for article data the article file with the line and
column of the evidence span that produced the node (``dkg:evidence`` -> ``dkg:startOffset``,
counted in the text after the front matter; columns count characters from 1), for reference
data the table and row, for curation files the file (and line where the loader gives one).
Each result also says what the constraint asks for in plain words (``explanation``).

Dates "in the future" are after the validation day: today unless ``today`` (``--today``) pins
it; the shapes write ``NOW()`` and :func:`shapes_for_day` puts the day in its place.

Per-article validation (:func:`validate_article`) is a pure function for worker processes:
shapes and ontology are loaded once per process (module-level caches), the reference graph is
prepared once per process and per reference graph, and each call adds the article's triples to
that prepared graph, validates only the article's nodes and takes them out again.

Curation files
--------------
``data/curation/ID.yaml`` corrects the extraction of the article ``ID`` (format:
data/curation/README.md, applied by :mod:`kg.curate`). A curation file is checked the way the
build uses it: its structure (:func:`kg.curate.load_curation`), an article file of that id in
the articles folder, its fit to the article (:func:`kg.curate.apply_curation` refuses an
unknown key, a quote not in the text, a removal that matches nothing), then the SHACL shapes
on the curated article graph. Each problem is a violation of the curation file.

Example, with a meeting that names no participant and has no label::

    >>> from rdflib import Graph
    >>> data = Graph().parse(format="turtle", data='''
    ...     @prefix dkg: <https://w3id.org/dkg/ontology#> .
    ...     <https://w3id.org/dkg/id/meeting/m1> a dkg:Meeting .''')
    >>> report = validate_graph(data)
    >>> report.conforms
    False
    >>> for row in sorted({(r.constraint, r.explanation) for r in report.violations()}):
    ...     print(*row, sep=": ")
    MinCountConstraintComponent: needs at least 1 value
    SPARQLConstraintComponent: a rule across nodes and graphs (SHACL-SPARQL)
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import threading
import weakref
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pyshacl
import yaml
from pyshacl.errors import ReportableRuntimeError
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS
from rdflib.term import Node

from kg.errors import InputError, KgError
from kg.rdfterms import (
    ONTOLOGY,
    ONTOLOGY_GRAPH,
    REFERENCE_GRAPH,
    RESOURCE,
    SHAPES_GRAPH,
    STATISTICS_GRAPH,
)
from kg.validate import engine as compiled

Triple = tuple[Node, Node, Node]
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHAPES_DIR = REPO_ROOT / "shapes"
DEFAULT_ONTOLOGY_PATH = REPO_ROOT / "ontology" / "dkg.ttl"

DKG, ID = ONTOLOGY, RESOURCE
ARTICLE_PREFIX = ID + "article/"

SEVERITIES = ("Violation", "Warning", "Info")
FORMATS = ("text", "json", "junit")

# Source "shapes" of the checks that are not SHACL (they report under these names).
TABLE_CHECK = "table-check"
CURATION_CHECK = "curation-check"
ONTOLOGY_CHECK = "ontology-check"

# Prefixes used to shorten paths and shape IRIs in the text report.
_PREFIXES = (
    ("dkg:", DKG),
    ("dkgsh:", "https://w3id.org/dkg/shapes#"),
    ("dkgr:", ID),
    ("rdf:", str(RDF)),
    ("rdfs:", str(RDFS)),
    ("owl:", str(OWL)),
    ("xsd:", "http://www.w3.org/2001/XMLSchema#"),
    ("dcterms:", "http://purl.org/dc/terms/"),
    ("skos:", str(SKOS)),
    ("prov:", "http://www.w3.org/ns/prov#"),
    ("schema:", "https://schema.org/"),
    ("sh:", str(SH)),
)


# --------------------------------------------------------------------------------------------
# Results and reports
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationResult:
    """One row of a validation report, as plain strings."""

    severity: str  # "Violation" | "Warning" | "Info"
    focus_node: str  # IRI (or blank-node id "_:b0") as a string
    path: str | None  # property IRI ("^IRI" inverse); a column for table checks; None: node-level
    constraint: str  # constraint component local name, e.g. "MinCountConstraintComponent"
    source_shape: str  # shape IRI as a string ("table-check", ... for checks that are not SHACL)
    message: str  # plain-words message from the shape's sh:message
    value: str | None  # offending value in N-Triples form, or None
    graph: str | None = None  # named graph (article IRI) the focus node belongs to, when known
    file: str | None = None  # the file to fix: article file, reference table, curation file
    line: int | None = None  # line in that file (evidence span start, table row), from 1
    column: int | None = None  # column of the evidence span start, in characters from 1
    evidence: str | None = None  # the words of the evidence span (shortened)
    explanation: str = ""  # what the constraint asks for, in plain words

    def sort_key(self) -> tuple[str, int, str, str, str, str, str, str]:
        """Order: graph, severity (violations first), focus node, path, constraint, ..."""
        return (
            self.graph or "",
            SEVERITIES.index(self.severity) if self.severity in SEVERITIES else len(SEVERITIES),
            self.focus_node,
            self.path or "",
            self.constraint,
            self.source_shape,
            self.value or "",
            self.message,
        )

    @property
    def location(self) -> str | None:
        """``file:line:column`` (as far as known), or None without a file."""
        if self.file is None:
            return None
        parts = [self.file] + [str(n) for n in (self.line, self.column) if n is not None]
        return ":".join(parts[: 2 if self.line is not None and self.column is None else 3])


@dataclass(frozen=True)
class Checked:
    """One thing a run checked: an article graph, a reference table, a curation file, ..."""

    kind: str  # "article" | "reference" | "curation" | "statistics" | "graph" | "ontology"
    name: str  # what a person calls it: the article id, the table's file name, ...
    graph: str | None = None  # the named graph its results are reported under
    file: str | None = None  # the file it was read from, when known


@dataclass
class ValidationReport:
    """The results of a validation run; it conforms when no result is a Violation."""

    results: list[ValidationResult] = field(default_factory=list)
    checked: list[Checked] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        """True when there is no Violation (warnings and infos do not count)."""
        return not self.violations()

    def violations(self) -> list[ValidationResult]:
        """The results of severity Violation."""
        return [r for r in self.results if r.severity == "Violation"]

    def warnings(self) -> list[ValidationResult]:
        """The results of severity Warning."""
        return [r for r in self.results if r.severity == "Warning"]

    def infos(self) -> list[ValidationResult]:
        """The results of severity Info."""
        return [r for r in self.results if r.severity == "Info"]

    def fails(self, fail_on: str = "violation") -> bool:
        """True when the run should fail: a violation, or a warning with ``fail_on="warning"``."""
        return bool(self.violations() or (fail_on == "warning" and self.warnings()))


def merge_reports(reports: Iterable[ValidationReport]) -> ValidationReport:
    """One report holding the results and checked items of several, sorted."""
    results: set[ValidationResult] = set()
    checked: list[Checked] = []
    for report in reports:
        results.update(report.results)
        checked.extend(c for c in report.checked if c not in checked)
    return ValidationReport(sorted(results, key=ValidationResult.sort_key), checked)


# --------------------------------------------------------------------------------------------
# Shapes, ontology and the validation day
# --------------------------------------------------------------------------------------------


def _parse_turtle(graph: Graph, path: Path) -> None:
    try:
        graph.parse(path, format="turtle")
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from exc
    except Exception as exc:  # rdflib raises several parser-specific errors
        raise InputError(path, f"not valid Turtle: {exc}") from exc


def load_shapes(shapes_dir: Path = DEFAULT_SHAPES_DIR) -> Graph:
    """Read every ``*.ttl`` file of ``shapes_dir`` into one graph.

    Raises :class:`kg.errors.InputError` when the folder holds no shapes or a file is not
    valid Turtle.
    """
    shapes_dir = Path(shapes_dir)
    files = sorted(shapes_dir.glob("*.ttl"))
    if not files:
        raise InputError(shapes_dir, "no SHACL shapes (*.ttl) found")
    graph = Graph()
    for path in files:
        _parse_turtle(graph, path)
    return graph


def load_ontology(ontology_path: Path = DEFAULT_ONTOLOGY_PATH) -> Graph:
    """Read the OWL ontology (Turtle) into a graph; raises InputError when it cannot."""
    graph = Graph()
    _parse_turtle(graph, Path(ontology_path))
    return graph


@lru_cache(maxsize=1)
def _default_shapes() -> Graph:
    return load_shapes()


@lru_cache(maxsize=1)
def _default_ontology() -> Graph:
    return load_ontology()


def shapes_for_day(shapes: Graph, day: dt.date) -> Graph:
    """A copy of ``shapes`` whose SPARQL queries read ``day`` (midnight UTC) for ``NOW()``.

    >>> g = Graph()
    >>> _ = g.add((BNode(), SH.select, Literal("SELECT (NOW() AS ?now) {}")))
    >>> print(next(shapes_for_day(g, dt.date(2024, 2, 29)).objects(None, SH.select)))
    SELECT ("2024-02-29T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> AS ?now) {}
    """
    if not any("NOW()" in str(o) for o in shapes.objects(None, SH.select)):
        return shapes  # nothing reads the clock: no copy needed
    now = f'"{day.isoformat()}T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>'
    pinned = Graph()
    for s, p, o in shapes:
        if p == SH.select and "NOW()" in str(o):
            o = Literal(str(o).replace("NOW()", now))
        pinned.add((s, p, o))
    for prefix, namespace in shapes.namespaces():
        pinned.bind(prefix, namespace, override=False)
    return pinned


@lru_cache(maxsize=4)
def _default_shapes_for(day: dt.date) -> Graph:
    return shapes_for_day(_default_shapes(), day)


def _shapes(shapes: Graph | None, today: dt.date | None) -> Graph:
    day = today or dt.date.today()
    return _default_shapes_for(day) if shapes is None else shapes_for_day(shapes, day)


# --------------------------------------------------------------------------------------------
# The engine: compiled shapes, or pySHACL
# --------------------------------------------------------------------------------------------

ENGINES = ("compiled", "pyshacl")
_engine_choice = {"name": "compiled"}


def use_engine(name: str) -> str:
    """Validate with ``name`` from now on in this process: "compiled" (default) or "pyshacl".

    Returns the engine used until now.
    """
    if name not in ENGINES:
        raise KgError(f"unknown validation engine {name!r}: use one of {', '.join(ENGINES)}")
    before, _engine_choice["name"] = _engine_choice["name"], name
    if before != name:
        _PREPARED.clear()  # the reference rows prepared with the other engine
    return before


# Compiled shapes per shapes graph.
_COMPILED: dict[int, tuple[weakref.ref, compiled.Engine | None]] = {}


def _remembered(cache: dict, key: Any, owner: Graph, make: Callable[[], Any], size: int) -> Any:
    """``make()``, kept in ``cache`` for as long as ``owner`` is the object it was made for.

    Graphs are remembered by identity (rdflib graphs compare by their name); ``size`` entries
    at most, the cache emptied when full so that memory stays flat.
    """
    hit = cache.get(key)
    if hit is not None and hit[0]() is owner:
        return hit[1]
    value = make()
    if len(cache) >= size:
        cache.clear()
    cache[key] = (weakref.ref(owner), value)
    return value


def _compiled_engine(shapes: Graph) -> compiled.Engine | None:
    """The shapes compiled, or None when they use a feature only pySHACL evaluates."""

    def compile_shapes() -> compiled.Engine | None:
        try:
            return compiled.Engine(shapes)
        except compiled.Unsupported:
            return None

    return _remembered(_COMPILED, id(shapes), shapes, compile_shapes, size=8)


def _engine_for(shapes: Graph) -> compiled.Engine | None:
    return _compiled_engine(shapes) if _engine_choice["name"] == "compiled" else None


def _compiled_results(found: Iterable[compiled.Finding], shapes: Graph) -> list[ValidationResult]:
    return [
        ValidationResult(
            severity=_local_name(f.severity),
            focus_node=_term_str(f.focus),
            path=_finding_path(f.path),
            constraint=f.component,
            source_shape=_term_str(f.shape),
            message=_pick_message(list(f.messages)),
            value=f.value.n3() if f.value is not None else None,
            explanation=explain(f.component, f.shape, shapes),
        )
        for f in found
    ]


def _finding_path(path: Node | str | None) -> str | None:
    if isinstance(path, URIRef):
        return str(path)
    if path is None or isinstance(path, str):
        return path
    return _term_str(path)


def _compiled_run(
    shapes: Graph,
    base: Callable[[], compiled.Base],
    article: Iterable[Triple],
    focus: list[URIRef] | None,
    quads: Sequence[ox.Quad] | None = None,
) -> list[ValidationResult] | None:
    """The compiled engine's results for ``article`` over ``base()``; None: run pySHACL.
    ``quads``: ``article`` as pyoxigraph quads, when the caller has them."""
    engine = _engine_for(shapes)
    if engine is None:
        return None
    try:
        with base().overlay(article, quads) as view:
            found = engine.validate(view, focus)
    except compiled.Unsupported:
        return None
    return _compiled_results(found, shapes)


def _checked(work: Graph, shapes: Graph, focus: list[URIRef] | None) -> list[ValidationResult]:
    """Validate ``work`` (data + ontology): compiled when the engine can, else pySHACL."""
    found = _compiled_run(shapes, partial(compiled.Base, work), (), focus)
    return found if found is not None else _run(work, shapes, focus)


# --------------------------------------------------------------------------------------------
# Validating graphs
# --------------------------------------------------------------------------------------------


def validate_graph(
    data: Graph,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
    *,
    today: dt.date | None = None,
) -> ValidationReport:
    """Validate ``data`` against ``shapes`` (default: ``shapes/``) and return a sorted report.

    ``ontology`` (default: ``ontology/dkg.ttl``; an empty ``Graph()`` leaves it out) is mixed
    into a copy of the data so that ``sh:class`` and ``sh:targetClass`` also see subclass
    axioms; ``data`` is never modified. ``today`` is the validation day (default: today).
    Every focus node of the graph is checked and ``graph`` is left unset in the results.
    """
    work = _working_graph(data, ontology)
    results = _checked(work, _shapes(shapes, today), focus=None)
    return ValidationReport(sorted(set(results), key=ValidationResult.sort_key))


@dataclass
class _Prepared:
    """A reference graph made ready for article runs: reference + ontology, in one graph.

    Each article's triples are added to ``work`` for its run and taken out again afterwards,
    which is much faster than copying the reference data per article. pyshacl runs in place
    and changes nothing unless the shapes carry SHACL rules (sh:rule); then every run gets a
    copy of its own. The lock keeps threads of one process from sharing the graph mid-run.
    """

    work: Graph
    subjects: set[Node]
    lock: threading.Lock = field(default_factory=threading.Lock)
    reference_rows: dict[int, set[tuple]] = field(default_factory=dict)
    _base: compiled.Base | None = None

    def base(self) -> compiled.Base:
        """``work`` indexed for the compiled engine (built on first use)."""
        if self._base is None:
            self._base = compiled.Base(self.work)
        return self._base

    @classmethod
    def of(cls, reference: Graph, ontology: Graph | None) -> _Prepared:
        return cls(_working_graph(reference, ontology), set(reference.subjects(unique=True)))

    def rows_of_reference(self, shapes: Graph) -> set[tuple]:
        """The rows the reference graph reports on its own (computed once per shapes graph)."""
        key = id(shapes)
        if key not in self.reference_rows:
            with self.lock:
                results = self.checked(shapes, focus=None)
                self.reference_rows[key] = {_row(r) for r in results}
        return self.reference_rows[key]

    def checked(self, shapes: Graph, focus: list[URIRef] | None) -> list[ValidationResult]:
        """The prepared graph on its own, validated (the caller holds the lock)."""
        found = _compiled_run(shapes, self.base, (), focus)
        if found is not None:
            return found
        work = _copy(self.work) if _has_rules(shapes) else self.work
        return _run(work, shapes, focus)


# One prepared reference per process, per reference graph (the pipeline's workers hold one).
_PREPARED: dict[tuple[int, int], tuple[weakref.ref, _Prepared]] = {}


def _prepared(reference: Graph, ontology: Graph | None) -> _Prepared:
    # A new reference graph replaces the old one (size 1): a worker holds one at a time.
    return _remembered(
        _PREPARED,
        (id(reference), id(ontology)),
        reference,
        partial(_Prepared.of, reference, ontology),
        size=1,
    )


def validate_article(
    article: Graph | Sequence[Triple],
    graph_iri: str,
    reference: Graph,
    *,
    source: ArticleSource | None = None,
    today: dt.date | None = None,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
    quads: Sequence[ox.Quad] | None = None,
) -> ValidationReport:
    """Validate one article's named graph together with ``reference`` (the reference graph).

    A pure function of its arguments, for worker processes: the shapes, the ontology and the
    prepared reference graph are cached per process, and nothing the caller passes is
    changed. Only the article's own nodes (the subjects of ``article``) are checked; a result
    the reference graph reports on its own is left out (it is the reference data's fault and
    reported there). With ``source`` (the article's file and text) each result gets the file,
    line and column of its evidence span. ``article`` may be a plain sequence of triples,
    which spares a build worker the cost of an rdflib graph; ``quads``, the same triples as
    pyoxigraph quads in the default graph and in the same order, spares converting them back
    for the SPARQL constraints.
    """
    prepared = _prepared(reference, ontology)
    shapes = _shapes(shapes, today)
    results = _article_results(prepared, article, shapes, quads)
    if results and not isinstance(article, Graph):
        article = _graph_of(article)
    located = _locate_article(results, graph_iri, article, source)
    checked = Checked(
        "article", _article_name(graph_iri), graph_iri, source.path if source else None
    )
    return ValidationReport(sorted(set(located), key=ValidationResult.sort_key), [checked])


def _graph_of(triples: Iterable[Triple]) -> Graph:
    graph = Graph()
    graph += triples
    return graph


def _article_results(
    prepared: _Prepared,
    article: Graph | Sequence[Triple],
    shapes: Graph,
    quads: Sequence[ox.Quad] | None = None,
) -> list[ValidationResult]:
    subjects = {s for s, _, _ in article}
    # pyshacl can restrict validation to IRI focus nodes, which keeps the reference entities
    # from being checked again for every article; blank nodes need a full run.
    iris = [s for s in subjects if isinstance(s, URIRef)]
    focus = iris if len(iris) == len(subjects) else None
    with prepared.lock:
        reported = _compiled_run(shapes, prepared.base, article, focus, quads)
    if reported is None:
        reported = _pyshacl_article(prepared, article, shapes, focus)
    own_results = [r for r in reported if _term_key(r.focus_node) in subjects]
    if any(_term_key(r.focus_node) in prepared.subjects for r in own_results):
        reference_rows = prepared.rows_of_reference(shapes)
        own_results = [r for r in own_results if _row(r) not in reference_rows]
    return own_results


def _pyshacl_article(
    prepared: _Prepared,
    article: Graph | Sequence[Triple],
    shapes: Graph,
    focus: list[URIRef] | None,
) -> list[ValidationResult]:
    with prepared.lock:
        if _has_rules(shapes):
            own = _copy(prepared.work)
            own += article
            reported = _run(own, shapes, focus=focus)
        else:
            added = [t for t in article if t not in prepared.work]
            for triple in added:
                prepared.work.add(triple)
            try:
                reported = _run(prepared.work, shapes, focus=focus)
            finally:
                for triple in added:
                    prepared.work.remove(triple)
    return reported


def validate_dataset(
    dataset: Dataset,
    reference_graph_iri: str = REFERENCE_GRAPH,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
    *,
    today: dt.date | None = None,
    sources: Sources | None = None,
) -> ValidationReport:
    """Validate a built dataset graph by graph and attribute each result to its graph.

    The reference graph is validated once on its own (results carry its IRI as ``graph``).
    Every other graph (the article graphs ``https://w3id.org/dkg/id/article/...``; a non-empty
    default graph too, with ``graph`` None) is validated together with the reference graph by
    :func:`validate_article`: only results whose focus node is a subject of that graph are
    kept, minus those the reference graph already reports on its own (a reference entity
    restated in an article is the reference data's fault, reported once). The ontology and
    shapes graphs are skipped. ``sources`` finds the files (articles, reference tables) the
    graphs came from, to say where each result is.
    """
    shapes = _shapes(shapes, today)
    reference, others = _split_dataset(dataset, reference_graph_iri)
    prepared = _Prepared.of(reference, ontology)
    sources = sources or Sources()
    reports = [_reference_report(prepared, shapes, reference_graph_iri, len(reference), sources)]
    for graph_iri, graph in others:
        results = _article_results(prepared, graph, shapes)
        source = sources.article(graph_iri) if graph_iri else None
        located = _locate_article(results, graph_iri, graph, source)
        kind = _graph_kind(graph_iri)
        name = _article_name(graph_iri) if graph_iri else "default graph"
        if kind == "statistics":
            name = "statistics graph"
        checked = Checked(kind, name, graph_iri, source.path if source else None)
        reports.append(ValidationReport(located, [checked]))
    return merge_reports(reports)


def _graph_kind(graph_iri: str | None) -> str:
    if graph_iri and graph_iri.startswith(ARTICLE_PREFIX):
        return "article"
    return "statistics" if graph_iri == STATISTICS_GRAPH else "graph"


def _split_dataset(dataset: Dataset, reference_graph_iri: str) -> tuple[Graph, list]:
    reference_id = URIRef(reference_graph_iri)
    skipped = {reference_id, URIRef(ONTOLOGY_GRAPH), URIRef(SHAPES_GRAPH)}
    reference = Graph()
    others: list[tuple[str | None, Graph]] = []
    for graph in dataset.graphs():
        if graph.identifier == reference_id:
            reference += graph
        elif graph.identifier not in skipped and len(graph):
            is_default = graph.identifier == dataset.default_graph.identifier
            others.append((None if is_default else str(graph.identifier), graph))
    others.sort(key=lambda item: item[0] or "")
    return reference, others


def _reference_report(
    prepared: _Prepared, shapes: Graph, graph_iri: str, size: int, sources: Sources
) -> ValidationReport:
    if not size:
        return ValidationReport()
    with prepared.lock:
        results = prepared.checked(shapes, focus=None)
    prepared.reference_rows[id(shapes)] = {_row(r) for r in results}
    index = sources.reference()
    located = [_locate_reference(replace(r, graph=graph_iri), index) for r in results]
    return ValidationReport(located, _reference_checked(index, graph_iri))


def _reference_checked(index: ReferenceIndex | None, graph_iri: str) -> list[Checked]:
    """One item per reference table when the tables are known, else the reference data."""
    if index is not None and index.files:
        return [Checked("reference", Path(f).name, graph_iri, f) for f in index.files]
    return [Checked("reference", "reference data", graph_iri, None)]


def _has_rules(shapes: Graph) -> bool:
    return (None, SH.rule, None) in shapes


class _WorkGraph(Graph):
    """The graph pyshacl validates: SPARQL text is parsed once per process, not per node.

    pyshacl sends each SHACL-SPARQL constraint's query as the same text for every focus node
    (the node is bound with initBindings); rdflib would parse it every time, which costs far
    more than running it.
    """

    def query(  # type: ignore[override]
        self,
        query_object: Any,
        processor: Any = "sparql",
        result: Any = "sparql",
        initNs: Any = None,  # noqa: N803 (rdflib's names)
        initBindings: Any = None,  # noqa: N803
        use_store_provided: bool = True,
        **kwargs: Any,
    ) -> Any:
        if isinstance(query_object, str) and not initNs and processor == "sparql":
            query_object = _parsed_query(query_object)
        return super().query(
            query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs
        )


@lru_cache(maxsize=256)
def _parsed_query(text: str) -> Any:
    from rdflib.plugins.sparql import prepareQuery

    return prepareQuery(text)


def _copy(graph: Graph) -> Graph:
    copy = _WorkGraph()
    copy += graph
    return copy


def _working_graph(data: Graph, ontology: Graph | None) -> Graph:
    """A fresh graph holding ``data`` and the ontology, which pyshacl may use in place."""
    work = _copy(data)
    work += ontology if ontology is not None else _default_ontology()
    return work


def _run(work: Graph, shapes: Graph, focus: list[URIRef] | None) -> list[ValidationResult]:
    """Run pyshacl on a graph this module owns (validated in place, never shared)."""
    if focus is not None and not focus:
        return []  # pyshacl reads an empty focus list as "every node"
    if not isinstance(work, _WorkGraph):  # the same triples (one store), queries parsed once
        work = _WorkGraph(store=work.store, identifier=work.identifier)
    try:
        _conforms, report_graph, _text = pyshacl.validate(
            work,
            shacl_graph=shapes,
            inference="none",
            advanced=True,
            inplace=True,
            allow_warnings=True,
            focus_nodes=focus,
        )
    except ReportableRuntimeError as exc:  # e.g. sh:lessThan meeting a blank node
        raise KgError(f"the SHACL shapes cannot run on this data: {exc.message}") from exc
    if not isinstance(report_graph, Graph):  # pyshacl's ValidationFailure: the shapes are bad
        raise KgError(f"the SHACL shapes cannot run: {report_graph}")
    return list(_results_from_report(report_graph, shapes))


def _results_from_report(report: Graph, shapes: Graph) -> Iterable[ValidationResult]:
    for node in report.objects(None, SH.result):
        severity = report.value(node, SH.resultSeverity)
        component = report.value(node, SH.sourceConstraintComponent)
        shape = report.value(node, SH.sourceShape)
        path = report.value(node, SH.resultPath)
        value = report.value(node, SH.value)
        messages = list(report.objects(node, SH.resultMessage))
        constraint = _local_name(component) if component is not None else ""
        yield ValidationResult(
            severity=_local_name(severity) if severity is not None else "Violation",
            focus_node=_term_str(report.value(node, SH.focusNode)),
            path=_path_str(report, path) if path is not None else None,
            constraint=constraint,
            source_shape=_term_str(shape),
            message=_pick_message(messages),
            value=value.n3() if value is not None else None,
            explanation=explain(constraint, shape, shapes),
        )


def _pick_message(messages: list[Node]) -> str:
    """The English message if there is one, else the first in sorted order."""
    texts = sorted(messages, key=lambda m: (getattr(m, "language", None) != "en", str(m)))
    return str(texts[0]) if texts else ""


# What each constraint component asks for, in plain words; {} is the shape's parameter.
_PLAIN: dict[str, tuple[URIRef | None, str]] = {
    "MinCountConstraintComponent": (SH.minCount, "needs at least {} value"),
    "MaxCountConstraintComponent": (SH.maxCount, "allows at most {} value"),
    "ClassConstraintComponent": (SH["class"], "each value must be a {}"),
    "DatatypeConstraintComponent": (SH.datatype, "each value must be a literal of type {}"),
    "NodeKindConstraintComponent": (SH.nodeKind, "each value must be a {}"),
    "PatternConstraintComponent": (SH.pattern, "must match the pattern {}"),
    "LanguageInConstraintComponent": (SH.languageIn, "language tags allowed: {}"),
    "UniqueLangConstraintComponent": (None, "at most one value per language"),
    "InConstraintComponent": (SH["in"], "must be one of {}"),
    "LessThanConstraintComponent": (SH.lessThan, "must be less than the value of {}"),
    "LessThanOrEqualsConstraintComponent": (SH.lessThanOrEquals, "must not exceed the value of {}"),
    "MinInclusiveConstraintComponent": (SH.minInclusive, "must be at least {}"),
    "MaxInclusiveConstraintComponent": (SH.maxInclusive, "must be at most {}"),
    "MinExclusiveConstraintComponent": (SH.minExclusive, "must be more than {}"),
    "MaxExclusiveConstraintComponent": (SH.maxExclusive, "must be less than {}"),
    "MinLengthConstraintComponent": (SH.minLength, "must be at least {} character(s) long"),
    "MaxLengthConstraintComponent": (SH.maxLength, "must be at most {} character(s) long"),
    "HasValueConstraintComponent": (SH.hasValue, "must include the value {}"),
    "OrConstraintComponent": (None, "each value must match one of the alternatives"),
    "NodeConstraintComponent": (SH.node, "each value must conform to {}"),
    "QualifiedMinCountConstraintComponent": (SH.qualifiedMinCount, "needs at least {} such value"),
    "QualifiedMaxCountConstraintComponent": (SH.qualifiedMaxCount, "allows at most {} such value"),
    "SPARQLConstraintComponent": (None, "a rule across nodes and graphs (SHACL-SPARQL)"),
}


def explain(constraint: str, shape: Node | None, shapes: Graph) -> str:
    """What a constraint component of ``shape`` asks for, in plain words.

    >>> g = Graph()
    >>> _ = g.add((URIRef("urn:s"), SH.minCount, Literal(2)))
    >>> explain("MinCountConstraintComponent", URIRef("urn:s"), g)
    'needs at least 2 values'
    """
    plain = _PLAIN.get(constraint)
    if plain is None:
        return ""
    parameter, template = plain
    if parameter is None:
        return template
    value = shapes.value(shape, parameter) if shape is not None else None
    if value is None:
        return template.replace(" {}", "")
    text = template.format(
        str(value) if parameter == SH.pattern else _parameter_text(shapes, value)
    )
    number = value.toPython() if isinstance(value, Literal) else None
    plural = isinstance(number, int) and number != 1 and text.endswith("value")
    return text + "s" if plural else text


def _parameter_text(shapes: Graph, value: Node) -> str:
    if isinstance(value, BNode) and shapes.value(value, RDF.first) is not None:
        return ", ".join(_parameter_text(shapes, v) for v in Collection(shapes, value))
    if isinstance(value, URIRef):
        return _short(str(value))
    if isinstance(value, Literal) and isinstance(value.toPython(), str):
        return f'"{value}"'  # texts quoted; numbers, booleans and dates as they are
    return str(value)


def _path_str(report: Graph, path: Node) -> str:
    """A property path in SPARQL-like notation: IRI, ``^IRI``, ``a/b``, ``a|b``, ``a*``..."""
    if isinstance(path, URIRef):
        return str(path)
    inverse = report.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + _path_str(report, inverse)
    alternatives = report.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(_path_str(report, p) for p in Collection(report, alternatives)) + ")"
    for predicate, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+")):
        inner = report.value(path, predicate)
        if inner is not None:
            return _path_str(report, inner) + suffix
    inner = report.value(path, SH.zeroOrOnePath)
    if inner is not None:
        return _path_str(report, inner) + "?"
    if report.value(path, RDF.first) is not None:
        return "/".join(_path_str(report, p) for p in Collection(report, path))
    return _term_str(path)


def _term_str(term: Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        return term.n3()
    return str(term)


def _term_key(text: str) -> Node:
    """The inverse of :func:`_term_str` for focus nodes (IRIs and blank nodes)."""
    return BNode(text[2:]) if text.startswith("_:") else URIRef(text)


def _local_name(iri: Node) -> str:
    text = str(iri)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _row(result: ValidationResult) -> tuple:
    return (
        result.severity,
        result.focus_node,
        result.path,
        result.constraint,
        result.source_shape,
        result.value,
    )


def _article_name(graph_iri: str | None) -> str:
    if graph_iri and graph_iri.startswith(ARTICLE_PREFIX):
        return graph_iri[len(ARTICLE_PREFIX) :]
    return graph_iri or "default graph"


# --------------------------------------------------------------------------------------------
# Where a result comes from: article files (evidence spans) and reference tables (rows)
# --------------------------------------------------------------------------------------------

_DKG_EVIDENCE = URIRef(DKG + "evidence")
_START = URIRef(DKG + "startOffset")
_END = URIRef(DKG + "endOffset")
_ARTICLE_CLASS = URIRef(DKG + "Article")
# Article properties and the front matter keys they come from (kg/read.py).
_FRONT_MATTER = {
    "http://purl.org/dc/terms/issued": "published",
    "http://purl.org/dc/terms/title": "title",
    "http://purl.org/dc/terms/language": "language",
    "http://purl.org/dc/terms/publisher": "publisher",
    "https://schema.org/url": "url",
}


@dataclass(frozen=True)
class ArticleSource:
    """An article file and its text, to turn evidence offsets into lines and columns."""

    path: str
    text: str
    text_line: int = 1  # the file line on which the text starts (after the front matter)

    @classmethod
    def from_article(cls, article: Any) -> ArticleSource:
        """From a :class:`kg.read.Article` (its ``path``, ``text`` and ``text_line``)."""
        return cls(article.path or article.id, article.text, article.text_line)

    @classmethod
    def read(cls, path: Path) -> ArticleSource:
        """Read an article file the way the build does (raises InputError when it is bad)."""
        from kg.read import read_article

        return cls.from_article(read_article(path))

    def line_column(self, offset: int) -> tuple[int, int]:
        """The file line and column (from 1, in characters) of a text offset.

        >>> ArticleSource("a.txt", "one\\ntwo", text_line=5).line_column(5)
        (6, 2)
        """
        before = self.text[: max(0, offset)]
        return self.text_line + before.count("\n"), offset - (before.rfind("\n") + 1) + 1

    def words(self, start: int, end: int, limit: int = 70) -> str:
        """The span's words on one line, shortened to ``limit`` characters."""
        words = " ".join(self.text[start:end].split())
        return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"

    def front_matter_line(self, key: str) -> int | None:
        """The file line of a front matter key, or None."""
        try:
            lines = Path(self.path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return None
        for number, line in enumerate(lines[: self.text_line - 1], start=1):
            if number > 1 and line.startswith(f"{key}:"):
                return number
        return None


def _locate_article(
    results: list[ValidationResult],
    graph_iri: str | None,
    graph: Graph,
    source: ArticleSource | None,
) -> list[ValidationResult]:
    located = []
    for result in results:
        result = replace(result, graph=graph_iri)
        if source is not None:
            result = _with_evidence(result, graph, source)
        located.append(result)
    return located


def _with_evidence(
    result: ValidationResult, graph: Graph, source: ArticleSource
) -> ValidationResult:
    focus = _term_key(result.focus_node)
    result = replace(result, file=source.path)
    if (focus, RDF.type, _ARTICLE_CLASS) in graph:
        key = _FRONT_MATTER.get(result.path or "")
        return replace(result, line=source.front_matter_line(key) if key else None)
    span = evidence_span(graph, focus)
    if span is None:
        return result
    line, column = source.line_column(span[0])
    return replace(result, line=line, column=column, evidence=source.words(*span))


def evidence_span(graph: Graph, node: Node, depth: int = 3) -> tuple[int, int] | None:
    """The evidence span (start, end) that produced ``node`` in an article graph, or None.

    The node's own offsets (an Evidence), else its ``dkg:evidence`` (the earliest span), else
    the evidence of the nodes that point at it (a meeting for its participant, ...), nearest
    first, up to ``depth`` links away; the article itself is not followed.
    """
    if (node, RDF.type, _ARTICLE_CLASS) in graph:
        return None
    frontier, seen = [node], {node}
    for _ in range(depth + 1):
        spans = [s for n in frontier for s in _own_spans(graph, n)]
        if spans:
            return min(spans)
        frontier = sorted(
            {
                s
                for n in frontier
                for s in graph.subjects(None, n)
                if s not in seen and (s, RDF.type, _ARTICLE_CLASS) not in graph
            },
            key=str,
        )
        seen.update(frontier)
    return None


def _own_spans(graph: Graph, node: Node) -> Iterator[tuple[int, int]]:
    for evidence in [node, *graph.objects(node, _DKG_EVIDENCE)]:
        start, end = graph.value(evidence, _START), graph.value(evidence, _END)
        if isinstance(start, Literal) and isinstance(end, Literal):
            try:
                yield int(start), int(end)
            except (TypeError, ValueError):
                continue


@dataclass(frozen=True)
class _TableRow:
    """One row of a reference table: its values, and the line of the row and of its fields."""

    file: str
    line: int
    data: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)  # field -> line
    item_lines: dict[str, list[int]] = field(default_factory=dict)  # list field -> item lines

    def line_of(self, key: str, item: int | None = None) -> int:
        items = self.item_lines.get(key, [])
        if item is not None and item < len(items):
            return items[item]
        return self.lines.get(key, self.line)


# The reference tables: file name -> (IRI kind, key column).
_TABLES = {
    "states.csv": ("state", "iso2"),
    "organisations.yaml": ("org", "key"),
    "post-kinds.yaml": (None, "kind"),
    "posts.yaml": ("post", "key"),
    "officials.yaml": ("official", "key"),
    "places.yaml": ("place", "key"),
}


def _table_rows(path: Path) -> list[_TableRow]:
    """The rows of a reference table with their lines; [] when it is missing or unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".csv":
            return _csv_rows(path, text)
        return _yaml_rows(path, text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, csv.Error):
        return []


def _csv_rows(path: Path, text: str) -> list[_TableRow]:
    reader = csv.DictReader(text.splitlines())
    rows = []
    for data in reader:
        rows.append(_TableRow(str(path), reader.line_num, dict(data)))
    return rows


def _yaml_rows(path: Path, text: str) -> list[_TableRow]:
    root, data = yaml.compose(text), yaml.safe_load(text)
    if isinstance(root, yaml.MappingNode):  # {items: [...]}: the first list, as kg.reference
        root = next((v for _k, v in root.value if isinstance(v, yaml.SequenceNode)), None)
        data = next((v for v in data.values() if isinstance(v, list)), [])
    if not isinstance(root, yaml.SequenceNode) or not isinstance(data, list):
        return []
    rows = []
    for node, item in zip(root.value, data, strict=False):
        if not isinstance(node, yaml.MappingNode) or not isinstance(item, dict):
            continue
        lines = {str(k.value): k.start_mark.line + 1 for k, _v in node.value}
        item_lines = {
            str(k.value): [i.start_mark.line + 1 for i in v.value]
            for k, v in node.value
            if isinstance(v, yaml.SequenceNode)
        }
        rows.append(_TableRow(str(path), node.start_mark.line + 1, item, lines, item_lines))
    return rows


@dataclass
class ReferenceIndex:
    """Which table row each reference IRI comes from, and the line of each of its columns."""

    rows: dict[str, _TableRow] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, folder: Path) -> ReferenceIndex:
        index = cls()
        for name, (kind, key) in _TABLES.items():
            path = Path(folder) / name
            if not path.is_file():
                continue
            index.files.append(str(path))
            for row in _table_rows(path):
                index._add(kind, key, row)
        return index

    def _add(self, kind: str | None, key: str, row: _TableRow) -> None:
        value = str(row.data.get(key) or "").strip()
        if kind is None or not value:
            return
        self.rows.setdefault(f"{ID}{kind}/{value}", row)
        if kind == "official":
            for number, tenure in enumerate(row.data.get("posts") or []):
                if isinstance(tenure, dict):
                    start = str(tenure.get("start") or "undated")
                    iri = f"{ID}position/{value}/{tenure.get('post')}/{start}"
                    line = row.line_of("posts", number)
                    self.rows.setdefault(iri, _TableRow(row.file, line, tenure))

    def locate(self, iri: str, path: str | None = None) -> tuple[str, int] | None:
        """The file and line of the row an IRI comes from; the line of the column a
        property path is mapped from when the row spans several lines."""
        row = self.rows.get(iri)
        if row is None:
            return None
        columns = _COLUMNS.get(path or "", ())
        line = next((row.lines[c] for c in columns if c in row.lines), row.line)
        return row.file, line


# The table columns each property of the reference graph is mapped from (kg/map.py).
_COLUMNS = {
    str(OWL.sameAs): ("qid",),
    str(RDFS.label): ("name_en", "label_en", "name_pl", "label_pl"),
    str(SKOS.altLabel): ("aliases", "aliases_en", "aliases_pl"),
    DKG + "isoCode": ("iso2",),
    DKG + "citizenOf": ("citizen_of",),
    DKG + "memberState": ("members",),
    DKG + "postOf": ("state", "org"),
    DKG + "postKind": ("kind",),
    DKG + "holdsPosition": ("posts",),
}


def _locate_reference(result: ValidationResult, index: ReferenceIndex | None) -> ValidationResult:
    where = index.locate(result.focus_node, result.path) if index is not None else None
    return replace(result, file=where[0], line=where[1]) if where else result


class Sources:
    """Finds the files a built graph came from: article files by id, the reference tables.

    Either folder may be None or missing; results are then reported without a file. Give
    the folders the store was built from: offsets are only right for the same article text.
    """

    def __init__(self, articles_dir: Path | None = None, reference_dir: Path | None = None):
        self.articles_dir = Path(articles_dir) if articles_dir else None
        self.reference_dir = Path(reference_dir) if reference_dir else None
        self._index: ReferenceIndex | None = None

    def article(self, graph_iri: str) -> ArticleSource | None:
        if self.articles_dir is None or not graph_iri.startswith(ARTICLE_PREFIX):
            return None
        article_id = graph_iri[len(ARTICLE_PREFIX) :]
        for suffix in (".txt", ".md"):
            path = self.articles_dir / f"{article_id}{suffix}"
            if path.is_file():
                try:
                    return ArticleSource.read(path)
                except InputError:
                    return None
        return None

    def reference(self) -> ReferenceIndex | None:
        if self.reference_dir is None or not self.reference_dir.is_dir():
            return None
        if self._index is None:
            self._index = ReferenceIndex.of(self.reference_dir)
        return self._index


# --------------------------------------------------------------------------------------------
# Targets: the built store, article files, reference tables, curation files
# --------------------------------------------------------------------------------------------


def validate_quads(quads: list, *, today: dt.date | None = None) -> ValidationReport:
    """Validate pyoxigraph quads laid out as the build writes them (see validate_dataset)."""
    return validate_dataset(_dataset_of(quads), today=today)


def _dataset_of(quads: Iterable) -> Dataset:
    import pyoxigraph as ox

    data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
    dataset = Dataset()
    dataset.parse(data=data.decode("utf-8"), format="nquads")
    return dataset


def validate_store(
    out: Path,
    *,
    articles_dir: Path | None = None,
    reference_dir: Path | None = None,
    today: dt.date | None = None,
) -> ValidationReport:
    """Validate the built store ``OUT/store``; results point into the given folders' files."""
    import pyoxigraph as ox

    from kg import load

    store = load.open_store(out)
    skip = {ox.NamedNode(SHAPES_GRAPH), ox.NamedNode(ONTOLOGY_GRAPH)}
    dataset = _dataset_of(q for q in store if q.graph_name not in skip)
    return validate_dataset(dataset, today=today, sources=Sources(articles_dir, reference_dir))


@lru_cache(maxsize=2)
def _reference_graph_cached(folder: str, stamp: tuple) -> Graph:
    from kg.map import render_reference
    from kg.reference import load_reference

    ref = load_reference(Path(folder))
    return _named_graph(render_reference(_renderable(ref)), REFERENCE_GRAPH, folder)


def reference_graph(folder: Path) -> Graph:
    """The reference graph the tables of ``folder`` map to (cached per process until they
    change). Raises InputError when a table cannot be read."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "no such reference folder")
    stamp = tuple(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.iterdir())
    )
    return _reference_graph_cached(str(folder.resolve()), stamp)


def _named_graph(trig: str, graph_iri: str, source: str) -> Graph:
    dataset = Dataset()
    try:
        dataset.parse(data=trig, format="trig")
    except Exception as exc:  # a template bug, never the user's input
        raise KgError(f"{source}: rendered TriG does not parse: {exc}") from exc
    graph = Graph()
    graph += dataset.graph(URIRef(graph_iri))
    return graph


def validate_article_file(
    path: Path,
    reference_dir: Path,
    *,
    curation_dir: Path | None = None,
    today: dt.date | None = None,
) -> ValidationReport:
    """Read, extract, map and validate one article file with the reference graph (no store).

    With ``curation_dir`` holding ``ID.yaml``, the correction is applied first, as the build
    does; a correction that does not fit the article is reported as a violation of that file
    (the build would skip the article). Raises InputError when the file cannot be read as an
    article.
    """
    from kg.extract import extract
    from kg.map import article_iri, render_article
    from kg.read import read_article
    from kg.reference import load_reference

    article = read_article(path)
    ref = load_reference(reference_dir)
    record = extract(article, ref)
    iri = article_iri(article.id)
    curation = _curation_file(curation_dir, article.id)
    if curation is not None:
        try:
            record = _apply_curation(record, article, curation, ref)
        except InputError as exc:
            if exc.path != str(curation):
                raise
            checked = Checked("article", article.id, iri, str(path))
            return ValidationReport([_curation_result(curation, exc)], [checked])
    graph = _named_graph(render_article(record, ref), iri, str(path))
    return validate_article(
        graph,
        iri,
        reference_graph(reference_dir),
        source=ArticleSource.from_article(article),
        today=today,
    )


def validate_reference_dir(folder: Path, *, today: dt.date | None = None) -> ValidationReport:
    """Check the reference tables of ``folder``, then validate the graph they map to.

    Table checks come first (a key used twice, a key naming no row, a QID or key that cannot
    be an IRI); rows they find unusable are left out of the graph, which is then validated on
    its own with the shapes. Raises InputError when a table cannot be read at all.
    """
    from kg.map import render_reference
    from kg.reference import load_reference

    folder = Path(folder)
    table_results = check_tables(folder)
    ref = load_reference(folder)
    graph = _named_graph(render_reference(_renderable(ref)), REFERENCE_GRAPH, str(folder))
    index = ReferenceIndex.of(folder)
    results = [
        _locate_reference(replace(r, graph=REFERENCE_GRAPH), index)
        for r in validate_graph(graph, today=today).results
    ]
    return ValidationReport(
        sorted(set(results + table_results), key=ValidationResult.sort_key),
        _reference_checked(index, REFERENCE_GRAPH),
    )


# -- table checks --------------------------------------------------------------------------
_QID = re.compile(r"^Q[1-9][0-9]*$")
_IRI_UNSAFE = re.compile(r'[\s<>"{}|^`\\/]')


@dataclass
class _Tables:
    """The rows of every reference table, by file name, and the keys each table defines."""

    rows: dict[str, list[_TableRow]]

    def keys(self, name: str) -> set[str]:
        key = _TABLES[name][1]
        return {str(r.data.get(key) or "").strip() for r in self.rows.get(name, [])}


def check_tables(folder: Path) -> list[ValidationResult]:
    """Checks across the rows of the reference tables that SHACL cannot see in the graph:
    the mapping keeps one row per key and leaves out rows that name unknown keys."""
    tables = _Tables({name: _table_rows(Path(folder) / name) for name in _TABLES})
    results: list[ValidationResult] = []
    for name in _TABLES:
        results += _duplicate_keys(tables, name)
        results += _malformed(tables, name)
    results += _unknown_keys(tables)
    return sorted(results, key=ValidationResult.sort_key)


def _table_result(
    row: _TableRow, name: str, column: str, constraint: str, value: Any, message: str, line: int
) -> ValidationResult:
    kind, key = _TABLES[name]
    row_key = str(row.data.get(key) or "").strip()
    return ValidationResult(
        severity="Violation",
        focus_node=f"{ID}{kind}/{row_key}" if kind else f"{name}#{row_key}",
        path=column,
        constraint=constraint,
        source_shape=TABLE_CHECK,
        message=message,
        value=Literal(str(value)).n3(),
        graph=REFERENCE_GRAPH,
        file=row.file,
        line=line,
        explanation=_TABLE_EXPLANATIONS[constraint],
    )


_TABLE_EXPLANATIONS = {
    "DuplicateKey": "each key names one row of its table",
    "UnknownKey": "a key in one table names a row of another",
    "MalformedValue": "QIDs are Q and digits; keys hold no spaces, slashes or quotes",
}


def _duplicate_keys(tables: _Tables, name: str) -> Iterator[ValidationResult]:
    key = _TABLES[name][1]
    first: dict[str, int] = {}
    for row in tables.rows.get(name, []):
        value = str(row.data.get(key) or "").strip()
        if value in first:
            yield _table_result(
                row, name, key, "DuplicateKey", value,
                f"{key} {value!r} is already used on line {first[value]} of {name}; the graph "
                "keeps only one of the two rows (merge them, or give one another key).",
                row.line_of(key),
            )  # fmt: skip
        else:
            first.setdefault(value, row.line)


def _malformed(tables: _Tables, name: str) -> Iterator[ValidationResult]:
    key = _TABLES[name][1]
    for row in tables.rows.get(name, []):
        value = str(row.data.get(key) or "").strip()
        if not value or _IRI_UNSAFE.search(value):
            yield _table_result(
                row, name, key, "MalformedValue", value,
                f"{key} {value!r} cannot be part of an IRI (empty, or with a space, slash or "
                "quote); the row is left out of the graph.",
                row.line_of(key),
            )  # fmt: skip
        qid = str(row.data.get("qid") or "").strip()
        if qid and not _QID.match(qid):
            yield _table_result(
                row, name, "qid", "MalformedValue", qid,
                f"qid {qid!r} is not a Wikidata item id (Q followed by digits, e.g. Q36); the "
                "row is mapped without its Wikidata link.",
                row.line_of("qid"),
            )  # fmt: skip


# (table, column, table the column names, what is lost when it names no row)
_REFERENCES = (
    ("officials.yaml", "citizen_of", "states.csv", "the official is mapped without it"),
    ("posts.yaml", "kind", "post-kinds.yaml", "the post has no known kind"),
    ("posts.yaml", "state", "states.csv", "the post is left out of the graph"),
    ("posts.yaml", "org", "organisations.yaml", "the post is left out of the graph"),
    ("organisations.yaml", "members", "states.csv", "the member is left out of the graph"),
    ("organisations.yaml", "state", "states.csv", "the organisation's state is unknown"),
    ("places.yaml", "state", "states.csv", "the place's state is unknown"),
)


def _unknown_keys(tables: _Tables) -> Iterator[ValidationResult]:
    for name, column, target, loss in _REFERENCES:
        known = tables.keys(target)
        for row in tables.rows.get(name, []):
            for number, value in _cells(row.data.get(column)):
                if value not in known:
                    line = row.line_of(column, number)
                    message = f"{column} {value!r} is not a key of {target}; {loss}."
                    yield _table_result(row, name, column, "UnknownKey", value, message, line)
    known_posts = tables.keys("posts.yaml")
    for row in tables.rows.get("officials.yaml", []):
        for number, tenure in enumerate(row.data.get("posts") or []):
            post = str(tenure.get("post") or "") if isinstance(tenure, dict) else ""
            if post not in known_posts:
                message = (
                    f"post {post!r} is not a key of posts.yaml; this holding of it is left out "
                    "of the graph (add the post, or fix the key)."
                )
                line = row.line_of("posts", number)
                yield _table_result(
                    row, "officials.yaml", "posts", "UnknownKey", post, message, line
                )


def _cells(value: Any) -> list[tuple[int | None, str]]:
    """The non-empty values of a cell: a list, a "|"-separated text, or one value."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [(i, str(v).strip()) for i, v in enumerate(value) if str(v).strip()]
    return [(None, v.strip()) for v in str(value).split("|") if v.strip()]


def _renderable(ref: Any) -> Any:
    """The reference data without what cannot be written as RDF (reported by check_tables):
    a QID that is not one is dropped, a row whose key cannot be an IRI is left out."""
    for table in ("states", "organisations", "posts", "officials", "places"):
        records = getattr(ref, table)
        kept = {k: _without_bad_qid(v) for k, v in records.items() if _key_ok(k)}
        setattr(ref, table, kept)
    return ref


def _key_ok(key: str) -> bool:
    return bool(key) and not _IRI_UNSAFE.search(key)


def _without_bad_qid(record: Any) -> Any:
    qid = getattr(record, "qid", None)
    return replace(record, qid=None) if qid and not _QID.match(qid) else record


# -- curation files ------------------------------------------------------------------------


def validate_curation_dir(
    folder: Path,
    articles_dir: Path,
    reference_dir: Path,
    *,
    today: dt.date | None = None,
) -> ValidationReport:
    """Check every ``ID.yaml`` of ``folder`` (see "Curation files" in the module docstring)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "no such curation folder")
    reports = [
        _validate_curation_file(path, Path(articles_dir), Path(reference_dir), today)
        for path in sorted(folder.glob("*.yaml"))
    ]
    return merge_reports(reports)


def _validate_curation_file(
    path: Path, articles_dir: Path, reference_dir: Path, today: dt.date | None
) -> ValidationReport:
    from kg.map import article_iri

    checked = Checked("curation", path.name, article_iri(path.stem), str(path))
    problem = _curation_structure(path)
    article_path = _article_file(articles_dir, path.stem)
    if problem is None and article_path is None:
        problem = InputError(path, f"no article {path.stem!r} in {articles_dir} (.txt or .md)")
    if problem is None:
        try:
            report = validate_article_file(
                article_path, reference_dir, curation_dir=path.parent, today=today
            )
        except InputError as exc:
            problem = exc
        else:
            return ValidationReport(report.results, [checked])
    return ValidationReport([_curation_result(path, problem)], [checked])


def _article_file(articles_dir: Path, article_id: str) -> Path | None:
    for suffix in (".txt", ".md"):
        path = articles_dir / f"{article_id}{suffix}"
        if path.is_file():
            return path
    return None


def _curation_result(path: Path, problem: InputError) -> ValidationResult:
    from kg.map import article_iri

    message = problem.message if problem.path == str(path) else str(problem)
    return ValidationResult(
        severity="Violation",
        focus_node=article_iri(path.stem),
        path=None,
        constraint="CurationCheck",
        source_shape=CURATION_CHECK,
        message=message,
        value=None,
        graph=article_iri(path.stem),
        file=str(path),
        line=problem.line if problem.path == str(path) else None,
        explanation="a curation file must fit its article (data/curation/README.md)",
    )


def _curation_structure(path: Path) -> InputError | None:
    """The first structural problem of a curation file, or None."""
    from kg import curate

    try:
        curate.load_curation(path)
    except InputError as exc:
        return exc
    return None


def _curation_file(curation_dir: Path | None, article_id: str) -> Path | None:
    if curation_dir is None:
        return None
    path = Path(curation_dir) / f"{article_id}.yaml"
    return path if path.is_file() else None


def _apply_curation(record: Any, article: Any, path: Path, ref: Any) -> Any:
    from kg import curate

    return curate.apply_curation(record, article, path, ref)


# --------------------------------------------------------------------------------------------
# The ontology and the shapes together
# --------------------------------------------------------------------------------------------

# Paths outside the dkg namespace that shapes may use: standard vocabulary only.
STANDARD_PATHS = frozenset(
    {RDF.type, RDFS.label, OWL.sameAs, URIRef("https://schema.org/url"), SKOS.altLabel}
)
STANDARD_PATH_NAMESPACES = ("http://purl.org/dc/terms/", "http://www.w3.org/ns/prov#")


def ontology_terms(ontology: Graph) -> tuple[set[URIRef], set[URIRef]]:
    """The ``dkg:`` classes and properties the ontology declares."""

    def declared(*types: URIRef) -> set[URIRef]:
        return {
            s
            for t in types
            for s in ontology.subjects(RDF.type, t)
            if isinstance(s, URIRef) and s.startswith(DKG)
        }

    return declared(OWL.Class), declared(OWL.ObjectProperty, OWL.DatatypeProperty)


def shape_paths(shapes: Graph) -> set[URIRef]:
    """Every property IRI in a ``sh:path`` of the shapes (inverse, sequence, ... paths too)."""
    return {iri for path in set(shapes.objects(None, SH.path)) for iri in _path_iris(shapes, path)}


def _path_iris(shapes: Graph, path: Node) -> Iterator[URIRef]:
    if isinstance(path, URIRef):
        yield path
        return
    for predicate in (SH.inversePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
        inner = shapes.value(path, predicate)
        if inner is not None:
            yield from _path_iris(shapes, inner)
            return
    alternatives = shapes.value(path, SH.alternativePath)
    for item in Collection(shapes, alternatives if alternatives is not None else path):
        yield from _path_iris(shapes, item)


@dataclass(frozen=True)
class SparqlTerms:
    """The IRIs a SHACL-SPARQL query uses: as predicates, as rdf:type objects, anywhere."""

    predicates: frozenset[URIRef]
    classes: frozenset[URIRef]
    iris: frozenset[URIRef]


def sparql_terms(shapes: Graph) -> dict[Node, SparqlTerms]:
    """The terms of every ``sh:select`` query of the shapes, by the constraint holding it.

    Queries are parsed with the prefixes their ``sh:prefixes`` declare; a query that does not
    parse raises InputError naming the constraint.
    """
    from rdflib.plugins.sparql import prepareQuery

    found = {}
    for constraint, select in shapes.subject_objects(SH.select):
        prefixes = _declared_prefixes(shapes, constraint)
        try:
            query = prepareQuery(str(select), initNs=prefixes)
        except Exception as exc:  # pyparsing and rdflib raise several kinds
            message = f"{constraint}: query does not parse: {exc}"
            raise InputError(DEFAULT_SHAPES_DIR, message) from exc
        predicates: set[URIRef] = set()
        classes: set[URIRef] = set()
        iris: set[URIRef] = set()
        _walk_algebra(query.algebra, predicates, classes, iris)
        found[constraint] = SparqlTerms(frozenset(predicates), frozenset(classes), frozenset(iris))
    return found


def _declared_prefixes(shapes: Graph, constraint: Node) -> dict[str, str]:
    prefixes = {}
    for holder in shapes.objects(constraint, SH.prefixes):
        for declaration in shapes.objects(holder, SH.declare):
            prefix = shapes.value(declaration, SH.prefix)
            namespace = shapes.value(declaration, SH.namespace)
            if prefix is not None and namespace is not None:
                prefixes[str(prefix)] = str(namespace)
    return prefixes


def _walk_algebra(node: Any, predicates: set, classes: set, iris: set) -> None:
    from rdflib.paths import Path as PropertyPath

    if isinstance(node, URIRef):
        iris.add(node)
    elif isinstance(node, PropertyPath):
        for inner in _path_parts(node):
            predicates.add(inner)
            iris.add(inner)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "triples":
                _triple_patterns(value, predicates, classes)
            _walk_algebra(value, predicates, classes, iris)
    elif isinstance(node, list | tuple | set):
        for value in node:
            _walk_algebra(value, predicates, classes, iris)


def _triple_patterns(triples: Any, predicates: set, classes: set) -> None:
    """The ``triples`` of a BGP (tuples of three terms) or of a block inside EXISTS (flat
    lists of 3n terms: ``?s a ?c ; ?p ?o`` is one list of six)."""
    for pattern in triples or []:
        for index in range(0, len(pattern) - 2, 3):
            _subject, predicate, obj = pattern[index : index + 3]
            if isinstance(predicate, URIRef):
                predicates.add(predicate)
                if predicate == RDF.type and isinstance(obj, URIRef):
                    classes.add(obj)


def _path_parts(path: Any) -> Iterator[URIRef]:
    for attribute in ("args", "arg", "path"):
        inner = getattr(path, attribute, None)
        for item in inner if isinstance(inner, list) else [inner]:
            if isinstance(item, URIRef):
                yield item
            elif item is not None and item is not path:
                yield from _path_parts(item)


def ontology_problems(ontology: Graph, shapes: Graph) -> list[tuple[str, str, str]]:
    """Where shapes and ontology are out of step: (term, check, message), sorted.

    Every ``sh:targetClass`` / ``sh:class`` is a declared class; every ``dkg:`` path a
    declared property, other paths from the standard allow-list; every ``dkg:`` IRI of a
    SHACL-SPARQL query is declared, used as a predicate only if a property and as an
    ``rdf:type`` object only if a class; every term has one label and one definition in
    English and in Polish.
    """
    classes, properties = ontology_terms(ontology)
    problems = set()
    for cls in set(shapes.objects(None, SH.targetClass)) | set(shapes.objects(None, SH["class"])):
        if cls not in classes:
            problems.add((str(cls), "UndeclaredClass", "a shape targets or requires this class"))
    for iri in shape_paths(shapes):
        if iri.startswith(DKG) and iri not in properties:
            problems.add((str(iri), "UndeclaredProperty", "a shape's sh:path"))
        elif not iri.startswith(DKG) and not _standard_path(iri):
            problems.add((str(iri), "NonStandardPath", "a shape's sh:path outside the allow-list"))
    for constraint, terms in sparql_terms(shapes).items():
        problems |= _sparql_problems(str(constraint), terms, classes, properties)
    problems |= _bilingual_problems(ontology, classes | properties)
    return sorted(problems)


def _standard_path(iri: URIRef) -> bool:
    return iri in STANDARD_PATHS or str(iri).startswith(STANDARD_PATH_NAMESPACES)


def _sparql_problems(
    constraint: str, terms: SparqlTerms, classes: set[URIRef], properties: set[URIRef]
) -> set[tuple[str, str, str]]:
    problems = set()
    where = f"the SHACL-SPARQL query of {constraint}"
    for iri in terms.iris:
        if iri.startswith(DKG) and iri not in classes | properties:
            problems.add((str(iri), "UndeclaredTerm", f"used in {where}"))
    for iri in terms.predicates:
        if iri.startswith(DKG) and iri in classes:
            problems.add((str(iri), "ClassAsProperty", f"a class used as a predicate in {where}"))
        elif not iri.startswith(DKG) and not _standard_path(iri):
            message = f"a predicate outside the allow-list in {where}"
            problems.add((str(iri), "NonStandardPath", message))
    for iri in terms.classes:
        if iri.startswith(DKG) and iri in properties:
            problems.add((str(iri), "PropertyAsClass", f"a property used as a class in {where}"))
    return problems


def _bilingual_problems(ontology: Graph, terms: set[URIRef]) -> set[tuple[str, str, str]]:
    problems = set()
    for term in terms:
        for predicate, name in ((RDFS.label, "label"), (SKOS.definition, "definition")):
            languages = sorted(o.language or "-" for o in ontology.objects(term, predicate))
            if languages != ["en", "pl"]:
                message = f"{name}s in {languages}; want one in English and one in Polish"
                problems.add((str(term), f"Missing{name.capitalize()}", message))
    return problems


def owl_rl_problems(ontology: Graph) -> list[str]:
    """Inconsistencies OWL RL (owlrl) finds in the ontology with one instance per class."""
    import owlrl

    errns = "http://www.daml.org/2002/03/agents/agent-ont#"
    graph = _copy(ontology)
    classes, _properties = ontology_terms(ontology)
    for cls in classes:
        graph.add((URIRef(f"urn:dkg:probe:{_local_name(cls)}"), RDF.type, cls))
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    errors = [
        str(graph.value(m, URIRef(errns + "error")))
        for m in graph.subjects(RDF.type, URIRef(errns + "ErrorMessage"))
    ]
    nothing = [
        f"{s} is a member of owl:Nothing"
        for s in graph.subjects(RDF.type, OWL.Nothing)
        if not isinstance(s, BNode)
    ]
    return sorted(errors + nothing)


def check_ontology(
    ontology_path: Path = DEFAULT_ONTOLOGY_PATH, shapes_dir: Path = DEFAULT_SHAPES_DIR
) -> ValidationReport:
    """The ontology checks as a report (``kg validate --ontology``): shapes and ontology in
    step, every term labelled and defined in English and Polish, consistent under OWL RL."""
    ontology, shapes = load_ontology(ontology_path), load_shapes(shapes_dir)
    results = [
        _ontology_result(term, check, message, str(ontology_path))
        for term, check, message in ontology_problems(ontology, shapes)
    ]
    results += [
        _ontology_result(str(ontology_path), "OwlRlInconsistency", message, str(ontology_path))
        for message in owl_rl_problems(ontology)
    ]
    checked = [Checked("ontology", Path(ontology_path).name, ONTOLOGY_GRAPH, str(ontology_path))]
    return ValidationReport(sorted(results, key=ValidationResult.sort_key), checked)


def _ontology_result(term: str, check: str, message: str, file: str) -> ValidationResult:
    return ValidationResult(
        severity="Violation",
        focus_node=term,
        path=None,
        constraint=check,
        source_shape=ONTOLOGY_CHECK,
        message=message,
        value=None,
        graph=ONTOLOGY_GRAPH,
        file=file,
        explanation="ontology and shapes in step, bilingual and consistent",
    )


# --------------------------------------------------------------------------------------------
# Formatting: text, JSON, JUnit XML
# --------------------------------------------------------------------------------------------


def _short(iri: str | None) -> str:
    if iri is None:
        return "-"
    prefix_inverse = "^" if iri.startswith("^") else ""
    bare = iri[len(prefix_inverse) :]
    for prefix, namespace in _PREFIXES:
        if bare.startswith(namespace) and "/" not in bare[len(namespace) :]:
            return prefix_inverse + prefix + bare[len(namespace) :]
    return iri


def _graph_label(graph: str) -> str:
    if graph.startswith(ARTICLE_PREFIX):
        return f"article {graph[len(ARTICLE_PREFIX) :]} <{graph}>"
    if graph == REFERENCE_GRAPH:
        return f"reference data <{graph}>"
    if graph == ONTOLOGY_GRAPH:
        return f"ontology <{graph}>"
    if graph == STATISTICS_GRAPH:
        return f"statistics <{graph}>"
    return f"graph <{graph}>"


def _summary(report: ValidationReport) -> str:
    line = f"{len(report.violations())} violations, {len(report.warnings())} warnings"
    infos = len(report.infos())
    return line + (f", {infos} infos" if infos else "")


_NOUNS = {
    "article": "article graph(s)",
    "reference": "reference table(s)",
    "curation": "curation file(s)",
    "statistics": "statistics graph(s)",
    "graph": "other graph(s)",
    "ontology": "ontology file(s)",
}


def _checked_line(report: ValidationReport) -> str | None:
    """The line "Checked 4 article graph(s), 6 reference table(s)." (None: nothing listed)."""
    parts = []
    for kind, noun in _NOUNS.items():
        items = [c for c in report.checked if c.kind == kind]
        if kind == "reference" and items and all(c.file is None for c in items):
            parts.append("the reference data")
        elif items:
            parts.append(f"{len(items)} {noun}")
    return "Checked " + ", ".join(parts) + "." if parts else None


def _block(r: ValidationResult) -> str:
    lines = [r.severity + (f" in {_graph_label(r.graph)}" if r.graph is not None else "")]
    if r.location is not None:
        lines.append(f"  file:       {r.location}")
    if r.evidence is not None:
        lines.append(f"  evidence:   “{r.evidence}”")
    lines += [f"  focus node: {r.focus_node}", f"  path:       {_short(r.path)}"]
    shape = (
        f"shape {_short(r.source_shape)}"
        if r.source_shape.startswith("http")
        else (r.source_shape or "-")
    )
    lines.append(f"  constraint: {r.constraint} ({shape})")
    if r.explanation:
        lines.append(f"  rule:       {r.explanation}")
    if r.value is not None:
        lines.append(f"  value:      {r.value}")
    lines.append(f"  message:    {r.message}")
    return "\n".join(lines)


def format_text(report: ValidationReport) -> str:
    """A readable report: one block per result, what was checked, then the counts.

    >>> print(format_text(ValidationReport([])))
    0 violations, 0 warnings
    """
    blocks = [_block(r) for r in report.results]
    checked = _checked_line(report)
    tail = _summary(report) if checked is None else f"{checked}\n{_summary(report)}"
    return "\n\n".join([*blocks, tail])


def format_json(report: ValidationReport) -> str:
    """The report as JSON: ``conforms``, counts, what was checked and the results."""
    document = {
        "conforms": report.conforms,
        "violations": len(report.violations()),
        "warnings": len(report.warnings()),
        "infos": len(report.infos()),
        "checked": [asdict(c) for c in report.checked],
        "results": [asdict(r) for r in report.results],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


_SUITES = {
    "article": "articles",
    "reference": "reference data",
    "curation": "curation files",
    "statistics": "statistics",
    "graph": "other graphs",
    "ontology": "ontology",
}


def format_junit(report: ValidationReport, fail_on: str = "violation") -> str:
    """The report as JUnit XML for CI dashboards.

    One ``<testsuite>`` per kind of thing checked (articles, reference data, curation files,
    ontology) and one ``<testcase>`` per thing: an article graph (named by the article id,
    ``file`` its article file), a reference table, a curation file. A testcase with
    violations has one ``<failure>`` listing them; its warnings are listed in that failure
    too with ``fail_on="warning"`` (a testcase with only warnings then fails), and otherwise in
    ``<system-out>``, so dashboards show them without counting them as failures.
    """
    cases = _junit_cases(report)
    root = ET.Element("testsuites", name="kg validate")
    for kind in sorted({c.kind for c, _ in cases}, key=list(_SUITES).index):
        suite = ET.SubElement(root, "testsuite", name=_SUITES[kind])
        members = [(c, rs) for c, rs in cases if c.kind == kind]
        failures = 0
        for item, results in members:
            failures += _junit_case(suite, item, results, fail_on)
        suite.set("tests", str(len(members)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
    root.set("tests", str(len(cases)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in root)))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _junit_cases(report: ValidationReport) -> list[tuple[Checked, list[ValidationResult]]]:
    """Each checked thing with its results; results matched by file first, then by graph."""
    cases: dict[Checked, list[ValidationResult]] = {c: [] for c in report.checked}
    by_file = {c.file: c for c in report.checked if c.file is not None}
    by_graph: dict[str | None, Checked] = {}
    for c in report.checked:  # a reference table is matched by its file only
        if c.kind != "reference" or c.file is None:
            by_graph.setdefault(c.graph, c)
    for r in report.results:
        item = by_file.get(r.file) or by_graph.get(r.graph)
        if item is None:
            kind = "reference" if r.graph == REFERENCE_GRAPH else "graph"
            item = Checked(kind, _article_name(r.graph), r.graph)
            by_graph[r.graph] = item
        cases.setdefault(item, []).append(r)
    return list(cases.items())


def _junit_case(
    suite: ET.Element, item: Checked, results: list[ValidationResult], fail_on: str
) -> int:
    case = ET.SubElement(suite, "testcase", name=item.name, classname=f"kg.validate.{item.kind}")
    if item.file is not None:
        case.set("file", item.file)
    failing = [r for r in results if r.severity == "Violation"]
    quiet = [r for r in results if r.severity != "Violation"]
    if fail_on == "warning":
        failing += [r for r in quiet if r.severity == "Warning"]
        quiet = [r for r in quiet if r.severity != "Warning"]
    if failing:
        message = _summary(ValidationReport(results))  # warnings counted even when not failing
        failure = ET.SubElement(case, "failure", message=message, type=failing[0].severity)
        failure.text = "\n\n".join(_block(r) for r in failing)
    if quiet:
        ET.SubElement(case, "system-out").text = "\n\n".join(_block(r) for r in quiet)
    return 1 if failing else 0


def format_report(report: ValidationReport, fmt: str, fail_on: str = "violation") -> str:
    """The report in ``fmt``: "text", "json" or "junit"."""
    if fmt not in FORMATS:
        raise KgError(f"unknown report format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt == "json":
        return format_json(report)
    if fmt == "junit":
        return format_junit(report, fail_on)
    return format_text(report)


# --------------------------------------------------------------------------------------------
# The `kg validate` command
# --------------------------------------------------------------------------------------------

DEFAULT_ARTICLES = Path("data/articles")
DEFAULT_REFERENCE = Path("data/reference")
DEFAULT_OUT = Path("build")


def validate_command(
    out: Path | None = None,
    fmt: str = "text",
    fail_on: str = "violation",
    *,
    articles: Path | None = None,
    reference: Path | None = None,
    article_files: Iterable[Path] = (),
    curation: Path | None = None,
    ontology: bool = False,
    today: dt.date | None = None,
    junit: Path | None = None,
    engine: str = "compiled",
) -> int:
    """`kg validate`: exit 0 conforms, 1 violations (or warnings with fail_on="warning").

    Targets add up: ``article_files``, ``reference`` (the tables), ``curation`` (the
    corrections, each applied to its article in ``articles``), ``ontology``; the built store
    in ``out`` when ``out`` is given or no other target is. Articles and curation files are
    validated with the reference tables in ``reference`` (default data/reference). The report
    is printed in ``fmt``; ``junit`` also writes it as JUnit XML to that file (the log stays
    readable while CI keeps the XML). Errors (unreadable input, no store) raise
    :class:`kg.errors.KgError`: the CLI exits 2. ``engine`` is the SHACL engine
    (:func:`use_engine`).
    """
    use_engine(engine)
    targets = Targets(
        out=out,
        articles=articles or DEFAULT_ARTICLES,
        reference=reference,
        article_files=tuple(article_files),
        curation=curation,
        ontology=ontology,
    )
    report = merge_reports(job() for job in targets.jobs(today))
    print(format_report(report, fmt, fail_on))
    if junit is not None:
        _write(junit, format_junit(report, fail_on) + "\n")
    return 1 if report.fails(fail_on) else 0


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(path, f"cannot write: {exc.strerror or exc}") from exc


@dataclass(frozen=True)
class Targets:
    """What one `kg validate` run checks (see :func:`validate_command`)."""

    out: Path | None = None
    articles: Path = DEFAULT_ARTICLES
    reference: Path | None = None
    article_files: tuple[Path, ...] = ()
    curation: Path | None = None
    ontology: bool = False

    @property
    def reference_dir(self) -> Path:
        return self.reference or DEFAULT_REFERENCE

    @property
    def store(self) -> Path | None:
        """The build folder to validate: ``out``, else ``build/`` when nothing else is asked."""
        if self.out is not None:
            return self.out
        others = self.article_files or self.reference or self.curation or self.ontology
        return None if others else DEFAULT_OUT

    def jobs(self, today: dt.date | None) -> Iterator[Callable[[], ValidationReport]]:
        ref = self.reference_dir
        if self.store is not None:
            yield partial(
                validate_store, self.store, articles_dir=self.articles, reference_dir=ref,
                today=today,
            )  # fmt: skip
        for path in self.article_files:
            yield partial(validate_article_file, path, ref, curation_dir=self.curation, today=today)
        if self.reference is not None:
            yield partial(validate_reference_dir, ref, today=today)
        if self.curation is not None:
            yield partial(validate_curation_dir, self.curation, self.articles, ref, today=today)
        if self.ontology:
            yield check_ontology
