"""SHACL validation compiled once per shapes graph: pySHACL's results at build speed.

pySHACL spends about 25 ms on one article's graph, almost all of it setting up the run (reading
the shapes, wrapping the graph, preparing each SPARQL query); in a build that was nine tenths of
the time. This engine reads the shapes graph once, turns every shape into plain Python checks
(SHACL Core) and pyoxigraph queries (SHACL-SPARQL, one per focus node, with the focus node
substituted as pySHACL pre-binds it), and runs them on one article's triples laid over a
prepared base graph (the reference data and the ontology).

It gives pySHACL's results, row for row: the same focus nodes, paths, values, severities and
messages, and the same literal comparisons (pySHACL's own helpers). tests/test_validate_engine.py
runs both on the seed articles, the dev set, a synthetic corpus and every shape fixture.

It covers the features the project's shapes use (see ``_SHAPE_PARAMETERS``). A shapes graph
using anything else (sh:qualifiedValueShape, sh:closed, SHACL rules, custom constraint
components, ...) raises :class:`Unsupported` when compiled, and so does a data graph the engine
cannot judge like pySHACL would (a blank node compared with sh:lessThan); ``kg.validate`` then
runs pySHACL instead, so no constraint is ever skipped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from pyshacl.rdfutil.compare import compare_literal
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from kg import sparqltext

# The parameters a shape may carry; any other sh: predicate on a shape makes it unsupported.
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_DESCRIPTIVE = (SH.message, SH.severity, SH.name, SH.description, SH.order, SH.group)
_CONSTRAINTS = (
    SH["class"], SH.datatype, SH.nodeKind, SH.minCount, SH.maxCount, SH.pattern, SH.flags,
    SH.minLength, SH.maxLength, SH.languageIn, SH.uniqueLang, SH["in"], SH.hasValue,
    SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive, SH.lessThan,
    SH.lessThanOrEquals, SH["or"], SH["and"], SH["not"], SH.xone, SH.node, SH.property,
    SH.sparql,
)  # fmt: skip
_SHAPE_PARAMETERS = frozenset((*_TARGETS, *_DESCRIPTIVE, *_CONSTRAINTS, SH.path, SH.deactivated))
# Shape-graph features that change what validation means; the engine leaves them to pySHACL.
_GRAPH_FEATURES = (SH.rule, SH.target, SH.entailment, SH.shapesGraph)
_GRAPH_TYPES = (SH.ConstraintComponent, SH.SPARQLTarget, SH.SPARQLTargetType, SH.JSFunction)
_SPARQL_VARIABLES_UNSUPPORTED = re.compile(
    r"[?$](currentShape|shapesGraph|failure)\b|\$PATH\b|(?i:\bVALUES\b|\bMINUS\b)"
)
# Terms used on every node (rdflib's namespace attribute look-up is slow in a hot loop).
_TARGET_CLASS = URIRef(str(SH.targetClass))
_TARGET_NODE = URIRef(str(SH.targetNode))
_TARGET_SUBJECTS_OF = URIRef(str(SH.targetSubjectsOf))
_XSD_STRING = str(XSD.string)
_NODE_KINDS = {
    SH.IRI: (URIRef,),
    SH.BlankNode: (BNode,),
    SH.Literal: (Literal,),
    SH.BlankNodeOrIRI: (BNode, URIRef),
    SH.BlankNodeOrLiteral: (BNode, Literal),
    SH.IRIOrLiteral: (URIRef, Literal),
}
_EXACT_TYPES: dict[URIRef, type | tuple[type, ...]] = {}  # filled below (needs datetime)


class Unsupported(Exception):
    """The shapes or the data use a feature this engine does not evaluate like pySHACL."""


@dataclass(frozen=True)
class Finding:
    """One validation result, as pySHACL would write it into its report."""

    severity: URIRef
    focus: Node
    path: Node | str | None  # an IRI, "^IRI" for an inverse path, or a SPARQL ?path binding
    component: str  # constraint component local name, e.g. "MinCountConstraintComponent"
    shape: Node
    messages: tuple[Literal, ...]
    value: Node | None


# --------------------------------------------------------------------------------------------
# The data: a base graph prepared once, one article's triples laid over it
# --------------------------------------------------------------------------------------------


def _index(triples: Iterable[tuple[Node, Node, Node]]) -> tuple[dict, dict]:
    out: dict[Node, dict[Node, list[Node]]] = defaultdict(lambda: defaultdict(list))
    into: dict[Node, dict[Node, list[Node]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in triples:
        out[s][p].append(o)
        into[o][p].append(s)
    return dict(out), dict(into)


# Terms repeat across articles (predicates, classes, entities, dates, labels); each side keeps
# the terms it made, cleared when full so that a long build's worker stays flat in memory.
_MEMO_SIZE = 100_000
_OX_IRIS: dict[URIRef, Any] = {}
_TERMS: dict[Any, Node] = {}  # pyoxigraph term -> rdflib term (IRIs and literals)
# The base graph's and the shapes' own term objects, which `from_ox` hands out again: a lookup
# in the base's indexes then finds its key by identity, without rdflib's (Python) __eq__.
_CANONICAL: dict[Any, Node] = {}


def to_ox(term: Node) -> Any:
    if isinstance(term, URIRef):
        node = _OX_IRIS.get(term)
        if node is None:
            if len(_OX_IRIS) > _MEMO_SIZE:
                _OX_IRIS.clear()
            node = _OX_IRIS[term] = ox.NamedNode(str(term))
        return node
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    assert isinstance(term, Literal)
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype is not None:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


def from_ox(term: Any) -> Node:
    """A pyoxigraph term as rdflib's (simple literals without a datatype, as rdflib reads them)."""
    known = _TERMS.get(term)
    if known is not None:
        return known
    if type(term) is ox.BlankNode:
        return BNode(term.value)
    if len(_TERMS) > _MEMO_SIZE:
        _TERMS.clear()
        _TERMS.update(_CANONICAL)
    made = _TERMS[term] = _from_ox_afresh(term)
    return made


