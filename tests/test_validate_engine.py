"""The compiled validation engine reports exactly what pySHACL reports.

kg.validate runs the shapes through kg.validate.engine unless they need pySHACL; these tests
run both engines on the same data and compare every field of every result (focus node, path,
value, severity, shape, message, explanation): the shape fixtures, the seed build, a synthetic
build, and the seed article graphs broken on purpose in many ways. They also pin down the
fallback: shapes or data the engine does not judge go to pySHACL, with the same report.
"""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from kg import validate
from kg.synth import synthesize
from kg.validate import engine as compiled

ROOT = Path(__file__).resolve().parents[1]
SHAPE_FIXTURES = sorted((ROOT / "tests" / "shapes").glob("*/*.ttl"))
DAY = dt.date(2025, 6, 30)
DKG = "https://w3id.org/dkg/ontology#"
ARTICLE = "https://w3id.org/dkg/id/article/"


@contextmanager
def engine(name: str) -> Iterator[None]:
    before = validate.use_engine(name)
    try:
        yield
    finally:
        validate.use_engine(before)


def both(run) -> tuple[list, list]:
    """``run()``'s results with the compiled engine and with pySHACL."""
    with engine("compiled"):
        fast = run().results
    with engine("pyshacl"):
        reference = run().results
    return fast, reference


def shapes() -> Graph:
    return validate.shapes_for_day(validate.load_shapes(), DAY)


def test_the_project_shapes_compile_without_falling_back_to_pyshacl() -> None:
    compiled.Engine(shapes())  # raises Unsupported if a shape needs pySHACL


