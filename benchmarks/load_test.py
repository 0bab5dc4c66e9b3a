"""A bounded load test of the SPARQL endpoint on loopback: N concurrent clients run the saved
queries for T seconds; reports requests, errors and p50/p95 latency. Optionally one client
sends a runaway query (a cartesian product) that the server's timeout must stop while the
others keep getting answers.

    python benchmarks/load_test.py --out build --clients 16 --seconds 60 --runaway

It starts its own `kg serve`-equivalent server (kg.serve.running_server) on 127.0.0.1 and
sends traffic nowhere else. Figures go to docs/benchmarks.md, never into test assertions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from kg.query import bind_params, load_saved_queries, query_with_values, service_blocks
from kg.serve import running_server

ROOT = Path(__file__).resolve().parents[1]
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    runaway_status: str | None = None
    runaway_seconds: float | None = None

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    def summary(self) -> dict[str, object]:
        return {
            "requests": len(self.latencies) + len(self.errors),
            "errors": len(self.errors),
            "p50_ms": round(self.percentile(50) * 1000, 1),
            "p95_ms": round(self.percentile(95) * 1000, 1),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 1)
            if self.latencies
            else None,
            "runaway": self.runaway_status,
            "runaway_seconds": self.runaway_seconds,
        }


def saved_query_texts(queries_dir: Path = ROOT / "queries") -> list[str]:
    """Every saved query with its example parameters bound, as sent to the endpoint; those that
    join Wikidata with SERVICE are left out (they would load a remote endpoint, not this one)."""
    saved = load_saved_queries(queries_dir)
    local = [q for q in saved.values() if not service_blocks(q.text)]
    return [query_with_values(q, bind_params(q, q.example)) for q in local]


def run_load(
    endpoint: str, queries: list[str], clients: int, seconds: float, runaway: bool = False
) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(offset: int) -> None:
        session = requests.Session()
        i = offset
        while time.monotonic() < deadline:
            text = queries[i % len(queries)]
            i += 1
            started = time.monotonic()
            try:
                response = session.post(
                    endpoint,
                    data={"query": text},
                    headers={"Accept": "application/sparql-results+json"},
                    timeout=30,
                )
                ok = response.status_code == 200
                detail = f"HTTP {response.status_code}: {response.text[:120]}"
            except requests.RequestException as exc:
                ok, detail = False, repr(exc)
            with lock:
                if ok:
                    result.latencies.append(time.monotonic() - started)
                else:
                    result.errors.append(detail)

    def runaway_client() -> None:
        started = time.monotonic()
        try:
            response = requests.post(endpoint, data={"query": RUNAWAY}, timeout=120)
            # Oxigraph streams results: a timeout shows as the stream ending with the reason.
            stopped = response.status_code != 200 or "cancel" in response.text.lower()
            result.runaway_status = "stopped" if stopped else "completed"
        except requests.RequestException as exc:
            result.runaway_status = repr(exc)
        result.runaway_seconds = round(time.monotonic() - started, 2)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    if runaway:
        threads.append(threading.Thread(target=runaway_client))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="build folder with store/")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--timeout", type=float, default=5, help="server query timeout (s)")
    parser.add_argument("--runaway", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with running_server(args.out / "store", timeout=args.timeout) as server:
        result = run_load(server.url, saved_query_texts(), args.clients, args.seconds, args.runaway)
    summary = result.summary()
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