def canonical(term: Node) -> Node:
    """The one object `from_ox` returns for ``term`` from now on (``term`` itself if it is the
    first); blank nodes, and literals rdflib reads otherwise than `from_ox` makes them (a
    "x"^^xsd:string), are returned as they are."""
    if isinstance(term, BNode):
        return term
    as_ox = to_ox(term)
    known = _CANONICAL.get(as_ox)
    if known is not None and known == term:
        return known
    if known is None and _from_ox_afresh(as_ox) == term:
        _CANONICAL[as_ox] = _TERMS[as_ox] = term
    return term


def _from_ox_afresh(term: Any) -> Node:
    return URIRef(term.value) if type(term) is ox.NamedNode else _literal(term)


_TYPE = canonical(URIRef(str(RDF.type)))
_SUBCLASS_OF = canonical(URIRef(str(RDFS.subClassOf)))


def _literal(term: Any) -> Literal:
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value, datatype=None if datatype == _XSD_STRING else URIRef(datatype))


class Base:
    """The graph every article is validated with (reference data + ontology), indexed once.

    ``overlay`` lays one article's triples on top for one run; the SPARQL store holds the base
    in its default graph and gets the article's triples added for the run and taken out after.
    Not thread-safe: kg.validate holds a lock around each run.
    """

    # Oxigraph's in-memory store keeps every string it has seen, even after the quads that
    # used it are removed, so a worker's store grows with each article laid over it; a fresh
    # store every so many runs keeps memory flat.
    RUNS_PER_STORE = 500

    def __init__(self, graph: Graph) -> None:
        self.triples = {(canonical(s), canonical(p), canonical(o)) for s, p, o in graph}
        self.out, self.into = _index(self.triples)
        self._quads = [ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in self.triples]
        self._runs = 0
        self.store = self._fresh_store()
        self._superclasses: dict[Node, frozenset[Node]] = {}

    def _fresh_store(self) -> ox.Store:
        store = ox.Store()
        store.extend(self._quads)
        return store

    def run_done(self) -> None:
        self._runs += 1
        if self._runs % self.RUNS_PER_STORE == 0:
            self.store = self._fresh_store()

    def overlay(
        self, triples: Iterable[tuple[Node, Node, Node]], quads: Iterable[Any] | None = None
    ) -> View:
        """A view of the base with ``triples`` on top. ``quads``: the same triples as
        pyoxigraph quads (default graph, same order), which spares converting them back."""
        if quads is None:
            added = [t for t in dict.fromkeys(triples) if t not in self.triples]
            return View(self, added)
        as_ox = dict(zip(triples, quads, strict=True))
        added = [t for t in as_ox if t not in self.triples]
        return View(self, added, [as_ox[t] for t in added])


