"""Fixtures shared by the tests: the reference tables, the sample graph as a built store
(served once), the seed articles built once, a Wikidata stand-in server, and a changeable
copy of a test module's article corpus."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import statistics
from kg.reference import Reference, load_reference
from kg.serve import RunningServer, running_server

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_GRAPH = Path(__file__).parent / "fixtures" / "graph" / "sample.trig"
WIKIDATA_FIXTURES = Path(__file__).parent / "fixtures" / "wikidata"


def fixture_graph_quads() -> list[ox.Quad]:
    """tests/fixtures/graph/sample.trig with its statistics graph (kg.statistics)."""
    quads = list(ox.parse(path=str(FIXTURE_GRAPH)))
    return quads + statistics.quads(statistics.tally_of_quads(quads))


@pytest.fixture()
def articles(corpus: Path, tmp_path: Path) -> Path:
    """A copy of the test module's ``corpus`` (a folder of articles) that the test may change."""
    copy = tmp_path / "articles"
    shutil.copytree(corpus, copy)
    return copy


@pytest.fixture(scope="session")
def ref() -> Reference:
    """The reference tables of data/reference, loaded once for the session."""
    return load_reference()


@pytest.fixture(scope="session")
def built_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build folder (OUT) whose OUT/store holds tests/fixtures/graph/sample.trig and, as
    `kg build` writes it, the statistics graph of those articles."""
    out = tmp_path_factory.mktemp("build")
    store = ox.Store(str(out / "store"))
    store.extend(fixture_graph_quads())
    store.flush()
    del store  # closes the store: readers open it read-only next
    return out


@pytest.fixture(scope="session")
def sparql_server(built_out: Path) -> Iterator[RunningServer]:
    """One read-only Oxigraph server on the fixture store for the whole test session."""
    with running_server(built_out / "store") as server:
        yield server


@pytest.fixture(scope="session")
def seed_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build folder made by `kg build` from the seed articles (data/articles), once."""
    out = tmp_path_factory.mktemp("seeds")
    build = subprocess.run(
        [sys.executable, "-m", "kg.cli", "build", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return out


@pytest.fixture(scope="session")
def wikidata_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A second real Oxigraph server on 127.0.0.1 holding tests/fixtures/wikidata/*.ttl: the
    endpoint the `wikidata-*` saved queries are pointed at with `--wikidata`."""
    location = tmp_path_factory.mktemp("wikidata") / "store"
    store = ox.Store(str(location))
    for path in sorted(WIKIDATA_FIXTURES.glob("*.ttl")):
        store.load(path=str(path))
    store.flush()
    del store
    with running_server(location) as server:
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use a served endpoint carry the `server` mark (`-m "not server"` skips them)."""
    served = {"sparql_server", "wikidata_server"}
    for item in items:
        if served & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)
