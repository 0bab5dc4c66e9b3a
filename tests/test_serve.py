"""`kg serve` as the user runs it: a real subprocess, a real Oxigraph server, a real client."""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from conftest import fixture_graph_quads
from SPARQLWrapper import JSON, SPARQLWrapper

from kg.serve import free_port

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[1]
# Every quad of the fixture store (sample.trig and its statistics graph): the union default graph
# shows each (a triple asserted in two graphs counts twice).
FIXTURE_TRIPLES = len(fixture_graph_quads())


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ServeProcess:
    """`python -m kg.cli serve ...` with its output read line by line."""

    def __init__(self, *args: str, ignore_sigint: bool = False) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kg.cli", "serve", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # as a shell starts `kg serve &` without job control
            preexec_fn=_ignore_sigint if ignore_sigint else None,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.seen):
            try:
                self.seen.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                self.stop()
                pytest.fail(f"`kg serve` never printed {text!r}; stderr: {self.stderr()}")

    def stderr(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", "serve", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def sparql(url: str, query: str) -> dict:
    client = SPARQLWrapper(url)
    client.setReturnFormat(JSON)
    client.setQuery(query)
    return client.query().convert()


@pytest.fixture(scope="module")
def served(built_out: Path) -> Iterator[tuple[ServeProcess, str]]:
    port = free_port()
    server = ServeProcess("--out", str(built_out), "--port", str(port))
    server.wait_for("Press Ctrl-C to stop.")
    yield server, f"http://127.0.0.1:{port}/query"
    server.stop()


def test_serve_prints_the_endpoint_the_query_ui_and_the_documentation(served):
    server, url = served
    base = url.removesuffix("query")
    assert (
        f"Serving SPARQL at {url} (query UI at {base}, ontology documentation at {base}docs/)"
        in server.seen
    )
    assert "Press Ctrl-C to stop." in server.seen
    assert "YASGUI" in requests.get(base, timeout=10).text.upper()


def test_the_query_page_links_to_the_ontology_documentation_served_on_the_same_port(served):
    _, url = served
    base = url.removesuffix("query")
    page = requests.get(base, timeout=10)
    assert page.status_code == 200
    assert '<a style="color:#fff" href="/docs/ontology/">Ontology documentation</a>' in page.text
    assert "new Yasgui(" in page.text  # Oxigraph's own page, with the bar added
    docs = requests.get(base + "docs/", timeout=10)
    assert docs.status_code == 200 and docs.url == base + "docs/ontology/"
    assert "Diplomacy knowledge graph ontology" in docs.text
    assert '<section class="term" id="Official">' in docs.text
    context = requests.get(base + "docs/context.jsonld", timeout=10)
    assert context.headers["Content-Type"] == "application/ld+json"
    assert context.json()["@context"]["Official"] == "dkg:Official"


@pytest.mark.parametrize("path", ["docs/../pyproject.toml", "docs/%2e%2e/pyproject.toml", "docs/x"])
def test_docs_outside_the_docs_folder_or_missing_answer_404(served, path):
    _, url = served
    response = requests.get(url.removesuffix("query") + path, timeout=10)
    assert response.status_code == 404
    assert "[project]" not in response.text


def test_the_query_page_assets_come_from_oxigraph_through_the_same_port(served):
    _, url = served
    script = requests.get(url.removesuffix("query") + "yasgui.min.js", timeout=10)
    assert script.status_code == 200
    assert int(script.headers["Content-Length"]) == len(script.content) > 100_000


def test_serve_answers_a_sparql_query_from_a_real_client(served):
    _, url = served
    result = sparql(
        url,
        "PREFIX dkg: <https://w3id.org/dkg/ontology#>\n"
        "SELECT ?article (COUNT(DISTINCT ?m) AS ?meetings) "
        "WHERE { GRAPH ?article { ?m a dkg:Meeting } } GROUP BY ?article",
    )
    counts = {
        b["article"]["value"].rsplit("/", 1)[-1]: int(b["meetings"]["value"])
        for b in result["results"]["bindings"]
    }
    assert counts == {"sample-en-brussels": 2, "sample-pl-wilno": 2, "sample-en-kyiv": 2}


def test_serve_queries_the_union_of_all_graphs_by_default(served):
    _, url = served
    # Every triple of the fixture sits in a named graph: without the union this finds nothing.
    result = sparql(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(result["results"]["bindings"][0]["n"]["value"]) == FIXTURE_TRIPLES
    ask = sparql(url, "ASK { <https://w3id.org/dkg/id/state/PL> ?p ?o }")
    assert ask["boolean"] is True


@pytest.mark.parametrize(
    "path, headers, body, status",
    [
        ("update", {"Content-Type": "application/sparql-update"}, "DROP ALL", 403),
        ("update", {"Content-Type": "application/x-www-form-urlencoded"}, "update=DROP%20ALL", 403),
        ("query", {"Content-Type": "application/sparql-update"}, "DROP ALL", 415),
        ("query", {"Content-Type": "application/sparql-query"}, "DROP ALL", 400),
        ("query", {"Content-Type": "application/x-www-form-urlencoded"}, "update=DROP%20ALL", 400),
        (
            "store?default",
            {"Content-Type": "application/n-triples"},
            "<http://example.org/a> <http://example.org/b> <http://example.org/c> .",
            403,
        ),
    ],
)
def test_serve_refuses_every_update_and_the_data_stays(served, path, headers, body, status):
    _, url = served
    response = requests.post(
        url.removesuffix("query") + path, data=body, headers=headers, timeout=10
    )
    assert response.status_code == status, response.text
    result = sparql(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(result["results"]["bindings"][0]["n"]["value"]) == FIXTURE_TRIPLES


def test_ctrl_c_stops_the_server_with_exit_0_and_frees_the_port(built_out):
    port = free_port()
    server = ServeProcess("--out", str(built_out), "--port", str(port))
    server.wait_for("Press Ctrl-C to stop.")
    assert not port_is_free(port)
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=15) == 0
    assert port_is_free(port)


def test_ctrl_c_stops_a_server_started_with_sigint_ignored_as_in_the_background(built_out):
    port = free_port()
    server = ServeProcess("--out", str(built_out), "--port", str(port), ignore_sigint=True)
    server.wait_for("Press Ctrl-C to stop.")
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=15) == 0
    assert port_is_free(port)


def test_sigterm_stops_the_server_with_exit_0_and_frees_the_port(built_out):
    port = free_port()
    server = ServeProcess("--out", str(built_out), "--port", str(port))
    server.wait_for("Press Ctrl-C to stop.")
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=15) == 0
    assert port_is_free(port)


