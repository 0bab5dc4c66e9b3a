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

from kg import load, pipeline
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


def test_a_full_build_loads_its_dump_part_by_part_while_the_articles_are_processed(
    corpus, tmp_path, monkeypatch
):
    events: list[tuple] = []
    add, finish = load.PartLoader.add, pipeline._StreamedDump.finish
    monkeypatch.setattr(
        load.PartLoader, "add", lambda s, a, b: (events.append((a, b)), add(s, a, b))[1]
    )
    monkeypatch.setattr(
        pipeline._StreamedDump,
        "finish",
        lambda s, stats: (events.append("end"), finish(s, stats))[1],
    )
    monkeypatch.setattr(load, "LOAD_PART_BYTES", 20_000)
    result = build(corpus, tmp_path / "out", REFERENCE, workers=2, compact=False)

    parts = [e for e in events if e != "end"]
    assert events.index("end") >= 2, "parts are loaded before the last article is done"
    assert [p[0] for p in parts] == [0] + [p[1] for p in parts[:-1]], "parts follow each other"
    assert parts[-1][1] == (tmp_path / "out" / "dataset.nq").stat().st_size
    manifest = pipeline.read_manifest(tmp_path / "out" / "current" / load.MANIFEST_FILE)
    assert {p[0] for p in parts} <= set(pipeline.dump_entry_starts(manifest)) | {0}
    assert result.store_update == "bulk load" and result.load_busy_seconds > 0
    monkeypatch.setattr(load, "LOAD_PART_BYTES", 2**40)  # the whole dump in one part
    build(corpus, tmp_path / "whole", REFERENCE, workers=2, compact=False)
    assert store_lines(tmp_path / "out") == store_lines(tmp_path / "whole")


def test_a_part_that_fails_to_load_stops_the_full_build_and_the_live_store_stays(
    corpus, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    first = build(corpus, out, REFERENCE, workers=2, compact=False)
    live = (out / "current").resolve()
    before = store_lines(out)
    monkeypatch.setattr(pipeline, "dependency_hash", lambda _ref: "changed code")  # all again
    monkeypatch.setattr(load, "LOAD_PART_BYTES", 20_000)
    real = load._bulk_load_part

    def second_part_fails(store, nquads, start, end):
        if start > 0:
            raise InputError(nquads, "not N-Quads: made to fail", 7)
        real(store, nquads, start, end)

    monkeypatch.setattr(load, "_bulk_load_part", second_part_fails)
    with pytest.raises(InputError, match=r"dataset\.nq:7: not N-Quads: made to fail"):
        build(corpus, out, REFERENCE, workers=2, compact=False)
    assert (out / "current").resolve() == live
    assert store_lines(out) == before and first.quads == len(before)


def test_parts_given_as_the_file_grows_load_like_the_whole_file(tmp_path):
    quad = '<http://example.org/s{}> <http://example.org/p> "o" <http://example.org/g> .\n'
    dump = tmp_path / "dataset.nq"
    loader = load.PartLoader(tmp_path / "store", dump)
    with dump.open("wb") as out:
        for part in range(3):
            start = out.tell()
            out.write("".join(quad.format(part * 10 + n) for n in range(10)).encode())
            out.flush()
            loader.add(start, out.tell())
    loader.finish()
    store = ox.Store.read_only(str(tmp_path / "store"))
    assert len(store) == 30 and loader.busy > 0


def test_a_part_that_does_not_parse_fails_the_next_part_given_and_the_finish(tmp_path):
    good = b'<http://example.org/s> <http://example.org/p> "o" <http://example.org/g> .\n'
    dump = tmp_path / "dataset.nq"
    dump.write_bytes(good * 2 + b"<http://example.org/s> <http://example.org/p> .\n")
    loader = load.PartLoader(tmp_path / "store", dump)
    loader.add(len(good) * 2, dump.stat().st_size)
    loader.loading[-1].exception()  # waits for the part
    with pytest.raises(InputError, match=rf"^{re.escape(str(dump))}:3: not N-Quads:"):
        loader.add(0, len(good))
    with pytest.raises(InputError, match=rf"^{re.escape(str(dump))}:3: not N-Quads:"):
        loader.finish()
    assert loader.store is None  # closed all the same
