"""`kg docs`: the ontology's HTML documentation and the published JSON-LD context.

    kg build && kg docs      # writes docs/ontology/index.html and docs/context.jsonld

The page lists every class and property of ontology/dkg.ttl with its English and Polish labels
and definitions, alignments, domain and range, and an example drawn from the built graph
(OUT/store, the seed articles in the repository): for a class, the instance with the most
properties, as a Turtle snippet; for a property, one statement that uses it. It is rendered by
the jinja2 template kg/templates/ontology-docs.html.jinja into one self-contained file (no
scripts, no remote styles), so it reads offline and `kg serve` serves it at /docs/.

Both outputs are generated and committed: edit the ontology (or the template) and run the
command again; tests/test_docs.py checks that the committed files are what it writes.
(pyLODE was tried first: pyLODE 3.4.1 from PyPI fails at import, looking for a pyproject.toml
it does not ship, and it has no place for examples from the data.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pyoxigraph as ox

from kg import load
from kg.errors import InputError, UsageError
from kg.export import DKG, OWL, PREFIXES, RDF, RDFS, context_json, jsonld_context

SKOS = "http://www.w3.org/2004/02/skos/core#"
DKGR = "https://w3id.org/dkg/id/"
ONTOLOGY_IRI = "https://w3id.org/dkg/ontology"
#: At most this many values of one property are shown in a class's example snippet.
EXAMPLE_VALUES = 3
GENERATED_NOTE = (
    "Generated from ontology/dkg.ttl and the graph built from data/articles: do not edit; "
    "run `kg build && kg docs` instead."
)
TEMPLATE = "ontology-docs.html.jinja"


@dataclass
class Example:
    """A Turtle snippet from the built graph, with the named graph it comes from."""

    turtle: str
    graph: str
    omitted: list[str] = field(default_factory=list)  # "12 more values of dkg:memberState"


@dataclass
class Term:
    """One class or property of the ontology, as the page shows it."""

    iri: str
    name: str  # the local name: `Official`
    kind: str  # "class", "object property", "datatype property"
    label_en: str
    label_pl: str
    definition_en: str
    definition_pl: str
    characteristics: list[str] = field(default_factory=list)  # "functional", ...
    parents: list[str] = field(default_factory=list)  # subClassOf / subPropertyOf, compacted
    close_matches: list[str] = field(default_factory=list)
    domain: str = ""
    range: str = ""
    example: Example | None = None


@dataclass
class OntologyPage:
    title: str
    title_pl: str
    description: str
    description_pl: str
    version: str
    namespace: str
    prefixes: dict[str, str]
    classes: list[Term]
    properties: list[Term]
    note: str = GENERATED_NOTE


def compact(iri: str) -> str:
    """`https://w3id.org/dkg/ontology#Official` -> `dkg:Official` (prefixes of kg.export)."""
    best = ""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(namespace) > len(best):
            best = namespace
            name = prefix
    if not best:
        return f"<{iri}>"
    return f"{name}:{iri[len(best) :]}"


def read_ontology(path: Path) -> list[ox.Triple]:
    try:
        return [quad.triple for quad in ox.parse(path=str(path))]
    except (OSError, SyntaxError) as exc:
        raise InputError(path, f"cannot read the ontology: {exc}") from None


def ontology_page(ontology: list[ox.Triple], store: ox.Store | None) -> OntologyPage:
    """Every class and property of the ontology, with examples from `store` when given."""
    by_subject: dict[str, list[ox.Triple]] = {}
    for triple in ontology:
        by_subject.setdefault(_key(triple.subject), []).append(triple)

    def values(subject: str, predicate: str) -> list[ox.NamedNode | ox.BlankNode | ox.Literal]:
        return [t.object for t in by_subject.get(subject, []) if t.predicate.value == predicate]

    def text(subject: str, predicate: str, language: str) -> str:
        for value in values(subject, predicate):
            if isinstance(value, ox.Literal) and value.language == language:
                return value.value
        return ""

    def describe(node: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
        if isinstance(node, ox.NamedNode):
            return compact(node.value)
        members = values(_key(node), OWL + "unionOf")
        if members:
            return " or ".join(describe(member) for member in _rdf_list(members[0], values))
        return str(node)

    classes: list[Term] = []
    properties: list[Term] = []
    for subject in sorted(by_subject):
        if not subject.startswith(DKG) or subject == DKG:
            continue
        types = {t.value for t in values(subject, RDF + "type") if isinstance(t, ox.NamedNode)}
        if OWL + "Class" in types:
            kind = "class"
        elif OWL + "ObjectProperty" in types:
            kind = "object property"
        elif OWL + "DatatypeProperty" in types:
            kind = "datatype property"
        else:
            continue
        term = Term(
            iri=subject,
            name=subject[len(DKG) :],
            kind=kind,
            label_en=text(subject, RDFS + "label", "en"),
            label_pl=text(subject, RDFS + "label", "pl"),
            definition_en=text(subject, SKOS + "definition", "en"),
            definition_pl=text(subject, SKOS + "definition", "pl"),
            characteristics=sorted(
                name
                for iri, name in (
                    (OWL + "FunctionalProperty", "functional"),
                    (OWL + "InverseFunctionalProperty", "inverse functional"),
                )
                if iri in types
            ),
            parents=sorted(
                describe(v)
                for p in (RDFS + "subClassOf", RDFS + "subPropertyOf")
                for v in values(subject, p)
            ),
            close_matches=sorted(describe(v) for v in values(subject, SKOS + "closeMatch")),
            domain=", ".join(describe(v) for v in values(subject, RDFS + "domain")),
            range=", ".join(describe(v) for v in values(subject, RDFS + "range")),
        )
        if store is not None:
            term.example = (
                class_example(store, subject)
                if kind == "class"
                else property_example(store, subject)
            )
        (classes if kind == "class" else properties).append(term)
    if not classes and not properties:
        raise UsageError("the ontology declares no dkg: class or property")

    header = ONTOLOGY_IRI
    return OntologyPage(
        title=text(header, "http://purl.org/dc/terms/title", "en"),
        title_pl=text(header, "http://purl.org/dc/terms/title", "pl"),
        description=text(header, "http://purl.org/dc/terms/description", "en"),
        description_pl=text(header, "http://purl.org/dc/terms/description", "pl"),
        version=next((v.value for v in values(header, OWL + "versionInfo")), ""),
        namespace=DKG,
        prefixes={name: iri for name, iri in PREFIXES.items() if name != "dkgr"},
        classes=sorted(classes, key=lambda term: term.name.lower()),
        properties=sorted(properties, key=lambda term: term.name.lower()),
    )


def _key(node: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    return node.value if isinstance(node, ox.NamedNode) else f"_:{getattr(node, 'value', node)}"


def _rdf_list(head, values) -> list:  # noqa: ANN001 - internal helper over the ontology triples
    items = []
    while isinstance(head, ox.BlankNode):
        items += values(_key(head), RDF + "first")
        rest = values(_key(head), RDF + "rest")
        head = rest[0] if rest else None
    return items


def class_example(store: ox.Store, class_iri: str) -> Example | None:
    """The instance of the class with the most distinct properties (ties: the smallest IRI),
    with its statements in the graph that types it, as Turtle."""
    query = f"""
        SELECT ?s ?g (COUNT(DISTINCT ?p) AS ?n) WHERE {{
          GRAPH ?g {{ ?s a <{class_iri}> ; ?p ?o }}
          FILTER(isIRI(?s) && ?g != <{DKGR}graph/ontology> && ?g != <{DKGR}graph/shapes>)
        }} GROUP BY ?s ?g ORDER BY DESC(?n) STR(?s) STR(?g) LIMIT 1"""
    rows = list(store.query(query))
    if not rows:
        return None
    subject, graph = rows[0]["s"], rows[0]["g"]
    triples = [q.triple for q in store.quads_for_pattern(subject, None, None, graph)]
    by_predicate: dict[str, list[ox.Triple]] = {}
    for triple in sorted(triples, key=lambda t: (t.predicate.value, str(t.object))):
        by_predicate.setdefault(triple.predicate.value, []).append(triple)
    shown: list[ox.Triple] = []
    omitted: list[str] = []
    for predicate, group in by_predicate.items():
        shown += group[:EXAMPLE_VALUES]
        if len(group) > EXAMPLE_VALUES:
            more = len(group) - EXAMPLE_VALUES
            omitted.append(f"{more} more value{'s' if more > 1 else ''} of {compact(predicate)}")
    return Example(_turtle(shown), graph.value, omitted)


def property_example(store: ox.Store, property_iri: str) -> Example | None:
    """One statement that uses the property (the smallest by subject and object), as Turtle."""
    query = f"""
        SELECT ?s ?o ?g WHERE {{
          GRAPH ?g {{ ?s <{property_iri}> ?o }}
          FILTER(isIRI(?s) && ?g != <{DKGR}graph/ontology> && ?g != <{DKGR}graph/shapes>)
        }} ORDER BY STR(?s) STR(?o) STR(?g) LIMIT 1"""
    rows = list(store.query(query))
    if not rows:
        return None
    row = rows[0]
    return Example(
        _turtle([ox.Triple(row["s"], ox.NamedNode(property_iri), row["o"])]), row["g"].value
    )


def _turtle(triples: Iterable[ox.Triple]) -> str:
    prefixes = {name: iri for name, iri in PREFIXES.items() if name != "dkgr"}
    text = ox.serialize(list(triples), format=ox.RdfFormat.TURTLE, prefixes=prefixes).decode()
    body = [line for line in text.splitlines() if not line.startswith("@prefix")]
    return "\n".join(body).replace("\t", "    ").strip()


def render(page: OntologyPage) -> str:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("kg", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(TEMPLATE).render(page=page)


def docs_command(out_dir: Path, ontology_path: Path, docs_dir: Path) -> int:
    """`kg docs`: write DOCS/ontology/index.html and DOCS/context.jsonld."""
    store = load.open_store(out_dir, why=" (examples come from it)")
    ontology = read_ontology(Path(ontology_path))
    outputs = {
        Path(docs_dir) / "ontology" / "index.html": render(ontology_page(ontology, store)),
        Path(docs_dir) / "context.jsonld": context_json(jsonld_context(ontology)),
    }
    for path, content in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        print(f"wrote {path}")
    return 0
