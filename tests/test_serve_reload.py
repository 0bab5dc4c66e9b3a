"""Building while serving: the endpoint keeps answering from the store it opened, and with
`kg serve --reload` it moves to the new build with no failed query on the way."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from kg.cli import main
from kg.serve import free_port

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "data" / "articles"
COUNT = "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a <https://w3id.org/dkg/ontology#Article> }"
pytestmark = pytest.mark.server


def articles(tmp_path: Path, n: int) -> Path:
    folder = tmp_path / f"articles-{n}"
    folder.mkdir()
    for path in sorted(SEEDS.glob("*.txt"))[:n]:
        shutil.copy(path, folder / path.name)
    return folder


def article_count(url: str) -> int:
    response = requests.get(
        url, params={"query": COUNT}, headers={"Accept": "text/csv"}, timeout=10
    )
    response.raise_for_status()
    return int(response.text.splitlines()[1])


class Hammer(threading.Thread):
    """Queries the endpoint without pause and records every failure."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.failures, self.answers, self.running = url, [], 0, True

    def run(self) -> None:
        while self.running:
            try:
                article_count(self.url)
                self.answers += 1
            except (requests.RequestException, ValueError, IndexError) as exc:
                self.failures.append(repr(exc))


def serve(out: Path, *flags: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "serve", "--out", str(out), "--port", str(port), *flags],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/query"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            article_count(url)
            return process, url
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    pytest.fail("kg serve did not answer")


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


def test_running_endpoint_keeps_answering_from_its_store_while_a_build_replaces_it(tmp_path):
    out = tmp_path / "out"
    assert main(["build", "--articles", str(articles(tmp_path, 2)), "--out", str(out)]) == 0
    process, url = serve(out)
    hammer = Hammer(url)
    hammer.start()
    try:
        for n in (4, 3):  # two builds: the served generation must outlive both
            assert main(["build", "--articles", str(articles(tmp_path, n)), "--out", str(out)]) == 0
        time.sleep(1)
        assert article_count(url) == 2
    finally:
        hammer.running = False
        hammer.join(timeout=20)
        stop(process)
    assert hammer.failures == [] and hammer.answers > 0


def test_serve_reload_moves_to_the_new_build_without_a_failed_query(tmp_path):
    out = tmp_path / "out"
    assert main(["build", "--articles", str(articles(tmp_path, 2)), "--out", str(out)]) == 0
    process, url = serve(out, "--reload", "--timeout", "2")
    hammer = Hammer(url)
    hammer.start()
    try:
        assert main(["build", "--articles", str(articles(tmp_path, 4)), "--out", str(out)]) == 0
        deadline = time.monotonic() + 30
        while article_count(url) != 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert article_count(url) == 4
        time.sleep(4)  # past the old server's retirement
        assert article_count(url) == 4
    finally:
        hammer.running = False
        hammer.join(timeout=20)
        output = stop(process)
    assert hammer.failures == [] and hammer.answers > 0
    assert "Now serving" in output
