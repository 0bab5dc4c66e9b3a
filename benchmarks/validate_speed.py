"""How fast SHACL validation runs: per article (as `kg build` and `kg validate` run it) against
one whole-graph pyshacl run, on rdflib and on a pyoxigraph store.

    .venv/bin/python benchmarks/validate_speed.py                       # seeds, dev set, synth
    .venv/bin/python benchmarks/validate_speed.py --synth 250 500 1000 --workers 1 2
    .venv/bin/python benchmarks/validate_speed.py --corpus mine=path/to/articles --json out.json
    .venv/bin/python benchmarks/validate_speed.py --engine pyshacl     # per article with pySHACL

Each corpus is built first with `kg build` (not timed) and its article graphs are read back
from `OUT/dataset.nq`. Then, with the shapes and ontology loaded and the SPARQL queries parsed
(one warm-up article, not timed):

- reference: the reference graph validated on its own, once (as `validate_dataset` does);
- per article: `kg.validate.validate_article` on every article graph with the reference graph,
  in one process, and in a pool of worker processes (each prepares the reference once);
- whole graph: one `pyshacl.validate` over the union of every graph (articles, reference,
  ontology) as an rdflib Graph, as pySHACL runs it out of the box; the same through
  `kg.validate` (`validate_graph`: SPARQL queries parsed once, not once per focus node); and
  the pyoxigraph Store itself as data graph (pySHACL >= 0.40 runs its SPARQL in Oxigraph).
  Whole-graph runs attribute no result to an article; they are the baseline.

Throughput is triples validated per second: article triples for the per-article runs; every
triple (articles + reference) for the whole-graph runs and for "reference + per article".
Figures go in docs/benchmarks.md ("Validation speed"); nothing here is asserted by tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

import pyoxigraph as ox
import pyshacl
from rdflib import Dataset, Graph

from kg import validate

ROOT = Path(__file__).resolve().parents[1]
KG = [sys.executable, "-m", "kg.cli"]
DAY = dt.date(2025, 6, 30)


@dataclass
class Corpus:
    name: str
    articles: int
    article_triples: int
    reference_triples: int
    graphs: list[tuple[str, Graph]] = field(repr=False)
    reference: Graph = field(repr=False)
    nquads: Path = field(repr=False)


@dataclass
class Figures:
    corpus: str
    articles: int
    article_triples: int
    reference_triples: int
    reference_s: float = 0.0
    per_article_s: float = 0.0
    per_article_ms: float = 0.0
    per_article_triples_per_s: float = 0.0
    workers: dict[str, dict[str, float]] = field(default_factory=dict)
    whole_rdflib_s: float = 0.0
    whole_cached_s: float = 0.0
    whole_oxigraph_s: float = 0.0
    results_per_article: int = 0
    results_whole: int = 0


# -- corpora --------------------------------------------------------------------------------


def build(name: str, articles: Path, work: Path) -> Corpus:
    out = work / name
    subprocess.run([*KG, "build", "--articles", str(articles), "--out", str(out)],
                   cwd=ROOT, check=False, capture_output=True)  # fmt: skip
    nquads = out / "dataset.nq"
    if not nquads.exists():
        raise SystemExit(f"kg build wrote no {nquads}")
    dataset = Dataset()
    dataset.parse(nquads, format="nquads")
    reference, others = validate._split_dataset(dataset, validate.REFERENCE_GRAPH)
    graphs = [
        (iri, graph) for iri, graph in others if iri and iri.startswith(validate.ARTICLE_PREFIX)
    ]
    return Corpus(
        name, len(graphs), sum(len(g) for _, g in graphs), len(reference), graphs, reference,
        nquads.resolve(),
    )  # fmt: skip


def synth(count: int, work: Path) -> Path:
    out = work / f"synth-{count}"
    subprocess.run([*KG, "synth", "--articles", str(count), "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    return out / "articles"


# -- measurements ---------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def per_article(corpus: Corpus) -> tuple[float, int]:
    graphs, reference = corpus.graphs, corpus.reference
    validate.validate_article(graphs[0][1], graphs[0][0], reference, today=DAY)  # warm-up
    seconds, counts = timed(
        lambda: [
            len(validate.validate_article(g, iri, reference, today=DAY).results)
            for iri, g in graphs
        ]
    )
    return seconds, sum(counts)  # type: ignore[arg-type]


def reference_alone(corpus: Corpus) -> float:
    shapes = validate._shapes(None, DAY)
    prepared = validate._Prepared.of(corpus.reference, None)
    seconds, _ = timed(lambda: validate._run(prepared.work, shapes, focus=None))
    return seconds


# Worker processes: the reference graph is prepared once per process (its initializer).
_WORKER: dict[str, Graph] = {}


def _init_worker(nquads: str) -> None:
    dataset = Dataset()
    dataset.parse(nquads, format="nquads")
    _WORKER["reference"], _ = validate._split_dataset(dataset, validate.REFERENCE_GRAPH)


def _validate_one(job: tuple[str, str]) -> int:
    iri, ntriples = job
    graph = Graph().parse(data=ntriples, format="nt")
    return len(validate.validate_article(graph, iri, _WORKER["reference"], today=DAY).results)


def in_workers(corpus: Corpus, workers: int) -> float:
    jobs = [(iri, g.serialize(format="nt")) for iri, g in corpus.graphs]
    context = get_context("fork")
    with ProcessPoolExecutor(workers, context, _init_worker, (str(corpus.nquads),)) as pool:
        list(pool.map(_validate_one, jobs[:workers] * 2))  # every worker initialised and warm
        seconds, _ = timed(lambda: list(pool.map(_validate_one, jobs, chunksize=4)))
    return seconds


def _union(corpus: Corpus) -> Graph:
    union = Graph()
    union += corpus.reference
    for _, graph in corpus.graphs:
        union += graph
    return union


def _timed_pyshacl(data: object, shapes: object) -> tuple[float, int]:
    """pySHACL as shipped over `data` (an rdflib graph or a pyoxigraph store): seconds, results."""
    seconds, report = timed(
        lambda: pyshacl.validate(
            data,
            shacl_graph=shapes,
            inference="none",
            advanced=True,
            inplace=True,
            allow_warnings=True,
        )  # fmt: skip
    )
    return seconds, len(list(report[1].objects(None, validate.SH.result)))  # type: ignore[index]


def whole_graph_rdflib(corpus: Corpus) -> tuple[float, int]:
    shapes = validate._shapes(None, DAY)
    union = _union(corpus)
    union += validate.load_ontology()
    return _timed_pyshacl(union, shapes)


def whole_graph_cached(corpus: Corpus) -> float:
    union = _union(corpus)
    seconds, _ = timed(lambda: validate.validate_graph(union, today=DAY))
    return seconds


def whole_graph_oxigraph(corpus: Corpus) -> tuple[float, int]:
    shapes = validate._shapes(None, DAY)
    store = ox.Store()
    store.bulk_extend(ox.parse(path=str(corpus.nquads), format=ox.RdfFormat.N_QUADS))
    ontology = ox.NamedNode(validate.ONTOLOGY_GRAPH)
    path = str(validate.DEFAULT_ONTOLOGY_PATH)
    store.bulk_extend(
        ox.Quad(t.subject, t.predicate, t.object, ontology)
        for t in ox.parse(path=path, format=ox.RdfFormat.TURTLE)
    )
    return _timed_pyshacl(store, shapes)


def measure(corpus: Corpus, workers: list[int], whole: bool) -> Figures:
    figures = Figures(
        corpus.name, corpus.articles, corpus.article_triples, corpus.reference_triples
    )
    figures.reference_s = reference_alone(corpus)
    figures.per_article_s, per_article_results = per_article(corpus)
    figures.per_article_ms = 1000 * figures.per_article_s / corpus.articles
    figures.per_article_triples_per_s = corpus.article_triples / figures.per_article_s
    for n in workers:
        seconds = in_workers(corpus, n)
        figures.workers[str(n)] = {
            "seconds": seconds,
            "triples_per_s": corpus.article_triples / seconds,
            "speed_up": figures.per_article_s / seconds,
        }
    figures.results_per_article = per_article_results
    if whole:
        figures.whole_rdflib_s, figures.results_whole = whole_graph_rdflib(corpus)
        figures.whole_cached_s = whole_graph_cached(corpus)
        figures.whole_oxigraph_s, _ = whole_graph_oxigraph(corpus)
    return figures


# -- report ---------------------------------------------------------------------------------


def table(rows: list[Figures], workers: list[int]) -> str:
    head = ["corpus", "articles", "article triples", "per article ms", "per article triples/s"]
    head += [f"{n} workers triples/s (× 1 process)" for n in workers]
    head += ["reference + per article s", "whole graph: pyshacl s", "whole graph: kg.validate s"]
    head += ["whole graph: pyshacl on pyoxigraph s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for f in rows:
        total = f.reference_s + f.per_article_s
        cells = [f.corpus, str(f.articles), str(f.article_triples), f"{f.per_article_ms:.1f}",
                 f"{f.per_article_triples_per_s:,.0f}"]  # fmt: skip
        cells += [
            f"{f.workers[str(n)]['triples_per_s']:,.0f} (× {f.workers[str(n)]['speed_up']:.2f})"
            for n in workers
        ]
        all_triples = f.article_triples + f.reference_triples
        cells += [
            f"{total:.2f} ({all_triples / total:,.0f}/s)",
            _whole(f.whole_rdflib_s, all_triples),
            _whole(f.whole_cached_s, all_triples),
            _whole(f.whole_oxigraph_s, all_triples),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _whole(seconds: float, triples: int) -> str:
    return f"{seconds:.2f} ({triples / seconds:,.0f}/s)" if seconds else "-"


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"{memory:.1f} GiB RAM, Python {platform.python_version()}, "
        f"pySHACL {pyshacl.__version__}, rdflib {_version('rdflib')}, pyoxigraph {ox.__version__}"
    )


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", default=[], metavar="NAME=DIR",
                        help="article folder to measure (default: seeds, dev set)")  # fmt: skip
    parser.add_argument("--synth", type=int, nargs="*", default=[250, 500, 1000],
                        help="synthetic corpora of these sizes (kg synth)")  # fmt: skip
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--named", action=argparse.BooleanOptionalAction, default=True,
                        help="measure the seeds and the dev set (without --corpus)")  # fmt: skip
    parser.add_argument("--whole-up-to", type=int, default=250,
                        help="skip the whole-graph runs on corpora of more articles")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument("--engine", choices=validate.ENGINES, default="compiled",
                        help="SHACL engine of the per-article runs")  # fmt: skip
    args = parser.parse_args(argv)
    validate.use_engine(args.engine)  # pool workers are forked: they inherit it
    named = [["seeds", str(ROOT / "data" / "articles")], ["dev", str(ROOT / "tests/dev/articles")]]
    corpora = [c.split("=", 1) for c in args.corpus] or (named if args.named else [])
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sources = [(name, Path(folder)) for name, folder in corpora]
        sources += [(f"synth {n}", synth(n, work)) for n in args.synth]
        for name, folder in sources:
            corpus = build(name.replace(" ", "-"), folder, work)
            corpus.name = name
            figures = measure(corpus, args.workers, corpus.articles <= args.whole_up_to)
            rows.append(figures)
            print(f"{name}: {figures.articles} articles, {figures.per_article_ms:.1f} ms each",
                  file=sys.stderr)  # fmt: skip
    load = f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    print(f"Machine: {machine()}; {load}\n")
    print(table(rows, args.workers))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