class View:
    """The base graph with one article's triples on top (only those the base lacks)."""

    def __init__(
        self, base: Base, added: list[tuple[Node, Node, Node]], quads: list[Any] | None = None
    ) -> None:
        self.base = base
        self.added = added
        self._quads = quads  # ``added`` as pyoxigraph quads, when the caller had them
        self.out, self.into = _index(added)
        self._own_subclassing = any(_SUBCLASS_OF in ps for ps in self.out.values())
        self.focus: set[Node] | None = None  # the nodes a run was asked to check, if not all
        # SPARQL rows asked for ahead, for all focus nodes at once: (constraint, node) -> rows
        self.prefetched: dict[tuple[int, Node], list[dict[str, Node]]] = {}
        self._superclasses: dict[Node, frozenset[Node]] = {}

    def objects(self, s: Node, p: Node) -> list[Node]:
        return _merged(self.base.out, self.out, s, p)

    def subjects(self, p: Node, o: Node) -> list[Node]:
        return _merged(self.base.into, self.into, o, p)

    def has_out(self, s: Node, p: Node) -> bool:
        return bool(self.base.out.get(s, {}).get(p) or self.out.get(s, {}).get(p))

    def has_in(self, o: Node, p: Node) -> bool:
        return bool(self.base.into.get(o, {}).get(p) or self.into.get(o, {}).get(p))

    def subjects_of(self, p: Node) -> set[Node]:
        return {s for index in (self.base.out, self.out) for s, ps in index.items() if p in ps}

    def objects_of(self, p: Node) -> set[Node]:
        return {o for index in (self.base.into, self.into) for o, ps in index.items() if p in ps}

    def typed_subjects(self) -> set[Node]:
        return self.subjects_of(_TYPE)

    def superclasses(self, cls: Node) -> frozenset[Node]:
        """``cls`` and every class it is an rdfs:subClassOf of, transitively."""
        cache = self._superclasses if self._own_subclassing else self.base._superclasses
        hit = cache.get(cls)
        if hit is None:
            seen = {cls}
            todo = [cls]
            while todo:
                for parent in self.objects(todo.pop(), _SUBCLASS_OF):
                    if parent not in seen:
                        seen.add(parent)
                        todo.append(parent)
            hit = cache[cls] = frozenset(seen)
        return hit

    def classes(self, node: Node) -> frozenset[Node]:
        """Every class ``node`` is an instance of: its types and their superclasses."""
        if isinstance(node, Literal):
            return frozenset()
        types = self.objects(node, _TYPE)
        if len(types) == 1:
            return self.superclasses(types[0])
        return frozenset().union(*(self.superclasses(t) for t in types))

    def is_instance(self, node: Node, cls: Node) -> bool:
        return cls in self.classes(node)

    def query(self, text: str, prefixes: dict[str, str], this: Node) -> list[dict[str, Node]]:
        """A SELECT query's solutions, ``$this`` bound to ``this``, over base + article."""
        solutions = self.base.store.query(
            text, prefixes=prefixes, substitutions={ox.Variable("this"): to_ox(this)}
        )
        return _rows(solutions)

    def query_each(
        self, batched: str, prefixes: dict[str, str], nodes: list[Node]
    ) -> dict[Node, list[dict[str, Node]]] | None:
        """The solutions of a batched query (see ``_batched``) for each of ``nodes``: one query
        instead of one per node. None when the query does not select $this."""
        values = " ".join(str(to_ox(n)) for n in nodes)
        solutions = self.base.store.query(batched.replace(_NODES, values), prefixes=prefixes)
        if ox.Variable("this") not in solutions.variables:
            return None  # rows that do not say their node: asked node by node instead
        found: dict[Node, list[dict[str, Node]]] = {n: [] for n in nodes}
        for row in _rows(solutions):
            found[row["this"]].append(row)
        return found

    def __enter__(self) -> View:
        store = self.base.store
        if self._quads is None:
            self._quads = [ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in self.added]
        store.extend(self._quads)
        return self

    def __exit__(self, *_exc: object) -> None:
        for quad in self._quads:
            self.base.store.remove(quad)
        self.base.run_done()


def _rows(solutions: Any) -> list[dict[str, Node]]:
    variables = [v.value for v in solutions.variables]
    rows = []
    for solution in solutions:
        row = {}
        for name in variables:
            term = solution[name]
            if term is not None:
                row[name] = from_ox(term)
        rows.append(row)
    return rows