def test_serve_on_a_taken_port_exits_2_naming_the_port(built_out):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_serve("--out", str(built_out), "--port", str(port))
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr


def test_serve_without_a_store_exits_2_naming_the_path(tmp_path):
    result = run_serve("--out", str(tmp_path), "--port", str(free_port()))
    assert result.returncode == 2
    assert f"no store at {tmp_path / 'store'}: run `kg build` first" in result.stderr


def test_the_timeout_option_stops_a_runaway_query_and_the_server_still_answers(tmp_path):
    store = ox.Store(str(tmp_path / "store"))
    p = ox.NamedNode("http://example.org/p")
    g = ox.NamedNode("http://example.org/g")
    for i in range(3000):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), p, ox.Literal(i), g))
    store.flush()
    del store
    port = free_port()
    server = ServeProcess("--out", str(tmp_path), "--port", str(port), "--timeout", "1")
    try:
        server.wait_for("Press Ctrl-C to stop.")
        url = f"http://127.0.0.1:{port}/query"
        started = time.monotonic()
        # 3000^3 = 2.7e10 rows to count: minutes of work without the timeout.
        response = requests.post(
            url,
            data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=60,
        )
        assert time.monotonic() - started < 15
        assert "cancelled" in response.text  # Oxigraph ends the streamed result with the reason
        with pytest.raises(ValueError):
            response.json()
        result = sparql(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert result["results"]["bindings"][0]["n"]["value"] == "3000"
    finally:
        server.stop()
    assert server.process.returncode == 0