@pytest.mark.parametrize("path", SHAPE_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_compiled_engine_matches_pyshacl_on_every_shape_fixture(path: Path) -> None:
    data = Graph().parse(ROOT / "tests" / "shapes" / "base.ttl").parse(path)
    fast, reference = both(lambda: validate.validate_graph(data, today=DAY))
    assert fast == reference


def test_compiled_engine_matches_pyshacl_on_the_seed_build(seed_out: Path) -> None:
    fast, reference = both(lambda: validate.validate_store(seed_out, today=DAY))
    assert fast == reference


@pytest.fixture(scope="module")
def synth_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth")
    synthesize(40, seed=11, out_dir=folder)
    out = folder / "out"
    command = [sys.executable, "-m", "kg.cli", "build", "--articles", str(folder / "articles")]
    done = subprocess.run([*command, "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_compiled_engine_matches_pyshacl_on_a_synthetic_build(synth_out: Path) -> None:
    fast, reference = both(lambda: validate.validate_store(synth_out, today=DAY))
    assert fast == reference


# -- article graphs broken on purpose --------------------------------------------------------
def article_graphs(out: Path) -> tuple[Graph, dict[str, Graph]]:
    store = ox.Store.read_only(str(out / "store"))
    reference = Graph()
    articles: dict[str, Graph] = {}
    for quad in store:
        graph = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else ""
        triple = tuple(compiled.from_ox(t) for t in (quad.subject, quad.predicate, quad.object))
        if graph == validate.REFERENCE_GRAPH:
            reference.add(triple)
        elif graph.startswith(ARTICLE):
            articles.setdefault(graph, Graph()).add(triple)
    return reference, articles


def _mutations(graph: Graph, rng: random.Random) -> Iterator[tuple[str, Graph]]:
    """Copies of ``graph``, each broken in one way a shape should notice (or not)."""
    triples = sorted(graph, key=str)
    subjects = sorted({s for s, _, _ in triples}, key=str)
    stranger = URIRef("https://w3id.org/dkg/id/official/nobody-known")
    future = Literal("2031-01-01", datatype=XSD.date)

    def edited(drop=(), add=()) -> Graph:
        copy = Graph()
        for t in triples:
            if t not in drop:
                copy.add(t)
        for t in add:
            copy.add(t)
        return copy

    for t in rng.sample(triples, min(6, len(triples))):
        yield f"without {t[1]}", edited(drop=[t])
    for s, p, o in rng.sample(triples, min(6, len(triples))):
        if isinstance(o, Literal):
            yield f"{p} as an integer", edited([(s, p, o)], [(s, p, Literal(7))])
            yield f"{p} in German", edited([(s, p, o)], [(s, p, Literal(str(o), lang="de"))])
        else:
            yield f"{p} at a stranger", edited([(s, p, o)], [(s, p, stranger)])
            yield f"{p} as text", edited([(s, p, o)], [(s, p, Literal(str(o)))])
    subject = rng.choice(subjects)
    yield "second English label", edited(add=[(subject, RDFS.label, Literal("Other", lang="en"))])
    yield "date in the future", edited(add=[(subject, URIRef(DKG + "startDate"), future)])
    bad_date = Literal("2024-13-45", datatype=XSD.date)
    yield "ill-typed date", edited(add=[(subject, URIRef(DKG + "endDate"), bad_date)])
    yield "negative offset", edited(add=[(subject, URIRef(DKG + "startOffset"), Literal(-1))])
    poland = URIRef("http://www.wikidata.org/entity/Q36")
    yield "shared Wikidata link", edited(add=[(subject, OWL.sameAs, poland)])
    yield "typed as a state", edited(add=[(subject, RDF.type, URIRef(DKG + "State"))])
    yield "untyped mention", edited(add=[(subject, URIRef(DKG + "mentions"), stranger)])
    yield "a blank node", edited(add=[(subject, URIRef(DKG + "evidence"), BNode("b1"))])


def test_compiled_engine_matches_pyshacl_on_broken_article_graphs(seed_out: Path) -> None:
    reference, articles = article_graphs(seed_out)
    rng = random.Random(5)
    compared = 0
    for graph_iri, graph in sorted(articles.items()):
        for what, broken in _mutations(graph, rng):
            fast, slow = both(
                lambda b=broken, g=graph_iri: validate.validate_article(b, g, reference, today=DAY)
            )
            assert fast == slow, f"{graph_iri}, {what}"
            compared += bool(slow)
    assert compared > 40  # the mutations do break things


def test_an_article_handed_over_as_pyoxigraph_quads_gets_the_same_report(seed_out: Path) -> None:
    # A build worker holds the article as pyoxigraph quads and hands them over with the
    # triples, so the engine need not convert the triples back for its SPARQL constraints.
    # Each article also repeats what the reference graph says of the entities it names: those
    # triples are the base's, and a run must leave them in the base when it ends.
    reference, articles = article_graphs(seed_out)
    rng = random.Random(6)
    reported = 0
    for graph_iri, graph in sorted(articles.items()):
        named = {o for _, _, o in graph}
        repeated = [t for t in reference if t[0] in named]
        for what, broken in _mutations(graph, rng):
            broken += repeated
            text = broken.serialize(format="nt", encoding="utf-8")
            quads = [
                ox.Quad(t.subject, t.predicate, t.object)
                for t in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)
            ]
            triples = [
                tuple(compiled.from_ox(t) for t in (q.subject, q.predicate, q.object))
                for q in quads
            ]
            given = validate.validate_article(triples, graph_iri, reference, today=DAY, quads=quads)
            plain = validate.validate_article(broken, graph_iri, reference, today=DAY)
            assert given == plain, f"{graph_iri}, {what}"
            reported += bool(plain.results)
    assert reported > 40


# -- falling back to pySHACL -----------------------------------------------------------------
QUALIFIED_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:TeamShape a sh:NodeShape ;
    sh:targetClass ex:Team ;
    sh:message "A team has a captain." ;
    sh:property [ sh:path ex:member ; sh:qualifiedMinCount 1 ;
                  sh:qualifiedValueShape [ sh:class ex:Captain ] ] .
"""
TEAM = """
@prefix ex: <http://example.org/> .
ex:team a ex:Team ; ex:member ex:ann .
"""


def test_shapes_the_engine_does_not_compile_are_run_by_pyshacl() -> None:
    qualified = Graph().parse(data=QUALIFIED_SHAPES, format="turtle")
    with pytest.raises(compiled.Unsupported, match="qualified"):
        compiled.Engine(qualified)
    data = Graph().parse(data=TEAM, format="turtle")
    fast, reference = both(lambda: validate.validate_graph(data, qualified, Graph(), today=DAY))
    assert [r.constraint for r in fast] == ["QualifiedMinCountConstraintComponent"]
    assert fast == reference


def test_data_the_engine_cannot_compare_goes_to_pyshacl() -> None:
    less_than = Graph().parse(
        format="turtle",
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:Span ;
            sh:property [ sh:path ex:from ; sh:lessThan ex:to ; sh:message "from < to" ] .
        """,
    )
    data = Graph().parse(
        format="turtle",
        data="@prefix ex: <http://example.org/> . ex:s a ex:Span ; ex:from 3 ; ex:to [] .",
    )
    view = compiled.Base(data).overlay(())
    with pytest.raises(compiled.Unsupported, match="blank node"), view:
        compiled.Engine(less_than).validate(view, None)
    message = "the SHACL shapes cannot run on this data: Cannot use sh:lessThan to compare a Blank"
    with engine("pyshacl"), pytest.raises(validate.KgError, match=message):
        validate.validate_graph(data, less_than, Graph(), today=DAY)
    with pytest.raises(validate.KgError, match=message):  # the compiled engine handed it over
        validate.validate_graph(data, less_than, Graph(), today=DAY)


def test_an_unknown_engine_name_is_refused() -> None:
    with pytest.raises(validate.KgError, match="unknown validation engine 'fast'"):
        validate.use_engine("fast")


def test_the_base_store_is_renewed_between_runs_and_answers_the_same(
    seed_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Oxigraph's in-memory store never forgets a string, so the engine starts a fresh store
    # for the base graph every RUNS_PER_STORE runs; the runs after it report the same.
    monkeypatch.setattr(compiled.Base, "RUNS_PER_STORE", 2)
    reference, articles = article_graphs(seed_out)
    base = compiled.Base(reference)
    first = base.store
    rules = compiled.Engine(shapes())
    reports = []
    for graph in list(articles.values()) * 2:
        with base.overlay(graph) as view:
            reports.append(rules.validate(view, None))
    assert base.store is not first
    assert len(base.store) == len(first) == len(set(reference))
    half = len(reports) // 2
    assert reports[:half] == reports[half:]
    assert any(reports)  # the seed articles do report warnings


@pytest.mark.parametrize(
    ("query", "batched"),
    [
        ("SELECT $this ?value WHERE { $this ex:p ?value }", True),
        ("SELECT ?this WHERE { FILTER NOT EXISTS { $this ex:p ?v } }", True),
        # a sub-select does not see a VALUES block outside it: each node is asked on its own
        ("SELECT $this WHERE { { SELECT ?v WHERE { $this ex:p ?v } } }", False),
        # without $this among the results, rows cannot be told apart by node
        ("SELECT ?value WHERE { $this ex:p ?value }", False),
    ],
)
def test_sparql_constraints_are_asked_for_many_nodes_at_once_only_where_that_means_the_same(
    query: str, batched: bool
) -> None:
    text = compiled._batched(query)
    assert (text is not None) == batched
    if text is not None:
        assert text.startswith(query[: query.index("{") + 1])
        assert f"VALUES ?this {{ {compiled._NODES} }}" in text


def test_a_where_or_select_in_a_comment_or_string_is_not_taken_for_the_querys_own() -> None:
    query = '# finds nodes WHERE { ... }, SELECT them\nSELECT $this WHERE { $this ex:p "WHERE {" }'
    text = compiled._batched(query)
    assert text is not None
    assert text.index("VALUES ?this") == query.index("WHERE { $this") + len("WHERE {") + 1


def test_a_batched_query_whose_rows_do_not_say_their_node_is_left_to_the_run_per_node() -> None:
    data = Graph().parse(data="<http://ex/a> <http://ex/p> 1 .", format="turtle")
    text = "SELECT ?v # not ?this\nWHERE { $this <http://ex/p> ?v }"
    batched = compiled._batched(text)
    assert batched is not None  # the comment fools the text check; the results do not
    with compiled.Base(data).overlay(()) as view:
        assert view.query_each(batched, {}, [URIRef("http://ex/a")]) is None