def _merged(base: dict, own: dict, key: Node, p: Node) -> list[Node]:
    first = base.get(key, {}).get(p, [])
    second = own.get(key, {}).get(p, [])
    if not second:
        return first
    if not first:
        return second
    return first + [n for n in second if n not in set(first)]


# --------------------------------------------------------------------------------------------
# The shapes, compiled
# --------------------------------------------------------------------------------------------

# A check takes the view, the focus node and its value nodes; it yields the value of each
# result (None for results without a value, such as sh:minCount).
Check = Callable[["View", Node, list[Node]], Iterator[Node | None]]


@dataclass
class Shape:
    node: Node
    severity: URIRef
    messages: tuple[Literal, ...]
    path: Node | None = None  # the property IRI for property shapes
    inverse: bool = False
    targets: list[tuple[URIRef, Node]] = field(default_factory=list)
    checks: list[tuple[str, Check]] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)
    sparql: list[Sparql] = field(default_factory=list)
    deactivated: bool = False

    @property
    def path_text(self) -> str | None:
        if self.path is None:
            return None
        return ("^" if self.inverse else "") + str(self.path)

    def values(self, view: View, focus: Node) -> list[Node]:
        if self.path is None:
            return [focus]
        if self.inverse:
            return view.subjects(self.path, focus)
        return view.objects(focus, self.path)

    def targets_node(self, view: View, node: Node, classes: frozenset[Node]) -> bool:
        for kind, target in self.targets:
            if kind == _TARGET_CLASS:
                if target in classes:
                    return True
            elif kind == _TARGET_NODE:
                if node == target:
                    return True
            elif kind == _TARGET_SUBJECTS_OF:
                if view.has_out(node, target):
                    return True
            elif view.has_in(node, target):
                return True
        return False

    def all_targets(self, view: View) -> set[Node]:
        found: set[Node] = set()
        for kind, target in self.targets:
            if kind == _TARGET_CLASS:
                found |= {n for n in view.typed_subjects() if view.is_instance(n, target)}
            elif kind == _TARGET_NODE:
                found.add(target)
            elif kind == _TARGET_SUBJECTS_OF:
                found |= view.subjects_of(target)
            else:
                found |= view.objects_of(target)
        return found


@dataclass
class Sparql:
    node: Node
    text: str
    prefixes: dict[str, str]
    messages: tuple[Literal, ...]
    deactivated: bool = False
    # The query with a VALUES block for $this at the start of its WHERE clause, to ask for many
    # focus nodes at once; None when that would not mean the same (sub-selects, $this not
    # selected). Holds _NODES where the nodes go.
    batched: str | None = None


_NODES = "\x00nodes\x00"


def _batched(text: str) -> str | None:
    """``text`` with ``VALUES ?this { _NODES }`` opening its WHERE group, where that gives each
    node the rows a run with $this pre-bound to it gives: one SELECT (a sub-select would not see
    the block) that selects $this; else None."""
    at = sparqltext.where_open(text)
    if at is None or sparqltext.select_count(text) != 1:
        return None
    if not re.search(r"[?$]this\b", text[:at]):
        return None  # $this not selected (View.query_each checks the results again)
    return f"{text[:at]} VALUES ?this {{ {_NODES} }} {text[at:]}"


