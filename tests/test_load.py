"""The endpoint under bounded concurrent load on loopback: no errors, and a runaway query is
stopped by the timeout while the other clients keep getting answers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kg.cli import main
from kg.serve import running_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from load_test import run_load, saved_query_texts  # noqa: E402

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def seed_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("load")
    assert main(["build", "--out", str(out)]) == 0
    return out


def test_sixteen_clients_running_saved_queries_get_no_errors(seed_out):
    with running_server(seed_out / "store", timeout=5) as server:
        result = run_load(server.url, saved_query_texts(), clients=16, seconds=4)
    assert result.errors == []
    assert len(result.latencies) >= 16


def test_runaway_query_is_stopped_while_other_clients_keep_getting_answers(seed_out):
    with running_server(seed_out / "store", timeout=1) as server:
        result = run_load(server.url, saved_query_texts(), clients=4, seconds=4, runaway=True)
    assert result.errors == []
    assert len(result.latencies) > 0
    assert result.runaway_status == "stopped"
    assert result.runaway_seconds is not None and result.runaway_seconds < 30
