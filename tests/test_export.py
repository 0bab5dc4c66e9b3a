"""`kg export` as the user runs it, on the graph `kg build` makes from the seed articles: every
format reads back as the same graph (blank nodes compared by isomorphism), one article's graph
holds only that article's statements, and JSON-LD is compacted with the published context."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from kg.cli import main

ROOT = Path(__file__).resolve().parents[1]
CONTEXT = ROOT / "docs" / "context.jsonld"
DKGR = "https://w3id.org/dkg/id/"
ARTICLE = "000_c67f5beca45faf07"
RDFLIB_FORMATS = {"turtle": "turtle", "trig": "trig", "nquads": "nquads", "jsonld": "json-ld"}


def store_graphs(out: Path) -> dict[str, rdflib.Graph]:
    """Every named graph of the built store, as rdflib graphs by graph IRI."""
    dataset = rdflib.Dataset()
    store = ox.Store.read_only(str(out / "store"))
    dataset.parse(data=store.dump(format=ox.RdfFormat.N_QUADS), format="nquads")
    return by_graph(dataset)


def by_graph(dataset: rdflib.Dataset) -> dict[str, rdflib.Graph]:
    graphs = {}
    for context in dataset.contexts():
        if len(context):
            graph = rdflib.Graph()
            for triple in context:
                graph.add(triple)
            graphs[str(context.identifier)] = graph
    return graphs


def assert_same_graphs(expected: dict[str, rdflib.Graph], got: dict[str, rdflib.Graph]) -> None:
    assert sorted(got) == sorted(expected)
    for name, graph in expected.items():
        assert len(got[name]) == len(graph), name
        assert isomorphic(got[name], graph), f"graph {name} differs"


@pytest.mark.parametrize("fmt", ["trig", "nquads", "jsonld"])
def test_every_graph_exports_and_reads_back_the_same(seed_out, tmp_path, fmt):
    output = tmp_path / f"graph.{fmt}"
    assert main(["export", "--out", str(seed_out), "--format", fmt, "--output", str(output)]) == 0
    dataset = rdflib.Dataset()
    dataset.parse(output, format=RDFLIB_FORMATS[fmt])
    assert_same_graphs(store_graphs(seed_out), by_graph(dataset))


@pytest.mark.parametrize("fmt", ["turtle", "jsonld"])
def test_one_article_graph_exports_only_that_article(seed_out, capsysbinary, fmt):
    assert main(["export", "--out", str(seed_out), "--graph", ARTICLE, "--format", fmt]) == 0
    graph = rdflib.Graph().parse(data=capsysbinary.readouterr().out, format=RDFLIB_FORMATS[fmt])
    expected = store_graphs(seed_out)[f"{DKGR}article/{ARTICLE}"]
    assert len(graph) == len(expected)
    assert isomorphic(graph, expected)


def test_default_format_is_trig_for_every_graph_and_turtle_for_one(seed_out, capsysbinary):
    assert main(["export", "--out", str(seed_out)]) == 0
    trig = capsysbinary.readouterr().out.decode()
    assert f"<{DKGR}graph/reference> {{" in trig
    assert main(["export", "--out", str(seed_out), "--graph", "reference"]) == 0
    turtle = capsysbinary.readouterr().out.decode()
    assert "@prefix dkg: <https://w3id.org/dkg/ontology#> ." in turtle
    assert f"<{DKGR}state/PL> a dkg:State" in turtle
    assert f"<{DKGR}graph/reference>" not in turtle  # one graph: its triples, unnamed


@pytest.mark.parametrize(
    "name, check",
    [
        ("reference.nq", lambda text: text.rstrip().endswith(f"<{DKGR}graph/reference> .")),
        ("reference.ttl", lambda text: "@prefix dkg:" in text),
        ("reference.jsonld", lambda text: "@context" in json.loads(text)),
    ],
)
def test_format_is_taken_from_the_output_file_extension(seed_out, tmp_path, name, check):
    output = tmp_path / name
    args = ["export", "--out", str(seed_out), "--graph", "reference", "--output", str(output)]
    assert main(args) == 0
    assert check(output.read_text(encoding="utf-8"))
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no partial file left behind


def test_jsonld_is_compacted_with_the_published_context(seed_out, capsysbinary):
    assert (
        main(["export", "--out", str(seed_out), "--graph", "reference", "--format", "jsonld"]) == 0
    )
    document = json.loads(capsysbinary.readouterr().out)
    assert document["@context"] == json.loads(CONTEXT.read_text(encoding="utf-8"))["@context"]
    nodes = {node["@id"]: node for node in document["@graph"]}
    poland = nodes[f"{DKGR}state/PL"]
    assert poland["@type"] == "State"
    assert poland["label"] == {"en": "Poland", "pl": "Polska"}
    assert poland["isoCode"] == "PL"
    assert poland["sameAs"] == "wd:Q36"  # a compact IRI: the context declares wd:


def test_jsonld_of_an_article_uses_plain_terms_for_its_data(seed_out, capsysbinary):
    assert main(["export", "--out", str(seed_out), "--graph", ARTICLE, "--format", "jsonld"]) == 0
    nodes = json.loads(capsysbinary.readouterr().out)["@graph"]
    article = next(node for node in nodes if node.get("@type") == "Article")
    assert article["identifier"] == ARTICLE
    assert article["issued"] == "2016-04-22"
    meeting = next(node for node in nodes if node.get("@type") == "Meeting")
    assert {"participant", "startDate", "reportedIn"} <= set(meeting)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "turtle"], "Turtle holds one graph"),
        (["--graph", "no-such-article"], "no graph 'no-such-article' in the store"),
        (["--output", "graph.xml"], "cannot tell the format from 'graph.xml'"),
    ],
)
def test_export_refusals_exit_2_with_the_reason(seed_out, tmp_path, capsys, args, message):
    args = [a if a != "graph.xml" else str(tmp_path / a) for a in args]
    assert main(["export", "--out", str(seed_out), *args]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_export_without_a_store_exits_2_naming_the_path(tmp_path, capsys):
    assert main(["export", "--out", str(tmp_path)]) == 2
    assert f"no store at {tmp_path / 'store'}: run `kg build` first" in capsys.readouterr().err