class Engine:
    """The shapes of one shapes graph, compiled; :meth:`validate` runs them on a view."""

    def __init__(self, shapes: Graph) -> None:
        self.graph = shapes
        self._refuse_graph_features(shapes)
        self._shapes: dict[Node, Shape] = {}
        roots = {s for t in _TARGETS for s in shapes.subjects(t, None)}
        self.roots = [self.shape(node) for node in sorted(roots, key=str)]
        # Most shapes target classes only: find them from a node's classes, not one by one.
        self._by_class: dict[Node, list[Shape]] = defaultdict(list)
        self._other_roots: list[Shape] = []
        for shape in self.roots:
            if shape.deactivated:
                continue
            if all(kind == _TARGET_CLASS for kind, _ in shape.targets):
                for _, cls in shape.targets:
                    self._by_class[cls].append(shape)
            else:
                self._other_roots.append(shape)

    def _shapes_targeting(self, view: View, node: Node) -> list[Shape]:
        classes = view.classes(node)
        found = {id(s): s for c in classes for s in self._by_class.get(c, ())}
        for shape in self._other_roots:
            if shape.targets_node(view, node, classes):
                found[id(shape)] = shape
        return list(found.values())

    def validate(self, view: View, focus: list[Node] | None) -> list[Finding]:
        """Results of every targeted shape; only ``focus`` nodes are checked when given."""
        findings: list[Finding] = []
        view.focus = None if focus is None else set(focus)
        if focus is None:
            for shape in self.roots:
                if not shape.deactivated:
                    for node in shape.all_targets(view):
                        findings.extend(self._run(shape, view, node))
            return findings
        targeted = [(node, self._shapes_targeting(view, node)) for node in focus]
        self._prefetch(view, targeted)
        for node, shapes in targeted:
            for shape in shapes:
                findings.extend(self._run(shape, view, node))
        return findings

    def _prefetch(self, view: View, targeted: list[tuple[Node, list[Shape]]]) -> None:
        """Each batchable SPARQL constraint asked once for all the nodes its shape targets."""
        nodes: dict[int, list[Node]] = defaultdict(list)
        constraints: dict[int, Sparql] = {}
        for node, shapes in targeted:
            for shape in shapes:
                if shape.deactivated:
                    continue
                for constraint in shape.sparql:
                    if constraint.batched is not None and not constraint.deactivated:
                        constraints[id(constraint)] = constraint
                        nodes[id(constraint)].append(node)
        for key, constraint in constraints.items():
            assert constraint.batched is not None
            found = view.query_each(constraint.batched, constraint.prefixes, nodes[key])
            for node, rows in (found or {}).items():
                view.prefetched[(key, node)] = rows

    def conforms(self, shape: Shape, view: View, node: Node) -> bool:
        """Whether ``node`` conforms to ``shape`` (for sh:or, sh:and, sh:not, sh:xone, sh:node).

        As pySHACL does when given focus nodes, a node outside them conforms to every shape
        without being checked: an article's run does not judge the reference entities its
        values point at (the reference data is validated on its own).
        """
        if view.focus is not None and (not isinstance(node, URIRef) or node not in view.focus):
            return True
        return shape.deactivated or next(self._run(shape, view, node), None) is None

    # -- running one shape on one focus node --------------------------------------------------
    def _run(self, shape: Shape, view: View, focus: Node) -> Iterator[Finding]:
        if shape.deactivated:
            return
        values = shape.values(view, focus)
        for component, check in shape.checks:
            for value in check(view, focus, values):
                yield Finding(
                    shape.severity, focus, shape.path_text, component, shape.node,
                    shape.messages, value,
                )  # fmt: skip
        for prop in shape.properties:
            yield from self._run(prop, view, focus)
        for constraint in shape.sparql:
            yield from self._sparql(shape, constraint, view, focus)

    def _sparql(
        self, shape: Shape, constraint: Sparql, view: View, focus: Node
    ) -> Iterator[Finding]:
        if constraint.deactivated:
            return
        seen: list[tuple] = []
        rows = view.prefetched.get((id(constraint), focus))
        if rows is None:
            rows = view.query(constraint.text, constraint.prefixes, focus)
        for row in rows:
            row = dict(row)
            path = row.pop("path", None)
            value = row.pop("value", None)
            this = row.pop("this", None)
            if path is None and value is None and this is None:
                continue
            key = (this, path, value, row)
            if key in seen:
                continue
            seen.append(key)
            if value is None and shape.path is None:
                value = focus
            bound = {**row, "this": this, "path": path, "value": value}
            messages = _formatted(constraint.messages, bound) + _formatted(shape.messages, bound)
            yield Finding(
                severity=shape.severity,
                focus=this or focus,
                path=path if path is not None else shape.path_text,
                component="SPARQLConstraintComponent",
                shape=shape.node,
                messages=messages,
                value=value,
            )

    # -- compiling -----------------------------------------------------------------------------
    @staticmethod
    def _refuse_graph_features(shapes: Graph) -> None:
        for feature in _GRAPH_FEATURES:
            if (None, feature, None) in shapes:
                raise Unsupported(f"the shapes use {feature}")
        for kind in _GRAPH_TYPES:
            if (None, RDF.type, kind) in shapes:
                raise Unsupported(f"the shapes declare a {kind}")

    def shape(self, node: Node) -> Shape:
        known = self._shapes.get(node)
        if known is not None:
            return known
        g = self.graph
        for p in set(g.predicates(node, None)):
            if str(p).startswith(str(SH)) and p not in _SHAPE_PARAMETERS:
                raise Unsupported(f"{node} uses {p}")
        for kind in (RDFS.Class, OWL.Class):
            if (node, RDF.type, kind) in g:
                raise Unsupported(f"{node} is a class as well as a shape (implicit target)")
        messages = tuple(g.objects(node, SH.message))
        severity = g.value(node, SH.severity) or SH.Violation
        shape = Shape(node, severity, messages)  # type: ignore[arg-type]
        self._shapes[node] = shape  # before the parts: shapes may refer to each other
        shape.deactivated = g.value(node, SH.deactivated) == Literal(True)
        shape.targets = [(t, canonical(o)) for t in _TARGETS for o in g.objects(node, t)]
        path = g.value(node, SH.path)
        if path is not None:
            shape.path, shape.inverse = self._path(path)
        shape.properties = [self.shape(p) for p in sorted(g.objects(node, SH.property), key=str)]
        shape.sparql = [self._sparql_constraint(shape, c) for c in g.objects(node, SH.sparql)]
        shape.checks = list(self._checks(shape))
        if shape.checks and not messages:
            raise Unsupported(f"{node} has no sh:message (pySHACL would write its own text)")
        return shape

    def _path(self, path: Node) -> tuple[Node, bool]:
        if isinstance(path, URIRef):
            return canonical(path), False
        inverse = self.graph.value(path, SH.inversePath)
        if isinstance(inverse, URIRef) and len(set(self.graph.predicates(path, None))) == 1:
            return canonical(inverse), True
        raise Unsupported(f"the property path {path} is neither an IRI nor ^IRI")

    def _sparql_constraint(self, shape: Shape, node: Node) -> Sparql:
        g = self.graph
        text = g.value(node, SH.select)
        if text is None or (node, SH.ask, None) in g:
            raise Unsupported(f"{node}: only sh:select SPARQL constraints are evaluated")
        if shape.path is not None:
            raise Unsupported(f"{node}: a SPARQL constraint on a property shape")
        if _SPARQL_VARIABLES_UNSUPPORTED.search(str(text)):
            raise Unsupported(f"{node}: the query uses a variable or keyword left to pySHACL")
        messages = tuple(g.objects(node, SH.message))
        if not messages and not shape.messages:
            raise Unsupported(f"{node} has no sh:message")
        return Sparql(
            node,
            str(text),
            self._prefixes(node),
            messages,
            g.value(node, SH.deactivated) == Literal(True),
            _batched(str(text)),
        )

    def _prefixes(self, node: Node) -> dict[str, str]:
        prefixes: dict[str, str] = {}
        for source in self.graph.objects(node, SH.prefixes):
            for declaration in self.graph.objects(source, SH.declare):
                prefix = self.graph.value(declaration, SH.prefix)
                namespace = self.graph.value(declaration, SH.namespace)
                if prefix is not None and namespace is not None:
                    prefixes[str(prefix)] = str(namespace)
        return prefixes

    def _list(self, node: Node) -> list[Node]:
        return list(Collection(self.graph, node))

    def _checks(self, shape: Shape) -> Iterator[tuple[str, Check]]:
        g = self.graph
        node = shape.node
        for cls in g.objects(node, SH["class"]):
            yield "ClassConstraintComponent", _class_check(canonical(cls))
        for datatype in g.objects(node, SH.datatype):
            yield "DatatypeConstraintComponent", _datatype_check(datatype)
        for kind in g.objects(node, SH.nodeKind):
            if kind not in _NODE_KINDS:
                raise Unsupported(f"{node}: sh:nodeKind {kind}")
            yield "NodeKindConstraintComponent", _node_kind_check(_NODE_KINDS[kind])
        for count in g.objects(node, SH.minCount):
            yield "MinCountConstraintComponent", _count_check(int(count), at_least=True)
        for count in g.objects(node, SH.maxCount):
            yield "MaxCountConstraintComponent", _count_check(int(count), at_least=False)
        patterns = list(g.objects(node, SH.pattern))
        if patterns:
            flags = g.value(node, SH.flags)
            for pattern in patterns:
                yield "PatternConstraintComponent", _pattern_check(pattern, flags)
        for length in g.objects(node, SH.minLength):
            yield "MinLengthConstraintComponent", _length_check(int(length), at_least=True)
        for length in g.objects(node, SH.maxLength):
            yield "MaxLengthConstraintComponent", _length_check(int(length), at_least=False)
        for languages in g.objects(node, SH.languageIn):
            yield "LanguageInConstraintComponent", _language_check(self._list(languages))
        if g.value(node, SH.uniqueLang) == Literal(True):
            yield "UniqueLangConstraintComponent", _unique_lang_check
        for allowed in g.objects(node, SH["in"]):
            yield "InConstraintComponent", _in_check([canonical(v) for v in self._list(allowed)])
        for value in g.objects(node, SH.hasValue):
            yield "HasValueConstraintComponent", _has_value_check(canonical(value))
        for parameter, component, passes in _RANGES:
            for bound in g.objects(node, parameter):
                yield component, _range_check(bound, passes)
        for parameter, component, strict in _PAIRS:
            for other in g.objects(node, parameter):
                yield component, _pair_check(canonical(other), strict)
        for parameter, component, rule in _LOGICAL:
            for shapes in g.objects(node, parameter):
                members = [self.shape(s) for s in self._list(shapes)]
                yield component, self._logical_check(members, rule)
        for other in g.objects(node, SH["not"]):
            yield "NotConstraintComponent", self._logical_check([self.shape(other)], _none)
        for other in g.objects(node, SH.node):
            yield "NodeConstraintComponent", self._logical_check([self.shape(other)], all)

    def _logical_check(self, members: list[Shape], rule: Callable[[Iterable[bool]], bool]) -> Check:
        def check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
            for v in values:
                if not rule(self.conforms(m, view, v) for m in members):
                    yield v

        return check


