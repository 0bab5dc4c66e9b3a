"""Latency of every saved query through HTTP: p50 and p95 over N runs, on any built store.

    .venv/bin/python benchmarks/query_latency.py                       # builds the seeds first
    .venv/bin/python benchmarks/query_latency.py --store build/store -n 50 --json latency.json

The store is served exactly as `kg serve` serves it (the Oxigraph server behind kg's proxy;
`--direct` asks Oxigraph without the proxy), on 127.0.0.1. Each saved query runs with its
`# example:` parameters (or those of `--params FILE`, YAML `{query: {param: value}}`), as
`kg query` would send it, and is timed from the request to the last byte of the JSON results,
after `--warmup` untimed runs. The `wikidata-*` queries call a SERVICE: by default the tests'
Wikidata stand-in (tests/fixtures/wikidata/, served on loopback) so the figures measure the
federation's cost without the internet; `--wikidata URL` uses another endpoint, `--wikidata
skip` leaves them out. Figures go to docs/benchmarks.md ("Query latency"), never into tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox
import requests
import yaml

from kg.query import load_saved_queries, prepare_query, service_blocks
from kg.serve import running_endpoint, running_server

ROOT = Path(__file__).resolve().parents[1]
WIKIDATA_FIXTURES = ROOT / "tests" / "fixtures" / "wikidata"
#: The parameters the tests use on the seed build (article ids and officials that exist there).
SEED_PARAMS = ROOT / "tests" / "fixtures" / "seeds" / "params.yaml"


@dataclass
class Latency:
    query: str
    rows: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def measure(
    session: requests.Session, endpoint: str, text: str, repetitions: int, warmup: int
) -> tuple[int, list[float]]:
    """Run `text` warmup + repetitions times; the row count and the timed durations (s)."""
    times: list[float] = []
    rows = 0
    for i in range(warmup + repetitions):
        started = time.perf_counter()
        response = session.post(
            endpoint,
            data={"query": text},
            headers={"Accept": "application/sparql-results+json"},
            timeout=300,
        )
        body = response.content
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        if i >= warmup:
            times.append(elapsed)
    try:
        rows = len(json.loads(body)["results"]["bindings"])
    except (ValueError, KeyError):
        raise RuntimeError(f"incomplete result: {body[-200:]!r}") from None
    return rows, times


def machine() -> dict[str, object]:
    memory = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "oxigraph": ox.__version__,
        "system": platform.platform(),
    }


@contextlib.contextmanager
def seed_store() -> Iterator[Path]:
    """The seed articles built with `kg build` into a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="dkg-seeds-") as out:
        build = subprocess.run(
            [sys.executable, "-m", "kg.cli", "build", "--out", out],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if build.returncode not in (0, 1):
            raise SystemExit(f"kg build failed:\n{build.stderr}")
        yield Path(out) / "store"


@contextlib.contextmanager
def wikidata_endpoint(choice: str) -> Iterator[str | None]:
    """None for `skip`; the URL given; or the fixture served on loopback for `fixture`."""
    if choice == "skip":
        yield None
    elif choice != "fixture":
        yield choice
    else:
        with tempfile.TemporaryDirectory(prefix="dkg-wikidata-") as folder:
            store = ox.Store(str(Path(folder) / "store"))
            for path in sorted(WIKIDATA_FIXTURES.glob("*.ttl")):
                store.load(path=str(path))
            store.flush()
            del store
            with running_server(Path(folder) / "store") as server:
                yield server.url


def run(args: argparse.Namespace, store_dir: Path) -> dict[str, object]:
    saved = load_saved_queries(args.queries)
    params = yaml.safe_load(args.params.read_text(encoding="utf-8")) if args.params else {}
    quads = len(ox.Store.read_only(str(store_dir)))
    results: list[Latency] = []
    serve = running_server if args.direct else running_endpoint
    with wikidata_endpoint(args.wikidata) as wikidata, serve(store_dir, timeout=300) as server:
        session = requests.Session()
        for name, query in saved.items():
            if args.only and name not in args.only:
                continue
            if service_blocks(query.text) and wikidata is None:
                continue
            text = prepare_query(
                server.url, query, params.get(name, query.example), wikidata=wikidata
            )
            rows, times = measure(session, server.url, text, args.repetitions, args.warmup)
            ms = [t * 1000 for t in times]
            results.append(
                Latency(
                    name,
                    rows,
                    round(percentile(ms, 0.5), 2),
                    round(percentile(ms, 0.95), 2),
                    round(statistics.fmean(ms), 2),
                    round(min(ms), 2),
                    round(max(ms), 2),
                )
            )
            print(f"  {name}: p50 {results[-1].p50_ms} ms", file=sys.stderr)
    return {
        "machine": machine(),
        "store": {"path": str(store_dir), "quads": quads},
        "through": "oxigraph directly" if args.direct else "kg serve (proxy + oxigraph)",
        "wikidata": args.wikidata,
        "repetitions": args.repetitions,
        "warmup": args.warmup,
        "results": [asdict(r) for r in results],
    }


def table(report: dict[str, object]) -> str:
    results = report["results"]
    assert isinstance(results, list)
    lines = [
        f"{'query':<32} {'rows':>6} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}",
        f"{'-' * 32} {'-' * 6} {'-' * 8} {'-' * 8} {'-' * 8}",
    ]
    for r in results:
        lines.append(
            f"{r['query']:<32} {r['rows']:>6} {r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} "
            f"{r['mean_ms']:>8.2f}"
        )
    m = report["machine"]
    assert isinstance(m, dict)
    lines.append(
        f"store {report['store']['quads']} quads; {report['repetitions']} runs each after "  # type: ignore[index]
        f"{report['warmup']} warm-up; through {report['through']}; {m['cpus']} CPUs "
        f"({m['cpu']}), {m['memory']}; oxigraph {m['oxigraph']}"
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="a built Oxigraph store (default: the seeds)")
    parser.add_argument("-n", "--repetitions", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--queries", type=Path, default=ROOT / "queries")
    parser.add_argument(
        "--params",
        type=Path,
        help="YAML: {query: {param: value}} (default: the examples; on the seeds, "
        "tests/fixtures/seeds/params.yaml)",
    )
    parser.add_argument("--only", nargs="*", help="only these saved queries")
    parser.add_argument("--wikidata", default="fixture", help="fixture (default), URL or skip")
    parser.add_argument("--direct", action="store_true", help="ask Oxigraph without the proxy")
    parser.add_argument("--json", type=Path, help="also write the report as JSON")
    args = parser.parse_args(argv)
    if args.repetitions < 1:
        parser.error("--repetitions must be at least 1")
    if args.store is not None:
        if not args.store.is_dir():
            parser.error(f"no store at {args.store}")
        report = run(args, args.store)
    else:
        args.params = args.params or SEED_PARAMS
        with seed_store() as store_dir:
            report = run(args, store_dir)
    sys.stdout.write(table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
