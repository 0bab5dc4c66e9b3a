"""The validate stage: results attributed to article graphs and located in files, reports as
text, JSON and JUnit, per-article validation for worker processes, reference table checks."""

from __future__ import annotations

import datetime as dt
import doctest
import json
import shutil
import xml.etree.ElementTree as ET
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import to_isomorphic

import kg.validate
from kg.errors import InputError
from kg.validate import (
    ArticleSource,
    Checked,
    Sources,
    ValidationReport,
    ValidationResult,
    check_tables,
    evidence_span,
    format_json,
    format_junit,
    format_text,
    load_ontology,
    load_shapes,
    validate_article,
    validate_dataset,
    validate_graph,
    validate_reference_dir,
)

FIXTURES = Path(__file__).parent / "fixtures" / "validate"
DATA_REPO = FIXTURES / "data-repo"
DAY = dt.date(2025, 6, 30)  # the validation day of these tests: later dates are "in the future"
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
    <article/a> a dkg:Article , dkg:UndatedArticle ;
        dcterms:identifier "a" ; dcterms:language "en" .
    <meeting/m1> a dkg:Meeting ; rdfs:label "Meeting"@en ; dkg:reportedIn <article/a> .
}
<article/b> {
    <article/b> a dkg:Article , dkg:UndatedArticle ;
        dcterms:identifier "b" ; dcterms:language "en" .
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


# --------------------------------------------------------------------------------------------
# Per-article validation: a pure function for worker processes
# --------------------------------------------------------------------------------------------


def _graph_of(ds: Dataset, iri: str) -> Graph:
    graph = Graph()
    graph += ds.graph(URIRef(iri))
    return graph


def test_one_article_validated_alone_gives_the_rows_the_dataset_run_gives_it() -> None:
    ds = dataset()
    whole = validate_dataset(ds, today=DAY)
    for article in (ARTICLE_A, ARTICLE_B):
        alone = validate_article(
            _graph_of(ds, article), article, _graph_of(ds, REFERENCE), today=DAY
        )
        assert alone.results == [r for r in whole.results if r.graph == article]
        assert alone.checked == [Checked("article", article.rsplit("/", 1)[1], article, None)]


def test_validating_an_article_changes_neither_its_graph_nor_the_reference_graph() -> None:
    ds = dataset()
    article, reference = _graph_of(ds, ARTICLE_A), _graph_of(ds, REFERENCE)
    before = (to_isomorphic(article), to_isomorphic(reference))
    first = validate_article(article, ARTICLE_A, reference, today=DAY)
    second = validate_article(article, ARTICLE_A, reference, today=DAY)
    assert first == second
    assert (to_isomorphic(article), to_isomorphic(reference)) == before


def _validate_in_worker(job: tuple[str, str, str]) -> list[tuple]:
    article_trig, iri, reference_trig = job
    article = Graph().parse(data=article_trig, format="turtle")
    reference = _reference_in_worker(reference_trig)
    report = validate_article(article, iri, reference, today=DAY)
    return [(r.graph, r.severity, r.focus_node, r.constraint) for r in report.results]


_WORKER_REFERENCE: dict[str, Graph] = {}


def _reference_in_worker(trig: str) -> Graph:
    """One reference graph per worker process, as a pipeline's worker initializer keeps it."""
    if trig not in _WORKER_REFERENCE:
        _WORKER_REFERENCE[trig] = Graph().parse(data=trig, format="turtle")
    return _WORKER_REFERENCE[trig]


def test_articles_validated_in_worker_processes_give_the_sequential_rows() -> None:
    ds = dataset()
    reference = _graph_of(ds, REFERENCE).serialize(format="turtle")
    jobs = [
        (_graph_of(ds, a).serialize(format="turtle"), a, reference) for a in (ARTICLE_A, ARTICLE_B)
    ] * 3
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("fork")) as pool:
        parallel = list(pool.map(_validate_in_worker, jobs))
    assert parallel == [_validate_in_worker(job) for job in jobs]
    assert parallel[0] == [
        (ARTICLE_A, "Violation", R + "meeting/m1", "MinCountConstraintComponent")
    ]