def _none(results: Iterable[bool]) -> bool:
    return not any(results)


def _exactly_one(results: Iterable[bool]) -> bool:
    return sum(results) == 1


_LOGICAL = (
    (SH["or"], "OrConstraintComponent", any),
    (SH["and"], "AndConstraintComponent", all),
    (SH.xone, "XoneConstraintComponent", _exactly_one),
)


# -- the SHACL Core checks, each as pySHACL evaluates it ---------------------------------------
def _class_check(cls: Node) -> Check:
    def check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
        for v in values:
            if not view.is_instance(v, cls):
                yield v

    return check


def _datatype_check(datatype: Node) -> Check:
    def check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
        for v in values:
            if not _has_datatype(v, datatype):
                yield v

    return check


_RDFS_LITERAL, _RDFS_DATATYPE = URIRef(str(RDFS.Literal)), URIRef(str(RDFS.Datatype))
_STRING, _LANG_STRING = URIRef(str(XSD.string)), URIRef(str(RDF.langString))


def _has_datatype(v: Node, datatype: Node) -> bool:
    if not isinstance(v, Literal):
        return False
    if v.datatype == datatype:
        return getattr(v, "ill_typed", None) is not True and _actual_datatype(v, datatype)
    if datatype == _RDFS_LITERAL:
        return True
    if datatype == _RDFS_DATATYPE and v.datatype:
        return True
    if v.datatype is None and v.language is None and datatype == _STRING:
        return _actual_datatype(v, datatype)
    if datatype == _LANG_STRING and v.language:
        return _actual_datatype(v, datatype)
    return False


