"""`kg docs`: the ontology's HTML documentation and the published JSON-LD context are generated,
committed, up to date, and list every term of ontology/dkg.ttl in English and Polish."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kg.cli import main

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY = ROOT / "ontology" / "dkg.ttl"
PAGE = ROOT / "docs" / "ontology" / "index.html"
CONTEXT = ROOT / "docs" / "context.jsonld"
DKG = "https://w3id.org/dkg/ontology#"
FIX = "run `.venv/bin/kg build && .venv/bin/kg docs` and commit docs/"


def ontology_terms() -> dict[str, tuple[str, rdflib.Graph]]:
    graph = rdflib.Graph().parse(ONTOLOGY)
    terms = {}
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty):
        for term in graph.subjects(RDF.type, kind):
            if str(term).startswith(DKG):
                terms[str(term)[len(DKG) :]] = (str(kind).split("#")[1], graph)
    return terms


TERMS = ontology_terms()


@pytest.fixture(scope="module")
def regenerated(seed_out, tmp_path_factory) -> Path:
    docs = tmp_path_factory.mktemp("docs")
    assert main(["docs", "--out", str(seed_out), "--docs", str(docs)]) == 0
    return docs


def test_committed_ontology_page_is_what_kg_docs_writes(regenerated):
    fresh = (regenerated / "ontology" / "index.html").read_text(encoding="utf-8")
    assert PAGE.read_text(encoding="utf-8") == fresh, f"docs/ontology/index.html is stale: {FIX}"


def test_committed_jsonld_context_is_what_kg_docs_writes(regenerated):
    fresh = (regenerated / "context.jsonld").read_text(encoding="utf-8")
    assert CONTEXT.read_text(encoding="utf-8") == fresh, f"docs/context.jsonld is stale: {FIX}"


def test_page_says_it_is_generated_and_how_to_regenerate_it():
    text = PAGE.read_text(encoding="utf-8")
    assert "do not edit; run `kg build &amp;&amp; kg docs` instead" in text
    assert text.startswith("<!DOCTYPE html>\n<!-- Generated from ontology/dkg.ttl")


@pytest.mark.parametrize("name", sorted(TERMS))
def test_page_documents_every_term_in_english_and_polish(name):
    _, graph = TERMS[name]
    text = PAGE.read_text(encoding="utf-8")
    match = re.search(rf'<section class="term" id="{name}">(.*?)</section>', text, re.DOTALL)
    assert match, f"no section for dkg:{name}: {FIX}"
    section = html.unescape(match.group(1))
    term = rdflib.URIRef(DKG + name)
    for predicate in (RDFS.label, SKOS.definition):
        for language in ("en", "pl"):
            values = [v for v in graph.objects(term, predicate) if v.language == language]
            assert values and str(values[0]) in section, (name, predicate, language)


def test_every_class_has_an_example_from_the_seed_graph_as_turtle():
    text = html.unescape(PAGE.read_text(encoding="utf-8"))
    for name, (kind, _) in TERMS.items():
        if kind != "Class":
            continue
        section = text.split(f'id="{name}">', 1)[1].split("</section>", 1)[0]
        example = re.search(r"<pre>(.*?)</pre>", section, re.DOTALL)
        assert example, f"dkg:{name} has no example"
        prefixes = "".join(
            f"@prefix {p}: <{iri}> .\n"
            for p, iri in json.loads(CONTEXT.read_text())["@context"].items()
            if isinstance(iri, str) and iri.startswith("http") and p != "dkgr"
        )
        graph = rdflib.Graph().parse(data=prefixes + example.group(1), format="turtle")
        assert (None, RDF.type, rdflib.URIRef(DKG + name)) in graph, name


def test_page_is_self_contained_for_offline_reading():
    text = PAGE.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img)\b", text)


def test_context_has_a_term_for_every_class_and_property_with_its_kind_of_value():
    context = json.loads(CONTEXT.read_text(encoding="utf-8"))["@context"]
    graph = rdflib.Graph().parse(ONTOLOGY)
    for name, (kind, _) in TERMS.items():
        assert name in context, f"docs/context.jsonld has no term {name}: {FIX}"
        term = context[name]
        iri = term if isinstance(term, str) else term["@id"]
        assert iri == f"dkg:{name}"
        if kind == "ObjectProperty":
            assert term["@type"] == "@id"
        if kind == "DatatypeProperty":
            datatype = graph.value(rdflib.URIRef(DKG + name), RDFS.range)
            if str(datatype).startswith(str(rdflib.XSD)) and datatype != rdflib.XSD.string:
                assert term["@type"] == "xsd:" + str(datatype).split("#")[1]
    assert context["label"] == {"@id": "rdfs:label", "@container": "@language"}


def test_kg_docs_without_a_built_store_exits_2_naming_the_command(tmp_path, capsys):
    assert main(["docs", "--out", str(tmp_path), "--docs", str(tmp_path / "docs")]) == 2
    assert "run `kg build` first" in capsys.readouterr().err
    assert not (tmp_path / "docs").exists()