# --------------------------------------------------------------------------------------------
# Where each result comes from: evidence spans in article files, rows of reference tables
# --------------------------------------------------------------------------------------------

ARTICLE_FILE = """---
title: Ministers meet
published: '2023-05-04'
language: en
---
First paragraph.

Minister Anna Nowak met her counterpart
in Vilnius on 3 May 2033.
"""
EVIDENCE_START = ARTICLE_FILE.split("---\n", 2)[2].index("Minister Anna")
EVIDENCE_END = ARTICLE_FILE.split("---\n", 2)[2].index("2033.") + 5
MEETING_TRIG = f"""
<article/c> {{
    <article/c> a dkg:Article ; dcterms:identifier "c" ; dcterms:language "en" ;
        dcterms:issued "2033-05-04"^^<http://www.w3.org/2001/XMLSchema#date> ;
        dkg:listingDate "2033-05-04"^^<http://www.w3.org/2001/XMLSchema#date> .
    <meeting/m3> a dkg:Meeting ; rdfs:label "Meeting of Anna Nowak"@en ;
        dkg:participant <official/anna-nowak> ; dkg:reportedIn <article/c> ;
        dkg:startDate "2033-05-03"^^<http://www.w3.org/2001/XMLSchema#date> ;
        dkg:evidence <evidence/c/{EVIDENCE_START}-{EVIDENCE_END}> .
    <evidence/c/{EVIDENCE_START}-{EVIDENCE_END}> a dkg:Evidence ;
        dkg:startOffset {EVIDENCE_START} ; dkg:endOffset {EVIDENCE_END} ;
        dkg:inArticle <article/c> .
    <official/jan-nowy> a dkg:Official ; rdfs:label "Jan Nowy"@pl .
    <meeting/m4> a dkg:Meeting ; rdfs:label "Meeting of Jan Nowy"@en ;
        dkg:participant <official/jan-nowy> ; dkg:reportedIn <article/c> ;
        dkg:evidence <evidence/c/{EVIDENCE_START}-{EVIDENCE_END}> .
}}
"""


@pytest.fixture(scope="module")
def located(tmp_path_factory: pytest.TempPathFactory) -> tuple[ValidationReport, Path]:
    articles = tmp_path_factory.mktemp("articles")
    (articles / "c.txt").write_text(ARTICLE_FILE, encoding="utf-8")
    ds = dataset(PREFIXES + REFERENCE_TRIG + MEETING_TRIG)
    return validate_dataset(ds, today=DAY, sources=Sources(articles, None)), articles / "c.txt"


def test_offsets_count_from_the_line_after_the_front_matter() -> None:
    source = ArticleSource("a.txt", "Line one.\nLine two.", text_line=6)
    assert source.line_column(0) == (6, 1)
    assert source.line_column(15) == (7, 6)


def test_a_node_without_evidence_of_its_own_is_found_through_the_meeting_naming_it() -> None:
    ds = dataset(PREFIXES + REFERENCE_TRIG + MEETING_TRIG)
    graph = _graph_of(ds, R + "article/c")
    span = (EVIDENCE_START, EVIDENCE_END)
    assert evidence_span(graph, URIRef(R + "official/jan-nowy")) == span
    assert evidence_span(graph, URIRef(R + "article/c")) is None


def test_results_name_the_article_file_line_column_and_evidence_words(located) -> None:
    report, path = located
    rows = {
        (r.severity, r.focus_node, r.constraint, r.file, r.line, r.column, r.evidence)
        for r in report.results
    }
    words = "Minister Anna Nowak met her counterpart in Vilnius on 3 May 2033."
    assert rows == {
        # The article's publication date comes from the front matter key `published`, line 3.
        ("Violation", R + "article/c", "SPARQLConstraintComponent", str(path), 3, None, None),
        # The meeting's date: its evidence span starts on line 8, column 1.
        ("Violation", R + "meeting/m3", "SPARQLConstraintComponent", str(path), 8, 1, words),
        # An official with a Polish label only, found through the meeting that names it.
        ("Violation", R + "official/jan-nowy", "SPARQLConstraintComponent", str(path), 8, 1, words),
        ("Warning", R + "official/jan-nowy", "MinCountConstraintComponent", str(path), 8, 1, words),
        ("Warning", R + "state/LT", "MinCountConstraintComponent", None, None, None, None),
    }


