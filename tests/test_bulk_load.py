"""A full build bulk-loads its dump in parts of whole entries, several at once: the store is
the one a single load of the whole dump gives, blank nodes included."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from test_build_incremental import sorted_files, store_lines

from kg import load
from kg.errors import InputError
from kg.pipeline import build
from kg.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"
BLANK_NODE_GRAPHS = (  # the reference graphs whose lists and restrictions are blank nodes
    "https://w3id.org/dkg/id/graph/ontology",
    "https://w3id.org/dkg/id/graph/shapes",
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    synthesize(12, seed=5, out_dir=out)
    return out / "articles"


def graph_of(store_dir: Path, name: str) -> Graph:
    """One named graph of a store, as an rdflib graph to compare up to blank node labels."""
    store = ox.Store.read_only(str(store_dir))
    quads = store.quads_for_pattern(None, None, None, ox.NamedNode(name))
    data = ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES) or b""
    return Graph().parse(data=data, format="nt")


def same_graph(left: Path, right: Path, name: str) -> bool:
    return isomorphic(graph_of(left, name), graph_of(right, name))


def test_parts_begin_at_entry_starts_cover_the_file_and_are_about_the_size_asked():
    starts = [0, 10, 20, 35, 50, 90, 120]
    assert load.load_parts(100, starts, 30) == [(0, 35), (35, 90), (90, 100)]
    assert load.load_parts(100, [], 30) == [(0, 100)]
    assert load.load_parts(100, starts, 1000) == [(0, 100)]
    every = [(0, 10), (10, 20), (20, 35), (35, 50), (50, 90), (90, 100)]
    assert load.load_parts(100, starts, 1) == every


def test_a_dump_loaded_in_parts_gives_the_store_of_one_load_with_its_blank_nodes_whole(
    corpus, tmp_path, monkeypatch
):
    whole = build(corpus, tmp_path / "whole", REFERENCE, workers=2, compact=False)
    monkeypatch.setattr(load, "LOAD_PART_BYTES", 1)  # every entry a part of its own
    parts = build(corpus, tmp_path / "parts", REFERENCE, workers=2, compact=False)
    assert whole.quads == parts.quads
    assert len(sorted_files(tmp_path / "parts" / "store")) > len(
        sorted_files(tmp_path / "whole" / "store")
    )
    assert store_lines(tmp_path / "parts") == store_lines(tmp_path / "whole")
    for name in BLANK_NODE_GRAPHS:
        assert same_graph(tmp_path / "whole" / "store", tmp_path / "parts" / "store", name), name


def test_a_part_cut_between_two_lines_of_one_blank_node_would_split_it(tmp_path, monkeypatch):
    """Why parts begin at entry starts only: a blank node label means one node within one
    call of the bulk loader, so a cut inside the reference graphs breaks their lists."""
    out = tmp_path / "out"
    build(ROOT / "data" / "articles", out, REFERENCE, workers=1, compact=False)
    dump = (out / "dataset.nq").read_bytes()
    lines = dump.splitlines(keepends=True)
    offset, cut = 0, None
    for before, after in zip(lines, lines[1:], strict=False):
        offset += len(before)
        shared = set(re.findall(rb"_:\w+", before)) & set(re.findall(rb"_:\w+", after))
        if shared:
            cut = offset
            break
    assert cut is not None
    monkeypatch.setattr(load, "LOAD_PART_BYTES", 1)
    load.bulk_load(tmp_path / "cut", out / "dataset.nq", [cut], threads=1)
    assert not all(same_graph(out / "store", tmp_path / "cut", n) for n in BLANK_NODE_GRAPHS)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_part_that_does_not_parse_stops_the_load_naming_the_file_and_its_line(
    threads, tmp_path, monkeypatch
):
    good = b'<http://example.org/s> <http://example.org/p> "o" <http://example.org/g> .\n'
    bad = b"<http://example.org/s> <http://example.org/p> not-a-term .\n"
    dump = tmp_path / "dataset.nq"
    dump.write_bytes(good * 3 + bad + good * 3)
    monkeypatch.setattr(load, "LOAD_PART_BYTES", 2 * len(good))
    starts = [len(good) * n for n in range(1, 7)]
    with pytest.raises(InputError) as raised:
        load.bulk_load(tmp_path / "store", dump, starts, threads=threads)
    assert str(raised.value).startswith(f"{dump}:4: not N-Quads:")


def test_a_whole_dump_that_does_not_parse_is_named_with_its_line(tmp_path):
    dump = tmp_path / "dataset.nq"
    dump.write_bytes(b"<http://example.org/s> <http://example.org/p> .\n")
    with pytest.raises(InputError, match=rf"^{re.escape(str(dump))}:1: not N-Quads:"):
        load.bulk_load(tmp_path / "store", dump)
