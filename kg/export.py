"""`kg export`: the built graph, or one of its named graphs, as Turtle, TriG, N-Quads or JSON-LD.

    kg export                                  # every graph, TriG, to stdout
    kg export --graph 000_c67f5beca45faf07     # one article's graph, Turtle
    kg export --graph reference --output reference.jsonld   # format from the extension

Turtle, TriG and N-Quads are written by Oxigraph straight from the store (streamed, in the
store's order, so the same store gives the same bytes). JSON-LD is written by rdflib and
compacted with the ontology's JSON-LD context (`jsonld_context`), the same context as the
published docs/context.jsonld, which `kg docs` writes; the context is embedded in the
document, so any JSON-LD processor reads it offline.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from kg import load
from kg.errors import UsageError

DKG = "https://w3id.org/dkg/ontology#"
DKGR = "https://w3id.org/dkg/id/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: The prefixes of docs/model.md, used by every format that has prefixes.
PREFIXES: dict[str, str] = {
    "dkg": DKG,
    "dkgr": DKGR,
    "wd": "http://www.wikidata.org/entity/",
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "org": "http://www.w3.org/ns/org#",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "sh": "http://www.w3.org/ns/shacl#",
}

FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
    "jsonld": ox.RdfFormat.JSON_LD,
}
#: The format a file name asks for, by extension.
EXTENSIONS: dict[str, str] = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".trig": "trig",
    ".nq": "nquads",
    ".nquads": "nquads",
    ".jsonld": "jsonld",
    ".json": "jsonld",
}
#: The named graphs that are not articles' (docs/model.md, "Named graphs").
NAMED_GRAPHS: dict[str, str] = {
    "reference": DKGR + "graph/reference",
    "ontology": DKGR + "graph/ontology",
    "shapes": DKGR + "graph/shapes",
}
ONTOLOGY_GRAPH = ox.NamedNode(NAMED_GRAPHS["ontology"])

#: Terms of the context for the properties from other vocabularies that docs/model.md uses.
#: Labels and definitions are language maps (`"label": {"en": "Poland", "pl": "Polska"}`).
SHARED_TERMS: dict[str, Any] = {
    "label": {"@id": "rdfs:label", "@container": "@language"},
    "altLabel": {"@id": "skos:altLabel", "@container": "@language"},
    "definition": {"@id": "skos:definition", "@container": "@language"},
    "sameAs": {"@id": "owl:sameAs", "@type": "@id"},
    "identifier": "dcterms:identifier",
    "title": {"@id": "dcterms:title", "@container": "@language"},
    "language": "dcterms:language",
    "issued": {"@id": "dcterms:issued", "@type": "xsd:date"},
    "publisher": "dcterms:publisher",
    "url": {"@id": "schema:url", "@type": "xsd:anyURI"},
    "wasGeneratedBy": {"@id": "prov:wasGeneratedBy", "@type": "@id"},
}


def jsonld_context(ontology: Iterable[ox.Triple | ox.Quad]) -> dict[str, Any]:
    """The JSON-LD context of the ontology: the prefixes, one term per `dkg:` class and
    property (object properties take IRIs, datatype properties their range's datatype), and
    the shared terms of `SHARED_TERMS`. Terms are sorted, so the same ontology gives the same
    context."""
    kinds: dict[str, set[str]] = {}
    ranges: dict[str, str] = {}
    for statement in ontology:
        subject = statement.subject
        if not isinstance(subject, ox.NamedNode) or not subject.value.startswith(DKG):
            continue
        if statement.predicate.value == RDF + "type" and isinstance(statement.object, ox.NamedNode):
            kinds.setdefault(subject.value, set()).add(statement.object.value)
        elif statement.predicate.value == RDFS + "range" and isinstance(
            statement.object, ox.NamedNode
        ):
            ranges[subject.value] = statement.object.value
    terms: dict[str, Any] = {}
    for iri, types in kinds.items():
        name = iri[len(DKG) :]
        if not name:
            continue
        if OWL + "Class" in types:
            terms[name] = f"dkg:{name}"
        elif OWL + "ObjectProperty" in types:
            terms[name] = {"@id": f"dkg:{name}", "@type": "@id"}
        elif OWL + "DatatypeProperty" in types:
            datatype = ranges.get(iri, "")
            if datatype.startswith(XSD) and datatype != XSD + "string":
                terms[name] = {"@id": f"dkg:{name}", "@type": "xsd:" + datatype[len(XSD) :]}
            else:
                terms[name] = f"dkg:{name}"
    clash = sorted(set(terms) & set(SHARED_TERMS))
    if clash:
        raise UsageError(f"ontology terms clash with the shared JSON-LD terms: {clash}")
    context: dict[str, Any] = {"@version": 1.1}
    context.update(PREFIXES)
    context.update(sorted({**terms, **SHARED_TERMS}.items(), key=lambda item: item[0].lower()))
    return {"@context": context}


def context_json(context: dict[str, Any]) -> str:
    """The context as the published file writes it."""
    return json.dumps(context, indent=2, ensure_ascii=False) + "\n"


def resolve_graph(store: ox.Store, name: str) -> ox.NamedNode | None:
    """`all` -> None (every graph); `reference`, `ontology`, `shapes`; an article id; an IRI."""
    if name == "all":
        return None
    if name in NAMED_GRAPHS:
        graph = ox.NamedNode(NAMED_GRAPHS[name])
    elif name.startswith(("http://", "https://")):
        try:
            graph = ox.NamedNode(name)
        except ValueError:
            raise UsageError(f"--graph {name!r} is not a valid IRI") from None
    else:
        try:
            graph = ox.NamedNode(DKGR + "article/" + name)
        except ValueError:
            raise UsageError(f"--graph {name!r} is not an article id") from None
    if not store.contains_named_graph(graph):
        raise UsageError(
            f"no graph {name!r} in the store: give an article id (its file name without "
            "extension), reference, ontology, shapes or all"
        )
    return graph


def choose_format(fmt: str | None, output: Path | None, graph: ox.NamedNode | None) -> str:
    """The format asked for, else the output file's extension's, else TriG for every graph and
    Turtle for one. Turtle holds one graph only."""
    if fmt is None and output is not None:
        fmt = EXTENSIONS.get(output.suffix.lower())
        if fmt is None:
            known = ", ".join(sorted(EXTENSIONS))
            raise UsageError(
                f"cannot tell the format from {output.name!r} ({known}): give --format"
            )
    if fmt is None:
        fmt = "trig" if graph is None else "turtle"
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} ({', '.join(FORMATS)})")
    if fmt == "turtle" and graph is None:
        raise UsageError(
            "Turtle holds one graph: give --graph ARTICLE_ID|reference, or use trig, nquads "
            "or jsonld for every graph"
        )
    return fmt


def export(store: ox.Store, graph: ox.NamedNode | None, fmt: str, output: IO[bytes]) -> None:
    """Write `graph` (None: every graph, named graphs kept) of `store` in `fmt` to `output`."""
    if fmt == "jsonld":
        output.write(_jsonld(store, graph).encode("utf-8"))
        return
    rdf_format = FORMATS[fmt]
    prefixes = None
    if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG):
        # Resource IRIs stay whole: `dkgr:state/PL` would need `dkgr:state\/PL` in Turtle.
        prefixes = {name: iri for name, iri in PREFIXES.items() if name != "dkgr"}
    if graph is None:
        store.dump(output, rdf_format, prefixes=prefixes)
    else:
        if rdf_format.supports_datasets:  # one graph in a dataset format keeps its name
            quads = store.quads_for_pattern(None, None, None, graph)
            ox.serialize(quads, output, rdf_format, prefixes=prefixes)
        else:
            store.dump(output, rdf_format, from_graph=graph, prefixes=prefixes)


def _jsonld(store: ox.Store, graph: ox.NamedNode | None) -> str:
    import rdflib  # only JSON-LD needs it

    context = jsonld_context(store.quads_for_pattern(None, None, None, ONTOLOGY_GRAPH))
    if graph is None:
        data: rdflib.Graph = rdflib.Dataset()
        data.parse(data=store.dump(format=ox.RdfFormat.N_QUADS), format="nquads")
    else:
        data = rdflib.Graph()
        triples = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
        data.parse(data=triples, format="nt")
    text = data.serialize(format="json-ld", context=context["@context"], auto_compact=True)
    return text if text.endswith("\n") else text + "\n"


def export_command(out_dir: Path, graph_name: str, fmt: str | None, output: Path | None) -> int:
    """`kg export [--graph ARTICLE_ID|reference|all] [--format ...] [--output FILE]`."""
    store = load.open_store(out_dir)
    graph = resolve_graph(store, graph_name)
    fmt = choose_format(fmt, output, graph)
    if output is None:
        try:
            export(store, graph, fmt, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # `kg export | head`: the reader has what it wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 0
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("wb") as handle:
            export(store, graph, fmt, handle)
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    return 0