def test_text_report_prints_file_line_column_evidence_and_the_rule_in_plain_words(located) -> None:
    report, path = located
    [block] = [b for b in format_text(report).split("\n\n") if "meeting/m3" in b]
    assert block.splitlines() == [
        "Violation in article c <https://w3id.org/dkg/id/article/c>",
        f"  file:       {path}:8:1",
        "  evidence:   “Minister Anna Nowak met her counterpart in Vilnius on 3 May 2033.”",
        "  focus node: https://w3id.org/dkg/id/meeting/m3",
        "  path:       dkg:startDate",
        "  constraint: SPARQLConstraintComponent (shape dkgsh:DateNotInFutureShape)",
        "  rule:       a rule across nodes and graphs (SHACL-SPARQL)",
        '  value:      "2033-05-03"^^<http://www.w3.org/2001/XMLSchema#date>',
        "  message:    The date 2033-05-03 is after the validation day 2025-06-30: the graph "
        "records what has happened (a mistyped year? a relative date resolved from the wrong "
        "day?).",
    ]
    summary = "Checked 1 article graph(s), the reference data.\n3 violations, 2 warnings"
    assert format_text(report).endswith(summary)


def test_each_result_says_what_its_constraint_asks_for_with_the_shapes_parameters() -> None:
    data = Graph().parse(
        data=PREFIXES + '<state/xx> a dkg:State ; rdfs:label "X"@en, "Y"@en ; '
        'dkg:isoCode "xx" ; owl:sameAs wd:Q0 .',
        format="turtle",
    )
    explained = {(r.constraint, r.explanation) for r in validate_graph(data, today=DAY).results}
    assert explained == {
        (
            "PatternConstraintComponent",
            "must match the pattern ^https://w3id\\.org/dkg/id/state/[A-Z]{2}$",
        ),
        ("PatternConstraintComponent", "must match the pattern ^[A-Z]{2}$"),
        ("UniqueLangConstraintComponent", "at most one value per language"),
    }


def test_a_date_is_in_the_future_only_after_the_validation_day() -> None:
    trig = (
        PREFIXES
        + REFERENCE_TRIG
        + """<article/b> {
        <meeting/m2> a dkg:Meeting ; rdfs:label "Meeting"@en ;
            dkg:participant <official/anna-nowak> ; dkg:reportedIn <article/b> ;
            dkg:startDate "2025-07-01"^^<http://www.w3.org/2001/XMLSchema#date> .
        <article/b> a dkg:Article , dkg:UndatedArticle ;
        dcterms:identifier "b" ; dcterms:language "en" . }"""
    )

    def future(day: dt.date) -> set[str]:
        report = validate_dataset(dataset(trig), today=day)
        return {r.focus_node for r in report.results if r.source_shape.endswith("FutureShape")}

    assert future(dt.date(2025, 6, 30)) == {R + "meeting/m2"}
    assert future(dt.date(2025, 7, 1)) == set()


# --------------------------------------------------------------------------------------------
# Reference tables
# --------------------------------------------------------------------------------------------


def test_reference_results_name_the_table_and_the_line_of_the_column() -> None:
    report = validate_reference_dir(DATA_REPO / "reference", today=DAY)
    officials = str(DATA_REPO / "reference" / "officials.yaml")
    sparql = "SPARQLConstraintComponent"
    assert [(r.file, r.line, r.focus_node, r.path, r.constraint) for r in report.results] == [
        # Two officials with one QID: each reported on its `qid:` line.
        (officials, 15, R + "official/arvydas-anusauskas", OWL_SAME_AS, sparql),
        (officials, 24, R + "official/dovile-sakaliene", OWL_SAME_AS, sparql),
        # A holding of a post that posts.yaml does not list: the line of that holding.
        (officials, 28, R + "official/dovile-sakaliene", "posts", "UnknownKey"),
    ]
    assert [c.name for c in report.checked] == [
        "states.csv", "organisations.yaml", "post-kinds.yaml", "posts.yaml", "officials.yaml",
        "places.yaml",
    ]  # fmt: skip


OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"


@pytest.fixture()
def reference_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "reference"
    shutil.copytree(DATA_REPO / "reference", folder)
    return folder


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_table_checks_report_keys_used_twice_keys_naming_no_row_and_malformed_values(
    reference_copy: Path,
) -> None:
    _append(reference_copy / "places.yaml", "- {key: warsaw, name_en: Warsaw again, state: PL}\n")
    _append(reference_copy / "places.yaml", "- {key: kyiv, name_en: Kyiv, state: UKR, qid: 1899}\n")
    _append(reference_copy / "states.csv", "XK,XKX,Q1246,Kosovo,Kosowo,Kosowa,,,,\n")
    _append(reference_copy / "organisations.yaml", "- {key: eu, name_en: EU, members: [PL, FR]}\n")
    rows = [
        (Path(r.file).name, r.line, r.path, r.constraint, r.value)
        for r in check_tables(reference_copy)
    ]
    assert sorted(rows) == [
        ("officials.yaml", 28, "posts", "UnknownKey", '"lt-minister-of-defence"'),
        ("organisations.yaml", 11, "members", "UnknownKey", '"FR"'),
        ("places.yaml", 5, "key", "DuplicateKey", '"warsaw"'),
        ("places.yaml", 6, "qid", "MalformedValue", '"1899"'),
        ("places.yaml", 6, "state", "UnknownKey", '"UKR"'),
    ]
    [duplicate] = [r for r in check_tables(reference_copy) if r.constraint == "DuplicateKey"]
    assert duplicate.message == (
        "key 'warsaw' is already used on line 3 of places.yaml; the graph keeps only one of the "
        "two rows (merge them, or give one another key)."
    )


def test_rows_that_cannot_be_written_as_rdf_are_reported_not_crashed_on(
    reference_copy: Path,
) -> None:
    _append(reference_copy / "places.yaml", "- {key: new york, name_en: New York, qid: Q60x}\n")
    report = validate_reference_dir(reference_copy, today=DAY)
    rows = {(r.path, r.constraint, r.value) for r in report.results if r.line == 5}
    assert rows == {
        ("key", "MalformedValue", '"new york"'),
        ("qid", "MalformedValue", '"Q60x"'),
    }


# --------------------------------------------------------------------------------------------
# JUnit XML
# --------------------------------------------------------------------------------------------


def _junit(report: ValidationReport, fail_on: str = "violation") -> ET.Element:
    return ET.fromstring(format_junit(report, fail_on))


def _cases(root: ET.Element) -> list[tuple[str, str, str, str | None]]:
    """(suite, testcase, outcome, failure message) for every testcase."""
    found = []
    for suite in root:
        for case in suite:
            failure = case.find("failure")
            outcome = "failure" if failure is not None else "pass"
            if failure is None and case.find("system-out") is not None:
                outcome = "pass with output"
            message = failure.get("message") if failure is not None else None
            found.append((suite.get("name"), case.get("name"), outcome, message))
    return found


def test_junit_has_a_testcase_per_article_graph_failing_on_its_violations(report) -> None:
    root = _junit(report)
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "3", "1")
    assert _cases(root) == [
        ("articles", "a", "failure", "1 violations, 0 warnings"),
        ("articles", "b", "pass", None),
        ("reference data", "reference data", "pass with output", None),
    ]
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and failure.get("type") == "Violation"
    assert "focus node: https://w3id.org/dkg/id/meeting/m1" in (failure.text or "")


def test_junit_warnings_fail_their_testcase_only_with_fail_on_warning(report) -> None:
    cases = _cases(_junit(report, fail_on="warning"))
    assert cases[2] == ("reference data", "reference data", "failure", "0 violations, 1 warnings")


def test_junit_testcases_carry_the_file_to_fix(located) -> None:
    report, path = located
    files = {c.get("name"): c.get("file") for c in _junit(report).iter("testcase")}
    assert files == {"c": str(path), "reference data": None}
