"""The validate stage: results attributed to article graphs, reports as text and JSON."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pytest
from rdflib import Dataset, Graph

import kg.validate
from kg.errors import InputError
from kg.validate import (
    ValidationReport,
    ValidationResult,
    format_json,
    format_text,
    load_ontology,
    load_shapes,
    validate_dataset,
    validate_graph,
)

R = "https://w3id.org/dkg/id/"
DKG = "https://w3id.org/dkg/ontology#"
REFERENCE = R + "graph/reference"
ARTICLE_A = R + "article/a"
ARTICLE_B = R + "article/b"

PREFIXES = """
@base <https://w3id.org/dkg/id/> .
@prefix dkg: <https://w3id.org/dkg/ontology#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix wd: <http://www.wikidata.org/entity/> .
"""

# Reference data with one flaw of its own (a state without Wikidata link: a warning), article a
# with a meeting that names no participant, article b that is valid and whose meeting points at
# an official described only in the reference graph.
REFERENCE_TRIG = """
<graph/reference> {
    <official/anna-nowak> a dkg:Official ; rdfs:label "Anna Nowak"@en ; owl:sameAs wd:Q0 .
    <state/LT> a dkg:State ; rdfs:label "Lithuania"@en ; dkg:isoCode "LT" .
}
"""
ARTICLES_TRIG = """
<article/a> {
    <article/a> a dkg:Article ; dcterms:identifier "a" ; dcterms:language "en" .
    <meeting/m1> a dkg:Meeting ; rdfs:label "Meeting"@en ; dkg:reportedIn <article/a> .
}
<article/b> {
    <article/b> a dkg:Article ; dcterms:identifier "b" ; dcterms:language "en" .
    <meeting/m2> a dkg:Meeting ; rdfs:label "Meeting of Anna Nowak"@en ;
        dkg:participant <official/anna-nowak> ; dkg:reportedIn <article/b> .
}
"""
TRIG = PREFIXES + REFERENCE_TRIG + ARTICLES_TRIG


def dataset(trig: str = TRIG) -> Dataset:
    ds = Dataset()
    ds.parse(data=trig, format="trig")
    return ds


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    return validate_dataset(dataset())


def rows(report: ValidationReport) -> set[tuple]:
    return {(r.graph, r.severity, r.focus_node, r.constraint) for r in report.results}


def test_results_are_attributed_to_the_graph_that_holds_the_focus_node(report) -> None:
    assert rows(report) == {
        (ARTICLE_A, "Violation", R + "meeting/m1", "MinCountConstraintComponent"),
        (REFERENCE, "Warning", R + "state/LT", "MinCountConstraintComponent"),
    }
    [violation] = report.violations()
    assert violation.path == DKG + "participant"
    assert violation.source_shape == "https://w3id.org/dkg/shapes#Meeting-participant"
    assert "participant" in violation.message


def test_article_nodes_may_point_at_reference_entities(report) -> None:
    assert not [r for r in report.results if r.graph == ARTICLE_B]


def test_reference_only_nodes_are_reported_once_under_the_reference_graph(report) -> None:
    about_lithuania = [r for r in report.results if r.focus_node == R + "state/LT"]
    assert [r.graph for r in about_lithuania] == [REFERENCE]


def test_reference_entity_restated_in_an_article_is_not_blamed_on_the_article() -> None:
    trig = TRIG + '<article/b> { <state/LT> a dkg:State ; rdfs:label "Lithuania"@en . }\n'
    assert rows(validate_dataset(dataset(trig))) == rows(validate_dataset(dataset()))


def test_an_article_can_break_a_reference_entity_and_is_blamed_for_it() -> None:
    trig = TRIG + '<article/b> { <state/LT> rdfs:label "Litauen"@en . }\n'
    article_rows = {r for r in rows(validate_dataset(dataset(trig))) if r[0] == ARTICLE_B}
    assert article_rows == {
        (ARTICLE_B, "Violation", R + "state/LT", "UniqueLangConstraintComponent")
    }


def test_blank_node_subjects_of_an_article_are_validated_too() -> None:
    trig = TRIG + '<article/b> { [] a dkg:Place ; rdfs:label "Somewhere"@en . }\n'
    [result] = [r for r in validate_dataset(dataset(trig)).results if r.graph == ARTICLE_B]
    assert result.focus_node.startswith("_:")
    assert result.constraint == "PatternConstraintComponent"
    assert result.path is None


def test_ontology_and_shapes_graphs_are_skipped() -> None:
    broken = "<meeting/broken> a dkg:Meeting ."
    trig = TRIG + f"<graph/ontology> {{ {broken} }}\n<graph/shapes> {{ {broken} }}\n"
    assert rows(validate_dataset(dataset(trig))) == rows(validate_dataset(dataset()))


def test_results_are_sorted_and_repeatable() -> None:
    first = validate_dataset(dataset()).results
    assert first == validate_dataset(dataset()).results
    assert first == sorted(first, key=ValidationResult.sort_key)


def test_warnings_alone_keep_the_report_conforming() -> None:
    report = validate_dataset(dataset(PREFIXES + REFERENCE_TRIG))
    assert report.results and not report.violations()
    assert report.warnings() == report.results
    assert report.conforms


def test_violations_make_the_report_not_conform(report) -> None:
    assert not report.conforms
    assert len(report.violations()) == 1
    assert len(report.warnings()) == 1


def test_format_text_names_the_article_the_focus_node_and_the_counts(report) -> None:
    text = format_text(report)
    assert "Violation in article a <https://w3id.org/dkg/id/article/a>" in text
    assert "focus node: https://w3id.org/dkg/id/meeting/m1" in text
    assert "path:       dkg:participant" in text
    assert "MinCountConstraintComponent" in text
    assert "Warning in reference data" in text
    assert text.endswith("1 violations, 1 warnings")


def test_format_text_of_an_empty_report_is_the_summary_line() -> None:
    assert format_text(ValidationReport([])) == "0 violations, 0 warnings"


def test_format_json_carries_every_field(report) -> None:
    document = json.loads(format_json(report))
    assert document["conforms"] is False
    assert (document["violations"], document["warnings"]) == (1, 1)
    assert [ValidationResult(**r) for r in document["results"]] == report.results


def test_validate_graph_checks_one_graph_without_changing_it() -> None:
    data = Graph().parse(
        data=PREFIXES + '<state/XX> a dkg:State ; rdfs:label "X"@en ; dkg:isoCode "XX" .',
        format="turtle",
    )
    before = len(data)
    report = validate_graph(data)
    assert len(data) == before
    assert {(r.severity, r.constraint, r.graph) for r in report.results} == {
        ("Warning", "MinCountConstraintComponent", None)
    }
    assert report.conforms


def test_offending_values_are_given_in_n_triples_form() -> None:
    data = Graph().parse(
        data=PREFIXES + '<state/XX> a dkg:State ; rdfs:label "X"@en ; dkg:isoCode "xx" ; '
        "owl:sameAs wd:Q0 .",
        format="turtle",
    )
    [result] = validate_graph(data).results
    assert result.value == '"xx"'


def test_load_shapes_refuses_a_folder_without_shapes(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no SHACL shapes"):
        load_shapes(tmp_path)


def test_load_ontology_names_the_file_that_is_not_turtle(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("this is not turtle", encoding="utf-8")
    with pytest.raises(InputError, match="bad.ttl"):
        load_ontology(bad)


def test_docstring_examples_run() -> None:
    assert doctest.testmod(kg.validate).failed == 0
