"""The ontology is complete, bilingual, consistent under OWL RL and in step with the shapes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import owlrl
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS

from kg.validate import (
    DEFAULT_ONTOLOGY_PATH,
    STANDARD_PATH_NAMESPACES,
    STANDARD_PATHS,
    check_ontology,
    load_ontology,
    load_shapes,
    ontology_problems,
    owl_rl_problems,
    shape_paths,
    sparql_terms,
)

BROKEN_SHAPES = sorted((Path(__file__).parent / "fixtures" / "validate" / "ontology").glob("*.ttl"))

DKG = Namespace("https://w3id.org/dkg/ontology#")
VANN = Namespace("http://purl.org/vocab/vann/")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
WD = Namespace("http://www.wikidata.org/entity/")
SCHEMA = Namespace("https://schema.org/")
# Where owlrl records inconsistencies it finds: [] a errns:ErrorMessage ; errns:error "...".
ERRNS = Namespace("http://www.daml.org/2002/03/agents/agent-ont#")
ONTOLOGY = URIRef("https://w3id.org/dkg/ontology")

# The terms docs/model.md relies on; removing one breaks the mapping, queries or shapes.
CLASSES = {
    "Article", "UndatedArticle", "Official", "State", "Alliance", "MilitaryAlliance",
    "IntergovernmentalOrganisation", "Meeting", "Statement", "Position", "Post", "Place",
    "Evidence",
}  # fmt: skip
PROPERTIES = {
    "mentions", "participant", "participantState", "location", "startDate", "endDate",
    "organizer", "meetingKind", "reportedIn", "speaker", "quote", "isDirectQuote",
    "holdsPosition", "post", "postOf", "postKind", "citizenOf", "isoCode", "memberState",
    "evidence", "startOffset", "endOffset", "confidence", "inArticle", "curated",
    "listingDate",
    # statistics (RDF Data Cube dimensions and measures)
    "countedEntity", "firstState", "secondState", "meetingPlace", "articleCount",
    "meetingCount", "firstDate", "lastDate",
    # the calendar (listing days of an entity in a role, start days of meetings)
    "participantOn", "participantStateOn", "speakerOn", "meetingStartDay",
}  # fmt: skip
# The only Wikidata classes the ontology may point at (verified by hand).
WIKIDATA_MATCHES = {
    DKG.State: WD.Q3624078,  # sovereign state
    DKG.MilitaryAlliance: WD.Q1127126,  # military alliance
    DKG.Official: WD.Q5,  # human
    DKG.Meeting: WD.Q2761147,  # meeting
    DKG.IntergovernmentalOrganisation: WD.Q484652,  # international organization
}
# Paths outside the dkg namespace that shapes may use: standard vocabulary only.
ALLOWED_PATHS = {RDF.type, RDFS.label, OWL.sameAs, SCHEMA.url, SKOS.altLabel}
ALLOWED_PATH_NAMESPACES = ("http://purl.org/dc/terms/", "http://www.w3.org/ns/prov#")
assert ALLOWED_PATHS == STANDARD_PATHS and ALLOWED_PATH_NAMESPACES == STANDARD_PATH_NAMESPACES
PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_ontology()


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


def _declared(ontology: Graph, types: tuple[URIRef, ...]) -> set[URIRef]:
    return {
        s
        for t in types
        for s in ontology.subjects(RDF.type, t)
        if isinstance(s, URIRef) and s.startswith(str(DKG))
    }


def _classes(ontology: Graph) -> set[URIRef]:
    return _declared(ontology, (OWL.Class,))


def _properties(ontology: Graph) -> set[URIRef]:
    return _declared(ontology, PROPERTY_TYPES)


def _union_members(ontology: Graph, node) -> set:
    """A named class, or the members of an owl:unionOf class expression."""
    members = ontology.value(node, OWL.unionOf)
    return set(Collection(ontology, members)) if members is not None else {node}


def test_ontology_parses_and_declares_the_ontology(ontology: Graph) -> None:
    assert DEFAULT_ONTOLOGY_PATH.name == "dkg.ttl"
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in ontology


def test_header_has_title_version_license_and_preferred_prefix(ontology: Graph) -> None:
    titles = {t.language for t in ontology.objects(ONTOLOGY, DCTERMS.title)}
    assert {"en", "pl"} <= titles
    assert ontology.value(ONTOLOGY, OWL.versionInfo) == Literal("0.1.0")
    assert ontology.value(ONTOLOGY, OWL.versionIRI) == URIRef("https://w3id.org/dkg/ontology/0.1.0")
    assert ontology.value(ONTOLOGY, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )
    assert ontology.value(ONTOLOGY, VANN.preferredNamespacePrefix) == Literal("dkg")
    assert str(ontology.value(ONTOLOGY, VANN.preferredNamespaceUri)) == str(DKG)
    assert ontology.value(ONTOLOGY, DCTERMS.description) is not None
    assert ontology.value(ONTOLOGY, DCTERMS.created).datatype == XSD_DATE


def test_declares_every_class_and_property_of_the_model(ontology: Graph) -> None:
    assert {DKG[c] for c in CLASSES} == _classes(ontology)
    assert {DKG[p] for p in PROPERTIES} == _properties(ontology)


def test_every_dkg_term_used_is_declared(ontology: Graph) -> None:
    declared = _classes(ontology) | _properties(ontology)
    used = {
        term
        for triple in ontology
        for term in triple
        if isinstance(term, URIRef) and term.startswith(str(DKG))
    }
    assert used - declared == set()


def _terms(ontology: Graph) -> Iterator[URIRef]:
    yield from sorted(_classes(ontology) | _properties(ontology))


@pytest.mark.parametrize("predicate", [RDFS.label, SKOS.definition], ids=["label", "definition"])
def test_every_term_has_one_label_and_definition_in_english_and_polish(
    ontology: Graph, predicate: URIRef
) -> None:
    problems = []
    for term in _terms(ontology):
        languages = sorted(o.language or "-" for o in ontology.objects(term, predicate))
        if languages != ["en", "pl"]:
            problems.append(f"{term}: {predicate} languages {languages}, want ['en', 'pl']")
    assert not problems, "\n".join(problems)


def test_every_term_is_defined_by_the_ontology(ontology: Graph) -> None:
    missing = [t for t in _terms(ontology) if (t, RDFS.isDefinedBy, ONTOLOGY) not in ontology]
    assert not missing


def test_every_property_has_a_domain_and_a_range(ontology: Graph) -> None:
    problems = [
        str(p)
        for p in sorted(_properties(ontology))
        if ontology.value(p, RDFS.domain) is None or ontology.value(p, RDFS.range) is None
    ]
    assert not problems, "properties without rdfs:domain or rdfs:range: " + ", ".join(problems)


def test_properties_shared_by_several_classes_use_unions(ontology: Graph) -> None:
    def domain(p: URIRef) -> set:
        return _union_members(ontology, ontology.value(p, RDFS.domain))

    assert domain(DKG.startDate) == {DKG.Meeting, DKG.Position}
    assert domain(DKG.endDate) == {DKG.Meeting, DKG.Position}
    assert domain(DKG.mentions) == {DKG.Article, DKG.Statement}
    assert domain(DKG.reportedIn) == {DKG.Meeting, DKG.Statement}
    assert _union_members(ontology, ontology.value(DKG.postOf, RDFS.range)) == {
        DKG.State,
        DKG.Alliance,
    }


def test_wikidata_matches_are_the_verified_ones(ontology: Graph) -> None:
    wikidata = {
        (s, o) for s, o in ontology.subject_objects(SKOS.closeMatch) if o.startswith(str(WD))
    }
    assert wikidata == set(WIKIDATA_MATCHES.items())


def test_contract_classes_are_aligned_to_shared_vocabularies(ontology: Graph) -> None:
    def supers(c: URIRef) -> set:
        return set(ontology.objects(c, RDFS.subClassOf))

    assert SCHEMA.Person in supers(DKG.Official)
    assert SCHEMA.Country in supers(DKG.State)
    assert SCHEMA.Organization in supers(DKG.Alliance)
    assert SCHEMA.Event in supers(DKG.Meeting)
    assert SCHEMA.Quotation in supers(DKG.Statement)
    assert SCHEMA.NewsArticle in supers(DKG.Article)
    assert {PROV.Entity} <= supers(DKG.Article) & supers(DKG.Statement)


def test_ontology_is_consistent_under_owl_rl_with_one_instance_per_class(
    ontology: Graph,
) -> None:
    """OWL RL finds no clash: no owl:Nothing member, no inconsistency message.

    One fresh instance per class makes an unsatisfiable class (say, a subclass of two disjoint
    classes) show up as an inconsistency; the ontology alone has no instances to clash.
    """
    graph = Graph()
    graph += ontology
    probes = {}
    for cls in sorted(_classes(ontology)):
        probe = URIRef(f"urn:test:probe:{cls.fragment}")
        graph.add((probe, RDF.type, cls))
        probes[cls] = probe
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)

    errors = [
        str(graph.value(m, ERRNS.error)) for m in graph.subjects(RDF.type, ERRNS.ErrorMessage)
    ]
    assert not errors, "OWL RL inconsistencies:\n" + "\n".join(errors)
    nothing = [s for s in graph.subjects(RDF.type, OWL.Nothing) if not isinstance(s, BNode)]
    assert not nothing
    # The closure did its work: a military alliance is an alliance and a schema:Organization.
    assert (probes[DKG.MilitaryAlliance], RDF.type, SCHEMA.Organization) in graph


# --------------------------------------------------------------------------------------------
# Ontology and shapes in step
# --------------------------------------------------------------------------------------------


def test_every_target_class_is_declared_in_the_ontology(ontology: Graph, shapes: Graph) -> None:
    targets = set(shapes.objects(None, SH.targetClass)) | set(shapes.objects(None, SH["class"]))
    assert targets - _classes(ontology) == set()


def test_every_shape_path_is_a_declared_property_or_standard_vocabulary(
    ontology: Graph, shapes: Graph
) -> None:
    declared = _properties(ontology)
    problems = []
    for iri in shape_paths(shapes):
        if iri.startswith(str(DKG)):
            if iri not in declared:
                problems.append(f"{iri}: not declared in ontology/dkg.ttl")
        elif iri not in ALLOWED_PATHS and not str(iri).startswith(ALLOWED_PATH_NAMESPACES):
            problems.append(f"{iri}: not in the allow-list of standard terms")
    assert not problems, "\n".join(sorted(problems))


def test_every_term_of_the_sparql_rules_is_declared_and_used_as_what_it_is(
    ontology: Graph, shapes: Graph
) -> None:
    """The SHACL-SPARQL queries of shapes/ name only declared terms: properties as
    predicates, classes as rdf:type objects (the whole step check, as `kg validate
    --ontology` runs it, finds nothing either)."""
    terms = sparql_terms(shapes)
    assert len(terms) == 6
    used = {iri for found in terms.values() for iri in found.iris if iri.startswith(str(DKG))}
    assert {DKG.speaker, DKG.participantState, DKG.isoCode, DKG.holdsPosition} <= used
    assert {c for found in terms.values() for c in found.classes} == {DKG.Official, DKG.State}
    assert ontology_problems(ontology, shapes) == []


def _expected_problems(path: Path) -> set[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {
        tuple(m.group(1).split())  # type: ignore[misc]
        for m in (re.match(r"^#\s*expect:\s*(.*?)\s*$", line) for line in lines)
        if m
    }


@pytest.mark.parametrize("path", BROKEN_SHAPES, ids=[p.stem for p in BROKEN_SHAPES])
def test_the_step_check_finds_what_a_broken_shapes_file_gets_wrong(
    ontology: Graph, path: Path
) -> None:
    shapes = Graph().parse(path, format="turtle")
    found = {(term, check) for term, check, _message in ontology_problems(ontology, shapes)}
    assert found == _expected_problems(path)


def test_the_ontology_check_command_finds_nothing_in_the_project_files() -> None:
    report = check_ontology()
    assert report.results == []
    assert [(c.kind, c.name) for c in report.checked] == [("ontology", "dkg.ttl")]
    assert owl_rl_problems(load_ontology()) == []


def test_shape_datatypes_and_classes_agree_with_property_ranges(
    ontology: Graph, shapes: Graph
) -> None:
    problems = []
    for shape, path in shapes.subject_objects(SH.path):
        if not (isinstance(path, URIRef) and path.startswith(str(DKG))):
            continue
        ranges = _union_members(ontology, ontology.value(path, RDFS.range))
        datatype = shapes.value(shape, SH.datatype)
        cls = shapes.value(shape, SH["class"])
        if datatype is not None and (
            (path, RDF.type, OWL.DatatypeProperty) not in ontology or datatype not in ranges
        ):
            problems.append(f"{shape}: sh:datatype {datatype} but {path} has range {ranges}")
        if cls is not None and (
            (path, RDF.type, OWL.ObjectProperty) not in ontology or cls not in ranges
        ):
            problems.append(f"{shape}: sh:class {cls} but {path} has range {ranges}")
    assert not problems, "\n".join(sorted(problems))


def test_every_shape_has_an_iri_and_a_message(shapes: Graph) -> None:
    """A shape's sh:message is what the report says; a shape whose constraints are all
    SHACL-SPARQL may leave it to them (their message can name the offending value)."""
    shape_nodes = (
        set(shapes.subjects(RDF.type, SH.NodeShape))
        | set(shapes.subjects(RDF.type, SH.PropertyShape))
        | set(shapes.objects(None, SH.property))
        | set(shapes.subjects(SH.path, None))
    )
    sparql = set(shapes.objects(None, SH.sparql))
    blank = [s for s in shape_nodes | sparql if not isinstance(s, URIRef)]
    assert not blank, f"{len(blank)} shapes are blank nodes; give each an IRI"

    def speaks(node) -> bool:
        own = shapes.value(node, SH.message) is not None
        rules = list(shapes.objects(node, SH.sparql))
        return own or (bool(rules) and all(speaks(r) for r in rules))

    silent = sorted(str(s) for s in shape_nodes | sparql if not speaks(s))
    assert not silent, "shapes without sh:message: " + ", ".join(silent)


def test_every_sparql_constraint_declares_its_prefixes_and_selects_this(shapes: Graph) -> None:
    problems = []
    for constraint, select in shapes.subject_objects(SH.select):
        if shapes.value(constraint, SH.prefixes) is None:
            problems.append(f"{constraint}: no sh:prefixes")
        if "$this" not in str(select):
            problems.append(f"{constraint}: the query does not use $this")
    assert not problems, "\n".join(problems)
