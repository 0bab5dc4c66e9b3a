"""Every saved query, through HTTP with a real SPARQL client, against `kg serve` on the graph
built from the seed articles by `kg build`. Expected rows: tests/fixtures/seeds/expected/.

Refresh with `UPDATE_EXPECTED=1 pytest tests/test_queries_seeds.py` and read the diff: the
rows must be what an analyst expects from the four seed articles.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from test_queries import SAVED, read_expected, run_over_http, write_expected

from kg.serve import free_port

ROOT = Path(__file__).resolve().parents[1]
SEEDS = Path(__file__).parent / "fixtures" / "seeds"
EXPECTED = SEEDS / "expected"
PARAMS = yaml.safe_load((SEEDS / "params.yaml").read_text(encoding="utf-8"))
UPDATE_EXPECTED = os.environ.get("UPDATE_EXPECTED") == "1"
pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def seed_endpoint(seed_out: Path) -> Iterator[str]:
    kg = [sys.executable, "-m", "kg.cli"]
    port = free_port()
    server = subprocess.Popen(
        [*kg, "serve", "--out", str(seed_out), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/query"
    try:
        _wait_for(url, server)
        yield url
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=20) == 0


def _wait_for(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"kg serve exited: {server.stderr.read() if server.stderr else ''}")
        try:
            if requests.get(url, params={"query": "ASK {}"}, timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail("kg serve did not answer within 30 s")


@pytest.mark.parametrize("name", sorted(SAVED))
def test_saved_query_returns_the_expected_rows_on_the_seed_graph(
    seed_endpoint, wikidata_server, name
):
    params = PARAMS.get(name, SAVED[name].example)
    variables, rows = run_over_http(seed_endpoint, name, params, wikidata=wikidata_server.url)
    if UPDATE_EXPECTED:
        write_expected(name, variables, rows, EXPECTED)
    header, expected = read_expected(name, EXPECTED)
    assert variables == header
    missing, extra = sorted(expected - rows), sorted(rows - expected)
    assert not missing and not extra, f"{name}: only expected {missing}; only in result {extra}"


def test_update_request_is_refused_by_the_seed_endpoint(seed_endpoint):
    base = seed_endpoint.removesuffix("/query")
    drop = requests.post(f"{base}/update", data={"update": "DROP ALL"}, timeout=10)
    assert drop.status_code in (403, 404, 405)
    count = requests.get(
        seed_endpoint,
        params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
        headers={"Accept": "text/csv"},
        timeout=10,
    )
    assert int(count.text.splitlines()[1]) > 0