def _actual_datatype(v: Literal, datatype: Node) -> bool:
    expected = _EXACT_TYPES.get(datatype)  # type: ignore[call-overload]
    return True if expected is None else isinstance(v.value, expected)


def _node_kind_check(kinds: tuple[type, ...]) -> Check:
    def check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
        for v in values:
            if not isinstance(v, kinds):
                yield v

    return check


def _count_check(count: int, at_least: bool) -> Check:
    def check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
        if (len(values) < count) if at_least else (len(values) > count):
            yield None

    return check


def _string_of(v: Node) -> str:
    """pySHACL's text of a value node for the string constraints."""
    plain = isinstance(v, Literal) and v.datatype in (None, RDF.langString, XSD.string)
    if plain and v.value is not None:
        return str(v.value)
    return str(v)


def _pattern_check(pattern: Node, flags: Node | None) -> Check:
    re_flags = 0
    if flags is not None:
        text = str(getattr(flags, "value", flags)).lower()
        re_flags |= re.I if "i" in text else 0
        re_flags |= re.M if "m" in text else 0
    value = getattr(pattern, "value", None)
    source = str(value) if value is not None and len(value) > 1 else str(pattern)
    matcher = re.compile(source, re_flags)

    def check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
        for v in values:
            if isinstance(v, BNode) or not matcher.search(_string_of(v)):
                yield v

    return check


def _length_check(length: int, at_least: bool) -> Check:
    def check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
        for v in values:
            if at_least and length == 0:
                continue
            if isinstance(v, BNode):
                yield v
                continue
            size = len(_string_of(v))
            if (size < length) if at_least else (size > length):
                yield v

    return check


