"""Fixtures shared by the serve and query tests: the sample graph as a built store, served once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.serve import RunningServer, running_server

FIXTURE_GRAPH = Path(__file__).parent / "fixtures" / "graph" / "sample.trig"


@pytest.fixture(scope="session")
def built_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build folder (OUT) whose OUT/store holds tests/fixtures/graph/sample.trig."""
    out = tmp_path_factory.mktemp("build")
    store = ox.Store(str(out / "store"))
    store.load(path=str(FIXTURE_GRAPH))
    store.flush()
    del store  # closes the store: readers open it read-only next
    return out


@pytest.fixture(scope="session")
def sparql_server(built_out: Path) -> Iterator[RunningServer]:
    """One read-only Oxigraph server on the fixture store for the whole test session."""
    with running_server(built_out / "store") as server:
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the served endpoint carry the `server` mark (`-m "not server"` skips them)."""
    for item in items:
        if "sparql_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.server)
