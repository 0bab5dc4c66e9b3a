"""The validate stage: check RDF against the SHACL shapes in ``shapes/``.

Two calls cover the pipeline's needs. :func:`validate_graph` checks one graph as it is;
:func:`validate_dataset` checks a whole dataset the way the build lays it out: the reference
graph on its own, then each article's named graph together with the reference graph (so an
article's meeting may name an official described in the reference data), and reports each
result under the graph that caused it. Reports are plain data (:class:`ValidationReport`) and
print as text or JSON.

pyshacl runs without inference (instances carry their classes explicitly, see docs/model.md)
and in advanced mode, so SHACL-SPARQL constraints work when shapes add them.

Example, with a meeting that names no participant::

    >>> from rdflib import Graph
    >>> data = Graph().parse(format="turtle", data='''
    ...     @prefix dkg: <https://w3id.org/dkg/ontology#> .
    ...     <https://w3id.org/dkg/id/meeting/m1> a dkg:Meeting .''')
    >>> report = validate_graph(data)
    >>> report.conforms
    False
    >>> sorted({r.constraint for r in report.violations()})
    ['MinCountConstraintComponent', 'QualifiedMinCountConstraintComponent']
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import pyshacl
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from kg.errors import InputError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHAPES_DIR = REPO_ROOT / "shapes"
DEFAULT_ONTOLOGY_PATH = REPO_ROOT / "ontology" / "dkg.ttl"

ID = "https://w3id.org/dkg/id/"
REFERENCE_GRAPH = ID + "graph/reference"
ONTOLOGY_GRAPH = ID + "graph/ontology"
SHAPES_GRAPH = ID + "graph/shapes"
ARTICLE_PREFIX = ID + "article/"

SEVERITIES = ("Violation", "Warning", "Info")

# Prefixes used to shorten paths and shape IRIs in the text report.
_PREFIXES = (
    ("dkg:", "https://w3id.org/dkg/ontology#"),
    ("dkgsh:", "https://w3id.org/dkg/shapes#"),
    ("dkgr:", ID),
    ("rdf:", str(RDF)),
    ("rdfs:", "http://www.w3.org/2000/01/rdf-schema#"),
    ("owl:", "http://www.w3.org/2002/07/owl#"),
    ("dcterms:", "http://purl.org/dc/terms/"),
    ("skos:", "http://www.w3.org/2004/02/skos/core#"),
    ("prov:", "http://www.w3.org/ns/prov#"),
    ("schema:", "https://schema.org/"),
)


@dataclass(frozen=True)
class ValidationResult:
    """One row of a SHACL validation report, as plain strings."""

    severity: str  # "Violation" | "Warning" | "Info"
    focus_node: str  # IRI (or blank-node id "_:b0") as a string
    path: str | None  # property IRI ("^IRI" for an inverse path); None for node-level constraints
    constraint: str  # constraint component local name, e.g. "MinCountConstraintComponent"
    source_shape: str  # shape IRI as a string
    message: str  # plain-words message from the shape's sh:message
    value: str | None  # offending value in N-Triples form, or None
    graph: str | None = None  # named graph (article IRI) the focus node belongs to, when known

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


@dataclass
class ValidationReport:
    """The results of a validation run; it conforms when no result is a Violation."""

    results: list[ValidationResult] = field(default_factory=list)

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


# --------------------------------------------------------------------------------------------
# Loading shapes and ontology
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


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def validate_graph(
    data: Graph, shapes: Graph | None = None, ontology: Graph | None = None
) -> ValidationReport:
    """Validate ``data`` against ``shapes`` (default: ``shapes/``) and return a sorted report.

    ``ontology`` (default: ``ontology/dkg.ttl``; an empty ``Graph()`` leaves it out) is mixed
    into a copy of the data so that ``sh:class`` and ``sh:targetClass`` also see subclass
    axioms; ``data`` is never modified.
    Every focus node of the graph is checked and ``graph`` is left unset in the results.
    """
    work = _working_graph(data, ontology)
    results = _run(work, shapes if shapes is not None else _default_shapes(), focus=None)
    return ValidationReport(sorted(set(results), key=ValidationResult.sort_key))


def validate_dataset(
    dataset: Dataset,
    reference_graph_iri: str = REFERENCE_GRAPH,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
) -> ValidationReport:
    """Validate a built dataset graph by graph and attribute each result to its graph.

    The reference graph is validated once on its own (results carry its IRI as ``graph``).
    Every other graph (the article graphs ``https://w3id.org/dkg/id/article/...``; a non-empty
    default graph too, with ``graph`` None) is validated together with the reference graph;
    only results whose focus node is a subject of that graph are kept, minus those the
    reference graph already reports on its own (a reference entity restated in an article
    is the reference data's fault, reported once). The ontology and shapes graphs are skipped.
    """
    shapes = shapes if shapes is not None else _default_shapes()
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

    # The reference graph plus the ontology, copied once. Each article's triples are added to
    # it for its run and taken out again afterwards, which is much faster than copying the
    # reference data per article. pyshacl runs in place and changes nothing unless the shapes
    # carry SHACL rules (sh:rule); then every run gets a copy of its own.
    work = _working_graph(reference, ontology)
    has_rules = (None, SH.rule, None) in shapes
    results: set[ValidationResult] = set()
    reference_rows: set[tuple] = set()
    if len(reference):
        for r in _run(_copy(work) if has_rules else work, shapes, focus=None):
            results.add(_with_graph(r, reference_graph_iri))
            reference_rows.add(_row(r))

    for graph_iri, graph in others:
        subjects = set(graph.subjects(unique=True))
        # pyshacl can restrict validation to IRI focus nodes, which keeps the reference
        # entities from being checked again for every article; blank nodes need a full run.
        iris = [s for s in subjects if isinstance(s, URIRef)]
        focus = iris if len(iris) == len(subjects) else None
        if has_rules:
            own = _copy(work)
            own += graph
            reported = _run(own, shapes, focus=focus)
        else:
            added = [t for t in graph if t not in work]
            for triple in added:
                work.add(triple)
            try:
                reported = _run(work, shapes, focus=focus)
            finally:
                for triple in added:
                    work.remove(triple)
        for r in reported:
            if _term_key(r.focus_node) in subjects and _row(r) not in reference_rows:
                results.add(_with_graph(r, graph_iri))
    return ValidationReport(sorted(results, key=ValidationResult.sort_key))


def _copy(graph: Graph) -> Graph:
    copy = Graph()
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
    _conforms, report_graph, _text = pyshacl.validate(
        work,
        shacl_graph=shapes,
        inference="none",
        advanced=True,
        inplace=True,
        allow_warnings=True,
        focus_nodes=focus,
    )
    return list(_results_from_report(report_graph))


def _results_from_report(report: Graph) -> Iterable[ValidationResult]:
    for node in report.objects(None, SH.result):
        severity = report.value(node, SH.resultSeverity)
        component = report.value(node, SH.sourceConstraintComponent)
        path = report.value(node, SH.resultPath)
        value = report.value(node, SH.value)
        messages = list(report.objects(node, SH.resultMessage))
        yield ValidationResult(
            severity=_local_name(severity) if severity is not None else "Violation",
            focus_node=_term_str(report.value(node, SH.focusNode)),
            path=_path_str(report, path) if path is not None else None,
            constraint=_local_name(component) if component is not None else "",
            source_shape=_term_str(report.value(node, SH.sourceShape)),
            message=_pick_message(messages),
            value=value.n3() if value is not None else None,
        )


def _pick_message(messages: list[Node]) -> str:
    """The English message if there is one, else the first in sorted order."""
    texts = sorted(messages, key=lambda m: (getattr(m, "language", None) != "en", str(m)))
    return str(texts[0]) if texts else ""


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


def _with_graph(result: ValidationResult, graph: str | None) -> ValidationResult:
    return ValidationResult(**{**asdict(result), "graph": graph})


# --------------------------------------------------------------------------------------------
# Formatting
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
    return f"graph <{graph}>"


def _summary(report: ValidationReport) -> str:
    line = f"{len(report.violations())} violations, {len(report.warnings())} warnings"
    infos = len(report.infos())
    return line + (f", {infos} infos" if infos else "")


def format_text(report: ValidationReport) -> str:
    """A readable report: one block per result, then "N violations, M warnings".

    >>> print(format_text(ValidationReport([])))
    0 violations, 0 warnings
    """
    blocks = []
    for r in report.results:
        lines = [
            r.severity + (f" in {_graph_label(r.graph)}" if r.graph is not None else ""),
            f"  focus node: {r.focus_node}",
            f"  path:       {_short(r.path)}",
            f"  constraint: {r.constraint} (shape {_short(r.source_shape)})",
        ]
        if r.value is not None:
            lines.append(f"  value:      {r.value}")
        lines.append(f"  message:    {r.message}")
        blocks.append("\n".join(lines))
    blocks.append(_summary(report))
    return "\n\n".join(blocks)


def format_json(report: ValidationReport) -> str:
    """The report as JSON: ``conforms``, counts and the list of results (field per column)."""
    document = {
        "conforms": report.conforms,
        "violations": len(report.violations()),
        "warnings": len(report.warnings()),
        "infos": len(report.infos()),
        "results": [asdict(r) for r in report.results],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


# -- the `kg validate` command ------------------------------------------------------------
def validate_quads(quads: list) -> ValidationReport:
    """Validate pyoxigraph quads laid out as the build writes them (see validate_dataset)."""
    import pyoxigraph as ox

    data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
    dataset = Dataset()
    dataset.parse(data=data.decode("utf-8"), format="nquads")
    return validate_dataset(dataset)


def validate_command(out: Path, fmt: str, fail_on: str) -> int:
    """`kg validate`: the built store against the shapes; exit 0 conforms, 1 violations."""
    import pyoxigraph as ox

    from kg import load

    store = load.open_store(out)
    skip = {ox.NamedNode(SHAPES_GRAPH), ox.NamedNode(ONTOLOGY_GRAPH)}
    report = validate_quads([q for q in store if q.graph_name not in skip])
    print(format_json(report) if fmt == "json" else format_text(report))
    if report.violations():
        return 1
    if fail_on == "warning" and report.warnings():
        return 1
    return 0