def _language_check(languages: list[Node]) -> Check:
    wanted = {str(getattr(lang, "value", lang)).lower() for lang in languages}

    def check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
        for v in values:
            lang = v.language if isinstance(v, Literal) else None
            ok = bool(lang) and (
                "*" in wanted
                or str(lang).lower() in wanted
                or str(lang).split("-")[0].lower() in wanted
            )
            if not ok:
                yield v

    return check


def _unique_lang_check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
    seen: set[str] = set()
    duplicates: set[str] = set()
    for v in values:
        if isinstance(v, Literal) and v.language:
            lang = str(v.language).lower()
            (duplicates if lang in seen else seen).add(lang)
    for _ in duplicates:
        yield None


def _in_check(allowed: list[Node]) -> Check:
    def check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
        for v in values:
            if v not in allowed:
                yield v

    return check


def _has_value_check(wanted: Node) -> Check:
    def check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
        if not any(v == wanted for v in values):
            yield None

    return check


def _range_check(bound: Node, passes: Callable[[int], bool]) -> Check:
    if not isinstance(bound, Literal):
        raise Unsupported(f"a range bound that is not a literal: {bound}")
    bound_is_string = isinstance(bound.value, str)
    # Values repeat across articles (offsets, confidences, dates); pySHACL's comparison is slow.
    judged: dict[Node, bool] = {}

    def in_range(v: Node) -> bool:
        if not (isinstance(v, Literal) and isinstance(v.value, str) == bound_is_string):
            return False
        try:
            return passes(compare_literal(v, bound))
        except (TypeError, NotImplementedError):
            return False

    def check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
        for v in values:
            ok = judged.get(v)
            if ok is None:
                if len(judged) > _MEMO_SIZE:
                    judged.clear()
                ok = judged[v] = in_range(v)
            if not ok:
                yield v

    return check


_RANGES = (
    (SH.minInclusive, "MinInclusiveConstraintComponent", lambda c: c >= 0),
    (SH.maxInclusive, "MaxInclusiveConstraintComponent", lambda c: c <= 0),
    (SH.minExclusive, "MinExclusiveConstraintComponent", lambda c: c > 0),
    (SH.maxExclusive, "MaxExclusiveConstraintComponent", lambda c: c < 0),
)


def _comparable(node: Node) -> tuple[Any, bool]:
    if isinstance(node, BNode):
        raise Unsupported("sh:lessThan compares a blank node (pySHACL stops with an error)")
    if isinstance(node, URIRef):
        return str(node), True
    if isinstance(node, Literal) and isinstance(node.value, str):
        return node.value, True
    return node, False


def _pair_check(other: Node, strict: bool) -> Check:
    def check(view: View, focus: Node, values: list[Node]) -> Iterator[Node | None]:
        others = view.objects(focus, other)
        for v in values:
            left, left_is_string = _comparable(v)
            for o in others:
                right, right_is_string = _comparable(o)
                if left_is_string != right_is_string or not _ordered(left, right, strict):
                    yield v

    return check


def _ordered(left: Any, right: Any, strict: bool) -> bool:
    try:
        return bool(left < right if strict else left <= right)
    except TypeError as exc:  # pySHACL stops with this error; let it report the run
        raise Unsupported(f"values that do not compare: {left!r}, {right!r}") from exc


_PAIRS = (
    (SH.lessThan, "LessThanConstraintComponent", True),
    (SH.lessThanOrEquals, "LessThanOrEqualsConstraintComponent", False),
)


def _formatted(messages: tuple[Literal, ...], bound: dict[str, Node | None]) -> tuple:
    """Messages with {?var} / {$var} replaced as pySHACL does (re.sub with str(term))."""
    texts = []
    for message in messages:
        text = str(message.value) if isinstance(message, Literal) else str(message)
        for name, term in bound.items():
            if term is not None:
                text = re.sub(f"{{[?$]{name}}}", str(term), text)
        texts.append(Literal(text))
    return tuple(texts)


def _fill_exact_types() -> None:
    import datetime as dt
    from decimal import Decimal

    _EXACT_TYPES.update(
        {
            XSD.string: (str, bytes),
            RDF.langString: (str, bytes),
            XSD.integer: int,
            XSD.float: float,
            XSD.decimal: Decimal,
            XSD.boolean: bool,
            XSD.date: dt.date,
            XSD.time: dt.time,
            XSD.dateTime: dt.datetime,
        }
    )


_fill_exact_types()
